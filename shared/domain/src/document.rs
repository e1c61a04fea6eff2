//! A user's document and its lifecycle through the pipeline.

use crate::{DocumentId, UserId};
use serde::{Deserialize, Serialize};
use std::fmt;

/// File type decided from content (magic bytes and structure), never from the name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ContentType {
    Pdf,
    Docx,
    Txt,
    Png,
    Jpeg,
}

impl ContentType {
    /// The MIME type served back to clients.
    pub fn mime(self) -> &'static str {
        match self {
            Self::Pdf => "application/pdf",
            Self::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            Self::Txt => "text/plain; charset=utf-8",
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
        }
    }

    /// Whether text comes out of this type only through OCR.
    pub fn is_image(self) -> bool {
        matches!(self, Self::Png | Self::Jpeg)
    }
}

impl fmt::Display for ContentType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Pdf => "pdf",
            Self::Docx => "docx",
            Self::Txt => "txt",
            Self::Png => "png",
            Self::Jpeg => "jpeg",
        })
    }
}

/// What a document is, as the zero-shot classifier judged it. `Unclassified`
/// until classify has read the text; `Other` when no kind was confident enough.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    #[default]
    Unclassified,
    Resume,
    CoverLetter,
    JobDescription,
    Certificate,
    Transcript,
    ReferenceLetter,
    Other,
}

/// Where a document is in the pipeline. `TextExtracted`, `NeedsOcr`,
/// `Quarantined` and `Failed` are terminal for this stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentStatus {
    /// A presigned upload was issued; the object has not arrived yet.
    AwaitingUpload,
    /// Stored under `raw/`, waiting for classify.
    Uploaded,
    /// Text extracted and handed to the next stage.
    TextExtracted,
    /// An image with no OCR engine configured: nothing to read yet.
    NeedsOcr,
    /// Unsafe content moved to `quarantine/`; see the reason.
    Quarantined,
    /// Could not be processed; see the reason.
    Failed,
}

impl DocumentStatus {
    /// True when no further work is pending for the document.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::TextExtracted | Self::NeedsOcr | Self::Quarantined | Self::Failed)
    }
}

impl fmt::Display for DocumentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = serde_json::to_value(self).ok();
        f.write_str(s.as_ref().and_then(|v| v.as_str()).unwrap_or("unknown"))
    }
}

/// Why a document was rejected, quarantined or failed: a stable machine code
/// and a sentence for people that names the limit that was broken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    pub code: String,
    pub detail: String,
}

impl Reason {
    pub fn new(code: impl Into<String>, detail: impl Into<String>) -> Self {
        Self { code: code.into(), detail: detail.into() }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.detail)
    }
}

/// How the bytes reached storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UploadMethod {
    /// Through `POST /upload`: quota was reserved before the object was stored.
    Direct,
    /// Through a presigned POST: quota is reserved when the object arrives.
    Presigned,
}

/// The `user_documents` row: everything the frontend shows about one document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocumentRecord {
    pub user_id: UserId,
    pub document_id: DocumentId,
    /// The name the user gave the file (display only; never used as a path).
    pub filename: String,
    pub size_bytes: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<ContentType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    pub status: DocumentStatus,
    pub kind: DocumentKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f32>,
    /// Similarity score of every kind the classifier considered (kept when the
    /// confidence was too low to name one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind_scores: Option<std::collections::BTreeMap<DocumentKind, f32>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Reason>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pages: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_chars: Option<u64>,
    /// Text chunks with vectors in the user's vector store (set by embed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chunks: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embedded_at: Option<String>,
    /// Facts this document added to or confirmed in the knowledge graph (set by extract).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facts: Option<u32>,
    /// Share of the facts found that were already known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dedup_rate: Option<f32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extracted_at: Option<String>,
    pub upload_method: UploadMethod,
    /// Whether this document's bytes are counted in the user's quota.
    #[serde(default)]
    pub quota_reserved: bool,
    pub created_at: String,
    pub updated_at: String,
}

impl DocumentRecord {
    /// A new record for a document about to be stored.
    pub fn new(
        user_id: UserId,
        document_id: DocumentId,
        filename: &str,
        size_bytes: u64,
        method: UploadMethod,
    ) -> Self {
        let now = crate::now_rfc3339();
        Self {
            user_id,
            document_id,
            filename: sanitize_filename(filename),
            size_bytes,
            content_type: None,
            sha256: None,
            status: match method {
                UploadMethod::Direct => DocumentStatus::Uploaded,
                UploadMethod::Presigned => DocumentStatus::AwaitingUpload,
            },
            kind: DocumentKind::Unclassified,
            confidence: None,
            kind_scores: None,
            reason: None,
            pages: None,
            text_chars: None,
            chunks: None,
            embedded_at: None,
            facts: None,
            dedup_rate: None,
            extracted_at: None,
            upload_method: method,
            quota_reserved: matches!(method, UploadMethod::Direct),
            created_at: now.clone(),
            updated_at: now,
        }
    }

    /// Moves the record to `status`, recording why (or clearing the reason).
    pub fn transition(&mut self, status: DocumentStatus, reason: Option<Reason>) {
        self.status = status;
        self.reason = reason;
        self.updated_at = crate::now_rfc3339();
    }
}

/// Keeps a display name short and free of path separators and control characters.
pub fn sanitize_filename(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let cleaned: String = base.chars().filter(|c| !c.is_control()).take(255).collect();
    if cleaned.trim().is_empty() { "unnamed".to_owned() } else { cleaned }
}

/// The text of one page (1-based), as extracted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageText {
    pub page: u32,
    pub text: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filenames_lose_paths_and_control_characters() {
        assert_eq!(sanitize_filename("../../etc/passwd"), "passwd");
        assert_eq!(sanitize_filename("C:\\x\\cv.pdf"), "cv.pdf");
        assert_eq!(sanitize_filename("a\u{0}b.pdf"), "ab.pdf");
        assert_eq!(sanitize_filename("   "), "unnamed");
    }

    #[test]
    fn statuses_serialise_in_snake_case() {
        assert_eq!(DocumentStatus::TextExtracted.to_string(), "text_extracted");
        assert!(DocumentStatus::Quarantined.is_terminal());
        assert!(!DocumentStatus::Uploaded.is_terminal());
    }
}
