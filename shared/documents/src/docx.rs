//! DOCX text: paragraphs and tables from `word/document.xml`.
use crate::ExtractError;
use crate::sniff::DOCX_MAIN_PART;
use quick_xml::events::{BytesRef, BytesStart, Event};
use std::io::{self, BufReader, Cursor, Read};

/// Most `word/document.xml` may unpack to before extraction gives up.
pub const MAX_DOCUMENT_XML_BYTES: u64 = 64 * 1024 * 1024;

/// Text of the document body: one line per paragraph, table cells separated by tabs.
///
/// Rules: text comes from `w:t`; `w:tab` is `\t`, `w:br`/`w:cr` are `\n`;
/// each table row is one line with its cells joined by `\t` (paragraphs within
/// a cell are joined by a space); deleted or moved-away text (`w:del`, `w:delText`, `w:moveFrom`), field
/// instructions and the fallback copies of alternate content are left out.
/// Lines are joined by `\n`, without a trailing newline.
pub fn extract(bytes: &[u8]) -> Result<String, ExtractError> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(malformed)?;
    let entry = archive.by_name(DOCX_MAIN_PART).map_err(malformed)?;
    let capped = Capped { inner: entry, remaining: MAX_DOCUMENT_XML_BYTES };
    let mut reader = quick_xml::Reader::from_reader(BufReader::new(capped));
    let mut body = Body::default();
    let mut buf = Vec::new();
    loop {
        let event = reader.read_event_into(&mut buf).map_err(malformed)?;
        match event {
            Event::Start(e) => body.start(&e),
            Event::End(e) => body.end(e.local_name().as_ref()),
            Event::Empty(e) => body.empty(&e),
            Event::Text(t) => body.text(&t.xml10_content()),
            Event::CData(t) => body.text(&t),
            Event::GeneralRef(r) => body.reference(&r)?,
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    Ok(body.finish())
}

fn malformed(error: impl std::fmt::Display) -> ExtractError {
    ExtractError::MalformedDocx(error.to_string())
}

/// A reader that fails once more than `remaining` bytes were read.
struct Capped<R> {
    inner: R,
    remaining: u64,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.remaining = self.remaining.checked_sub(n as u64).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{DOCX_MAIN_PART} is larger than {MAX_DOCUMENT_XML_BYTES} bytes"),
            )
        })?;
        Ok(n)
    }
}

/// An open table: the row being read and its cell.
#[derive(Default)]
struct Table {
    row: Vec<String>,
    cell: String,
}

/// The state of the walk over `w:body`.
#[derive(Default)]
struct Body {
    lines: Vec<String>,
    /// Open paragraphs (text boxes nest paragraphs inside runs).
    paragraphs: Vec<String>,
    tables: Vec<Table>,
    /// Depth inside `w:r`: tabs and breaks count only inside runs (a `w:tab`
    /// in paragraph properties is a tab stop).
    runs: usize,
    /// Inside `w:t`.
    in_text: bool,
    /// Depth inside a skipped element (deleted text, field code, fallback).
    skip: usize,
}

impl Body {
    fn start(&mut self, e: &BytesStart<'_>) {
        if self.skip > 0 {
            self.skip += 1;
            return;
        }
        match e.local_name().as_ref() {
            "del" | "delText" | "moveFrom" | "instrText" | "Fallback" => self.skip = 1,
            "p" => self.paragraphs.push(String::new()),
            "r" => self.runs += 1,
            "t" => self.in_text = true,
            "tbl" => self.tables.push(Table::default()),
            "tr" => {
                if let Some(table) = self.tables.last_mut() {
                    table.row.clear();
                }
            }
            "tc" => {
                if let Some(table) = self.tables.last_mut() {
                    table.cell.clear();
                }
            }
            name => self.inline(name),
        }
    }

    fn end(&mut self, name: &str) {
        if self.skip > 0 {
            self.skip -= 1;
            return;
        }
        match name {
            "p" => {
                let text = self.paragraphs.pop().unwrap_or_default();
                self.emit(text);
            }
            "r" => self.runs = self.runs.saturating_sub(1),
            "t" => self.in_text = false,
            "tbl" => {
                self.tables.pop();
            }
            "tr" => {
                // Rows of a nested table go into the enclosing cell.
                let separator = if self.tables.len() > 1 { " " } else { "\t" };
                if let Some(table) = self.tables.last_mut() {
                    let line = std::mem::take(&mut table.row).join(separator);
                    self.emit_row(line);
                }
            }
            "tc" => {
                if let Some(table) = self.tables.last_mut() {
                    let cell = std::mem::take(&mut table.cell);
                    table.row.push(cell);
                }
            }
            _ => {}
        }
    }

    fn empty(&mut self, e: &BytesStart<'_>) {
        if self.skip > 0 {
            return;
        }
        match e.local_name().as_ref() {
            "p" => self.emit(String::new()),
            "tc" => {
                if let Some(table) = self.tables.last_mut() {
                    table.row.push(String::new());
                }
            }
            name => self.inline(name),
        }
    }

    /// Tabs and breaks inside a run.
    fn inline(&mut self, name: &str) {
        if self.runs == 0 {
            return;
        }
        let c = match name {
            "tab" => '\t',
            "br" | "cr" => '\n',
            "noBreakHyphen" => '-',
            _ => return,
        };
        if let Some(paragraph) = self.paragraphs.last_mut() {
            paragraph.push(c);
        }
    }

    fn text(&mut self, text: &str) {
        if self.skip == 0
            && self.in_text
            && let Some(paragraph) = self.paragraphs.last_mut()
        {
            paragraph.push_str(text);
        }
    }

    fn reference(&mut self, r: &BytesRef<'_>) -> Result<(), ExtractError> {
        let name = r.xml10_content();
        let resolved = match r.resolve_char_ref().map_err(malformed)? {
            Some(c) => c.to_string(),
            None => quick_xml::escape::resolve_predefined_entity(&name)
                .ok_or_else(|| malformed(format!("unknown entity &{name};")))?
                .to_owned(),
        };
        self.text(&resolved);
        Ok(())
    }

    /// A finished paragraph: its own line, or part of the open table cell.
    fn emit(&mut self, text: String) {
        if let Some(outer) = self.paragraphs.last_mut() {
            // A paragraph inside a text box: keep it on its own line before
            // the paragraph that holds the box.
            if self.tables.is_empty() {
                self.lines.push(text);
            } else {
                join_into(outer, &text, ' ');
            }
            return;
        }
        match self.tables.last_mut() {
            Some(table) => join_into(&mut table.cell, &text, ' '),
            None => self.lines.push(text),
        }
    }

    /// A finished table row: a line, or part of the enclosing cell when nested.
    fn emit_row(&mut self, line: String) {
        let depth = self.tables.len();
        if depth > 1 {
            if let Some(outer) = self.tables.get_mut(depth - 2) {
                join_into(&mut outer.cell, &line, ' ');
            }
        } else {
            self.lines.push(line);
        }
    }

    fn finish(self) -> String {
        self.lines.join("\n")
    }
}

fn join_into(target: &mut String, text: &str, separator: char) {
    if text.is_empty() {
        return;
    }
    if !target.is_empty() {
        target.push(separator);
    }
    target.push_str(text);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    const W: &str = r#"xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main""#;

    fn docx(body: &str) -> Vec<u8> {
        let xml = format!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document {W}><w:body>{body}</w:body></w:document>"#
        );
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default();
        writer.start_file("[Content_Types].xml", options).expect("start");
        writer.write_all(b"<Types/>").expect("write");
        writer.start_file(DOCX_MAIN_PART, options).expect("start");
        writer.write_all(xml.as_bytes()).expect("write");
        writer.finish().expect("finish").into_inner()
    }

    fn para(text: &str) -> String {
        format!("<w:p><w:r><w:t>{text}</w:t></w:r></w:p>")
    }

    #[test]
    fn paragraphs_one_per_line() {
        let body = format!(
            "{}{}<w:p/>{}",
            para("Jane Doe"),
            r#"<w:p><w:pPr><w:tabs><w:tab w:val="left" w:pos="720"/></w:tabs></w:pPr><w:r><w:t xml:space="preserve">Senior </w:t></w:r><w:r><w:rPr><w:b/></w:rPr><w:t>Engineer</w:t><w:tab/><w:t>2020&#8211;2024</w:t><w:br/><w:t>R&amp;D</w:t></w:r></w:p>"#,
            para("Last"),
        );
        assert_eq!(extract(&docx(&body)).unwrap(), "Jane Doe\nSenior Engineer\t2020–2024\nR&D\n\nLast");
    }

    #[test]
    fn tables_one_row_per_line_cells_tab_separated() {
        let body = format!(
            "{}<w:tbl><w:tblPr/><w:tr><w:tc><w:tcPr/>{}</w:tc><w:tc>{}{}</w:tc></w:tr><w:tr><w:tc>{}</w:tc><w:tc><w:p/></w:tc><w:tc>{}</w:tc></w:tr></w:tbl>{}",
            para("Skills"),
            para("Rust"),
            para("5 years"),
            para("production"),
            para("Go"),
            para("2 years"),
            para("After"),
        );
        assert_eq!(extract(&docx(&body)).unwrap(), "Skills\nRust\t5 years production\nGo\t\t2 years\nAfter");
    }

    #[test]
    fn nested_tables_stay_in_their_cell() {
        let inner = format!("<w:tbl><w:tr><w:tc>{}</w:tc><w:tc>{}</w:tc></w:tr></w:tbl>", para("a"), para("b"));
        let body = format!("<w:tbl><w:tr><w:tc>{}{inner}</w:tc><w:tc>{}</w:tc></w:tr></w:tbl>", para("x"), para("y"));
        assert_eq!(extract(&docx(&body)).unwrap(), "x a b\ty");
    }

    #[test]
    fn deleted_text_and_field_codes_are_ignored() {
        let body = r#"<w:p><w:r><w:t>kept </w:t></w:r><w:del w:id="1" w:author="x"><w:r><w:delText>gone </w:delText></w:r></w:del><w:ins w:id="2"><w:r><w:t>inserted</w:t></w:r></w:ins><w:r><w:instrText> HYPERLINK "x" </w:instrText></w:r></w:p>"#;
        assert_eq!(extract(&docx(body)).unwrap(), "kept inserted");
    }

    #[test]
    fn alternate_content_fallback_is_not_duplicated() {
        let body = r#"<w:p><w:r><mc:AlternateContent xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"><mc:Choice Requires="wps"><w:drawing><w:txbxContent><w:p><w:r><w:t>box</w:t></w:r></w:p></w:txbxContent></w:drawing></mc:Choice><mc:Fallback><w:pict><w:txbxContent><w:p><w:r><w:t>box</w:t></w:r></w:p></w:txbxContent></w:pict></mc:Fallback></mc:AlternateContent><w:t>outer</w:t></w:r></w:p>"#;
        assert_eq!(extract(&docx(body)).unwrap(), "box\nouter");
    }

    #[test]
    fn malformed_documents_are_errors() {
        let missing = {
            let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
            writer.start_file("other.xml", zip::write::SimpleFileOptions::default()).expect("start");
            writer.finish().expect("finish").into_inner()
        };
        assert!(matches!(extract(&missing), Err(ExtractError::MalformedDocx(_))));
        assert!(matches!(extract(b"not a zip"), Err(ExtractError::MalformedDocx(_))));
        let broken = docx("<w:p><w:r><w:t>unclosed</w:r></w:p>");
        assert!(matches!(extract(&broken), Err(ExtractError::MalformedDocx(_))));
        let unknown_entity = docx("<w:p><w:r><w:t>&nbsp;</w:t></w:r></w:p>");
        assert!(matches!(extract(&unknown_entity), Err(ExtractError::MalformedDocx(_))));
    }
}
