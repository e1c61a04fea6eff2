//! Type detection from magic bytes and structure, never from the file name.

use domain::ContentType;
use std::io::Cursor;

/// How far into the file a PDF header may start (readers accept leading junk).
pub const PDF_HEADER_WINDOW: usize = 1024;

/// The part every DOCX holds: the main document body.
pub const DOCX_MAIN_PART: &str = "word/document.xml";

/// What a zip without the DOCX main part looks like to the user.
pub const ZIP_WITHOUT_DOCUMENT: &str = "a zip archive without word/document.xml";

/// What the bytes are, decided from their content only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sniffed {
    /// One of the accepted types. Type-specific checks still have to pass.
    Supported(ContentType),
    /// Not an accepted type; names what it looks like, e.g. "a Windows executable".
    Unsupported(&'static str),
}

/// Decides the type of `bytes` from magic numbers and structure.
pub fn sniff(bytes: &[u8]) -> Sniffed {
    use Sniffed::{Supported, Unsupported};

    if bytes.is_empty() {
        return Unsupported("an empty file");
    }
    let head = &bytes[..bytes.len().min(PDF_HEADER_WINDOW)];

    // Executables first, so that a polyglot (an executable with a PDF header
    // a few bytes in) is named for what runs.
    if bytes.starts_with(b"MZ") && head.contains(&0) {
        return Unsupported("a Windows executable");
    }
    if bytes.starts_with(b"\x7fELF") {
        return Unsupported("an ELF executable");
    }
    if [b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe"]
        .iter()
        .any(|magic| bytes.starts_with(*magic))
    {
        return Unsupported("a Mach-O executable");
    }
    if bytes.starts_with(b"\xca\xfe\xba\xbe") {
        return Unsupported("a Java class or Mach-O universal binary");
    }

    if find(head, b"%PDF-").is_some() {
        return Supported(ContentType::Pdf);
    }
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Supported(ContentType::Png);
    }
    if bytes.starts_with(b"\xff\xd8\xff") {
        return Supported(ContentType::Jpeg);
    }
    if bytes.starts_with(b"PK\x03\x04") {
        return sniff_zip(bytes);
    }
    if bytes.starts_with(b"PK\x05\x06") {
        return Unsupported(ZIP_WITHOUT_DOCUMENT);
    }

    const OTHERS: &[(&[u8], &str)] = &[
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "a legacy Word (.doc) or password-protected Office file"),
        (b"GIF87a", "a GIF image"),
        (b"GIF89a", "a GIF image"),
        (b"II*\x00", "a TIFF image"),
        (b"MM\x00*", "a TIFF image"),
        (b"BM", "a BMP image"),
        (b"\x1f\x8b", "a gzip archive"),
        (b"Rar!\x1a\x07", "a RAR archive"),
        (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
        (b"{\\rtf", "an RTF document"),
    ];
    for (magic, name) in OTHERS {
        // "BM" is two letters a text file may start with; only call it a bitmap if it is binary.
        if bytes.starts_with(magic) && (*magic != b"BM" || head.contains(&0)) {
            return Unsupported(name);
        }
    }
    if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
        return Unsupported("a WebP image");
    }

    if looks_like_text(bytes) {
        return Supported(ContentType::Txt);
    }
    Unsupported("binary data")
}

/// A zip is a DOCX when its central directory names `word/document.xml`.
fn sniff_zip(bytes: &[u8]) -> Sniffed {
    match zip::ZipArchive::new(Cursor::new(bytes)) {
        Ok(archive) if archive.index_for_name(DOCX_MAIN_PART).is_some() => Sniffed::Supported(ContentType::Docx),
        Ok(_) => Sniffed::Unsupported(ZIP_WITHOUT_DOCUMENT),
        // A damaged archive that still names the main part is a damaged DOCX:
        // the DOCX checks report the damage precisely.
        Err(_) if find(bytes, DOCX_MAIN_PART.as_bytes()).is_some() => Sniffed::Supported(ContentType::Docx),
        Err(_) => Sniffed::Unsupported("a damaged zip archive"),
    }
}

/// True for bytes that are meant as text: a UTF-16 byte order mark, or no NUL
/// bytes and few control bytes. The text checks then decide whether the
/// encoding is valid and the control bytes acceptable.
fn looks_like_text(bytes: &[u8]) -> bool {
    if bytes.starts_with(b"\xff\xfe") || bytes.starts_with(b"\xfe\xff") {
        return true;
    }
    if bytes.contains(&0) {
        return false;
    }
    let controls = bytes.iter().filter(|&&b| is_control_byte(b)).count();
    // At most one byte in ten may be a control byte.
    controls.saturating_mul(10) <= bytes.len()
}

/// Control bytes not allowed in text: everything below space except tab, line
/// feed, form feed and carriage return, and DEL.
pub(crate) fn is_control_byte(b: u8) -> bool {
    (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0c)) || b == 0x7f
}

/// Position of `needle` in `haystack`.
pub(crate) fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    find_from(haystack, needle, 0)
}

/// Position of `needle` in `haystack` at or after `from`.
pub(crate) fn find_from(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    let first = *needle.first()?;
    let mut start = from;
    while start < haystack.len() {
        let rest = haystack.get(start..)?;
        let offset = rest.iter().position(|&b| b == first)?;
        let at = start + offset;
        if haystack.get(at..at + needle.len()) == Some(needle) {
            return Some(at);
        }
        start = at + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn zip_with(names: &[&str]) -> Vec<u8> {
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for name in names {
            writer.start_file(*name, zip::write::SimpleFileOptions::default()).expect("start");
            writer.write_all(b"<x/>").expect("write");
        }
        writer.finish().expect("finish").into_inner()
    }

    fn executable() -> Vec<u8> {
        let mut bytes = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00".to_vec();
        bytes.extend((0..2000u32).map(|i| (i * 7 % 256) as u8));
        bytes
    }

    #[test]
    fn names_what_unsupported_files_look_like() {
        assert_eq!(sniff(&executable()), Sniffed::Unsupported("a Windows executable"));
        assert_eq!(sniff(b"\x7fELF\x02\x01\x01\x00\x00\x00"), Sniffed::Unsupported("an ELF executable"));
        assert_eq!(sniff(&zip_with(&["a.txt"])), Sniffed::Unsupported(ZIP_WITHOUT_DOCUMENT));
        assert_eq!(sniff(b"\x01\x02\x00\x00\xfe\x10"), Sniffed::Unsupported("binary data"));
        assert_eq!(sniff(b"GIF89a\x01\x00"), Sniffed::Unsupported("a GIF image"));
    }

    #[test]
    fn executable_with_pdf_header_inside_is_an_executable() {
        let mut bytes = executable();
        bytes.splice(100..100, b"%PDF-1.7\n".iter().copied());
        assert_eq!(sniff(&bytes), Sniffed::Unsupported("a Windows executable"));
    }

    #[test]
    fn recognises_supported_types_by_content() {
        assert_eq!(sniff(b"%PDF-1.4\n..."), Sniffed::Supported(ContentType::Pdf));
        assert_eq!(sniff(b"junk before\n%PDF-1.4\n"), Sniffed::Supported(ContentType::Pdf));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\x00"), Sniffed::Supported(ContentType::Png));
        assert_eq!(sniff(b"\xff\xd8\xff\xe0"), Sniffed::Supported(ContentType::Jpeg));
        assert_eq!(sniff(&zip_with(&["[Content_Types].xml", DOCX_MAIN_PART])), Sniffed::Supported(ContentType::Docx));
        assert_eq!(sniff("Jane Doe — Engineer\r\n".as_bytes()), Sniffed::Supported(ContentType::Txt));
        assert_eq!(sniff(b"MZ is my initials\n"), Sniffed::Supported(ContentType::Txt));
        assert_eq!(sniff(b"\xff\xfeH\x00i\x00"), Sniffed::Supported(ContentType::Txt));
    }

    #[test]
    fn pdf_header_must_be_near_the_start() {
        let mut bytes = vec![b' '; PDF_HEADER_WINDOW];
        bytes.extend_from_slice(b"%PDF-1.4");
        assert_eq!(sniff(&bytes), Sniffed::Supported(ContentType::Txt));
    }

    #[test]
    fn find_handles_edges() {
        assert_eq!(find(b"abcabd", b"abd"), Some(3));
        assert_eq!(find(b"ab", b"abc"), None);
        assert_eq!(find(b"", b"a"), None);
        assert_eq!(find(b"abc", b""), None);
        assert_eq!(find_from(b"aXaX", b"aX", 1), Some(2));
    }
}
