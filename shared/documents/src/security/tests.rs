//! The filter on real bad inputs, built here.

use super::*;
use crate::sniff::find;
use lopdf::{Dictionary, Document, Object, ObjectId, Stream, dictionary};
use std::io::{Cursor, Write};

fn limits() -> Limits {
    Limits::default()
}

fn code(bytes: &[u8]) -> &'static str {
    match inspect(bytes, &limits()) {
        Ok(inspection) => panic!("expected a rejection, got {inspection:?}"),
        Err(rejection) => rejection.code(),
    }
}

fn passes_as(bytes: &[u8]) -> ContentType {
    match inspect(bytes, &limits()) {
        Ok(inspection) => inspection.content_type,
        Err(rejection) => panic!("expected to pass, got {}: {rejection}", rejection.code()),
    }
}

// ---------------------------------------------------------------- PDF builders

/// A one-page PDF; `extra` adds entries to the catalog (given the document to
/// add objects to).
fn pdf_with(extra: impl FnOnce(&mut Document, &mut Dictionary)) -> Document {
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let font_id = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica",
    });
    let content = b"BT /F1 24 Tf 72 720 Td (Jane Doe, HTML/JavaScript developer) Tj ET".to_vec();
    let content_id = doc.add_object(Stream::new(dictionary! {}, content));
    let page_id = doc.add_object(dictionary! {
        "Type" => "Page",
        "Parent" => pages_id,
        "Contents" => content_id,
        "Resources" => dictionary! { "Font" => dictionary! { "F1" => font_id } },
        "MediaBox" => vec![0.into(), 0.into(), 612.into(), 792.into()],
    });
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => vec![page_id.into()], "Count" => 1 }),
    );
    let mut catalog = dictionary! { "Type" => "Catalog", "Pages" => pages_id };
    extra(&mut doc, &mut catalog);
    let catalog_id = doc.add_object(catalog);
    doc.trailer.set("Root", catalog_id);
    doc.trailer.set("ID", vec![Object::string_literal(vec![7u8; 16]), Object::string_literal(vec![7u8; 16])]);
    doc
}

fn save(mut doc: Document) -> Vec<u8> {
    let mut out = Vec::new();
    doc.save_to(&mut out).expect("save pdf");
    out
}

fn save_with_object_streams(mut doc: Document) -> Vec<u8> {
    let mut out = Vec::new();
    let options =
        lopdf::SaveOptions::builder().use_object_streams(true).use_xref_streams(true).compression_level(6).build();
    doc.save_with_options(&mut out, options).expect("save pdf");
    out
}

fn replace_bytes(haystack: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let at = find(haystack, from).expect("placeholder present");
    [&haystack[..at], to, &haystack[at + from.len()..]].concat()
}

fn plain_pdf() -> Vec<u8> {
    save(pdf_with(|_, _| {}))
}

fn javascript_action(doc: &mut Document) -> ObjectId {
    doc.add_object(dictionary! { "S" => "JavaScript", "JS" => Object::string_literal("app.alert('hi')") })
}

fn encrypted_pdf(user_password: &str) -> Vec<u8> {
    let mut doc = pdf_with(|_, _| {});
    let version = lopdf::EncryptionVersion::V2 {
        document: &doc,
        owner_password: "owner",
        user_password,
        key_length: 128,
        permissions: lopdf::Permissions::default(),
    };
    let state = lopdf::EncryptionState::try_from(version).expect("encryption state");
    doc.encrypt(&state).expect("encrypt");
    save(doc)
}

// ---------------------------------------------------------------- DOCX builders

fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, data) in entries {
        writer.start_file(*name, zip::write::SimpleFileOptions::default()).expect("start");
        writer.write_all(data).expect("write");
    }
    writer.finish().expect("finish").into_inner()
}

const CONTENT_TYPES_DOCX: &[u8] = br#"<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>"#;
const CONTENT_TYPES_DOCM: &[u8] = br#"<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/word/document.xml" ContentType="application/vnd.ms-word.document.macroEnabled.main+xml"/></Types>"#;
const DOCUMENT_XML: &[u8] = br#"<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>Jane Doe</w:t></w:r></w:p></w:body></w:document>"#;

fn plain_docx() -> Vec<u8> {
    zip_of(&[("[Content_Types].xml", CONTENT_TYPES_DOCX), ("word/document.xml", DOCUMENT_XML)])
}

/// One entry of a zip written by hand, so that headers can lie.
struct RawEntry {
    name: &'static str,
    deflated: bool,
    crc: u32,
    data: Vec<u8>,
    declared_size: u32,
}

impl RawEntry {
    fn stored(name: &'static str, data: &[u8]) -> Self {
        let mut crc = flate2::Crc::new();
        crc.update(data);
        Self { name, deflated: false, crc: crc.sum(), data: data.to_vec(), declared_size: data.len() as u32 }
    }
}

fn raw_zip(entries: &[RawEntry]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for entry in entries {
        let offset = out.len() as u32;
        let method: u16 = if entry.deflated { 8 } else { 0 };
        let common = |buf: &mut Vec<u8>| {
            buf.extend(20u16.to_le_bytes()); // version needed
            buf.extend(0u16.to_le_bytes()); // flags
            buf.extend(method.to_le_bytes());
            buf.extend(0u16.to_le_bytes()); // time
            buf.extend(0x21u16.to_le_bytes()); // date: 1980-01-01
            buf.extend(entry.crc.to_le_bytes());
            buf.extend((entry.data.len() as u32).to_le_bytes());
            buf.extend(entry.declared_size.to_le_bytes());
            buf.extend((entry.name.len() as u16).to_le_bytes());
            buf.extend(0u16.to_le_bytes()); // extra length
        };
        out.extend(0x0403_4b50u32.to_le_bytes());
        common(&mut out);
        out.extend(entry.name.as_bytes());
        out.extend(&entry.data);

        central.extend(0x0201_4b50u32.to_le_bytes());
        central.extend(20u16.to_le_bytes()); // version made by
        common(&mut central);
        central.extend(0u16.to_le_bytes()); // comment length
        central.extend(0u16.to_le_bytes()); // disk
        central.extend(0u16.to_le_bytes()); // internal attributes
        central.extend(0u32.to_le_bytes()); // external attributes
        central.extend(offset.to_le_bytes());
        central.extend(entry.name.as_bytes());
    }
    let central_offset = out.len() as u32;
    out.extend(&central);
    out.extend(0x0605_4b50u32.to_le_bytes());
    out.extend(0u16.to_le_bytes());
    out.extend(0u16.to_le_bytes());
    out.extend((entries.len() as u16).to_le_bytes());
    out.extend((entries.len() as u16).to_le_bytes());
    out.extend((central.len() as u32).to_le_bytes());
    out.extend(central_offset.to_le_bytes());
    out.extend(0u16.to_le_bytes());
    out
}

/// A raw deflate stream of `mib` MiB of zeros, without ever holding them:
/// one fully flushed block of 1 MiB (independent of what precedes it, byte
/// aligned) repeated, then an empty final stored block.
fn deflated_zeros(mib: usize) -> Vec<u8> {
    let zeros = vec![0u8; 1 << 20];
    let mut compressor = flate2::Compress::new(flate2::Compression::best(), false);
    let mut block = Vec::with_capacity(1 << 16);
    compressor.compress_vec(&zeros, &mut block, flate2::FlushCompress::Full).expect("deflate");
    assert_eq!(compressor.total_in(), 1 << 20);
    let mut out = Vec::with_capacity(block.len() * mib + 5);
    for _ in 0..mib {
        out.extend_from_slice(&block);
    }
    out.extend_from_slice(&[0x01, 0x00, 0x00, 0xff, 0xff]);
    out
}

fn bomb_docx(declared_size: u32) -> Vec<u8> {
    raw_zip(&[
        RawEntry::stored("[Content_Types].xml", CONTENT_TYPES_DOCX),
        RawEntry::stored("word/document.xml", DOCUMENT_XML),
        RawEntry { name: "word/media/zeros.bin", deflated: true, crc: 0, data: deflated_zeros(300), declared_size },
    ])
}

// ---------------------------------------------------------------- images

fn png() -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut chunk = |kind: &[u8], data: &[u8]| {
        bytes.extend((data.len() as u32).to_be_bytes());
        bytes.extend(kind);
        bytes.extend(data);
        let mut crc = flate2::Crc::new();
        crc.update(kind);
        crc.update(data);
        bytes.extend(crc.sum().to_be_bytes());
    };
    chunk(b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0]);
    chunk(b"IDAT", &[0x78, 0x9c, 0x63, 0x60, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01]);
    chunk(b"IEND", &[]);
    bytes
}

fn jpeg() -> Vec<u8> {
    let mut bytes = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00".to_vec();
    bytes.extend(b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00\x12\x34\xff\x00\x56");
    bytes.extend(b"\xff\xd9");
    bytes
}

// ---------------------------------------------------------------- general

#[test]
fn empty_file() {
    assert_eq!(code(b""), "file_empty");
}

#[test]
fn eleven_megabyte_file_is_too_large() {
    let bytes = vec![b'a'; 11_000_000];
    let rejection = inspect(&bytes, &limits()).expect_err("too large");
    assert_eq!(rejection.code(), "file_too_large");
    assert_eq!(rejection.to_string(), "the file is 11000000 bytes; the limit is 10000000 bytes (10 MB)");
    assert_eq!(rejection.http_status(), 413);
    assert_eq!(rejection.disposition(), Disposition::Quarantine);
}

#[test]
fn executable_renamed_pdf_is_unsupported() {
    let mut bytes = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00\xb8\x00".to_vec();
    bytes.extend(b"This program cannot be run in DOS mode.\r\r\n$\x00\x00PE\x00\x00");
    bytes.extend((0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8));
    let rejection = inspect(&bytes, &limits()).expect_err("executable");
    assert_eq!(rejection.code(), "unsupported_type");
    assert_eq!(rejection.http_status(), 415);
    let message = rejection.to_string();
    assert!(message.contains("Windows executable"), "{message}");
    assert!(message.contains("PDF, DOCX, TXT, PNG or JPEG"), "{message}");
    assert_eq!(rejection.reason().code, "unsupported_type");
}

#[test]
fn elf_and_plain_zip_are_unsupported() {
    let elf = [b"\x7fELF\x02\x01\x01\x00".as_slice(), &[0u8; 64]].concat();
    assert_eq!(code(&elf), "unsupported_type");
    let zip = zip_of(&[("notes.txt", b"hello")]);
    let rejection = inspect(&zip, &limits()).expect_err("zip");
    assert!(rejection.to_string().contains("zip archive without word/document.xml"));
}

#[test]
fn binary_junk_named_txt_is_unsupported() {
    let junk: Vec<u8> = (0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    assert!(junk.contains(&0));
    let rejection = inspect(&junk, &limits()).expect_err("junk");
    assert_eq!(rejection.code(), "unsupported_type");
    assert!(rejection.to_string().contains("binary data"));
}

// ---------------------------------------------------------------- PDF

#[test]
fn valid_pdf_passes() {
    assert_eq!(passes_as(&plain_pdf()), ContentType::Pdf);
    assert_eq!(passes_as(&save_with_object_streams(pdf_with(|_, _| {}))), ContentType::Pdf);
}

#[test]
fn pdf_cut_in_half_is_truncated() {
    let bytes = plain_pdf();
    assert_eq!(code(&bytes[..bytes.len() / 2]), "pdf_truncated");
}

#[test]
fn pdf_that_does_not_parse_is_truncated() {
    assert_eq!(code(b"%PDF-1.7\nnothing here at all\n%%EOF\n"), "pdf_truncated");
}

#[test]
fn pdf_with_javascript_open_action() {
    let bytes = save(pdf_with(|doc, catalog| {
        let action = javascript_action(doc);
        catalog.set("OpenAction", action);
    }));
    let rejection = inspect(&bytes, &limits()).expect_err("javascript");
    assert_eq!(rejection.code(), "pdf_javascript");
    assert_eq!(rejection.disposition(), Disposition::Quarantine);
    assert_eq!(rejection.http_status(), 422);
}

#[test]
fn pdf_with_javascript_inside_a_compressed_object_stream() {
    let bytes = save_with_object_streams(pdf_with(|doc, catalog| {
        let action = javascript_action(doc);
        catalog.set("OpenAction", action);
    }));
    // The name is not in the raw bytes: only walking the objects finds it.
    // (The page text does say "HTML/JavaScript", inside a string.)
    assert!(find(&bytes, b"app.alert").is_none() && find(&bytes, b"/JS").is_none());
    assert_eq!(pdf::tests_support::raw_danger(&bytes), None);
    assert_eq!(code(&bytes), "pdf_javascript");
}

#[test]
fn pdf_with_hex_escaped_javascript_name() {
    // Same-length placeholders, patched after saving so offsets stay right.
    let bytes = save(pdf_with(|doc, catalog| {
        let action = doc.add_object(dictionary! {
            "S" => "Jzzzzzzzzzzz", "Jzzz" => Object::string_literal("app.alert(1)"),
        });
        catalog.set("AA", dictionary! { "WC" => action });
    }));
    let patched = replace_bytes(&replace_bytes(&bytes, b"/Jzzzzzzzzzzz", b"/J#61vaScript"), b"/Jzzz(", b"/J#53(");
    assert_eq!(patched.len(), bytes.len());
    assert!(find(&patched, b"/J#61vaScript").is_some() && find(&patched, b"/J#53(").is_some());
    assert!(find(&patched, b"app.alert").is_some() && find(&patched, b"/JS").is_none());
    assert_eq!(pdf::tests_support::raw_danger(&patched), Some(Rejection::PdfJavaScript));
    assert_eq!(code(&patched), "pdf_javascript");
}

#[test]
fn javascript_in_page_text_is_not_a_name() {
    // The page content says "HTML/JavaScript" inside a string: not a name.
    assert_eq!(passes_as(&plain_pdf()), ContentType::Pdf);
    assert!(find(&plain_pdf(), b"/JavaScript").is_some());
}

#[test]
fn pdf_with_launch_action() {
    let bytes = save(pdf_with(|_, catalog| {
        catalog.set("OpenAction", dictionary! { "S" => "Launch", "F" => Object::string_literal("calc.exe") });
    }));
    assert_eq!(code(&bytes), "pdf_launch_action");
    let compressed = save_with_object_streams(pdf_with(|doc, catalog| {
        let action = doc.add_object(dictionary! { "S" => "Launch", "F" => Object::string_literal("calc.exe") });
        catalog.set("OpenAction", action);
    }));
    assert!(find(&compressed, b"Launch").is_none() && find(&compressed, b"calc.exe").is_none());
    assert_eq!(code(&compressed), "pdf_launch_action");
}

#[test]
fn pdf_with_embedded_file() {
    let build = |doc: &mut Document, catalog: &mut Dictionary| {
        let file = doc.add_object(Stream::new(dictionary! { "Type" => "EmbeddedFile" }, b"MZ payload".to_vec()));
        let spec = doc.add_object(dictionary! {
            "Type" => "Filespec", "F" => Object::string_literal("payload.exe"), "EF" => dictionary! { "F" => file },
        });
        catalog.set(
            "Names",
            dictionary! { "EmbeddedFiles" => dictionary! { "Names" => vec![Object::string_literal("payload.exe"), spec.into()] } },
        );
    };
    assert_eq!(code(&save(pdf_with(build))), "pdf_embedded_file");
    assert_eq!(code(&save_with_object_streams(pdf_with(build))), "pdf_embedded_file");
}

#[test]
fn encrypted_pdf_fails_rather_than_quarantines() {
    let bytes = encrypted_pdf("secret");
    let rejection = inspect(&bytes, &limits()).expect_err("encrypted");
    assert_eq!(rejection.code(), "pdf_encrypted");
    assert_eq!(rejection.disposition(), Disposition::Fail);
    assert!(rejection.to_string().contains("upload an unencrypted copy"));
    // Only an owner password (copying forbidden, opens without asking): read like any PDF.
    let open = encrypted_pdf("");
    assert_eq!(passes_as(&open), ContentType::Pdf);
    assert!(crate::extract_text(ContentType::Pdf, &open).is_ok());
}

// ---------------------------------------------------------------- DOCX

#[test]
fn valid_docx_passes() {
    assert_eq!(passes_as(&plain_docx()), ContentType::Docx);
}

#[test]
fn docm_with_vba_project_is_macro_enabled() {
    let bytes = zip_of(&[
        ("[Content_Types].xml", CONTENT_TYPES_DOCX),
        ("word/document.xml", DOCUMENT_XML),
        ("word/vbaProject.bin", b"\xd0\xcf\x11\xe0 vba"),
    ]);
    assert_eq!(code(&bytes), "docx_macro_enabled");
}

#[test]
fn content_types_declaring_macros_is_macro_enabled() {
    let bytes = zip_of(&[("[Content_Types].xml", CONTENT_TYPES_DOCM), ("word/document.xml", DOCUMENT_XML)]);
    assert_eq!(code(&bytes), "docx_macro_enabled");
}

#[test]
fn zip_bomb_with_honest_header() {
    let bytes = bomb_docx(300 << 20);
    assert!(bytes.len() < 1_000_000, "the bomb is small: {}", bytes.len());
    let rejection = inspect(&bytes, &limits()).expect_err("bomb");
    assert_eq!(rejection.code(), "docx_zip_bomb");
    assert!(rejection.to_string().contains("the limit is 200 times"), "{rejection}");
}

#[test]
fn zip_bomb_with_lying_header() {
    // Declares 1000 bytes; unpacking is stopped right after them.
    let bytes = bomb_docx(1000);
    let rejection = inspect(&bytes, &limits()).expect_err("bomb");
    assert_eq!(rejection.code(), "docx_zip_bomb");
    assert!(matches!(rejection, Rejection::ZipBomb(ZipBomb::SizeMismatch { .. })), "{rejection:?}");
}

#[test]
fn docx_expanding_past_the_total_limit() {
    let big: Vec<u8> = (0..3_000_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
    let bytes = zip_of(&[
        ("[Content_Types].xml", CONTENT_TYPES_DOCX),
        ("word/document.xml", DOCUMENT_XML),
        ("word/media/a.bin", &big),
    ]);
    let small = Limits { max_zip_expanded_bytes: 2_000_000, max_file_bytes: 10_000_000, ..Limits::default() };
    let rejection = inspect(&bytes, &small).expect_err("expanded");
    assert_eq!(rejection.code(), "docx_zip_bomb");
    assert!(rejection.to_string().contains("the limit is 2000000 bytes (2 MB)"), "{rejection}");
    assert_eq!(passes_as(&bytes), ContentType::Docx);
}

#[test]
fn docx_with_too_many_entries() {
    let max = limits().max_zip_entries;
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    writer.start_file("word/document.xml", options).expect("start");
    writer.write_all(DOCUMENT_XML).expect("write");
    for i in 0..max {
        writer.start_file(format!("word/media/{i}.txt"), options).expect("start");
    }
    let bytes = writer.finish().expect("finish").into_inner();
    let rejection = inspect(&bytes, &limits()).expect_err("too many");
    assert_eq!(rejection.code(), "docx_too_many_entries");
    assert_eq!(rejection.to_string(), format!("the DOCX has {} entries; the limit is {max} entries", max + 1));
}

#[test]
fn damaged_docx_is_corrupt() {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let stored = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, data) in [("[Content_Types].xml", CONTENT_TYPES_DOCX), ("word/document.xml", DOCUMENT_XML)] {
        writer.start_file(name, stored).expect("start");
        writer.write_all(data).expect("write");
    }
    let mut bytes = writer.finish().expect("finish").into_inner();
    // Break the data of the first entry (CRC no longer matches).
    let at = find(&bytes, b"<?xml").expect("content types data");
    bytes[at + 2] ^= 0x20;
    assert_eq!(code(&bytes), "docx_corrupt");
}

// ---------------------------------------------------------------- text

#[test]
fn valid_text_passes() {
    assert_eq!(passes_as("Jane Doe\r\nSenior Engineer\t2020–2024\n".as_bytes()), ContentType::Txt);
    let mut utf16 = b"\xff\xfe".to_vec();
    for unit in "Zoë Smith\nRust".encode_utf16() {
        utf16.extend(unit.to_le_bytes());
    }
    assert_eq!(passes_as(&utf16), ContentType::Txt);
}

#[test]
fn invalid_utf8_text() {
    let rejection = inspect(b"Jos\xe9 Garc\xeda, Madrid\n", &limits()).expect_err("latin-1");
    assert_eq!(rejection.code(), "text_invalid_encoding");
    assert!(rejection.to_string().contains("not valid UTF-8 or UTF-16 text"));
    assert_eq!(code(b"\xff\xfeA\x00\x00\xd8"), "text_invalid_encoding");
}

#[test]
fn text_with_control_bytes_is_binary() {
    let rejection = inspect(b"Jane Doe\x1b[31m red \x07 bell\n", &limits()).expect_err("binary");
    assert_eq!(rejection.code(), "text_binary");
    assert!(rejection.to_string().contains("U+001B (at character offset 8)"), "{rejection}");
    let mut utf16 = b"\xfe\xff".to_vec();
    for unit in "ok\u{0}nul".encode_utf16() {
        utf16.extend(unit.to_be_bytes());
    }
    assert_eq!(code(&utf16), "text_binary");
}

// ---------------------------------------------------------------- images

#[test]
fn valid_images_pass() {
    assert_eq!(passes_as(&png()), ContentType::Png);
    assert_eq!(passes_as(&jpeg()), ContentType::Jpeg);
    assert_eq!(passes_as(&[jpeg(), vec![0, 0, b'\n']].concat()), ContentType::Jpeg);
}

#[test]
fn truncated_images() {
    let png = png();
    assert_eq!(code(&png[..png.len() - 12]), "image_truncated");
    assert_eq!(code(&png[..png.len() - 3]), "image_truncated");
    assert_eq!(code(&png[..20]), "image_truncated");
    let jpeg = jpeg();
    assert_eq!(code(&jpeg[..jpeg.len() - 2]), "image_truncated");
    assert_eq!(code(&jpeg[..3]), "image_truncated");
}

#[test]
fn human_sizes() {
    assert_eq!(human_bytes(10_000_000), "10 MB");
    assert_eq!(human_bytes(1_500_000), "1.5 MB");
    assert_eq!(human_bytes(200_000_000), "200 MB");
    assert_eq!(human_bytes(999), "999 bytes");
}

#[test]
fn codes_are_stable() {
    let all = [
        (Rejection::Empty, "file_empty"),
        (Rejection::TooLarge { size: 2, max: 1 }, "file_too_large"),
        (Rejection::UnsupportedType { looks_like: "binary data" }, "unsupported_type"),
        (Rejection::TruncatedPdf, "pdf_truncated"),
        (Rejection::PdfJavaScript, "pdf_javascript"),
        (Rejection::PdfLaunchAction, "pdf_launch_action"),
        (Rejection::PdfEmbeddedFile, "pdf_embedded_file"),
        (Rejection::EncryptedPdf, "pdf_encrypted"),
        (Rejection::CorruptDocx { detail: "x".into() }, "docx_corrupt"),
        (Rejection::TooManyEntries { count: 2, max: 1 }, "docx_too_many_entries"),
        (Rejection::ZipBomb(ZipBomb::SizeMismatch { entry: "x".into() }), "docx_zip_bomb"),
        (Rejection::MacroEnabled, "docx_macro_enabled"),
        (Rejection::InvalidText, "text_invalid_encoding"),
        (Rejection::BinaryText { code: 1, position: 0 }, "text_binary"),
        (Rejection::TruncatedImage { format: "PNG", detail: "x" }, "image_truncated"),
    ];
    for (rejection, code) in all {
        assert_eq!(rejection.code(), code);
        let expected = if code == "pdf_encrypted" { Disposition::Fail } else { Disposition::Quarantine };
        assert_eq!(rejection.disposition(), expected, "{code}");
        assert_eq!(rejection.reason(), Reason::new(code, rejection.to_string()));
    }
}

#[test]
fn damaged_inputs_never_panic() {
    let samples =
        [plain_pdf(), save_with_object_streams(pdf_with(|_, _| {})), encrypted_pdf(""), plain_docx(), png(), jpeg()];
    for sample in &samples {
        let mut state = 0x9e37_79b9_u32;
        for round in 0..150 {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let mut bytes = sample.clone();
            let at = state as usize % bytes.len();
            if round % 3 == 0 {
                bytes.truncate(at.max(1));
            } else {
                bytes[at] ^= (state >> 24) as u8 | 1;
            }
            let _ = inspect(&bytes, &limits());
            let _ = crate::docx::extract(&bytes);
            let _ = crate::txt::decode(&bytes);
        }
    }
}
