//! The upload function: `POST /upload`, `POST /upload/presign` and the document
//! routes, as one axum router.

pub mod handler;

pub use handler::{UploadError, UploadService, router};
