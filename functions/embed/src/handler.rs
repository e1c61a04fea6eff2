//! Embed stage: one `document.classified` event in, the document's chunk
//! vectors upserted and a `knowledge.updated` event out. Idempotent per
//! (document, stage, content hash); embeddings are cached per (user, text hash,
//! model version), so re-ingesting a text computes nothing twice.

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use domain::chunking::{ChunkConfig, TextChunk};
use domain::{
    DocumentClassified, DocumentId, DocumentStatus, Envelope, EventType, FactExtracted, KnowledgeUpdated, PageText,
    Reason, UserId,
};
use ports::{
    BlobError, ChunkVector, EmbedderTokens, FactVector, Ports, QueueName, Retryable, StoreError, TextEmbedder,
    VectorStore,
};
use std::collections::HashMap;
use std::sync::Arc;
use store::{DocumentRepo, EmbeddingCache, IdempotencyRepo, Stage};

/// Why a message could not be processed.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    /// Worth another delivery (throttling, timeouts, unavailable services).
    #[error("{0}")]
    Retryable(String),
    /// Will fail again: mark the document failed and dead-letter the message.
    #[error("{reason}")]
    Permanent { document: Option<(UserId, DocumentId)>, reason: Reason },
}

impl EmbedError {
    fn permanent(document: Option<(UserId, DocumentId)>, code: &str, detail: impl Into<String>) -> Self {
        Self::Permanent { document, reason: Reason::new(code, detail) }
    }
}

fn dependency<E: Retryable + std::fmt::Display>(what: &str, e: E, doc: &(UserId, DocumentId)) -> EmbedError {
    if e.is_retryable() {
        EmbedError::Retryable(format!("{what}: {e}"))
    } else {
        EmbedError::permanent(Some(doc.clone()), "dependency_error", format!("{what}: {e}"))
    }
}

impl From<StoreError> for EmbedError {
    fn from(e: StoreError) -> Self {
        if e.is_retryable() {
            Self::Retryable(format!("table store: {e}"))
        } else {
            Self::permanent(None, "dependency_error", format!("table store: {e}"))
        }
    }
}

/// What happened to one message, for the caller that owns the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageOutcome {
    /// Done (or nothing to do, or dead-lettered by us): delete it.
    Ack,
    /// Try again later; the queue's redrive policy dead-letters it eventually.
    Retry(String),
}

/// Texts per model call: long enough to amortise the call, short enough that
/// padding to the longest text in the batch wastes little.
const BATCH: usize = 16;

/// The embed stage, built once per container (the model is loaded before).
#[derive(Clone)]
pub struct EmbedService {
    ports: Ports,
    vectors: Arc<dyn VectorStore>,
    embedder: Arc<dyn TextEmbedder>,
    chunking: ChunkConfig,
    max_receive_count: u32,
    documents: DocumentRepo,
    idempotency: IdempotencyRepo,
    cache: EmbeddingCache,
}

/// What one document's embedding did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EmbedReport {
    pub chunks: u32,
    /// Embeddings the model computed; the rest were cache hits.
    pub computed: u32,
}

impl EmbedService {
    pub fn new(
        ports: Ports,
        vectors: Arc<dyn VectorStore>,
        embedder: Arc<dyn TextEmbedder>,
        chunking: ChunkConfig,
        max_receive_count: u32,
    ) -> Self {
        Self {
            documents: DocumentRepo::new(ports.table.clone()),
            idempotency: IdempotencyRepo::new(ports.table.clone()),
            cache: EmbeddingCache::new(ports.table.clone()),
            ports,
            vectors,
            embedder,
            chunking,
            max_receive_count: max_receive_count.max(1),
        }
    }

    /// Lambda entry: one SQS batch, partial failures reported per message.
    pub async fn handle_batch(&self, event: SqsEvent) -> SqsBatchResponse {
        let mut response = SqsBatchResponse::default();
        for message in event.records {
            let receive_count =
                message.attributes.get("ApproximateReceiveCount").and_then(|c| c.parse().ok()).unwrap_or(1);
            let body = message.body.as_deref().unwrap_or_default();
            if let MessageOutcome::Retry(_) = self.process_message(body, receive_count).await {
                let mut failure = BatchItemFailure::default();
                failure.item_identifier = message.message_id.clone().unwrap_or_default();
                response.batch_item_failures.push(failure);
            }
        }
        response
    }

    /// Processes one message body and settles its fate, as classify does:
    /// permanent errors mark the document failed and dead-letter the message at
    /// once; retryable ones mark it failed on the last allowed receive.
    pub async fn process_message(&self, body: &str, receive_count: u32) -> MessageOutcome {
        match self.handle(body).await {
            Ok(_) => MessageOutcome::Ack,
            Err(EmbedError::Retryable(why)) => {
                tracing::warn!(receive_count, error = %why, "embed will retry");
                if receive_count >= self.max_receive_count
                    && let Some(doc) = document_of(body)
                {
                    let reason =
                        Reason::new("retries_exhausted", format!("gave up after {receive_count} attempts: {why}"));
                    self.mark_failed(&doc, reason).await;
                }
                MessageOutcome::Retry(why)
            }
            Err(EmbedError::Permanent { document, reason }) => {
                tracing::error!(code = %reason.code, detail = %reason.detail, "embed failed permanently");
                if let Some(doc) = document.or_else(|| document_of(body)) {
                    self.mark_failed(&doc, reason.clone()).await;
                }
                let attributes = [("error_code", reason.code.as_str()), ("error_detail", reason.detail.as_str())];
                match self.ports.queue.send(QueueName::EmbedDlq, body, &attributes).await {
                    Ok(()) => MessageOutcome::Ack,
                    Err(e) => MessageOutcome::Retry(format!("dead-lettering failed: {e}")),
                }
            }
        }
    }

    async fn mark_failed(&self, (user, doc): &(UserId, DocumentId), reason: Reason) {
        match self.documents.get(user, doc).await {
            Ok(Some(mut record)) if record.status != DocumentStatus::Failed => {
                record.transition(DocumentStatus::Failed, Some(reason));
                if let Err(e) = self.documents.save(&record).await {
                    tracing::error!(error = %e, "could not record the failure");
                }
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "could not read the document to record its failure"),
        }
    }

    /// Handles one event. Returns what was embedded (`None`: nothing to do).
    pub async fn handle(&self, body: &str) -> Result<Option<EmbedReport>, EmbedError> {
        let envelope: Envelope<serde_json::Value> = serde_json::from_str(body)
            .map_err(|e| EmbedError::permanent(None, "malformed_message", format!("not an event envelope: {e}")))?;
        match envelope.event_type {
            EventType::DocumentClassified => {
                let data: DocumentClassified = serde_json::from_value(envelope.data).map_err(|e| {
                    EmbedError::permanent(None, "malformed_message", format!("document.classified data: {e}"))
                })?;
                let span = tracing::info_span!(
                    "embed",
                    user = %envelope.user_id.log_hash(),
                    document_id = %data.document_id,
                    stage = "embed"
                );
                let _entered = span.enter();
                self.embed_document(&envelope.user_id, &data).await
            }
            EventType::FactExtracted => {
                let data: FactExtracted = serde_json::from_value(envelope.data).map_err(|e| {
                    EmbedError::permanent(None, "malformed_message", format!("fact.extracted data: {e}"))
                })?;
                let span = tracing::info_span!("embed_facts", user = %envelope.user_id.log_hash(), stage = "embed");
                let _entered = span.enter();
                self.embed_facts(&envelope.user_id, envelope.id, &data).await
            }
            other => Err(EmbedError::permanent(
                None,
                "unsupported_event",
                format!("embed does not handle {}", serde_json::to_string(&other).unwrap_or_default()),
            )),
        }
    }

    async fn embed_document(
        &self,
        user: &UserId,
        event: &DocumentClassified,
    ) -> Result<Option<EmbedReport>, EmbedError> {
        let doc = (user.clone(), event.document_id);
        let Some(mut record) = self.documents.get(user, &event.document_id).await? else {
            tracing::info!("the document no longer exists; nothing to embed");
            return Ok(None);
        };
        if record.status != DocumentStatus::TextExtracted || record.sha256.as_deref() != Some(event.sha256.as_str()) {
            tracing::info!(status = %record.status, "the document is not (or no longer) in this state; skipped");
            return Ok(None);
        }
        if self.idempotency.is_done(&event.document_id, Stage::Embed, &event.sha256).await? {
            tracing::info!("already embedded; redelivery ignored");
            return Ok(None);
        }
        if event.text_key != store::keys::text_object(user, &event.document_id) {
            return Err(EmbedError::permanent(Some(doc), "unexpected_key", "the text key is not the user's own"));
        }
        let bytes = match self.ports.blobs.get(&event.text_key).await {
            Ok(bytes) => bytes,
            Err(BlobError::NotFound(_)) => {
                return Err(EmbedError::permanent(Some(doc), "text_missing", "the extracted text is not in storage"));
            }
            Err(e) => return Err(dependency("blob store", e, &doc)),
        };
        let pages: Vec<PageText> = serde_json::from_slice(&bytes)
            .map_err(|e| EmbedError::permanent(Some(doc.clone()), "malformed_text", e.to_string()))?;

        let chunks = self.chunk(pages, &doc).await?;
        let texts: Vec<String> = chunks.iter().map(|c| c.text.clone()).collect();
        let (vectors, computed) = self.cached_vectors(user, &texts, Some(&doc)).await?;
        let model = self.embedder.model_version().to_owned();
        let rows: Vec<ChunkVector> = chunks
            .iter()
            .zip(vectors)
            .map(|(chunk, embedding)| ChunkVector {
                document_id: event.document_id,
                chunk_id: chunk.chunk_id(),
                page: chunk.page,
                char_start: chunk.char_start,
                char_end: chunk.char_end,
                text: chunk.text.clone(),
                model: model.clone(),
                embedding,
            })
            .collect();
        // Replace the document's chunks: a re-run with other settings leaves no stale ones.
        self.vectors.delete_document(user, &event.document_id).await.map_err(|e| dependency("vectors", e, &doc))?;
        self.vectors.upsert_chunks(user, &rows).await.map_err(|e| dependency("vectors", e, &doc))?;

        record.chunks = Some(rows.len() as u32);
        record.embedded_at = Some(domain::now_rfc3339());
        self.documents.save(&record).await?;

        let report = EmbedReport { chunks: rows.len() as u32, computed };
        let key = format!("{}#{}#{}", event.document_id, Stage::Embed.as_str(), event.sha256);
        let updated = Envelope::new(
            EventType::KnowledgeUpdated,
            KnowledgeUpdated::VERSION,
            user.clone(),
            &key,
            KnowledgeUpdated { document_id: Some(event.document_id), chunks: report.chunks, facts: 0, computed, model },
        );
        let body = serde_json::to_string(&updated).map_err(|e| EmbedError::Retryable(e.to_string()))?;
        self.ports
            .queue
            .send(QueueName::Insight, &body, &[("event_type", "personalization.knowledge.updated")])
            .await
            .map_err(|e| dependency("queue", e, &doc))?;
        self.idempotency.mark_done(&event.document_id, Stage::Embed, &event.sha256).await?;
        tracing::info!(chunks = report.chunks, computed, "embedded");
        Ok(Some(report))
    }

    /// One vector per fact (from the cache where possible), upserted by fact id;
    /// a redelivery rewrites the same rows and re-sends an event with the same id.
    async fn embed_facts(
        &self,
        user: &UserId,
        event_id: impl std::fmt::Display,
        event: &FactExtracted,
    ) -> Result<Option<EmbedReport>, EmbedError> {
        let facts: Vec<&domain::FactText> = event.facts.iter().filter(|f| !f.text.trim().is_empty()).collect();
        if facts.is_empty() {
            return Ok(None);
        }
        let doc = event.document_id.map(|d| (user.clone(), d));
        let texts: Vec<String> = facts.iter().map(|f| f.text.clone()).collect();
        let (vectors, computed) = self.cached_vectors(user, &texts, doc.as_ref()).await?;
        let model = self.embedder.model_version().to_owned();
        let rows: Vec<FactVector> = facts
            .iter()
            .zip(vectors)
            .map(|(f, embedding)| FactVector { fact_id: f.fact_id.clone(), model: model.clone(), embedding })
            .collect();
        let failed = |what: &str, e: &dyn std::fmt::Display, retryable: bool| {
            if retryable {
                EmbedError::Retryable(format!("{what}: {e}"))
            } else {
                EmbedError::Permanent {
                    document: doc.clone(),
                    reason: Reason::new("dependency_error", format!("{what}: {e}")),
                }
            }
        };
        self.vectors.upsert_facts(user, &rows).await.map_err(|e| failed("vectors", &e, e.is_retryable()))?;
        let report = EmbedReport { chunks: 0, computed };
        let updated = Envelope::new(
            EventType::KnowledgeUpdated,
            KnowledgeUpdated::VERSION,
            user.clone(),
            &format!("{event_id}#embed-facts"),
            KnowledgeUpdated { document_id: event.document_id, chunks: 0, facts: rows.len() as u32, computed, model },
        );
        let body = serde_json::to_string(&updated).map_err(|e| EmbedError::Retryable(e.to_string()))?;
        self.ports
            .queue
            .send(QueueName::Insight, &body, &[("event_type", "personalization.knowledge.updated")])
            .await
            .map_err(|e| failed("queue", &e, e.is_retryable()))?;
        tracing::info!(facts = rows.len(), computed, "facts embedded");
        Ok(Some(report))
    }

    /// Chunks the pages on a blocking thread (tokenising is CPU work).
    async fn chunk(&self, pages: Vec<PageText>, doc: &(UserId, DocumentId)) -> Result<Vec<TextChunk>, EmbedError> {
        let embedder = self.embedder.clone();
        let config = self.chunking;
        tokio::task::spawn_blocking(move || {
            domain::chunking::chunk_pages(&pages, config, &EmbedderTokens(embedder.as_ref()))
        })
        .await
        .map_err(|e| EmbedError::Retryable(format!("chunking crashed: {e}")))?
        .map_err(|e| EmbedError::permanent(Some(doc.clone()), "chunking_failed", e))
    }

    /// One vector per text, from the cache where possible. Returns the vectors
    /// and how many the model computed.
    async fn cached_vectors(
        &self,
        user: &UserId,
        texts: &[String],
        doc: Option<&(UserId, DocumentId)>,
    ) -> Result<(Vec<Vec<f32>>, u32), EmbedError> {
        let model = self.embedder.model_version().to_owned();
        let hashes: Vec<String> = texts.iter().map(|t| EmbeddingCache::text_hash(t)).collect();
        let mut known: HashMap<&str, Vec<f32>> = HashMap::new();
        let mut missing: Vec<(&str, &str)> = Vec::new();
        for (text, hash) in texts.iter().zip(&hashes) {
            if known.contains_key(hash.as_str()) || missing.iter().any(|(h, _)| *h == hash.as_str()) {
                continue;
            }
            match self.cache.get(user, &model, hash).await? {
                Some(vector) if vector.len() == ports::VECTOR_DIMENSIONS => {
                    known.insert(hash, vector);
                }
                _ => missing.push((hash, text)),
            }
        }
        let computed = missing.len() as u32;
        for batch in missing.chunks(BATCH) {
            let texts: Vec<String> = batch.iter().map(|(_, t)| EmbeddingCache::normalise(t)).collect();
            let embedder = self.embedder.clone();
            let vectors = tokio::task::spawn_blocking(move || {
                let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
                embedder.embed(&refs)
            })
            .await
            .map_err(|e| EmbedError::Retryable(format!("embedding crashed: {e}")))?
            .map_err(|e| EmbedError::permanent(doc.cloned(), "embedding_failed", e.to_string()))?;
            for ((hash, _), vector) in batch.iter().zip(vectors) {
                self.cache.put(user, &model, hash, &vector).await?;
                known.insert(hash, vector);
            }
        }
        let vectors = hashes.iter().map(|h| known.get(h.as_str()).cloned().unwrap_or_default()).collect();
        Ok((vectors, computed))
    }
}

/// The document an event is about, for recording failures.
fn document_of(body: &str) -> Option<(UserId, DocumentId)> {
    let envelope: Envelope<serde_json::Value> = serde_json::from_str(body).ok()?;
    let id = envelope.data.get("document_id")?.as_str()?;
    Some((envelope.user_id, DocumentId::parse(id).ok()?))
}
