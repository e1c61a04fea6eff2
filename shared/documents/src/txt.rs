//! Plain text decoding. TODO(helper)
use crate::ExtractError;

/// Decodes UTF-8 (with or without BOM) or UTF-16 (with BOM) text.
pub fn decode(_bytes: &[u8]) -> Result<String, ExtractError> {
    todo!()
}
