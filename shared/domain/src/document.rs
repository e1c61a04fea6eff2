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

impl DocumentKind {
    /// The kinds a user may give a document (`unclassified` is the pipeline's, not a kind).
    pub const SETTABLE: [DocumentKind; 7] = [
        DocumentKind::Resume,
        DocumentKind::CoverLetter,
        DocumentKind::JobDescription,
        DocumentKind::Certificate,
        DocumentKind::Transcript,
        DocumentKind::ReferenceLetter,
        DocumentKind::Other,
    ];

    /// The name used in JSON and on the command line (`cover_letter`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unclassified => "unclassified",
            Self::Resume => "resume",
            Self::CoverLetter => "cover_letter",
            Self::JobDescription => "job_description",
            Self::Certificate => "certificate",
            Self::Transcript => "transcript",
            Self::ReferenceLetter => "reference_letter",
            Self::Other => "other",
        }
    }

    /// A kind a user may set, by name; anything else (`unclassified` included) is refused.
    pub fn parse_settable(name: &str) -> Result<Self, UnknownKind> {
        Self::SETTABLE.into_iter().find(|k| k.as_str() == name).ok_or_else(|| UnknownKind(name.to_owned()))
    }

    /// The settable kinds as one comma-separated list, for messages.
    pub fn settable_list() -> String {
        Self::SETTABLE.map(Self::as_str).join(", ")
    }
}

impl fmt::Display for DocumentKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not a kind a user may set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{:?} is not a document kind; use one of {}", .0, DocumentKind::settable_list())]
pub struct UnknownKind(pub String);

/// Who named a document's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KindSource {
    /// The zero-shot classifier (or nobody yet, while `unclassified`).
    #[default]
    Classifier,
    /// The user corrected it: the document is read as this kind alone, and no
    /// pipeline stage changes it again.
    User,
}

impl KindSource {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Classifier => "classifier",
            Self::User => "user",
        }
    }
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
    /// Whether the classifier or the user named the kind.
    #[serde(default)]
    pub kind_source: KindSource,
    /// When the user last set the kind (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind_set_at: Option<String>,
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
            kind_source: KindSource::Classifier,
            kind_set_at: None,
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

    /// Records the user's kind for the document; `false` when the user had
    /// already set exactly this kind (nothing to do). The classifier's
    /// `kind_scores` stay as they were; `confidence` becomes 1, as for facts
    /// the user edits.
    pub fn set_kind_by_user(&mut self, kind: DocumentKind) -> bool {
        if self.kind == kind && self.kind_source == KindSource::User {
            return false;
        }
        let now = crate::now_rfc3339();
        self.kind = kind;
        self.kind_source = KindSource::User;
        self.confidence = Some(1.0);
        self.kind_set_at = Some(now.clone());
        self.updated_at = now;
        true
    }

    /// Takes the kind fields (kind, who set it, when, confidence) from `other`.
    pub fn copy_kind_from(&mut self, other: &DocumentRecord) {
        self.kind = other.kind;
        self.kind_source = other.kind_source;
        self.kind_set_at = other.kind_set_at.clone();
        self.confidence = other.confidence;
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
    fn settable_kinds_parse_by_their_json_names_and_nothing_else_does() {
        for kind in DocumentKind::SETTABLE {
            assert_eq!(DocumentKind::parse_settable(kind.as_str()), Ok(kind));
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
        }
        let refused = DocumentKind::parse_settable("unclassified").unwrap_err();
        let message = refused.to_string();
        for name in
            ["resume", "cover_letter", "job_description", "certificate", "transcript", "reference_letter", "other"]
        {
            assert!(message.contains(name), "{message}");
        }
        assert!(DocumentKind::parse_settable("Resume").is_err());
        assert!(DocumentKind::parse_settable("").is_err());
    }

    #[test]
    fn a_user_kind_is_recorded_once_and_old_rows_read_as_the_classifiers() {
        let mut doc =
            DocumentRecord::new(UserId::parse("u").unwrap(), DocumentId::new(), "cv.pdf", 1, UploadMethod::Direct);
        doc.kind = DocumentKind::Resume;
        doc.confidence = Some(0.8);
        assert!(doc.set_kind_by_user(DocumentKind::CoverLetter));
        assert_eq!(
            (doc.kind, doc.kind_source, doc.confidence),
            (DocumentKind::CoverLetter, KindSource::User, Some(1.0))
        );
        assert!(doc.kind_set_at.is_some());
        assert!(!doc.set_kind_by_user(DocumentKind::CoverLetter), "the same kind twice changes nothing");
        // Confirming the classifier's kind is a change of who named it.
        let mut confirmed =
            DocumentRecord::new(UserId::parse("u").unwrap(), DocumentId::new(), "cv.pdf", 1, UploadMethod::Direct);
        confirmed.kind = DocumentKind::Resume;
        assert!(confirmed.set_kind_by_user(DocumentKind::Resume));
        // Rows written before kind_source existed are the classifier's.
        let mut old = serde_json::to_value(&doc).unwrap();
        old.as_object_mut().unwrap().remove("kind_source");
        old.as_object_mut().unwrap().remove("kind_set_at");
        let read: DocumentRecord = serde_json::from_value(old).unwrap();
        assert_eq!(read.kind_source, KindSource::Classifier);
    }

    #[test]
    fn statuses_serialise_in_snake_case() {
        assert_eq!(DocumentStatus::TextExtracted.to_string(), "text_extracted");
        assert!(DocumentStatus::Quarantined.is_terminal());
        assert!(!DocumentStatus::Uploaded.is_terminal());
    }
}
