//! Upload logic: security filter, atomic quota, record, object. Nothing partial
//! is left behind when any step fails.

use api::{API_PREFIX, AppState, AuthUser, Problem, dependency_problem, document_routes};
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use bytes::{Bytes, BytesMut};
use documents::Rejection;
use domain::{DocumentId, DocumentRecord, Limits, UploadMethod, UserId};
use ports::{BlobError, Ports, StoreError};
use serde::{Deserialize, Serialize};
use store::{DocumentRepo, QuotaError, QuotaExceeded, QuotaRepo, keys};

/// Why an upload was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error(transparent)]
    Rejected(#[from] Rejection),
    #[error("quota exceeded: {0}")]
    Quota(#[from] QuotaExceeded),
    #[error("table store: {0}")]
    Store(#[from] StoreError),
    #[error("blob store: {0}")]
    Blob(#[from] BlobError),
}

impl From<QuotaError> for UploadError {
    fn from(e: QuotaError) -> Self {
        match e {
            QuotaError::Exceeded(q) => Self::Quota(q),
            QuotaError::Store(s) => Self::Store(s),
        }
    }
}

impl UploadError {
    /// The problem+json answer: names the reason and the limit.
    pub fn to_problem(&self) -> Problem {
        match self {
            Self::Rejected(r) => {
                let status = StatusCode::from_u16(r.http_status()).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY);
                let problem = Problem::new(status, r.code(), "File refused", r.to_string());
                match r {
                    Rejection::TooLarge { max, .. } => problem.with_limit(*max),
                    _ => problem,
                }
            }
            Self::Quota(q) => Problem::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "quota_exceeded",
                "Storage quota exceeded",
                format!(
                    "this file needs {} bytes but {} of your {} bytes ({} MB) are in use",
                    q.requested,
                    q.used,
                    q.max,
                    q.max / Limits::MB
                ),
            )
            .with_limit(q.max),
            Self::Store(e) => dependency_problem("table store", e),
            Self::Blob(e) => dependency_problem("blob store", e),
        }
    }
}

/// Stores a user's file after the security filter and the quota agree.
#[derive(Clone)]
pub struct UploadService {
    ports: Ports,
    limits: Limits,
    documents: DocumentRepo,
    quota: QuotaRepo,
}

impl UploadService {
    pub fn new(ports: Ports, limits: Limits) -> Self {
        let documents = DocumentRepo::new(ports.table.clone());
        let quota = QuotaRepo::new(ports.table.clone());
        Self { ports, limits, documents, quota }
    }

    /// Filter, reserve quota, record, store. On any failure after the
    /// reservation, the record and the reservation are rolled back.
    pub async fn upload(&self, user: &UserId, filename: &str, bytes: Bytes) -> Result<DocumentRecord, UploadError> {
        let inspection = documents::inspect(&bytes, &self.limits)?;
        let size = bytes.len() as u64;
        self.quota.reserve(user, size, self.limits.max_user_bytes).await?;

        let mut record = DocumentRecord::new(user.clone(), DocumentId::new(), filename, size, UploadMethod::Direct);
        record.content_type = Some(inspection.content_type);
        record.sha256 = Some(domain::sha256_hex(&bytes));
        if let Err(e) = self.documents.create(&record).await {
            self.release(user, size).await;
            return Err(e.into());
        }
        let key = keys::raw_object(user, &record.document_id);
        if let Err(e) = self.ports.blobs.put(&key, bytes, inspection.content_type.mime()).await {
            // Roll back so nothing partial remains: the record, the reservation,
            // and any object a failed multi-step write may have left.
            let _ = self.ports.blobs.delete(&key).await;
            if let Err(del) = self.documents.delete(user, &record.document_id).await {
                tracing::error!(error = %del, "could not remove the record of a failed upload");
            }
            self.release(user, size).await;
            return Err(e.into());
        }
        tracing::info!(
            user = %user.log_hash(),
            document_id = %record.document_id,
            content_type = %inspection.content_type,
            size_bytes = size,
            "document uploaded"
        );
        Ok(record)
    }

    /// Starts a browser upload straight to object storage. Quota is reserved when
    /// the object arrives (classify), since only then is its size certain.
    pub async fn presign(&self, user: &UserId, request: &PresignRequest) -> Result<PresignResponse, Problem> {
        let max = self.limits.max_file_bytes;
        if request.size_bytes == 0 {
            return Err(UploadError::Rejected(Rejection::Empty).to_problem());
        }
        if request.size_bytes > max {
            return Err(UploadError::Rejected(Rejection::TooLarge { size: request.size_bytes, max }).to_problem());
        }
        let used = self.quota.used(user).await?;
        if used + request.size_bytes > self.limits.max_user_bytes {
            let q = QuotaExceeded { used, requested: request.size_bytes, max: self.limits.max_user_bytes };
            return Err(UploadError::Quota(q).to_problem());
        }
        let record = DocumentRecord::new(
            user.clone(),
            DocumentId::new(),
            &request.filename,
            request.size_bytes,
            UploadMethod::Presigned,
        );
        self.documents.create(&record).await?;
        let key = keys::raw_object(user, &record.document_id);
        match self.ports.blobs.presign_post(&key, max, PRESIGN_TTL_SECS).await {
            Ok(post) => Ok(PresignResponse { document_id: record.document_id, max_bytes: max, upload: post }),
            Err(e) => {
                let _ = self.documents.delete(user, &record.document_id).await;
                Err(match e {
                    BlobError::PresignUnsupported => Problem::new(
                        StatusCode::NOT_IMPLEMENTED,
                        "presign_unsupported",
                        "Presigned uploads unavailable",
                        "this deployment stores files locally; use POST /upload instead",
                    ),
                    other => dependency_problem("blob store", &other),
                })
            }
        }
    }

    async fn release(&self, user: &UserId, bytes: u64) {
        if let Err(e) = self.quota.release(user, bytes).await {
            tracing::error!(error = %e, "could not release a quota reservation");
        }
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }
}

/// How long a presigned POST stays valid.
pub const PRESIGN_TTL_SECS: u64 = 900;

/// Body of `POST /upload/presign`.
#[derive(Debug, Clone, Deserialize)]
pub struct PresignRequest {
    pub filename: String,
    pub size_bytes: u64,
}

/// Answer of `POST /upload/presign`.
#[derive(Debug, Clone, Serialize)]
pub struct PresignResponse {
    pub document_id: DocumentId,
    pub max_bytes: u64,
    pub upload: ports::PresignedPost,
}

#[derive(Clone)]
struct UploadState {
    app: AppState,
    service: UploadService,
}

impl axum::extract::FromRef<UploadState> for std::sync::Arc<api::JwtVerifier> {
    fn from_ref(state: &UploadState) -> Self {
        state.app.verifier.clone()
    }
}

/// Slack above the file limit for multipart boundaries and part headers.
const MULTIPART_OVERHEAD: u64 = 64 * 1024;

/// The upload function's router: upload routes plus the document routes.
pub fn router(app: AppState) -> Router {
    let service = UploadService::new(app.ports.clone(), app.limits);
    let body_limit = usize::try_from(app.limits.max_file_bytes + MULTIPART_OVERHEAD).unwrap_or(usize::MAX);
    let upload = Router::new()
        .route("/upload", post(upload_file))
        .route("/upload/presign", post(presign))
        .layer(DefaultBodyLimit::max(body_limit))
        .with_state(UploadState { app: app.clone(), service });
    let routes = document_routes().with_state(app).merge(upload);
    Router::new().nest(API_PREFIX, routes).fallback(|| async { Problem::not_found("the route") })
}

/// Answer of `POST /upload`.
#[derive(Debug, Serialize)]
struct UploadResponse {
    #[serde(flatten)]
    document: api::DocumentView,
}

async fn upload_file(
    State(state): State<UploadState>,
    AuthUser(user): AuthUser,
    mut multipart: Multipart,
) -> Result<(StatusCode, Json<UploadResponse>), Problem> {
    let max = state.service.limits().max_file_bytes;
    let too_large = |size: u64| UploadError::Rejected(Rejection::TooLarge { size, max }).to_problem();
    let multipart_problem = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large(max + 1)
        } else {
            Problem::bad_request("bad_multipart", format!("the multipart body could not be read: {}", e.body_text()))
        }
    };
    while let Some(mut field) = multipart.next_field().await.map_err(multipart_problem)? {
        if field.name() != Some("file") {
            continue;
        }
        let filename = field.file_name().unwrap_or("unnamed").to_owned();
        // Stream the part, never holding more than the limit plus one chunk.
        let mut buffer = BytesMut::new();
        while let Some(chunk) = field.chunk().await.map_err(multipart_problem)? {
            buffer.extend_from_slice(&chunk);
            if buffer.len() as u64 > max {
                return Err(too_large(buffer.len() as u64));
            }
        }
        let record = state.service.upload(&user, &filename, buffer.freeze()).await.map_err(|e| e.to_problem())?;
        return Ok((StatusCode::CREATED, Json(UploadResponse { document: api::DocumentView::from(&record) })));
    }
    Err(Problem::bad_request("missing_file", "the multipart body has no part named \"file\""))
}

async fn presign(
    State(state): State<UploadState>,
    AuthUser(user): AuthUser,
    Json(request): Json<PresignRequest>,
) -> Result<(StatusCode, Json<PresignResponse>), Problem> {
    let response = state.service.presign(&user, &request).await?;
    Ok((StatusCode::CREATED, Json(response)))
}
