//! The security filter: run at upload and again on the stored bytes in classify.
//!
//! Order: empty, too large, type by content ([`crate::sniff`]), then the checks
//! of that type. Every check is bounded: no zip entry is unpacked past the
//! limits, and PDF streams are decoded with a cap.

mod docx;
mod pdf;

use crate::sniff::{self, Sniffed};
use domain::{ContentType, Limits, Reason};

/// What to do with a file that failed the filter once it is already stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// Unsafe or not what it claims: move to `quarantine/` with the reason.
    Quarantine,
    /// Safe but unreadable by us (e.g. encrypted PDF): status `failed` with the reason.
    Fail,
}

/// The accepted types, as listed to users.
pub const ACCEPTED_TYPES: &str = "PDF, DOCX, TXT, PNG or JPEG";

/// A file the filter refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("the file is empty")]
    Empty,
    #[error("the file is {size} bytes; the limit is {max} bytes ({})", human_bytes(*max))]
    TooLarge { size: u64, max: u64 },
    #[error("the file looks like {looks_like}, which is not accepted; upload a {ACCEPTED_TYPES} file")]
    UnsupportedType { looks_like: &'static str },
    #[error("the PDF is truncated or damaged and cannot be read; upload a complete copy")]
    TruncatedPdf,
    #[error("the PDF contains JavaScript, which is not allowed; upload a copy without scripts")]
    PdfJavaScript,
    #[error("the PDF contains a launch action (it tries to open a program or file), which is not allowed")]
    PdfLaunchAction,
    #[error("the PDF contains embedded or attached files, which are not allowed; upload a copy without attachments")]
    PdfEmbeddedFile,
    #[error("the PDF is encrypted or password-protected; upload an unencrypted copy")]
    EncryptedPdf,
    #[error("the DOCX is damaged and cannot be read: {detail}")]
    CorruptDocx { detail: String },
    #[error("the DOCX has {count} entries; the limit is {max} entries")]
    TooManyEntries { count: usize, max: usize },
    #[error("{0}")]
    ZipBomb(ZipBomb),
    #[error(
        "the DOCX contains macros, which are not allowed; save it as a plain .docx (Word Document) and upload that"
    )]
    MacroEnabled,
    #[error("the file is not valid UTF-8 or UTF-16 text; save it as UTF-8 and upload it again")]
    InvalidText,
    #[error(
        "the text contains the control character U+{code:04X} (at character offset {position}), so it looks like binary data"
    )]
    BinaryText { code: u32, position: usize },
    #[error("the {format} image is truncated or damaged: {detail}")]
    TruncatedImage { format: &'static str, detail: &'static str },
}

/// How a DOCX would unpack to more than the limits allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ZipBomb {
    #[error("the DOCX unpacks to at least {size} bytes; the limit is {max} bytes ({})", human_bytes(*max))]
    Expanded { size: u64, max: u64 },
    #[error("the DOCX entry \"{entry}\" expands at least {ratio} times its packed size; the limit is {max} times")]
    Ratio { entry: String, ratio: u64, max: u64 },
    #[error("the DOCX entry \"{entry}\" unpacks to more than its declared size, which is not allowed")]
    SizeMismatch { entry: String },
}

impl Rejection {
    /// Stable machine code (`file_too_large`, `pdf_javascript`, ...).
    pub fn code(&self) -> &'static str {
        match self {
            Self::Empty => "file_empty",
            Self::TooLarge { .. } => "file_too_large",
            Self::UnsupportedType { .. } => "unsupported_type",
            Self::TruncatedPdf => "pdf_truncated",
            Self::PdfJavaScript => "pdf_javascript",
            Self::PdfLaunchAction => "pdf_launch_action",
            Self::PdfEmbeddedFile => "pdf_embedded_file",
            Self::EncryptedPdf => "pdf_encrypted",
            Self::CorruptDocx { .. } => "docx_corrupt",
            Self::TooManyEntries { .. } => "docx_too_many_entries",
            Self::ZipBomb(_) => "docx_zip_bomb",
            Self::MacroEnabled => "docx_macro_enabled",
            Self::InvalidText => "text_invalid_encoding",
            Self::BinaryText { .. } => "text_binary",
            Self::TruncatedImage { .. } => "image_truncated",
        }
    }

    /// Quarantine for anything unsafe or not what it claims; `Fail` for a file
    /// that is safe but that we cannot read (an encrypted PDF).
    pub fn disposition(&self) -> Disposition {
        match self {
            Self::EncryptedPdf => Disposition::Fail,
            _ => Disposition::Quarantine,
        }
    }

    /// The HTTP status when the upload is refused: 413 too large, 415 wrong
    /// type, 422 otherwise.
    pub fn http_status(&self) -> u16 {
        match self {
            Self::TooLarge { .. } => 413,
            Self::UnsupportedType { .. } => 415,
            _ => 422,
        }
    }

    pub fn reason(&self) -> Reason {
        Reason::new(self.code(), self.to_string())
    }
}

/// Result of a file that passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inspection {
    pub content_type: ContentType,
}

/// Checks size, type by content, and type-specific dangers.
pub fn inspect(bytes: &[u8], limits: &Limits) -> Result<Inspection, Rejection> {
    if bytes.is_empty() {
        return Err(Rejection::Empty);
    }
    let size = bytes.len() as u64;
    if size > limits.max_file_bytes {
        return Err(Rejection::TooLarge { size, max: limits.max_file_bytes });
    }
    let content_type = match sniff::sniff(bytes) {
        Sniffed::Supported(content_type) => content_type,
        Sniffed::Unsupported(looks_like) => return Err(Rejection::UnsupportedType { looks_like }),
    };
    match content_type {
        ContentType::Pdf => pdf::inspect(bytes)?,
        ContentType::Docx => docx::inspect(bytes, limits)?,
        ContentType::Txt => inspect_text(bytes)?,
        ContentType::Png => inspect_png(bytes)?,
        ContentType::Jpeg => inspect_jpeg(bytes)?,
    }
    Ok(Inspection { content_type })
}

fn inspect_text(bytes: &[u8]) -> Result<(), Rejection> {
    let text = crate::txt::decode_exact(bytes).ok_or(Rejection::InvalidText)?;
    let control = text.chars().enumerate().find(|&(_, c)| {
        let code = u32::from(c);
        u8::try_from(code).is_ok_and(sniff::is_control_byte)
    });
    match control {
        Some((position, c)) => Err(Rejection::BinaryText { code: u32::from(c), position }),
        None => Ok(()),
    }
}

fn inspect_png(bytes: &[u8]) -> Result<(), Rejection> {
    let truncated = |detail| Rejection::TruncatedImage { format: "PNG", detail };
    // Walk the chunks (length, type, data, CRC) from after the signature to IEND.
    let mut pos: usize = 8;
    let mut first = true;
    loop {
        let header = bytes.get(pos..pos.saturating_add(8)).ok_or_else(|| truncated("it ends before the IEND chunk"))?;
        let length = u32::from_be_bytes([header[0], header[1], header[2], header[3]]);
        let kind = &header[4..8];
        if first && kind != b"IHDR" {
            return Err(truncated("it does not start with an IHDR chunk"));
        }
        first = false;
        let end = usize::try_from(length)
            .ok()
            .and_then(|length| pos.checked_add(12)?.checked_add(length))
            .filter(|&end| end <= bytes.len())
            .ok_or_else(|| truncated("a chunk runs past the end of the file"))?;
        if kind == b"IEND" {
            return Ok(());
        }
        pos = end;
    }
}

fn inspect_jpeg(bytes: &[u8]) -> Result<(), Rejection> {
    // Some writers pad after the end-of-image marker; ignore NUL and whitespace padding.
    let trimmed =
        bytes.iter().rposition(|b| !matches!(b, 0 | b'\r' | b'\n' | b' ')).map_or(&[][..], |last| &bytes[..=last]);
    if trimmed.len() >= 4 && trimmed.ends_with(b"\xff\xd9") {
        Ok(())
    } else {
        Err(Rejection::TruncatedImage { format: "JPEG", detail: "it does not end with the end-of-image marker" })
    }
}

/// `10000000` as "10 MB", `1500000` as "1.5 MB", `2048` as "2.0 kB".
pub fn human_bytes(bytes: u64) -> String {
    const KB: u64 = 1_000;
    const MB: u64 = Limits::MB;
    const GB: u64 = 1_000 * MB;
    let scaled = |unit: u64, name: &str| {
        if bytes.is_multiple_of(unit) {
            format!("{} {name}", bytes / unit)
        } else {
            format!("{:.1} {name}", bytes as f64 / unit as f64)
        }
    };
    match bytes {
        b if b >= GB => scaled(GB, "GB"),
        b if b >= MB => scaled(MB, "MB"),
        b if b >= KB => scaled(KB, "kB"),
        b => format!("{b} bytes"),
    }
}

/// A name from untrusted input made fit for a message: no control
/// characters, at most 80 characters.
fn printable(name: &str) -> String {
    let mut out: String = name.chars().filter(|c| !c.is_control()).take(80).collect();
    if name.chars().count() > 80 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests;
