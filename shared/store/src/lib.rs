//! Typed access to the single table: every key is built in [`keys`], every
//! item maps through serde. Works on any [`ports::TableStore`].

mod career;
pub mod keys;
mod knowledge;

pub use career::{ChangeIndex, ConversationRepo, InsightPointer, InsightRepo, InsightVersion, KEEP_VERSIONS};
pub use knowledge::{AuditEntry, KnowledgeRepo};

use domain::{DocumentId, DocumentRecord, KindSource, UserId};
use ports::{Item, PutCondition, StoreError, TableStore};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::sync::Arc;

fn to_item<T: Serialize>(pk: String, sk: String, entity: &str, value: &T) -> Result<Item, StoreError> {
    let mut attrs = match serde_json::to_value(value) {
        Ok(serde_json::Value::Object(map)) => map,
        Ok(_) => return Err(StoreError::Permanent("value does not serialise to an object".into())),
        Err(e) => return Err(StoreError::Permanent(e.to_string())),
    };
    attrs.insert("entity".into(), entity.into());
    Ok(Item { pk, sk, attrs })
}

fn from_item<T: DeserializeOwned>(item: Item) -> Result<T, StoreError> {
    serde_json::from_value(serde_json::Value::Object(item.attrs))
        .map_err(|e| StoreError::Malformed(format!("{}/{}: {e}", item.pk, item.sk)))
}

/// The `user_documents` rows.
#[derive(Clone)]
pub struct DocumentRepo {
    table: Arc<dyn TableStore>,
}

impl DocumentRepo {
    pub fn new(table: Arc<dyn TableStore>) -> Self {
        Self { table }
    }

    /// Creates the row; fails with `ConditionFailed` if it already exists.
    pub async fn create(&self, doc: &DocumentRecord) -> Result<(), StoreError> {
        let item = to_item(keys::user_pk(&doc.user_id), keys::document_sk(&doc.document_id), "document", doc)?;
        self.table.put(item, PutCondition::IfAbsent).await
    }

    /// Replaces the row (status transitions, counts). A kind the user set is
    /// kept: a stage that read the row before the user's correction must not
    /// write the old kind back.
    pub async fn save(&self, doc: &DocumentRecord) -> Result<(), StoreError> {
        let stored = self.get(&doc.user_id, &doc.document_id).await?;
        let row = match stored {
            Some(stored) if stored.kind_source == KindSource::User && !same_kind(&stored, doc) => {
                let mut row = doc.clone();
                row.copy_kind_from(&stored);
                row
            }
            _ => doc.clone(),
        };
        self.put(&row).await
    }

    /// Writes the kind fields of `doc` (kind, who named it, when, confidence)
    /// onto the stored row, leaving the rest as the stages last wrote it.
    /// Returns the row as written; `None` when the document is gone.
    pub async fn save_kind(&self, doc: &DocumentRecord) -> Result<Option<DocumentRecord>, StoreError> {
        let Some(mut row) = self.get(&doc.user_id, &doc.document_id).await? else { return Ok(None) };
        row.copy_kind_from(doc);
        row.updated_at = doc.updated_at.clone();
        self.put(&row).await?;
        Ok(Some(row))
    }

    async fn put(&self, doc: &DocumentRecord) -> Result<(), StoreError> {
        let item = to_item(keys::user_pk(&doc.user_id), keys::document_sk(&doc.document_id), "document", doc)?;
        self.table.put(item, PutCondition::None).await
    }

    /// The user's document, or `None`: another user's id reads as absent.
    pub async fn get(&self, user: &UserId, doc: &DocumentId) -> Result<Option<DocumentRecord>, StoreError> {
        match self.table.get(&keys::user_pk(user), &keys::document_sk(doc)).await? {
            Some(item) => from_item(item).map(Some),
            None => Ok(None),
        }
    }

    /// All of the user's documents, oldest first.
    pub async fn list(&self, user: &UserId) -> Result<Vec<DocumentRecord>, StoreError> {
        let items = self.table.query_prefix(&keys::user_pk(user), keys::DOCUMENT_PREFIX).await?;
        let mut docs = items.into_iter().map(from_item).collect::<Result<Vec<DocumentRecord>, _>>()?;
        docs.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.document_id.cmp(&b.document_id)));
        Ok(docs)
    }

    pub async fn delete(&self, user: &UserId, doc: &DocumentId) -> Result<(), StoreError> {
        self.table.delete(&keys::user_pk(user), &keys::document_sk(doc)).await
    }
}

fn same_kind(a: &DocumentRecord, b: &DocumentRecord) -> bool {
    a.kind == b.kind && a.kind_source == b.kind_source && a.kind_set_at == b.kind_set_at
}

/// A quota reservation that did not fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{used} of {max} bytes are in use; {requested} more would pass the limit")]
pub struct QuotaExceeded {
    pub used: u64,
    pub requested: u64,
    pub max: u64,
}

/// Errors of quota operations.
#[derive(Debug, thiserror::Error)]
pub enum QuotaError {
    #[error(transparent)]
    Exceeded(#[from] QuotaExceeded),
    #[error(transparent)]
    Store(StoreError),
}

/// Per-user storage quota, kept with one atomic conditional update.
#[derive(Clone)]
pub struct QuotaRepo {
    table: Arc<dyn TableStore>,
}

impl QuotaRepo {
    pub const ATTR: &'static str = "used_bytes";

    pub fn new(table: Arc<dyn TableStore>) -> Self {
        Self { table }
    }

    /// Reserves `bytes` if the total stays within `max`. Returns the new total.
    pub async fn reserve(&self, user: &UserId, bytes: u64, max: u64) -> Result<u64, QuotaError> {
        let delta = i64::try_from(bytes).map_err(|_| QuotaExceeded { used: 0, requested: bytes, max })?;
        let max_i = i64::try_from(max).unwrap_or(i64::MAX);
        match self.table.add_bounded(&keys::user_pk(user), keys::QUOTA_SK, Self::ATTR, delta, max_i).await {
            Ok(total) => Ok(total.max(0) as u64),
            Err(StoreError::LimitExceeded { current, .. }) => {
                Err(QuotaExceeded { used: current.max(0) as u64, requested: bytes, max }.into())
            }
            Err(e) => Err(QuotaError::Store(e)),
        }
    }

    /// Gives `bytes` back (an upload that failed after reserving).
    pub async fn release(&self, user: &UserId, bytes: u64) -> Result<(), StoreError> {
        let delta = -i64::try_from(bytes).unwrap_or(i64::MAX);
        self.table.add_bounded(&keys::user_pk(user), keys::QUOTA_SK, Self::ATTR, delta, i64::MAX).await.map(|_| ())
    }

    /// Bytes currently counted against the user.
    pub async fn used(&self, user: &UserId) -> Result<u64, StoreError> {
        let item = self.table.get(&keys::user_pk(user), keys::QUOTA_SK).await?;
        Ok(item.and_then(|i| i.attrs.get(Self::ATTR).and_then(|v| v.as_i64())).unwrap_or(0).max(0) as u64)
    }
}

/// Pipeline stages, as named in idempotency keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Classify,
    Extract,
    Embed,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Classify => "classify",
            Self::Extract => "extract",
            Self::Embed => "embed",
        }
    }
}

/// Records that a stage finished a document with a given content hash, so a
/// redelivered message is a no-op.
#[derive(Clone)]
pub struct IdempotencyRepo {
    table: Arc<dyn TableStore>,
    ttl_secs: i64,
}

impl IdempotencyRepo {
    /// Markers expire after 14 days: longer than any SQS retention.
    pub fn new(table: Arc<dyn TableStore>) -> Self {
        Self { table, ttl_secs: 14 * 24 * 3600 }
    }

    /// Whether `stage` already completed `doc` with content `hash` (for
    /// extract, the reading: [`keys::extract_fingerprint`]).
    pub async fn is_done(&self, doc: &DocumentId, stage: Stage, hash: &str) -> Result<bool, StoreError> {
        let item = self.table.get(&keys::idempotency_pk(doc, stage.as_str()), keys::IDEMPOTENCY_SK).await?;
        Ok(item.is_some_and(|i| i.attrs.get("content_hash").and_then(|v| v.as_str()) == Some(hash)))
    }

    /// Marks `stage` done for `doc` with content `hash`.
    pub async fn mark_done(&self, doc: &DocumentId, stage: Stage, hash: &str) -> Result<(), StoreError> {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let mut attrs = serde_json::Map::new();
        attrs.insert("entity".into(), "idempotency".into());
        attrs.insert("content_hash".into(), hash.into());
        attrs.insert("done_at".into(), now.into());
        attrs.insert("expires_at".into(), (now + self.ttl_secs).into());
        let item = Item { pk: keys::idempotency_pk(doc, stage.as_str()), sk: keys::IDEMPOTENCY_SK.into(), attrs };
        self.table.put(item, PutCondition::None).await
    }
}

/// Per-user cache of embeddings, keyed by the hash of the normalised text and
/// the model version: re-ingesting a text computes no embedding twice. Scoped
/// by user so that a cache hit never reveals what another user embedded.
#[derive(Clone)]
pub struct EmbeddingCache {
    table: Arc<dyn TableStore>,
}

impl EmbeddingCache {
    pub fn new(table: Arc<dyn TableStore>) -> Self {
        Self { table }
    }

    /// The text as it is hashed: whitespace runs collapsed, ends trimmed.
    pub fn normalise(text: &str) -> String {
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    /// SHA-256 of the normalised text.
    pub fn text_hash(text: &str) -> String {
        domain::sha256_hex(Self::normalise(text).as_bytes())
    }

    /// The cached vector, if any.
    pub async fn get(&self, user: &UserId, model: &str, text_hash: &str) -> Result<Option<Vec<f32>>, StoreError> {
        let Some(item) = self.table.get(&keys::user_pk(user), &keys::embedding_sk(model, text_hash)).await? else {
            return Ok(None);
        };
        let encoded = item.attrs.get("vector").and_then(|v| v.as_str()).unwrap_or_default();
        decode_vector(encoded).map(Some).ok_or_else(|| StoreError::Malformed(format!("{}/{}", item.pk, item.sk)))
    }

    pub async fn put(&self, user: &UserId, model: &str, text_hash: &str, vector: &[f32]) -> Result<(), StoreError> {
        let mut attrs = serde_json::Map::new();
        attrs.insert("entity".into(), "embedding".into());
        attrs.insert("vector".into(), encode_vector(vector).into());
        let item = Item { pk: keys::user_pk(user), sk: keys::embedding_sk(model, text_hash), attrs };
        self.table.put(item, PutCondition::None).await
    }
}

/// Little-endian f32s in base64: 2 KB for 384 dimensions, exact.
fn encode_vector(vector: &[f32]) -> String {
    use base64::Engine;
    let bytes: Vec<u8> = vector.iter().flat_map(|x| x.to_le_bytes()).collect();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn decode_vector(encoded: &str) -> Option<Vec<f32>> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD.decode(encoded).ok()?;
    if bytes.len() % 4 != 0 || bytes.is_empty() {
        return None;
    }
    Some(bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_round_trip_exactly_and_texts_normalise() {
        let v = vec![0.1f32, -2.5, f32::MIN_POSITIVE, 1e-30];
        assert_eq!(decode_vector(&encode_vector(&v)), Some(v));
        assert_eq!(decode_vector("not base64!"), None);
        assert_eq!(EmbeddingCache::text_hash(" a  b\n c "), EmbeddingCache::text_hash("a b c"));
        assert_ne!(EmbeddingCache::text_hash("a b c"), EmbeddingCache::text_hash("a b d"));
    }
}
