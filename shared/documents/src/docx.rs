//! DOCX text: paragraphs and tables from `word/document.xml`. TODO(helper)
use crate::ExtractError;

/// Text of the document body: one line per paragraph, table cells separated by tabs.
pub fn extract(_bytes: &[u8]) -> Result<String, ExtractError> {
    todo!()
}
