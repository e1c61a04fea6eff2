//! `GET /documents`, `GET /documents/{id}`, `GET /documents/{id}/text`.

use crate::{AppState, AuthUser, Problem, dependency_problem};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use domain::{ContentType, DocumentId, DocumentKind, DocumentRecord, DocumentStatus, PageText, Reason, UserId};
use serde::{Deserialize, Serialize};

/// What clients see of a document (also what `personalize ingest --json` prints).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocumentView {
    pub document_id: DocumentId,
    pub filename: String,
    pub size_bytes: u64,
    pub content_type: Option<ContentType>,
    pub status: DocumentStatus,
    pub kind: DocumentKind,
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
        .route("/documents/{id}", get(get_document))
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
