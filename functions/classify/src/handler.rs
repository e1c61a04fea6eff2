//! Classify stage: one S3 notification in, a terminal status and (for readable
//! documents) a `document.classified` event out. Idempotent per (document,
//! stage, content hash).

use crate::kind::KindClassifier;
use crate::notification::{self, Parsed};
use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use bytes::Bytes;
use documents::{Disposition, ExtractError};
use domain::{
    DocumentClassified, DocumentId, DocumentKind, DocumentRecord, DocumentStatus, Envelope, EventType, Limits,
    PageText, Reason, UploadMethod, UserId,
};
use ports::{BlobError, OcrOutcome, Ports, QueueError, QueueName, Retryable, StoreError};
use std::sync::Arc;
use store::{DocumentRepo, IdempotencyRepo, QuotaError, QuotaRepo, Stage, keys};

/// Why a message could not be processed.
#[derive(Debug, thiserror::Error)]
pub enum ClassifyError {
    /// Worth another delivery (throttling, timeouts, unavailable services).
    #[error("{0}")]
    Retryable(String),
    /// Will fail again: mark the document failed and dead-letter the message.
    #[error("{reason}")]
    Permanent { document: Option<(UserId, DocumentId)>, reason: Reason },
}

impl ClassifyError {
    fn permanent(document: Option<(UserId, DocumentId)>, code: &str, detail: impl Into<String>) -> Self {
        Self::Permanent { document, reason: Reason::new(code, detail) }
    }
}

fn dependency<E: Retryable + std::fmt::Display>(what: &str, e: E, doc: &(UserId, DocumentId)) -> ClassifyError {
    if e.is_retryable() {
        ClassifyError::Retryable(format!("{what}: {e}"))
    } else {
        ClassifyError::permanent(Some(doc.clone()), "dependency_error", format!("{what}: {e}"))
    }
}

impl From<StoreError> for ClassifyError {
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

/// The classify stage, built once per container.
#[derive(Clone)]
pub struct Classifier {
    ports: Ports,
    limits: Limits,
    max_receive_count: u32,
    documents: DocumentRepo,
    quota: QuotaRepo,
    idempotency: IdempotencyRepo,
    kinds: Option<Arc<KindClassifier>>,
    next_stages: Vec<QueueName>,
}

impl Classifier {
    /// A classifier that extracts text but names no kind (`unclassified`) and
    /// hands documents to extract and embed.
    pub fn new(ports: Ports, limits: Limits, max_receive_count: u32) -> Self {
        let documents = DocumentRepo::new(ports.table.clone());
        let quota = QuotaRepo::new(ports.table.clone());
        let idempotency = IdempotencyRepo::new(ports.table.clone());
        Self {
            ports,
            limits,
            max_receive_count: max_receive_count.max(1),
            documents,
            quota,
            idempotency,
            kinds: None,
            next_stages: vec![QueueName::Extract, QueueName::Embed],
        }
    }

    /// Names each document's kind with the zero-shot classifier.
    pub fn with_kinds(mut self, kinds: Arc<KindClassifier>) -> Self {
        self.kinds = Some(kinds);
        self
    }

    /// The queues `document.classified` is sent to (default: extract and embed).
    pub fn with_next_stages(mut self, stages: Vec<QueueName>) -> Self {
        self.next_stages = stages;
        self
    }

    /// Lambda entry: one SQS batch, partial failures reported per message.
    pub async fn handle_batch(&self, event: SqsEvent) -> SqsBatchResponse {
        let mut response = SqsBatchResponse::default();
        for message in event.records {
            let id = message.message_id.clone().unwrap_or_default();
            let receive_count =
                message.attributes.get("ApproximateReceiveCount").and_then(|c| c.parse().ok()).unwrap_or(1);
            let body = message.body.as_deref().unwrap_or_default();
            if let MessageOutcome::Retry(_) = self.process_message(body, receive_count).await {
                let mut failure = BatchItemFailure::default();
                failure.item_identifier = id;
                response.batch_item_failures.push(failure);
            }
        }
        response
    }

    /// Processes one message body and settles its fate: permanent errors mark the
    /// document failed and go to the DLQ at once; retryable ones are retried until
    /// the last allowed receive, when the document is marked failed first.
    pub async fn process_message(&self, body: &str, receive_count: u32) -> MessageOutcome {
        match self.handle(body).await {
            Ok(()) => MessageOutcome::Ack,
            Err(ClassifyError::Retryable(why)) => {
                tracing::warn!(receive_count, error = %why, "classify will retry");
                // The last allowed receive: record why before the redrive policy
                // moves the message to the DLQ.
                if receive_count >= self.max_receive_count
                    && let Some(Parsed::Created(keys)) = notification::parse(body)
                {
                    let reason =
                        Reason::new("retries_exhausted", format!("gave up after {receive_count} attempts: {why}"));
                    for doc in keys.iter().filter_map(|key| keys::parse_raw_object(key)) {
                        self.mark_failed(&doc, reason.clone()).await;
                    }
                }
                MessageOutcome::Retry(why)
            }
            Err(ClassifyError::Permanent { document, reason }) => {
                tracing::error!(code = %reason.code, detail = %reason.detail, "classify failed permanently");
                if let Some(doc) = &document {
                    self.mark_failed(doc, reason.clone()).await;
                }
                let attributes = [("error_code", reason.code.as_str()), ("error_detail", reason.detail.as_str())];
                match self.ports.queue.send(QueueName::ClassifyDlq, body, &attributes).await {
                    Ok(()) => MessageOutcome::Ack,
                    // Could not dead-letter it ourselves: let the redrive policy do it.
                    Err(e) => MessageOutcome::Retry(format!("dead-lettering failed: {e}")),
                }
            }
        }
    }

    async fn mark_failed(&self, (user, doc): &(UserId, DocumentId), reason: Reason) {
        match self.documents.get(user, doc).await {
            Ok(Some(mut record)) if !record.status.is_terminal() => {
                record.transition(DocumentStatus::Failed, Some(reason));
                if let Err(e) = self.documents.save(&record).await {
                    tracing::error!(error = %e, "could not record the failure");
                }
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "could not read the document to record its failure"),
        }
    }

    /// Processes every object a notification names.
    pub async fn handle(&self, body: &str) -> Result<(), ClassifyError> {
        let keys = match notification::parse(body) {
            Some(Parsed::Created(keys)) => keys,
            Some(Parsed::Nothing) => return Ok(()),
            None => {
                return Err(ClassifyError::permanent(
                    None,
                    "malformed_message",
                    "the message is not an S3 notification",
                ));
            }
        };
        for key in keys {
            let Some(doc) = keys::parse_raw_object(&key) else {
                return Err(ClassifyError::permanent(
                    None,
                    "unexpected_key",
                    "the object key is not raw/{user}/{document}",
                ));
            };
            let span =
                tracing::info_span!("classify", user = %doc.0.log_hash(), document_id = %doc.1, stage = "classify");
            let _entered = span.enter();
            self.process_object(&doc).await?;
        }
        Ok(())
    }

    async fn process_object(&self, doc: &(UserId, DocumentId)) -> Result<(), ClassifyError> {
        let (user, id) = doc;
        let raw_key = keys::raw_object(user, id);
        let Some(mut record) = self.documents.get(user, id).await? else {
            // Every upload records the document before storing bytes, so an
            // object without a record did not come through our API.
            self.quarantine_orphan(doc, &raw_key).await?;
            return Err(ClassifyError::permanent(
                None,
                "orphan_object",
                "an object arrived with no document record; it was quarantined",
            ));
        };
        let bytes = match self.ports.blobs.get(&raw_key).await {
            Ok(bytes) => bytes,
            // Already moved to quarantine by an earlier delivery.
            Err(BlobError::NotFound(_)) if record.status.is_terminal() => return Ok(()),
            Err(BlobError::NotFound(_)) => {
                return Err(ClassifyError::permanent(
                    Some(doc.clone()),
                    "object_missing",
                    "the uploaded object is no longer in storage",
                ));
            }
            Err(e) => return Err(dependency("blob store", e, doc)),
        };
        let hash = domain::sha256_hex(&bytes);
        if self.idempotency.is_done(id, Stage::Classify, &hash).await? {
            tracing::info!("already classified; redelivery ignored");
            return Ok(());
        }
        record.size_bytes = bytes.len() as u64;
        record.sha256 = Some(hash.clone());

        if record.upload_method == UploadMethod::Presigned && !record.quota_reserved {
            match self.quota.reserve(user, record.size_bytes, self.limits.max_user_bytes).await {
                Ok(_) => {
                    record.quota_reserved = true;
                    self.documents.save(&record).await?;
                }
                Err(QuotaError::Exceeded(q)) => {
                    self.ports.blobs.delete(&raw_key).await.map_err(|e| dependency("blob store", e, doc))?;
                    let reason = Reason::new(
                        "quota_exceeded",
                        format!(
                            "{q}; the {} MB per-user limit was reached, so the file was not kept",
                            q.max / Limits::MB
                        ),
                    );
                    return self.finish(&mut record, DocumentStatus::Failed, Some(reason), &hash).await;
                }
                Err(QuotaError::Store(e)) => return Err(e.into()),
            }
        }

        let inspection = match documents::inspect(&bytes, &self.limits) {
            Ok(inspection) => inspection,
            Err(rejection) => {
                let reason = rejection.reason();
                let status = match rejection.disposition() {
                    Disposition::Quarantine => {
                        let to = keys::quarantine_object(user, id);
                        self.ports.blobs.rename(&raw_key, &to).await.map_err(|e| dependency("blob store", e, doc))?;
                        DocumentStatus::Quarantined
                    }
                    Disposition::Fail => DocumentStatus::Failed,
                };
                tracing::warn!(code = %reason.code, status = %status, "document refused by the security filter");
                return self.finish(&mut record, status, Some(reason), &hash).await;
            }
        };
        record.content_type = Some(inspection.content_type);

        let pages = match self.read_text(inspection.content_type, bytes).await {
            Ok(Some(pages)) => pages,
            Ok(None) => {
                let reason = Reason::new(
                    "needs_ocr",
                    "the document is an image and no OCR engine is configured here; its text cannot be read yet",
                );
                return self.finish(&mut record, DocumentStatus::NeedsOcr, Some(reason), &hash).await;
            }
            Err(TextError::Extract(e)) => {
                let reason = Reason::new(e.code(), e.to_string());
                return self.finish(&mut record, DocumentStatus::Failed, Some(reason), &hash).await;
            }
            Err(TextError::Ocr(e)) => return Err(dependency("OCR", e, doc)),
        };

        let text_key = keys::text_object(user, id);
        let text_json = serde_json::to_vec(&pages).map_err(|e| ClassifyError::Retryable(e.to_string()))?;
        self.ports
            .blobs
            .put(&text_key, Bytes::from(text_json), "application/json")
            .await
            .map_err(|e| dependency("blob store", e, doc))?;
        record.pages = Some(pages.len() as u32);
        record.text_chars = Some(pages.iter().map(|p| p.text.chars().count() as u64).sum());
        if let Some(kinds) = &self.kinds {
            let kinds = kinds.clone();
            let sample = pages.clone();
            let judgement = tokio::task::spawn_blocking(move || kinds.classify(&sample))
                .await
                .map_err(|e| ClassifyError::Retryable(format!("classification crashed: {e}")))?
                .map_err(|e| ClassifyError::permanent(Some(doc.clone()), "classification_failed", e.to_string()))?;
            tracing::info!(kind = ?judgement.kind, confidence = judgement.confidence, "classified");
            record.kind = judgement.kind;
            record.confidence = Some(judgement.confidence);
            record.kind_scores = Some(judgement.scores);
        } else {
            record.kind = DocumentKind::Unclassified;
        }
        record.transition(DocumentStatus::TextExtracted, None);
        self.documents.save(&record).await?;

        let idempotency_key = format!("{id}#{}#{hash}", Stage::Classify.as_str());
        let event = Envelope::new(
            EventType::DocumentClassified,
            DocumentClassified::VERSION,
            user.clone(),
            &idempotency_key,
            DocumentClassified {
                document_id: *id,
                kind: record.kind,
                confidence: record.confidence,
                content_type: inspection.content_type,
                status: record.status,
                sha256: hash.clone(),
                pages: record.pages.unwrap_or(0),
                text_key,
            },
        );
        let body = serde_json::to_string(&event).map_err(|e| ClassifyError::Retryable(e.to_string()))?;
        for stage in &self.next_stages {
            self.ports
                .queue
                .send(*stage, &body, &[("event_type", "personalization.document.classified")])
                .await
                .map_err(|e: QueueError| dependency("queue", e, doc))?;
        }
        self.idempotency.mark_done(id, Stage::Classify, &hash).await?;
        tracing::info!(pages = record.pages.unwrap_or(0), "text extracted");
        Ok(())
    }

    /// Records a terminal status with no event to hand on, and the marker.
    async fn finish(
        &self,
        record: &mut DocumentRecord,
        status: DocumentStatus,
        reason: Option<Reason>,
        hash: &str,
    ) -> Result<(), ClassifyError> {
        record.transition(status, reason);
        self.documents.save(record).await?;
        self.idempotency.mark_done(&record.document_id, Stage::Classify, hash).await?;
        Ok(())
    }

    async fn quarantine_orphan(&self, doc: &(UserId, DocumentId), raw_key: &str) -> Result<(), ClassifyError> {
        let to = keys::quarantine_object(&doc.0, &doc.1);
        match self.ports.blobs.rename(raw_key, &to).await {
            Ok(()) | Err(BlobError::NotFound(_)) => Ok(()),
            Err(e) => Err(dependency("blob store", e, doc)),
        }
    }

    /// Text per page; `None` for an image with no OCR engine.
    async fn read_text(
        &self,
        content_type: domain::ContentType,
        bytes: Bytes,
    ) -> Result<Option<Vec<PageText>>, TextError> {
        if content_type.is_image() {
            return match self.ports.ocr.recognize(bytes).await.map_err(TextError::Ocr)? {
                OcrOutcome::NotConfigured => Ok(None),
                OcrOutcome::Text(pages) => Ok(Some(
                    pages.into_iter().enumerate().map(|(i, text)| PageText { page: i as u32 + 1, text }).collect(),
                )),
            };
        }
        // Parsing is CPU-bound: keep it off the async workers.
        let pages = tokio::task::spawn_blocking(move || documents::extract_text(content_type, &bytes))
            .await
            .map_err(|e| TextError::Extract(ExtractError::MalformedPdf(format!("extraction crashed: {e}"))))?
            .map_err(TextError::Extract)?;
        Ok(Some(pages))
    }
}

enum TextError {
    Extract(ExtractError),
    Ocr(ports::OcrError),
}
