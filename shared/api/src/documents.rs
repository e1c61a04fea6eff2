//! `GET /documents`, `GET /documents/{id}`, `PUT /documents/{id}` (the
//! user corrects the kind), `GET /documents/{id}/text`.

use crate::{AppState, AuthUser, Problem, dependency_problem};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use bytes::Bytes;
use domain::{
    ContentType, DocumentClassified, DocumentId, DocumentKind, DocumentRecord, DocumentStatus, Envelope, EventType,
    KindSource, PageText, Reason, UnknownKind, UserId,
};
use ports::{QueueError, QueueName, StoreError};
use serde::{Deserialize, Serialize};
use store::{IdempotencyRepo, Stage, keys};

/// What clients see of a document (also what `personalize ingest --json` prints).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocumentView {
    pub document_id: DocumentId,
    pub filename: String,
    pub size_bytes: u64,
    pub content_type: Option<ContentType>,
    pub status: DocumentStatus,
    pub kind: DocumentKind,
    /// `user` once the user set the kind (`PUT /documents/{id}`), else `classifier`.
    #[serde(default)]
    pub kind_source: KindSource,
    pub confidence: Option<f32>,
    /// Probability of each kind, when the classifier ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind_scores: Option<std::collections::BTreeMap<DocumentKind, f32>>,
    pub reason: Option<Reason>,
    pub pages: Option<u32>,
    pub text_chars: Option<u64>,
    /// Chunks searchable through `/search`, once embedded.
    pub chunks: Option<u32>,
    /// Facts the document added to or confirmed in the knowledge graph, once extracted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facts: Option<u32>,
    /// Share of the facts found that were already known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dedup_rate: Option<f32>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&DocumentRecord> for DocumentView {
    fn from(doc: &DocumentRecord) -> Self {
        Self {
            document_id: doc.document_id,
            filename: doc.filename.clone(),
            size_bytes: doc.size_bytes,
            content_type: doc.content_type,
            status: doc.status,
            kind: doc.kind,
            kind_source: doc.kind_source,
            confidence: doc.confidence,
            kind_scores: doc.kind_scores.clone(),
            reason: doc.reason.clone(),
            pages: doc.pages,
            text_chars: doc.text_chars,
            chunks: doc.chunks,
            facts: doc.facts,
            dedup_rate: doc.dedup_rate,
            created_at: doc.created_at.clone(),
            updated_at: doc.updated_at.clone(),
        }
    }
}

/// The extracted text of a document, per page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PagesView {
    pub document_id: DocumentId,
    pub pages: Vec<PageText>,
}

#[derive(Debug, Serialize)]
struct DocumentList {
    documents: Vec<DocumentView>,
}

/// The document routes, relative to [`crate::API_PREFIX`].
pub fn document_routes() -> Router<AppState> {
    Router::new()
        .route("/documents", get(list_documents))
        .route("/documents/{id}", get(get_document).put(put_document))
        .route("/documents/{id}/text", get(get_text))
}

async fn list_documents(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> Result<Json<DocumentList>, Problem> {
    let docs = state.documents.list(&user).await?;
    Ok(Json(DocumentList { documents: docs.iter().map(DocumentView::from).collect() }))
}

/// Loads the caller's document; an unknown id, a malformed id and another
/// user's id all answer the same 404.
async fn own_document(state: &AppState, user: &UserId, raw_id: &str) -> Result<DocumentRecord, Problem> {
    let not_found = || Problem::not_found("the document");
    let id = DocumentId::parse(raw_id).map_err(|_| not_found())?;
    state.documents.get(user, &id).await?.ok_or_else(not_found)
}

async fn get_document(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
) -> Result<Json<DocumentView>, Problem> {
    let doc = own_document(&state, &user, &id).await?;
    Ok(Json(DocumentView::from(&doc)))
}

/// Why a kind correction was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum KindCorrectionError {
    #[error("the body must be JSON {{\"kind\": \"...\"}} with kind one of {}: {}", DocumentKind::settable_list(), .0)]
    InvalidBody(String),
    #[error(transparent)]
    InvalidKind(#[from] UnknownKind),
    #[error("the document was not found")]
    NotFound,
    #[error("the document's status is {0}; its kind can be set once its text is extracted (status text_extracted)")]
    TextNotAvailable(DocumentStatus),
    /// A text-extracted record without what classify always records.
    #[error("the document record has no {0}")]
    Incomplete(&'static str),
    #[error("event encoding: {0}")]
    Encode(serde_json::Error),
    #[error("table store: {0}")]
    Store(#[from] StoreError),
    #[error("queue: {0}")]
    Queue(#[from] QueueError),
}

impl KindCorrectionError {
    /// The problem+json answer.
    pub fn to_problem(&self) -> Problem {
        match self {
            Self::InvalidBody(_) => Problem::bad_request("invalid_body", self.to_string()),
            Self::InvalidKind(_) => Problem::bad_request("invalid_kind", self.to_string()),
            Self::NotFound => Problem::not_found("the document"),
            Self::TextNotAvailable(_) => {
                Problem::new(StatusCode::CONFLICT, "text_not_available", "Text not available", self.to_string())
            }
            Self::Incomplete(what) => {
                tracing::error!(missing = what, "text-extracted document record is incomplete");
                Problem::internal()
            }
            Self::Encode(e) => {
                tracing::error!(error = %e, "could not encode the event");
                Problem::internal()
            }
            Self::Store(e) => dependency_problem("table store", e),
            Self::Queue(e) => dependency_problem("queue", e),
        }
    }
}

#[derive(Debug, Deserialize)]
struct KindBody {
    kind: String,
}

/// Reads `{"kind": "..."}`: one of the kinds a user may set.
pub fn parse_kind_body(body: &[u8]) -> Result<DocumentKind, KindCorrectionError> {
    let body: KindBody = serde_json::from_slice(body).map_err(|e| KindCorrectionError::InvalidBody(e.to_string()))?;
    Ok(DocumentKind::parse_settable(&body.kind)?)
}

/// Sets the kind of the user's document as the user's own and, unless the
/// document was already extracted as that kind, sends it back to extract (a
/// `document.classified` event with the kind, as classify sends), which
/// re-reads it and retracts what only the old reading gave. Setting the same
/// kind again changes nothing. Another user's document is not found.
pub async fn set_kind(
    state: &AppState,
    user: &UserId,
    raw_id: &str,
    kind: DocumentKind,
) -> Result<DocumentRecord, KindCorrectionError> {
    let id = DocumentId::parse(raw_id).map_err(|_| KindCorrectionError::NotFound)?;
    let mut doc = state.documents.get(user, &id).await?.ok_or(KindCorrectionError::NotFound)?;
    if doc.status != DocumentStatus::TextExtracted {
        return Err(KindCorrectionError::TextNotAvailable(doc.status));
    }
    let changed = doc.set_kind_by_user(kind);
    if changed {
        doc = state.documents.save_kind(&doc).await?.ok_or(KindCorrectionError::NotFound)?;
    }
    let sha256 = doc.sha256.clone().ok_or(KindCorrectionError::Incomplete("content hash"))?;
    let content_type = doc.content_type.ok_or(KindCorrectionError::Incomplete("content type"))?;
    let reading = keys::extract_fingerprint(&sha256, doc.kind, doc.kind_source);
    // Sent again while that reading is not done (a send that failed before, an
    // extraction still queued): extract drops the duplicate.
    let queued = !IdempotencyRepo::new(state.ports.table.clone()).is_done(&id, Stage::Extract, &reading).await?;
    if queued {
        let set_at = doc.kind_set_at.clone().unwrap_or_default();
        let event = Envelope::new(
            EventType::DocumentClassified,
            DocumentClassified::VERSION,
            user.clone(),
            &format!("{id}#kind#{reading}#{set_at}"),
            DocumentClassified {
                document_id: id,
                kind: doc.kind,
                confidence: doc.confidence,
                content_type,
                status: doc.status,
                sha256,
                pages: doc.pages.unwrap_or(0),
                text_key: keys::text_object(user, &id),
            },
        );
        let body = serde_json::to_string(&event).map_err(KindCorrectionError::Encode)?;
        state
            .ports
            .queue
            .send(QueueName::Extract, &body, &[("event_type", "personalization.document.classified")])
            .await?;
    }
    tracing::info!(
        user = %user.log_hash(),
        document_id = %id,
        kind = %doc.kind,
        changed,
        queued,
        "document kind set by the user"
    );
    Ok(doc)
}

async fn put_document(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<DocumentView>, Problem> {
    let kind = parse_kind_body(&body).map_err(|e| e.to_problem())?;
    let doc = set_kind(&state, &user, &id, kind).await.map_err(|e| e.to_problem())?;
    Ok(Json(DocumentView::from(&doc)))
}

async fn get_text(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
) -> Result<Json<PagesView>, Problem> {
    let doc = own_document(&state, &user, &id).await?;
    if doc.status != DocumentStatus::TextExtracted {
        return Err(Problem::new(
            StatusCode::CONFLICT,
            "text_not_available",
            "Text not available",
            format!("the document's status is {}; text exists once it is text_extracted", doc.status),
        ));
    }
    let key = store::keys::text_object(&user, &doc.document_id);
    let bytes = state.ports.blobs.get(&key).await.map_err(|e| dependency_problem("blob store", &e))?;
    let pages: Vec<PageText> = serde_json::from_slice(&bytes).map_err(|e| {
        tracing::error!(error = %e, "stored text is malformed");
        Problem::internal()
    })?;
    Ok(Json(PagesView { document_id: doc.document_id, pages }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_bodies_parse_or_are_refused_naming_every_kind() {
        assert_eq!(parse_kind_body(br#"{"kind": "cover_letter"}"#).unwrap(), DocumentKind::CoverLetter);
        assert_eq!(parse_kind_body(br#"{"kind": "other", "note": "x"}"#).unwrap(), DocumentKind::Other);
        for (body, code) in [
            (&br#"{"kind": "memo"}"#[..], "invalid_kind"),
            (br#"{"kind": "unclassified"}"#, "invalid_kind"),
            (br#"{"kind": null}"#, "invalid_body"),
            (br#"{"type": "resume"}"#, "invalid_body"),
            (b"resume", "invalid_body"),
            (b"", "invalid_body"),
        ] {
            let problem = parse_kind_body(body).unwrap_err().to_problem();
            assert_eq!((problem.status, problem.code.as_str()), (400, code), "{}", String::from_utf8_lossy(body));
            for kind in DocumentKind::SETTABLE {
                assert!(problem.detail.contains(kind.as_str()), "{}", problem.detail);
            }
        }
        let conflict = KindCorrectionError::TextNotAvailable(DocumentStatus::NeedsOcr).to_problem();
        assert_eq!((conflict.status, conflict.code.as_str()), (409, "text_not_available"));
        assert!(conflict.detail.contains("needs_ocr"), "{}", conflict.detail);
        assert_eq!(KindCorrectionError::NotFound.to_problem(), Problem::not_found("the document"));
    }
}
