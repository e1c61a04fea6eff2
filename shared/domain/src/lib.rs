//! Domain types of the Resume Personalization Engine: identifiers, document
//! lifecycle, limits and the event envelope. No I/O and no SDK types here.

pub mod chunking;
pub mod document;
pub mod envelope;
pub mod ids;
pub mod limits;

pub use document::{
    ContentType, DocumentKind, DocumentRecord, DocumentStatus, KindSource, PageText, Reason, UnknownKind, UploadMethod,
};
pub use envelope::{DocumentClassified, Envelope, EventType, FactExtracted, FactText, KnowledgeUpdated};
pub use ids::{DocumentId, IdError, UserId};
pub use limits::Limits;

/// Hex SHA-256 of a byte slice: the content hash used for idempotency keys.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(bytes))
}

/// Current time as an RFC 3339 string (UTC).
pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

/// Reads an RFC 3339 time (as [`now_rfc3339`] writes it). Compare instants,
/// not strings: the fractional seconds vary in length.
pub fn parse_rfc3339(s: &str) -> Option<time::OffsetDateTime> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
}
