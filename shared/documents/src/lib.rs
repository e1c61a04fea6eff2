//! Document content: type detection by content, the security filter, and text
//! extraction (PDF, DOCX, TXT). Pure functions over bytes: no I/O.

pub mod cid;
pub mod docx;
pub mod normalise;
pub mod pdf;
pub mod security;
pub mod sniff;
pub mod txt;

use domain::{ContentType, PageText};

pub use security::{Disposition, Inspection, Rejection, inspect};

/// Why text could not be extracted from a file that passed the security filter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExtractError {
    #[error("the PDF could not be parsed: {0}")]
    MalformedPdf(String),
    #[error("the PDF is encrypted")]
    EncryptedPdf,
    #[error("the DOCX could not be read: {0}")]
    MalformedDocx(String),
    #[error("the text is not valid UTF-8 or UTF-16")]
    BadEncoding,
    #[error("images need OCR")]
    NeedsOcr,
}

impl ExtractError {
    /// Stable machine code for status records and problem responses.
    pub fn code(&self) -> &'static str {
        match self {
            Self::MalformedPdf(_) => "pdf_malformed",
            Self::EncryptedPdf => "pdf_encrypted",
            Self::MalformedDocx(_) => "docx_malformed",
            Self::BadEncoding => "text_encoding",
            Self::NeedsOcr => "needs_ocr",
        }
    }
}

/// Extracts text per page (DOCX and TXT are one page each). Images return
/// `NeedsOcr`: they go through the OCR port instead.
/// Every page's text is [`normalise::normalise`]d.
pub fn extract_text(content_type: ContentType, bytes: &[u8]) -> Result<Vec<PageText>, ExtractError> {
    let pages = match content_type {
        ContentType::Pdf => pdf::extract_pages(bytes),
        ContentType::Docx => docx::extract(bytes).map(|text| vec![PageText { page: 1, text }]),
        ContentType::Txt => txt::decode(bytes).map(|text| vec![PageText { page: 1, text }]),
        ContentType::Png | ContentType::Jpeg => Err(ExtractError::NeedsOcr),
    }?;
    Ok(pages.into_iter().map(|p| PageText { page: p.page, text: normalise::normalise(&p.text) }).collect())
}
