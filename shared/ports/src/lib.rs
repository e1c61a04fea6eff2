//! Ports: the traits the handlers are written against. Each has an AWS adapter
//! (`aws-adapters`) and an embedded one (`embedded`). No SDK types cross them.

use async_trait::async_trait;
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Whether an error is worth retrying.
pub trait Retryable {
    /// Throttling, timeouts and unavailable services are retryable; bad input is not.
    fn is_retryable(&self) -> bool;
}

// ---------------------------------------------------------------- blobs

/// Failures of the blob store.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("no object at {0}")]
    NotFound(String),
    #[error("presigned uploads are not available with this blob store")]
    PresignUnsupported,
    #[error("blob store unavailable: {0}")]
    Transient(String),
    #[error("blob store error: {0}")]
    Permanent(String),
}

impl Retryable for BlobError {
    fn is_retryable(&self) -> bool {
        matches!(self, Self::Transient(_))
    }
}

/// A presigned browser upload: POST a multipart form with `fields` plus `file` to `url`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresignedPost {
    pub url: String,
    pub fields: Vec<(String, String)>,
    /// RFC 3339 time after which the policy is refused.
    pub expires_at: String,
}

/// Object storage (S3, or files under a data dir).
#[async_trait]
pub trait BlobStore: Send + Sync {
    /// Stores `bytes` at `key`, replacing any object there, atomically.
    async fn put(&self, key: &str, bytes: Bytes, content_type: &str) -> Result<(), BlobError>;
    /// Reads the whole object.
    async fn get(&self, key: &str) -> Result<Bytes, BlobError>;
    /// Size of the object, or `None` when absent.
    async fn size(&self, key: &str) -> Result<Option<u64>, BlobError>;
    /// Removes the object; absent objects are not an error.
    async fn delete(&self, key: &str) -> Result<(), BlobError>;
    /// Moves an object (copy then delete), e.g. into quarantine.
    async fn rename(&self, from: &str, to: &str) -> Result<(), BlobError>;
    /// Keys under a prefix.
    async fn list(&self, prefix: &str) -> Result<Vec<String>, BlobError>;
    /// A presigned POST that lets a browser upload at most `max_bytes` to `key`.
    async fn presign_post(&self, key: &str, max_bytes: u64, expires_secs: u64) -> Result<PresignedPost, BlobError>;
}

// ---------------------------------------------------------------- queue

/// Failures of the queue.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("queue unavailable: {0}")]
    Transient(String),
    #[error("queue error: {0}")]
    Permanent(String),
}

impl Retryable for QueueError {
    fn is_retryable(&self) -> bool {
        matches!(self, Self::Transient(_))
    }
}

/// The queues of the pipeline, by role. Adapters map them to URLs or tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueueName {
    Classify,
    ClassifyDlq,
    Extract,
    ExtractDlq,
    Embed,
    EmbedDlq,
    Insight,
    InsightDlq,
    /// Events for the frontend (`insight.generated`): no stage consumes them.
    Notifications,
    NotificationsDlq,
}

impl QueueName {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Classify => "classify",
            Self::ClassifyDlq => "classify-dlq",
            Self::Extract => "extract",
            Self::ExtractDlq => "extract-dlq",
            Self::Embed => "embed",
            Self::EmbedDlq => "embed-dlq",
            Self::Insight => "insight",
            Self::InsightDlq => "insight-dlq",
            Self::Notifications => "notifications",
            Self::NotificationsDlq => "notifications-dlq",
        }
    }

    /// The dead-letter queue behind this queue (itself for a DLQ).
    pub fn dlq(self) -> Self {
        match self {
            Self::Classify | Self::ClassifyDlq => Self::ClassifyDlq,
            Self::Extract | Self::ExtractDlq => Self::ExtractDlq,
            Self::Embed | Self::EmbedDlq => Self::EmbedDlq,
            Self::Insight | Self::InsightDlq => Self::InsightDlq,
            Self::Notifications | Self::NotificationsDlq => Self::NotificationsDlq,
        }
    }
}

/// Sending side of a queue (SQS, or a table in the embedded database).
#[async_trait]
pub trait Queue: Send + Sync {
    /// Sends one message body (JSON text). `attributes` travel as message attributes.
    async fn send(&self, queue: QueueName, body: &str, attributes: &[(&str, &str)]) -> Result<(), QueueError>;
}

/// One received message, for consumers that poll (the embedded runner, tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMessage {
    pub id: String,
    /// Opaque handle for `ack`/`nack`.
    pub receipt: String,
    pub body: String,
    /// How many times this message has been received, this time included.
    pub receive_count: u32,
}

/// Receiving side, used where no Lambda event source polls for us.
#[async_trait]
pub trait QueueConsumer: Send + Sync {
    /// Up to `max` visible messages, hidden for `visibility_secs` after receipt.
    async fn receive(
        &self,
        queue: QueueName,
        max: usize,
        visibility_secs: u64,
    ) -> Result<Vec<ReceivedMessage>, QueueError>;
    /// Done: removes the message.
    async fn ack(&self, queue: QueueName, receipt: &str) -> Result<(), QueueError>;
    /// Failed: visible again after `delay_secs`, or moved to the DLQ once it has
    /// been received `max_receives` times.
    async fn nack(&self, queue: QueueName, receipt: &str, delay_secs: u64) -> Result<(), QueueError>;
    /// Number of messages (visible or in flight).
    async fn depth(&self, queue: QueueName) -> Result<usize, QueueError>;
}

// ---------------------------------------------------------------- table

/// Failures of the table store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("condition failed")]
    ConditionFailed,
    #[error("limit exceeded: {current} in use, adding {delta} would pass {max}")]
    LimitExceeded { current: i64, delta: i64, max: i64 },
    #[error("stored item is malformed: {0}")]
    Malformed(String),
    #[error("table store unavailable: {0}")]
    Transient(String),
    #[error("table store error: {0}")]
    Permanent(String),
}

impl Retryable for StoreError {
    fn is_retryable(&self) -> bool {
        matches!(self, Self::Transient(_))
    }
}

/// One item of the single table: a partition key, a sort key and JSON attributes.
/// Attribute names `pk` and `sk` are reserved for the keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    pub pk: String,
    pub sk: String,
    pub attrs: serde_json::Map<String, serde_json::Value>,
}

/// Condition on a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutCondition {
    /// Unconditional.
    None,
    /// Only if no item has this key (otherwise `ConditionFailed`).
    IfAbsent,
    /// Only if an item has this key (otherwise `ConditionFailed`).
    IfExists,
}

/// The single-table key-value store (DynamoDB, or an embedded database file).
#[async_trait]
pub trait TableStore: Send + Sync {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError>;
    async fn put(&self, item: Item, condition: PutCondition) -> Result<(), StoreError>;
    /// Deletes; absent items are not an error.
    async fn delete(&self, pk: &str, sk: &str) -> Result<(), StoreError>;
    /// All items of a partition whose sort key starts with `sk_prefix`, in sort-key order.
    async fn query_prefix(&self, pk: &str, sk_prefix: &str) -> Result<Vec<Item>, StoreError>;
    /// Atomically adds `delta` to the numeric attribute `attr` (absent counts as 0).
    /// A positive delta that would take it past `max` fails with `LimitExceeded`
    /// and changes nothing. Returns the new value.
    async fn add_bounded(&self, pk: &str, sk: &str, attr: &str, delta: i64, max: i64) -> Result<i64, StoreError>;
}

// ---------------------------------------------------------------- OCR

/// Failures of the OCR engine.
#[derive(Debug, thiserror::Error)]
pub enum OcrError {
    #[error("OCR unavailable: {0}")]
    Transient(String),
    #[error("OCR refused the image: {0}")]
    Permanent(String),
}

impl Retryable for OcrError {
    fn is_retryable(&self) -> bool {
        matches!(self, Self::Transient(_))
    }
}

/// What OCR made of an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OcrOutcome {
    /// Text lines, one string per page.
    Text(Vec<String>),
    /// No OCR engine is configured here.
    NotConfigured,
}

/// Optical character recognition (Textract, or none by default).
#[async_trait]
pub trait Ocr: Send + Sync {
    async fn recognize(&self, image: Bytes) -> Result<OcrOutcome, OcrError>;
}

/// No OCR engine: every image is reported as needing OCR.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoOcr;

#[async_trait]
impl Ocr for NoOcr {
    async fn recognize(&self, _image: Bytes) -> Result<OcrOutcome, OcrError> {
        Ok(OcrOutcome::NotConfigured)
    }
}

/// The set of ports a handler needs, as shared trait objects.
#[derive(Clone)]
pub struct Ports {
    pub blobs: Arc<dyn BlobStore>,
    pub queue: Arc<dyn Queue>,
    pub table: Arc<dyn TableStore>,
    pub ocr: Arc<dyn Ocr>,
}

// ---------------------------------------------------------------- vectors

/// Failures of the vector store.
#[derive(Debug, thiserror::Error)]
pub enum VectorError {
    #[error("vector has {got} dimensions; the store holds {expected}")]
    Dimensions { expected: usize, got: usize },
    #[error("vector store unavailable: {0}")]
    Transient(String),
    #[error("vector store error: {0}")]
    Permanent(String),
}

impl Retryable for VectorError {
    fn is_retryable(&self) -> bool {
        matches!(self, Self::Transient(_))
    }
}

/// Dimensions of every stored vector (all-MiniLM-L6-v2).
pub const VECTOR_DIMENSIONS: usize = 384;

/// The vector of one chunk of a document's text, with where it came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChunkVector {
    pub document_id: domain::DocumentId,
    pub chunk_id: String,
    pub page: u32,
    /// Character span of the chunk in the page's text.
    pub char_start: u32,
    pub char_end: u32,
    pub text: String,
    /// Model name and version that made the vector.
    pub model: String,
    pub embedding: Vec<f32>,
}

/// The vector of one fact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FactVector {
    pub fact_id: String,
    pub model: String,
    pub embedding: Vec<f32>,
}

/// What a search hit points at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum HitSource {
    Chunk { document_id: domain::DocumentId, chunk_id: String, page: u32, char_start: u32, char_end: u32, text: String },
    Fact { fact_id: String },
}

/// One search result: cosine similarity and its source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchHit {
    pub score: f32,
    #[serde(flatten)]
    pub source: HitSource,
}

impl SearchHit {
    /// Stable identity of the hit (`chunk:{doc}:{chunk}` or `fact:{id}`), for ordering ties and comparisons.
    pub fn key(&self) -> String {
        match &self.source {
            HitSource::Chunk { document_id, chunk_id, .. } => format!("chunk:{document_id}:{chunk_id}"),
            HitSource::Fact { fact_id } => format!("fact:{fact_id}"),
        }
    }
}

/// Per-user vectors (pgvector on RDS, or an in-process exact index). Every call
/// is scoped by the user: no operation reads or writes another user's vectors.
#[async_trait]
pub trait VectorStore: Send + Sync {
    /// Inserts or replaces chunk vectors (keyed by document and chunk id).
    async fn upsert_chunks(&self, user: &domain::UserId, chunks: &[ChunkVector]) -> Result<(), VectorError>;
    /// Inserts or replaces fact vectors (keyed by fact id).
    async fn upsert_facts(&self, user: &domain::UserId, facts: &[FactVector]) -> Result<(), VectorError>;
    /// Removes a document's chunk vectors.
    async fn delete_document(&self, user: &domain::UserId, document: &domain::DocumentId) -> Result<(), VectorError>;
    /// Removes everything of the user (account deletion).
    async fn delete_user(&self, user: &domain::UserId) -> Result<(), VectorError>;
    /// The `k` chunks and facts most similar (cosine) to `query`, best first;
    /// ties broken by [`SearchHit::key`].
    async fn search(&self, user: &domain::UserId, query: &[f32], k: usize) -> Result<Vec<SearchHit>, VectorError>;
}

/// Checks a vector's length before it reaches a store.
pub fn check_dimensions(vector: &[f32]) -> Result<(), VectorError> {
    if vector.len() == VECTOR_DIMENSIONS {
        Ok(())
    } else {
        Err(VectorError::Dimensions { expected: VECTOR_DIMENSIONS, got: vector.len() })
    }
}

/// Dot product accumulated in f64 over four independent lanes (the compiler
/// vectorises them; one running sum would be one long dependency chain).
pub fn dot(a: &[f32], b: &[f32]) -> f64 {
    let mut lanes = [0f64; 4];
    let (a4, b4) = (a.chunks_exact(4), b.chunks_exact(4));
    let tail: f64 = a4.remainder().iter().zip(b4.remainder()).map(|(x, y)| f64::from(*x) * f64::from(*y)).sum();
    for (x, y) in a4.zip(b4) {
        for i in 0..4 {
            lanes[i] += f64::from(x[i]) * f64::from(y[i]);
        }
    }
    lanes.iter().sum::<f64>() + tail
}

/// Euclidean norm.
pub fn norm(a: &[f32]) -> f64 {
    dot(a, a).sqrt()
}

/// Cosine similarity from a dot product and the two norms; 0 when either norm is.
pub fn cosine_from(dot: f64, norm_a: f64, norm_b: f64) -> f32 {
    if norm_a == 0.0 || norm_b == 0.0 { 0.0 } else { (dot / (norm_a * norm_b)) as f32 }
}

/// Cosine similarity; 0 when either vector is all zeros.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    cosine_from(dot(a, b), norm(a), norm(b))
}

/// Orders hits best first, ties by [`SearchHit::key`], and keeps at most `k`:
/// one ranking for every store, so their results compare exactly.
pub fn rank_hits(hits: &mut Vec<SearchHit>, k: usize) {
    hits.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.key().cmp(&b.key())));
    hits.truncate(k);
}

// ---------------------------------------------------------------- text embedding

/// Failures of the embedding model.
#[derive(Debug, thiserror::Error)]
pub enum EmbedderError {
    /// The input could not be tokenised or run (will fail again).
    #[error("embedding failed: {0}")]
    Failed(String),
}

impl Retryable for EmbedderError {
    fn is_retryable(&self) -> bool {
        false
    }
}

/// A sentence-embedding model (all-MiniLM-L6-v2 on tract-onnx). CPU-bound and
/// synchronous: call it from a blocking task.
pub trait TextEmbedder: Send + Sync {
    /// Model name and weights version, part of every cache key and stored vector.
    fn model_version(&self) -> &str;
    /// Tokens an input may have before it is truncated, special tokens included.
    fn max_tokens(&self) -> usize;
    /// Byte spans of the tokens of `text`, special tokens excluded (for chunking).
    fn token_spans(&self, text: &str) -> Result<Vec<(usize, usize)>, EmbedderError>;
    /// One unit-length vector of [`VECTOR_DIMENSIONS`] per text, in order.
    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedderError>;
}

/// Adapts a [`TextEmbedder`] to the chunker's token counter.
pub struct EmbedderTokens<'a>(pub &'a dyn TextEmbedder);

impl domain::chunking::TokenSpans for EmbedderTokens<'_> {
    fn token_spans(&self, text: &str) -> Result<Vec<(usize, usize)>, String> {
        self.0.token_spans(text).map_err(|e| e.to_string())
    }
}

// ---------------------------------------------------------------- language model

/// Failures of a language model call.
#[derive(Debug, thiserror::Error)]
pub enum LanguageModelError {
    /// Throttled, timed out or unavailable: worth another try later.
    #[error("language model unavailable: {0}")]
    Transient(String),
    /// The request was refused (bad input, no access to the model).
    #[error("language model refused the request: {0}")]
    Permanent(String),
}

impl Retryable for LanguageModelError {
    fn is_retryable(&self) -> bool {
        matches!(self, Self::Transient(_))
    }
}

/// One request: instructions, the user's message, and bounds on the answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Prompt {
    pub system: String,
    pub user: String,
    pub max_tokens: u32,
    pub temperature: f32,
}

/// A text generator (Bedrock Converse on AWS, a deterministic template
/// generator on the embedded default).
#[async_trait]
pub trait LanguageModel: Send + Sync {
    /// The model's name and version, recorded in provenance.
    fn model_id(&self) -> &str;
    async fn complete(&self, prompt: &Prompt) -> Result<String, LanguageModelError>;
}
