//! The classify function: security filter on the stored bytes, text extraction,
//! the zero-shot document kind, status, and the `document.classified` event for
//! the extract and embed stages.

pub mod features;
pub mod handler;
pub mod kind;
pub mod learned;
pub mod notification;

pub use handler::{Classifier, ClassifyError, MessageOutcome};
pub use kind::{KindClassifier, KindError, KindJudgement};
pub use learned::KindModel;
