//! Generation, versioning and the two triggers.

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use career::insight::Insights;
use domain::{Envelope, EventType, UserId};
use ontology::Ontology;
use ports::{Queue, QueueError, QueueName, Retryable, StoreError, TableStore, TextEmbedder};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use store::{ChangeIndex, ConversationRepo, InsightRepo, InsightVersion, KnowledgeRepo};

#[derive(Debug, thiserror::Error)]
pub enum InsightError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Queue(#[from] QueueError),
    #[error("insight generation failed: {0}")]
    Generation(String),
    /// The message can never be processed.
    #[error("malformed message: {0}")]
    Malformed(String),
}

impl Retryable for InsightError {
    fn is_retryable(&self) -> bool {
        match self {
            InsightError::Store(e) => e.is_retryable() || matches!(e, StoreError::ConditionFailed),
            InsightError::Queue(e) => e.is_retryable(),
            InsightError::Generation(_) | InsightError::Malformed(_) => false,
        }
    }
}

/// The outcome of one generation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Generated {
    /// The version now served.
    pub version: u64,
    /// A new version was written (false: the latest was already up to date).
    pub regenerated: bool,
    pub insights: usize,
    pub elapsed_ms: u64,
}

/// What a scheduled run did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ScheduleReport {
    pub users_checked: usize,
    pub regenerated: usize,
    pub up_to_date: usize,
    pub failed: usize,
}

/// The data of `personalization.insight.generated`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InsightGenerated {
    pub version: u64,
    pub trigger: String,
    pub strengths: u32,
    pub paths: u32,
    pub recommendations: u32,
}

impl InsightGenerated {
    pub const VERSION: u32 = 1;
}

/// Whether change time `a` is after `b` (RFC 3339, compared as instants:
/// fractional seconds vary in length, so strings do not order).
fn newer(a: Option<&str>, b: Option<&str>) -> bool {
    match (a.and_then(domain::parse_rfc3339), b.and_then(domain::parse_rfc3339)) {
        (Some(a), Some(b)) => a > b,
        (Some(_), None) => true,
        (None, _) => false,
    }
}

pub struct InsightService {
    knowledge: KnowledgeRepo,
    conversations: ConversationRepo,
    insights: InsightRepo,
    changes: ChangeIndex,
    queue: Arc<dyn Queue>,
    /// Set once (at start, or when the local runner first loads it).
    ontology: std::sync::OnceLock<(Arc<Ontology>, Arc<dyn TextEmbedder>)>,
    max_receive_count: u32,
}

impl InsightService {
    pub fn new(table: Arc<dyn TableStore>, queue: Arc<dyn Queue>, max_receive_count: u32) -> Self {
        Self {
            knowledge: KnowledgeRepo::new(table.clone()),
            conversations: ConversationRepo::new(table.clone()),
            insights: InsightRepo::new(table.clone()),
            changes: ChangeIndex::new(table),
            queue,
            ontology: std::sync::OnceLock::new(),
            max_receive_count,
        }
    }

    /// Career paths come from the skill ontology (without it there are none).
    pub fn with_ontology(self, ontology: Arc<Ontology>, embedder: Arc<dyn TextEmbedder>) -> Self {
        self.set_ontology(ontology, embedder);
        self
    }

    /// Sets the ontology if none is set yet.
    pub fn set_ontology(&self, ontology: Arc<Ontology>, embedder: Arc<dyn TextEmbedder>) {
        let _ = self.ontology.set((ontology, embedder));
    }

    pub fn repo(&self) -> &InsightRepo {
        &self.insights
    }

    /// Regenerates `user`'s insights unless the latest version already
    /// reflects their last knowledge change (`force` regenerates anyway).
    pub async fn generate(&self, user: &UserId, trigger: &str, force: bool) -> Result<Generated, InsightError> {
        let started = std::time::Instant::now();
        let changed_at = self.changes.changed_at(user).await?;
        let pointer = self.insights.pointer(user).await?;
        if !force
            && let Some(p) = &pointer
            && !newer(changed_at.as_deref(), p.knowledge_changed_at.as_deref())
        {
            return Ok(Generated { version: p.version, regenerated: false, insights: 0, elapsed_ms: 0 });
        }
        let knowledge = self.knowledge.load(user).await?;
        let patterns = self.conversations.patterns(user).await?;
        let ontology = self.ontology.get().cloned();
        let insights: Insights = tokio::task::spawn_blocking(move || {
            let (onto, embedder) = match &ontology {
                Some((o, e)) => (Some(o.as_ref()), Some(e.as_ref() as &dyn TextEmbedder)),
                None => (None, None),
            };
            career::insight::generate(&knowledge, &patterns, onto, embedder, career::today())
        })
        .await
        .map_err(|e| InsightError::Generation(e.to_string()))?
        .map_err(|e| InsightError::Generation(e.to_string()))?;
        let version = InsightVersion {
            version: pointer.as_ref().map_or(1, |p| p.version + 1),
            generated_at: domain::now_rfc3339(),
            trigger: trigger.to_owned(),
            insights,
        };
        let published = self.insights.publish(user, pointer.as_ref(), &version, changed_at).await?;
        let i = &version.insights;
        let event = Envelope::new(
            EventType::InsightGenerated,
            InsightGenerated::VERSION,
            user.clone(),
            &format!("insight#{}", published.version),
            InsightGenerated {
                version: published.version,
                trigger: trigger.to_owned(),
                strengths: i.strengths.len() as u32,
                paths: i.paths.len() as u32,
                recommendations: i.recommendations.len() as u32,
            },
        );
        let body = serde_json::to_string(&event).map_err(|e| InsightError::Generation(e.to_string()))?;
        self.queue
            .send(QueueName::Notifications, &body, &[("event_type", "personalization.insight.generated")])
            .await?;
        let elapsed_ms = started.elapsed().as_millis() as u64;
        tracing::info!(
            user = %user.log_hash(),
            version = published.version,
            trigger,
            insights = i.count(),
            elapsed_ms,
            "insights generated"
        );
        Ok(Generated { version: published.version, regenerated: true, insights: i.count(), elapsed_ms })
    }

    /// The scheduled run: every user whose knowledge changed after their
    /// latest insights is regenerated; the others are left alone.
    pub async fn run_schedule(&self) -> Result<ScheduleReport, InsightError> {
        let mut report = ScheduleReport::default();
        for (user, _) in self.changes.all().await? {
            report.users_checked += 1;
            match self.generate(&user, "schedule", false).await {
                Ok(g) if g.regenerated => report.regenerated += 1,
                Ok(_) => report.up_to_date += 1,
                Err(e) => {
                    report.failed += 1;
                    tracing::error!(user = %user.log_hash(), error = %e, "scheduled insight generation failed");
                }
            }
        }
        tracing::info!(?report, "scheduled insight run");
        Ok(report)
    }

    /// One message of the insight queue: `knowledge.updated` or
    /// `conversation.turn_completed`. Returns whether it is done (true) or
    /// should be retried. Malformed messages go to the DLQ with the reason.
    pub async fn process_message(&self, body: &str, receive_count: u32) -> bool {
        let result = match serde_json::from_str::<Envelope<serde_json::Value>>(body) {
            Err(e) => Err(InsightError::Malformed(format!("not an event envelope: {e}"))),
            Ok(e) if !matches!(e.event_type, EventType::KnowledgeUpdated | EventType::ConversationTurnCompleted) => {
                Err(InsightError::Malformed(format!("unexpected event type {:?}", e.event_type)))
            }
            Ok(e) => self.generate(&e.user_id, "knowledge.updated", false).await.map(|_| ()),
        };
        match result {
            Ok(()) => true,
            Err(e) if e.is_retryable() && receive_count < self.max_receive_count => {
                tracing::warn!(receive_count, error = %e, "insight will retry");
                false
            }
            Err(e) => {
                let code = if matches!(e, InsightError::Malformed(_)) { "malformed_message" } else { "insight_failed" };
                let detail = e.to_string();
                tracing::error!(code, error = %detail, "insight message dead-lettered");
                let attributes = [("error_code", code), ("error_detail", detail.as_str())];
                self.queue.send(QueueName::InsightDlq, body, &attributes).await.is_ok()
            }
        }
    }

    /// An SQS batch, with partial batch failures.
    pub async fn handle_batch(&self, event: SqsEvent) -> SqsBatchResponse {
        let mut response = SqsBatchResponse::default();
        for message in event.records {
            let receive_count =
                message.attributes.get("ApproximateReceiveCount").and_then(|c| c.parse().ok()).unwrap_or(1);
            if !self.process_message(message.body.as_deref().unwrap_or_default(), receive_count).await {
                let mut failure = BatchItemFailure::default();
                failure.item_identifier = message.message_id.clone().unwrap_or_default();
                response.batch_item_failures.push(failure);
            }
        }
        response
    }
}
