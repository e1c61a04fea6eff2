//! The versioned event envelope that SQS carries between stages.

use crate::{ContentType, DocumentId, DocumentKind, DocumentStatus, UserId};
use serde::{Deserialize, Serialize};

/// Event names, one per stage boundary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventType {
    #[serde(rename = "personalization.document.uploaded")]
    DocumentUploaded,
    #[serde(rename = "personalization.document.classified")]
    DocumentClassified,
    #[serde(rename = "personalization.fact.extracted")]
    FactExtracted,
    #[serde(rename = "personalization.knowledge.updated")]
    KnowledgeUpdated,
    #[serde(rename = "personalization.insight.generated")]
    InsightGenerated,
    #[serde(rename = "personalization.conversation.turn_completed")]
    ConversationTurnCompleted,
}

/// `{type, version, id, time, user_id, data}`: one shape for every event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope<T> {
    #[serde(rename = "type")]
    pub event_type: EventType,
    pub version: u32,
    /// Deterministic for a (document, stage, content) triple, so consumers can
    /// drop a duplicate delivery by id.
    pub id: uuid::Uuid,
    pub time: String,
    pub user_id: UserId,
    pub data: T,
}

impl<T> Envelope<T> {
    /// Builds an envelope whose id is derived from `idempotency_key`.
    pub fn new(event_type: EventType, version: u32, user_id: UserId, idempotency_key: &str, data: T) -> Self {
        Self {
            event_type,
            version,
            id: uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_OID, idempotency_key.as_bytes()),
            time: crate::now_rfc3339(),
            user_id,
            data,
        }
    }
}

/// `personalization.document.classified` v1: text is ready for extraction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocumentClassified {
    pub document_id: DocumentId,
    pub kind: DocumentKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f32>,
    pub content_type: ContentType,
    pub status: DocumentStatus,
    pub sha256: String,
    pub pages: u32,
    /// Blob key of the extracted text (JSON array of pages).
    pub text_key: String,
}

impl DocumentClassified {
    pub const VERSION: u32 = 1;
}

/// `personalization.fact.extracted` v1: facts whose text is to be embedded
/// (one vector per fact, keyed by fact id; re-sending a fact replaces its vector).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FactExtracted {
    /// The document the facts came from, when they came from one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_id: Option<DocumentId>,
    pub facts: Vec<FactText>,
}

impl FactExtracted {
    pub const VERSION: u32 = 1;
}

/// A fact's id and the text that stands for it in search.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FactText {
    pub fact_id: String,
    pub text: String,
}

/// `personalization.knowledge.updated` v1: the user's searchable knowledge changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KnowledgeUpdated {
    /// The document whose chunks were (re)embedded, if the change came from one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_id: Option<DocumentId>,
    /// Chunk vectors written.
    pub chunks: u32,
    /// Fact vectors written.
    pub facts: u32,
    /// Embeddings computed (the rest came from the cache).
    pub computed: u32,
    /// Model name and version of the vectors.
    pub model: String,
}

impl KnowledgeUpdated {
    pub const VERSION: u32 = 1;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_ids_are_stable_per_key_and_shape_is_fixed() {
        let user = UserId::parse("u1").unwrap();
        let a = Envelope::new(EventType::DocumentClassified, 1, user.clone(), "k", 1);
        let b = Envelope::new(EventType::DocumentClassified, 1, user, "k", 1);
        assert_eq!(a.id, b.id);
        let v = serde_json::to_value(&a).unwrap();
        assert_eq!(v["type"], "personalization.document.classified");
        assert_eq!(v["version"], 1);
        for field in ["id", "time", "user_id", "data"] {
            assert!(v.get(field).is_some(), "{field}");
        }
    }
}
