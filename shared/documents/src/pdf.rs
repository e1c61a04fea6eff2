//! PDF text per page on lopdf. TODO(helper)
use crate::ExtractError;
use domain::PageText;

/// Text of every page, in reading order, words separated.
pub fn extract_pages(_bytes: &[u8]) -> Result<Vec<PageText>, ExtractError> {
    todo!()
}
