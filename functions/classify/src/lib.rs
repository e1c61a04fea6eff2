//! The classify function: security filter on the stored bytes, text extraction,
//! status, and the `document.classified` event for the extract stage.

pub mod handler;
pub mod notification;

pub use handler::{Classifier, ClassifyError, MessageOutcome};
