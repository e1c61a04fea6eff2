//! Extract stage: one `document.classified` event in, the document's facts
//! merged into the user's knowledge graph and a `fact.extracted` event out to
//! the embed queue. Idempotent per (document, stage, content hash, kind and
//! who named it); merging is idempotent too (the same fact from the same
//! place changes nothing). A document read again as another kind (the user
//! corrected it) loses the facts only its old reading gave.

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use domain::{
    DocumentClassified, DocumentId, DocumentKind, DocumentStatus, Envelope, EventType, FactExtracted, FactText,
    KindSource, PageText, Reason, UserId,
};
use facts::dates::YearMonth;
use facts::extract::Doc;
use facts::knowledge::{ChangeReason, MergeReport, Retraction, RuleMatcher};
use facts::lexicon::SkillLexicon;
use ports::{BlobError, LanguageModel, Ports, Prompt, QueueName, Retryable, StoreError};
use std::sync::Arc;
use store::{DocumentRepo, IdempotencyRepo, KnowledgeRepo, Stage};

/// Why a message could not be processed.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    /// Worth another delivery (throttling, timeouts, unavailable services).
    #[error("{0}")]
    Retryable(String),
    /// Will fail again: mark the document failed and dead-letter the message.
    #[error("{reason}")]
    Permanent { document: Option<(UserId, DocumentId)>, reason: Reason },
}

impl ExtractError {
    fn permanent(document: Option<(UserId, DocumentId)>, code: &str, detail: impl Into<String>) -> Self {
        Self::Permanent { document, reason: Reason::new(code, detail) }
    }
}

impl From<StoreError> for ExtractError {
    fn from(e: StoreError) -> Self {
        if e.is_retryable() {
            Self::Retryable(format!("table store: {e}"))
        } else {
            Self::permanent(None, "dependency_error", format!("table store: {e}"))
        }
    }
}

/// What one document's extraction did.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ExtractReport {
    pub found: usize,
    pub added: usize,
    pub merged: usize,
    pub dedup_rate: f32,
    /// Facts retracted because only an earlier reading of the document gave them.
    pub retracted: usize,
    /// Facts that lost sources in the document and stay on their others.
    pub withdrawn: usize,
}

impl ExtractReport {
    fn new(r: &MergeReport, retraction: &Retraction) -> Self {
        Self {
            found: r.found,
            added: r.added.len(),
            merged: r.merged.len(),
            dedup_rate: r.dedup_rate,
            retracted: retraction.retracted.len(),
            withdrawn: retraction.withdrawn.len(),
        }
    }
}

/// The extract stage, built once per container.
#[derive(Clone)]
pub struct ExtractService {
    ports: Ports,
    lexicon: Arc<dyn SkillLexicon>,
    /// The optional language-model pass (feature flag `FEATURE_LLM_EXTRACTION`).
    language_model: Option<Arc<dyn LanguageModel>>,
    /// The skill ontology and the model for mapping skills to concepts.
    ontology: Option<(Arc<ontology::Ontology>, Arc<dyn ports::TextEmbedder>)>,
    max_receive_count: u32,
    documents: DocumentRepo,
    idempotency: IdempotencyRepo,
    knowledge: KnowledgeRepo,
}

impl ExtractService {
    pub fn new(ports: Ports, lexicon: Arc<dyn SkillLexicon>, max_receive_count: u32) -> Self {
        Self {
            documents: DocumentRepo::new(ports.table.clone()),
            idempotency: IdempotencyRepo::new(ports.table.clone()),
            knowledge: KnowledgeRepo::new(ports.table.clone()),
            ports,
            lexicon,
            language_model: None,
            ontology: None,
            max_receive_count: max_receive_count.max(1),
        }
    }

    /// Adds the language-model pass: the model proposes facts, those whose
    /// text is in the document are merged with the rule-based ones.
    pub fn with_language_model(mut self, model: Arc<dyn LanguageModel>) -> Self {
        self.language_model = Some(model);
        self
    }

    /// Maps every skill fact to its concept in the skill ontology (`skill_mappings`).
    pub fn with_ontology(mut self, ontology: Arc<ontology::Ontology>, embedder: Arc<dyn ports::TextEmbedder>) -> Self {
        self.set_ontology(ontology, embedder);
        self
    }

    pub fn set_ontology(&mut self, ontology: Arc<ontology::Ontology>, embedder: Arc<dyn ports::TextEmbedder>) {
        self.ontology = Some((ontology, embedder));
    }

    /// Mappings for the skill facts of this run that have none yet (or whose
    /// name changed since): the name and its source sentence through
    /// [`ontology::Ontology::map_skill`]; a skill with no concept is recorded
    /// with the `unmapped` flag (so it is not tried again until renamed).
    async fn map_skills(
        &self,
        knowledge: &facts::knowledge::Knowledge,
        ids: &[facts::model::FactId],
    ) -> Result<Vec<facts::model::SkillMapping>, ExtractError> {
        let Some((onto, embedder)) = self.ontology.clone() else { return Ok(Vec::new()) };
        let mut todo: Vec<(facts::model::FactId, String, Option<String>)> = Vec::new();
        for id in ids {
            let Some(fact) = knowledge.facts.get(id).filter(|f| !f.deleted) else { continue };
            let facts::model::FactValue::Skill(skill) = &fact.value else { continue };
            if knowledge.mappings.get(id).is_some_and(|m| m.name == skill.name) {
                continue;
            }
            let context = knowledge.sources.get(id).and_then(|s| s.first()).map(|p| p.text.clone());
            todo.push((id.clone(), skill.name.clone(), context));
        }
        if todo.is_empty() {
            return Ok(Vec::new());
        }
        tokio::task::spawn_blocking(move || {
            // A skills line is the context of every skill on it: embed it once.
            let memo = Memo { inner: embedder.as_ref(), seen: Default::default() };
            let mut out = Vec::new();
            for (fact_id, name, context) in todo {
                let Some(m) = onto
                    .map_skill(&name, context.as_deref(), Some(&memo))
                    .map_err(|e| ExtractError::Retryable(format!("skill mapping: {e}")))?
                else {
                    out.push(facts::model::SkillMapping::unmapped(fact_id, name));
                    continue;
                };
                let concept = onto.concept(m.concept);
                out.push(facts::model::SkillMapping {
                    fact_id,
                    concept_id: Some(concept.id.clone()),
                    scheme: Some(concept.scheme.as_str().to_owned()),
                    label: Some(concept.label.clone()),
                    score: (m.score * 1000.0).round() / 1000.0,
                    method: m.reason.as_str().to_owned(),
                    unmapped: false,
                    also: m.also.map(|c| onto.concept(c).id.clone()),
                    name,
                });
            }
            Ok(out)
        })
        .await
        .map_err(|e| ExtractError::Retryable(format!("skill mapping task: {e}")))?
    }

    /// The model's proposals for a document that hold against its text; none
    /// when the model fails or answers badly (the rules' facts still stand).
    async fn proposed(&self, doc: &Doc<'_>) -> Vec<facts::extract::Found> {
        let Some(model) = &self.language_model else { return Vec::new() };
        let prompt = Prompt {
            system: facts::proposals::SYSTEM_PROMPT.to_owned(),
            user: facts::proposals::user_prompt(doc),
            max_tokens: 4000,
            temperature: 0.0,
        };
        let answer = match model.complete(&prompt).await {
            Ok(answer) => answer,
            Err(e) => {
                tracing::warn!(error = %e, retryable = e.is_retryable(), "language-model pass skipped");
                return Vec::new();
            }
        };
        match facts::proposals::accept(doc, &answer, model.model_id()) {
            Ok((found, report)) => {
                tracing::info!(
                    accepted = report.accepted,
                    not_in_document = report.not_in_document,
                    invalid = report.invalid,
                    "language-model proposals checked"
                );
                found
            }
            Err(e) => {
                tracing::warn!(error = %e, "language-model answer dropped");
                Vec::new()
            }
        }
    }

    /// Lambda entry: one SQS batch, partial failures reported per message.
    pub async fn handle_batch(&self, event: SqsEvent) -> SqsBatchResponse {
        let mut response = SqsBatchResponse::default();
        for message in event.records {
            let receive_count =
                message.attributes.get("ApproximateReceiveCount").and_then(|c| c.parse().ok()).unwrap_or(1);
            let body = message.body.as_deref().unwrap_or_default();
            if !self.process_message(body, receive_count).await {
                let mut failure = BatchItemFailure::default();
                failure.item_identifier = message.message_id.clone().unwrap_or_default();
                response.batch_item_failures.push(failure);
            }
        }
        response
    }

    /// Processes one message and settles its fate; `false` asks for a retry.
    /// Permanent errors mark the document failed and dead-letter the message
    /// at once; retryable ones mark it failed on the last allowed receive.
    pub async fn process_message(&self, body: &str, receive_count: u32) -> bool {
        match self.handle(body).await {
            Ok(_) => true,
            Err(ExtractError::Retryable(why)) => {
                tracing::warn!(receive_count, error = %why, "extract will retry");
                if receive_count >= self.max_receive_count
                    && let Some(doc) = document_of(body)
                {
                    let reason =
                        Reason::new("retries_exhausted", format!("gave up after {receive_count} attempts: {why}"));
                    self.mark_failed(&doc, reason).await;
                }
                false
            }
            Err(ExtractError::Permanent { document, reason }) => {
                tracing::error!(code = %reason.code, detail = %reason.detail, "extract failed permanently");
                if let Some(doc) = document.or_else(|| document_of(body)) {
                    self.mark_failed(&doc, reason.clone()).await;
                }
                let attributes = [("error_code", reason.code.as_str()), ("error_detail", reason.detail.as_str())];
                self.ports.queue.send(QueueName::ExtractDlq, body, &attributes).await.is_ok()
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

    /// Handles one event. Returns what was extracted (`None`: nothing to do).
    pub async fn handle(&self, body: &str) -> Result<Option<ExtractReport>, ExtractError> {
        let envelope: Envelope<serde_json::Value> = serde_json::from_str(body)
            .map_err(|e| ExtractError::permanent(None, "malformed_message", format!("not an event envelope: {e}")))?;
        if envelope.event_type != EventType::DocumentClassified {
            return Err(ExtractError::permanent(
                None,
                "unsupported_event",
                format!("extract does not take {:?}", envelope.event_type),
            ));
        }
        let data: DocumentClassified = serde_json::from_value(envelope.data).map_err(|e| {
            ExtractError::permanent(None, "malformed_message", format!("document.classified data: {e}"))
        })?;
        let span = tracing::info_span!(
            "extract",
            user = %envelope.user_id.log_hash(),
            document_id = %data.document_id,
            stage = "extract"
        );
        let _entered = span.enter();
        self.extract_document(&envelope.user_id, &data).await
    }

    async fn extract_document(
        &self,
        user: &UserId,
        event: &DocumentClassified,
    ) -> Result<Option<ExtractReport>, ExtractError> {
        let doc = (user.clone(), event.document_id);
        let Some(mut record) = self.documents.get(user, &event.document_id).await? else {
            tracing::info!("the document no longer exists; nothing to extract");
            return Ok(None);
        };
        if record.status != DocumentStatus::TextExtracted || record.sha256.as_deref() != Some(event.sha256.as_str()) {
            tracing::info!(status = %record.status, "the document is not (or no longer) in this state; skipped");
            return Ok(None);
        }
        if record.kind_source == KindSource::User && record.kind != event.kind {
            // The user named another kind since this event was sent; its own event follows.
            tracing::info!(event_kind = %event.kind, kind = %record.kind, "the user changed the kind since; skipped");
            return Ok(None);
        }
        let reading = store::keys::extract_fingerprint(&event.sha256, event.kind, record.kind_source);
        if self.idempotency.is_done(&event.document_id, Stage::Extract, &reading).await? {
            tracing::info!("already extracted; redelivery ignored");
            return Ok(None);
        }
        if event.text_key != store::keys::text_object(user, &event.document_id) {
            return Err(ExtractError::permanent(Some(doc), "unexpected_key", "the text key is not the user's own"));
        }
        let bytes = match self.ports.blobs.get(&event.text_key).await {
            Ok(bytes) => bytes,
            Err(BlobError::NotFound(_)) => {
                return Err(ExtractError::permanent(Some(doc), "text_missing", "the extracted text is not in storage"));
            }
            Err(e) if e.is_retryable() => return Err(ExtractError::Retryable(format!("blob store: {e}"))),
            Err(e) => return Err(ExtractError::permanent(Some(doc), "dependency_error", format!("blob store: {e}"))),
        };
        let pages: Vec<PageText> = serde_json::from_slice(&bytes)
            .map_err(|e| ExtractError::permanent(Some(doc.clone()), "malformed_text", e.to_string()))?;

        let now = domain::now_rfc3339();
        let parsed = Doc::new(event.document_id, &pages, now.clone());
        // A document named another kind whose résumé reading is substantial is read as a résumé too,
        // unless the user named the kind: then it is read as that kind alone, and anything an
        // earlier reading alone gave is withdrawn as the kind's change.
        let (resume_score, reason) = match record.kind_source {
            KindSource::Classifier => (
                record.kind_scores.as_ref().and_then(|s| s.get(&DocumentKind::Resume)).copied(),
                ChangeReason::NotReproduced,
            ),
            KindSource::User => (None, ChangeReason::KindChanged),
        };
        let mut found = facts::extract_scored(event.kind, resume_score, &parsed, self.lexicon.as_ref());
        found.extend(self.proposed(&parsed).await);
        let mut knowledge = self.knowledge.load(user).await?;
        let before = knowledge.edges.clone();
        let matcher = RuleMatcher { today: today() };
        let (report, retraction) = knowledge.reread(event.document_id, found, &matcher, reason, &now);
        let written = self.knowledge.save(user, &mut knowledge, &before, &now).await?;
        let touched: Vec<facts::model::FactId> = report.added.iter().chain(&report.merged).cloned().collect();
        let mappings = self.map_skills(&knowledge, &touched).await?;
        self.knowledge.save_mappings(user, &mappings).await?;

        // The facts of this document, for embedding (one vector per fact).
        let texts: Vec<FactText> = report
            .added
            .iter()
            .chain(&report.merged)
            .filter_map(|id| knowledge.facts.get(id))
            .filter(|f| !f.deleted && !f.value.is_personal())
            .map(|f| FactText { fact_id: f.id.0.clone(), text: f.value.summary() })
            .collect();
        let key = format!("{}#{}#{reading}", event.document_id, Stage::Extract.as_str());
        let extracted = Envelope::new(
            EventType::FactExtracted,
            FactExtracted::VERSION,
            user.clone(),
            &key,
            FactExtracted { document_id: Some(event.document_id), facts: texts },
        );
        let body = serde_json::to_string(&extracted).map_err(|e| ExtractError::Retryable(e.to_string()))?;
        self.ports
            .queue
            .send(QueueName::Embed, &body, &[("event_type", "personalization.fact.extracted")])
            .await
            .map_err(|e| {
                if e.is_retryable() {
                    ExtractError::Retryable(format!("queue: {e}"))
                } else {
                    ExtractError::permanent(Some(doc.clone()), "dependency_error", format!("queue: {e}"))
                }
            })?;

        // The live facts the document supports now (after a re-reading too).
        let supported = knowledge
            .live()
            .filter(|f| {
                knowledge.sources.get(&f.id).is_some_and(|list| {
                    list.iter().any(|p| {
                        matches!(&p.source, facts::model::Source::Document { document_id, .. } if *document_id == event.document_id)
                    })
                })
            })
            .count();
        record.facts = Some(supported as u32);
        record.dedup_rate = Some(report.dedup_rate);
        record.extracted_at = Some(now);
        self.documents.save(&record).await?;
        self.idempotency.mark_done(&event.document_id, Stage::Extract, &reading).await?;
        // The dedup rate as a metric line (CloudWatch embedded metric format reads it from the log).
        tracing::info!(
            found = report.found,
            added = report.added.len(),
            merged = report.merged.len(),
            written,
            dedup_rate = report.dedup_rate,
            retracted = retraction.retracted.len(),
            withdrawn = retraction.withdrawn.len(),
            kind = %record.kind,
            kind_source = record.kind_source.as_str(),
            "facts extracted"
        );
        if !retraction.retracted.is_empty() {
            // The embed stage has no way to delete fact vectors yet: search may
            // still return a retracted fact's id until it does.
            tracing::info!(retracted = retraction.retracted.len(), "retracted facts keep their search vectors");
        }
        Ok(Some(ExtractReport::new(&report, &retraction)))
    }
}

/// Embeds each distinct text once (for one mapping run).
struct Memo<'a> {
    inner: &'a dyn ports::TextEmbedder,
    seen: std::sync::Mutex<std::collections::HashMap<String, Vec<f32>>>,
}

impl ports::TextEmbedder for Memo<'_> {
    fn model_version(&self) -> &str {
        self.inner.model_version()
    }
    fn max_tokens(&self) -> usize {
        self.inner.max_tokens()
    }
    fn token_spans(&self, text: &str) -> Result<Vec<(usize, usize)>, ports::EmbedderError> {
        self.inner.token_spans(text)
    }
    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, ports::EmbedderError> {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        let mut missing: Vec<&str> = texts.iter().copied().filter(|t| !seen.contains_key(*t)).collect();
        missing.sort_unstable();
        missing.dedup();
        if !missing.is_empty() {
            for (text, vector) in missing.iter().zip(self.inner.embed(&missing)?) {
                seen.insert((*text).to_owned(), vector);
            }
        }
        Ok(texts.iter().map(|t| seen[*t].clone()).collect())
    }
}

/// This month, for open-ended date ranges.
fn today() -> YearMonth {
    let now = time::OffsetDateTime::now_utc();
    YearMonth::new(now.year() as u16, Some(u8::from(now.month()))).unwrap_or(YearMonth { year: 2026, month: None })
}

/// The document an event is about, for recording failures.
fn document_of(body: &str) -> Option<(UserId, DocumentId)> {
    let envelope: Envelope<serde_json::Value> = serde_json::from_str(body).ok()?;
    let id = envelope.data.get("document_id")?.as_str()?;
    Some((envelope.user_id, DocumentId::parse(id).ok()?))
}
