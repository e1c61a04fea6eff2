//! The classify function: security filter on the stored bytes, text extraction,
//! the zero-shot document kind, status, and the `document.classified` event for
//! the extract and embed stages.

pub mod handler;
pub mod kind;
pub mod notification;

pub use handler::{Classifier, ClassifyError, MessageOutcome};
pub use kind::{KindClassifier, KindJudgement};
