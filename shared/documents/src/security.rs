//! The security filter: run at upload and again on the stored bytes in classify.
//! TODO(helper): implement.

use domain::{ContentType, Limits, Reason};

/// What to do with a file that failed the filter once it is already stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// Unsafe or not what it claims: move to `quarantine/` with the reason.
    Quarantine,
    /// Safe but unreadable by us (e.g. encrypted PDF): status `failed` with the reason.
    Fail,
}

/// A file the filter refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("the file is empty")]
    Empty,
    #[error("the file is {size} bytes; the limit is {max} bytes")]
    TooLarge { size: u64, max: u64 },
}

impl Rejection {
    /// Stable machine code (`file_too_large`, `pdf_javascript`, ...).
    pub fn code(&self) -> &'static str {
        todo!()
    }
    pub fn disposition(&self) -> Disposition {
        todo!()
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
pub fn inspect(_bytes: &[u8], _limits: &Limits) -> Result<Inspection, Rejection> {
    todo!()
}
