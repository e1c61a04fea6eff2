//! Real inputs made in the tests: PDFs (lopdf), DOCX files (zip), bad files.

use lopdf::content::{Content, Operation};
use lopdf::{Document, Object, Stream, dictionary};
use std::io::Write;
use std::path::{Path, PathBuf};

/// A PDF of the given pages' content operations, in Helvetica (WinAnsi) as `F1`.
fn helvetica_pdf(pages: Vec<Vec<Operation>>) -> Vec<u8> {
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let font_id = doc.add_object(dictionary! {
        "Type" => "Font",
        "Subtype" => "Type1",
        "BaseFont" => "Helvetica",
        "Encoding" => "WinAnsiEncoding",
    });
    let resources_id = doc.add_object(dictionary! { "Font" => dictionary! { "F1" => font_id } });
    let mut kids = Vec::new();
    for operations in pages {
        let content = Content { operations };
        let content_id = doc.add_object(Stream::new(dictionary! {}, content.encode().expect("encode content")));
        let page_id = doc.add_object(dictionary! {
            "Type" => "Page",
            "Parent" => pages_id,
            "Contents" => content_id,
            "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
            "Resources" => resources_id,
        });
        kids.push(page_id.into());
    }
    let count = kids.len() as i64;
    doc.objects
        .insert(pages_id, Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => kids, "Count" => count }));
    let catalog_id = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog_id);
    let mut out = Vec::new();
    doc.save_to(&mut out).expect("save pdf");
    out
}

/// A PDF with one page per entry, each line of a page drawn with Helvetica.
pub fn pdf(pages: &[Vec<String>]) -> Vec<u8> {
    helvetica_pdf(
        pages
            .iter()
            .map(|lines| {
                let mut ops = vec![
                    Operation::new("BT", vec![]),
                    Operation::new("Tf", vec!["F1".into(), 11.into()]),
                    Operation::new("TL", vec![14.into()]),
                    Operation::new("Td", vec![56.into(), 780.into()]),
                ];
                for line in lines {
                    ops.push(Operation::new("Tj", vec![Object::string_literal(line.as_str())]));
                    ops.push(Operation::new("T*", vec![]));
                }
                ops.push(Operation::new("ET", vec![]));
                ops
            })
            .collect(),
    )
}

/// A one-page PDF with each piece of text drawn where it says (x, y in points
/// from the bottom left, Helvetica 11): columns, margins and rows as layouts
/// print them.
pub fn pdf_at(pieces: &[(f32, f32, &str)]) -> Vec<u8> {
    let mut ops = Vec::new();
    for (x, y, text) in pieces {
        ops.push(Operation::new("BT", vec![]));
        ops.push(Operation::new("Tf", vec!["F1".into(), 11.into()]));
        ops.push(Operation::new("Td", vec![(*x).into(), (*y).into()]));
        ops.push(Operation::new("Tj", vec![Object::string_literal(*text)]));
        ops.push(Operation::new("ET", vec![]));
    }
    helvetica_pdf(vec![ops])
}

/// A one-page resume PDF with recognisable words.
pub fn resume_pdf() -> Vec<u8> {
    pdf(&[vec![
        "Jane Q. Example".into(),
        "jane@example.com | +44 20 7946 0958".into(),
        "Experience".into(),
        "Senior Software Engineer at Acme Corp, 2019 - Present".into(),
        "Reduced cloud spend by 35% across 12 services".into(),
        "Education".into(),
        "BSc Computer Science, University of Leeds, 2015".into(),
        "Skills".into(),
        "Rust, Go, PostgreSQL, Kubernetes, Terraform, Quorblaxing".into(),
    ]])
}

/// A PDF of `pages` pages of dense text (for load and crash tests).
pub fn long_pdf(pages: usize, seed: usize) -> Vec<u8> {
    let pages: Vec<Vec<String>> = (0..pages)
        .map(|p| {
            (0..50)
                .map(|l| format!("Document {seed} page {p} line {l}: delivered results across teams and quarters"))
                .collect()
        })
        .collect();
    pdf(&pages)
}

/// A PDF whose catalog runs JavaScript on open.
pub fn javascript_pdf() -> Vec<u8> {
    let mut doc = Document::load_mem(&resume_pdf()).expect("reload");
    let js = doc.add_object(dictionary! { "S" => "JavaScript", "JS" => Object::string_literal("app.alert('hi')") });
    let root = doc.trailer.get(b"Root").and_then(Object::as_reference).expect("root");
    if let Ok(Object::Dictionary(catalog)) = doc.get_object_mut(root) {
        catalog.set("OpenAction", js);
    }
    let mut out = Vec::new();
    doc.save_to(&mut out).expect("save");
    out
}

/// A DOCX with the given paragraphs and one table (rows of cells).
pub fn docx(paragraphs: &[&str], table: &[&[&str]]) -> Vec<u8> {
    docx_with(paragraphs, table, &[])
}

/// A DOCX with extra raw entries (e.g. `word/vbaProject.bin`).
pub fn docx_with(paragraphs: &[&str], table: &[&[&str]], extra: &[(&str, &[u8])]) -> Vec<u8> {
    let esc = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    let mut body = String::new();
    for p in paragraphs {
        body.push_str(&format!("<w:p><w:r><w:t xml:space=\"preserve\">{}</w:t></w:r></w:p>", esc(p)));
    }
    if !table.is_empty() {
        body.push_str("<w:tbl>");
        for row in table {
            body.push_str("<w:tr>");
            for cell in *row {
                body.push_str(&format!("<w:tc><w:p><w:r><w:t>{}</w:t></w:r></w:p></w:tc>", esc(cell)));
            }
            body.push_str("</w:tr>");
        }
        body.push_str("</w:tbl>");
    }
    let document = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
         <w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"><w:body>{body}</w:body></w:document>"
    );
    let content_types = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
        <Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">\
        <Default Extension=\"xml\" ContentType=\"application/xml\"/>\
        <Override PartName=\"/word/document.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml\"/>\
        </Types>";
    let mut cursor = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut cursor);
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        zip.start_file("[Content_Types].xml", options).expect("zip");
        zip.write_all(content_types.as_bytes()).expect("zip");
        zip.start_file("word/document.xml", options).expect("zip");
        zip.write_all(document.as_bytes()).expect("zip");
        for (name, bytes) in extra {
            zip.start_file(*name, options).expect("zip");
            zip.write_all(bytes).expect("zip");
        }
        zip.finish().expect("zip");
    }
    cursor.into_inner()
}

/// A DOCX with an entry of `mb` megabytes of zeros (compresses ~1000:1).
pub fn docx_bomb(mb: usize) -> Vec<u8> {
    let mut cursor = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut cursor);
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .large_file(true);
        zip.start_file("word/document.xml", options).expect("zip");
        zip.write_all(b"<w:document xmlns:w=\"x\"><w:body></w:body></w:document>").expect("zip");
        zip.start_file("word/media/zeros.bin", options).expect("zip");
        let chunk = vec![0u8; 1 << 20];
        for _ in 0..mb {
            zip.write_all(&chunk).expect("zip");
        }
        zip.finish().expect("zip");
    }
    cursor.into_inner()
}

/// A multipart/form-data body with one `file` part; returns (content type, body).
pub fn multipart(filename: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----personalization-test-boundary-7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
    body.extend_from_slice(
        format!("Content-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n").as_bytes(),
    );
    body.extend_from_slice(b"Content-Type: application/octet-stream\r\n\r\n");
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// A fresh empty directory under the system temp dir.
pub fn temp_dir(label: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("personalization-{label}-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Path of a file in the workspace's `events/` folder.
pub fn event_path(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join("events").join(relative)
}

/// The `target/debug` folder that holds the workspace's binaries.
pub fn debug_bin(name: &str) -> PathBuf {
    // Integration tests live in target/debug/deps; binaries one level up.
    let exe = std::env::current_exe().expect("current exe");
    let dir = exe.parent().and_then(|p| p.parent()).expect("target dir");
    dir.join(name)
}

/// The embedding model folder (`infra/scripts/setup_model.sh`; `.ci/run` sets it).
pub fn model_dir() -> PathBuf {
    PathBuf::from(
        std::env::var("PERSONALIZATION_EMBEDDING_MODEL")
            .expect("PERSONALIZATION_EMBEDDING_MODEL (infra/scripts/setup_model.sh; .ci/run sets it)"),
    )
}

/// The skill-ontology artifact (`infra/scripts/build_ontology.sh`; `.ci/run` sets it).
pub fn ontology() -> PathBuf {
    PathBuf::from(
        std::env::var("PERSONALIZATION_ONTOLOGY")
            .expect("PERSONALIZATION_ONTOLOGY (infra/scripts/build_ontology.sh; .ci/run sets it)"),
    )
}

/// Whether the ontology was built from an O*NET text release (alternate
/// titles, technologies, related occupations) rather than the fallback wheel:
/// `../shared/onet/` beside the project, or `PERSONALIZATION_ONET_DIR`.
pub fn onet_release() -> bool {
    let beside = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/onet/Occupation Data.txt");
    let given = std::env::var_os("PERSONALIZATION_ONET_DIR")
        .map(|d| Path::new(&d).join("Occupation Data.txt").is_file())
        .unwrap_or(false);
    let present = given || beside.is_file();
    if !present {
        eprintln!("no O*NET text release beside the project: checks that need its technologies and titles are skipped");
    }
    present
}
