//! The embedded `VectorStore`: an exact per-user index. Vectors persist in the
//! redb file (one row per chunk or fact, keyed by user); each user's vectors are
//! loaded into memory on first use and searched by a full cosine scan, which at
//! per-user sizes (thousands) beats any approximate index.

use crate::{EmbeddedDb, redb_is_transient};
use async_trait::async_trait;
use domain::{DocumentId, UserId};
use ports::{
    ChunkVector, FactVector, HitSource, SearchHit, VectorError, VectorStore, check_dimensions, cosine_from, dot, norm,
    rank_hits,
};
use redb::{ReadableDatabase, TableDefinition};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};

/// (user, hit key) → encoded entry.
pub(crate) const VECTORS: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("vectors");

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Meta {
    source: HitSource,
    model: String,
}

#[derive(Debug, Clone)]
struct Entry {
    meta: Meta,
    embedding: Vec<f32>,
}

impl Entry {
    fn key(&self) -> String {
        SearchHit { score: 0.0, source: self.meta.source.clone() }.key()
    }

    /// `u32` length of the JSON metadata, the metadata, then little-endian f32s.
    fn encode(&self) -> Result<Vec<u8>, VectorError> {
        let meta = serde_json::to_vec(&self.meta).map_err(|e| VectorError::Permanent(e.to_string()))?;
        let mut out = Vec::with_capacity(4 + meta.len() + self.embedding.len() * 4);
        out.extend_from_slice(&(meta.len() as u32).to_le_bytes());
        out.extend_from_slice(&meta);
        for x in &self.embedding {
            out.extend_from_slice(&x.to_le_bytes());
        }
        Ok(out)
    }

    fn decode(bytes: &[u8]) -> Result<Self, VectorError> {
        let bad = || VectorError::Permanent("a stored vector is malformed".into());
        let len = u32::from_le_bytes(bytes.get(..4).ok_or_else(bad)?.try_into().map_err(|_| bad())?) as usize;
        let meta_bytes = bytes.get(4..4 + len).ok_or_else(bad)?;
        let meta: Meta = serde_json::from_slice(meta_bytes).map_err(|_| bad())?;
        let floats = bytes.get(4 + len..).ok_or_else(bad)?;
        if floats.len() % 4 != 0 {
            return Err(bad());
        }
        let embedding = floats.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
        Ok(Self { meta, embedding })
    }
}

/// One user's vectors in key order, the embeddings in one contiguous matrix
/// (row `i` belongs to `metas[i]`) so a search is one sequential scan.
#[derive(Debug, Clone, Default)]
struct UserIndex {
    keys: Vec<String>,
    metas: Vec<Meta>,
    matrix: Vec<f32>,
    norms: Vec<f64>,
}

impl UserIndex {
    fn from_entries(entries: BTreeMap<String, Entry>) -> Self {
        let mut index = Self {
            keys: Vec::with_capacity(entries.len()),
            metas: Vec::with_capacity(entries.len()),
            matrix: Vec::with_capacity(entries.len() * ports::VECTOR_DIMENSIONS),
            norms: Vec::with_capacity(entries.len()),
        };
        for (key, entry) in entries {
            index.keys.push(key);
            index.norms.push(norm(&entry.embedding));
            index.matrix.extend_from_slice(&entry.embedding);
            index.metas.push(entry.meta);
        }
        index
    }

    fn entries(&self) -> BTreeMap<String, Entry> {
        self.keys
            .iter()
            .zip(&self.metas)
            .zip(self.rows())
            .map(|((key, meta), row)| (key.clone(), Entry { meta: meta.clone(), embedding: row.to_vec() }))
            .collect()
    }

    fn rows(&self) -> std::slice::ChunksExact<'_, f32> {
        self.matrix.chunks_exact(ports::VECTOR_DIMENSIONS)
    }
}

/// Exact per-user vector index persisted in the data dir's database.
pub struct RedbVectorStore {
    db: Arc<EmbeddedDb>,
    cache: RwLock<HashMap<String, Arc<UserIndex>>>,
}

fn db_err(e: impl Into<redb::Error>) -> VectorError {
    let e = e.into();
    if redb_is_transient(&e) { VectorError::Transient(e.to_string()) } else { VectorError::Permanent(e.to_string()) }
}

impl RedbVectorStore {
    pub fn new(db: Arc<EmbeddedDb>) -> Self {
        Self { db, cache: RwLock::new(HashMap::new()) }
    }

    async fn blocking<T, F>(&self, f: F) -> Result<T, VectorError>
    where
        T: Send + 'static,
        F: FnOnce(&redb::Database) -> Result<T, VectorError> + Send + 'static,
    {
        let db = Arc::clone(&self.db);
        tokio::task::spawn_blocking(move || f(db.redb()))
            .await
            .map_err(|e| VectorError::Permanent(format!("vector store task failed: {e}")))?
    }

    /// The user's index, loaded from disk on first use.
    async fn index(&self, user: &UserId) -> Result<Arc<UserIndex>, VectorError> {
        if let Some(index) = self.cache.read().map_err(|_| poisoned())?.get(user.as_str()) {
            return Ok(Arc::clone(index));
        }
        let owner = user.as_str().to_owned();
        let loaded = self
            .blocking(move |db| {
                let txn = db.begin_read().map_err(db_err)?;
                let table = txn.open_table(VECTORS).map_err(db_err)?;
                let mut entries = BTreeMap::new();
                let range = table.range((owner.as_str(), "")..).map_err(db_err)?;
                for row in range {
                    let (key, value) = row.map_err(db_err)?;
                    let (row_user, row_key) = key.value();
                    if row_user != owner {
                        break;
                    }
                    entries.insert(row_key.to_owned(), Entry::decode(value.value())?);
                }
                Ok(UserIndex::from_entries(entries))
            })
            .await?;
        let loaded = Arc::new(loaded);
        self.cache.write().map_err(|_| poisoned())?.insert(user.as_str().to_owned(), Arc::clone(&loaded));
        Ok(loaded)
    }

    /// Writes `entries` and removes `remove` (keys) for `user` in one transaction,
    /// then updates the cached index.
    async fn apply(&self, user: &UserId, entries: Vec<Entry>, remove: Vec<String>) -> Result<(), VectorError> {
        let mut index = self.index(user).await?.entries();
        let owner = user.as_str().to_owned();
        let mut rows = Vec::with_capacity(entries.len());
        for e in &entries {
            rows.push((e.key(), e.encode()?));
        }
        let removed = remove.clone();
        self.blocking(move |db| {
            let txn = db.begin_write().map_err(db_err)?;
            {
                let mut table = txn.open_table(VECTORS).map_err(db_err)?;
                for key in &removed {
                    table.remove((owner.as_str(), key.as_str())).map_err(db_err)?;
                }
                for (key, bytes) in &rows {
                    table.insert((owner.as_str(), key.as_str()), bytes.as_slice()).map_err(db_err)?;
                }
            }
            txn.commit().map_err(db_err)
        })
        .await?;
        for key in &remove {
            index.remove(key);
        }
        for e in entries {
            index.insert(e.key(), e);
        }
        let index = Arc::new(UserIndex::from_entries(index));
        self.cache.write().map_err(|_| poisoned())?.insert(user.as_str().to_owned(), index);
        Ok(())
    }
}

fn poisoned() -> VectorError {
    VectorError::Permanent("vector index lock poisoned".into())
}

#[async_trait]
impl VectorStore for RedbVectorStore {
    async fn upsert_chunks(&self, user: &UserId, chunks: &[ChunkVector]) -> Result<(), VectorError> {
        let mut entries = Vec::with_capacity(chunks.len());
        for c in chunks {
            check_dimensions(&c.embedding)?;
            let source = HitSource::Chunk {
                document_id: c.document_id,
                chunk_id: c.chunk_id.clone(),
                page: c.page,
                char_start: c.char_start,
                char_end: c.char_end,
                text: c.text.clone(),
            };
            entries.push(Entry { meta: Meta { source, model: c.model.clone() }, embedding: c.embedding.clone() });
        }
        self.apply(user, entries, Vec::new()).await
    }

    async fn upsert_facts(&self, user: &UserId, facts: &[FactVector]) -> Result<(), VectorError> {
        let mut entries = Vec::with_capacity(facts.len());
        for f in facts {
            check_dimensions(&f.embedding)?;
            let source = HitSource::Fact { fact_id: f.fact_id.clone() };
            entries.push(Entry { meta: Meta { source, model: f.model.clone() }, embedding: f.embedding.clone() });
        }
        self.apply(user, entries, Vec::new()).await
    }

    async fn delete_document(&self, user: &UserId, document: &DocumentId) -> Result<(), VectorError> {
        let prefix = format!("chunk:{document}:");
        let remove = self.index(user).await?.keys.iter().filter(|k| k.starts_with(&prefix)).cloned().collect();
        self.apply(user, Vec::new(), remove).await
    }

    async fn delete_user(&self, user: &UserId) -> Result<(), VectorError> {
        let remove = self.index(user).await?.keys.clone();
        self.apply(user, Vec::new(), remove).await
    }

    async fn search(&self, user: &UserId, query: &[f32], k: usize) -> Result<Vec<SearchHit>, VectorError> {
        check_dimensions(query)?;
        let index = self.index(user).await?;
        // Score every row, but clone metadata only for the best candidates:
        // keep ties at the cut so the key tie-break matches the other stores.
        let query_norm = norm(query);
        let mut scored: Vec<(f32, usize)> = index
            .rows()
            .zip(&index.norms)
            .enumerate()
            .map(|(i, (row, row_norm))| (cosine_from(dot(query, row), query_norm, *row_norm), i))
            .collect();
        if k == 0 {
            return Ok(Vec::new());
        }
        if scored.len() > k {
            // The k best first (unordered), then everything tied with the k-th.
            scored.select_nth_unstable_by(k - 1, |a, b| b.0.total_cmp(&a.0));
            let cut = scored[k - 1].0;
            scored.retain(|(s, _)| *s >= cut);
        }
        let mut hits: Vec<SearchHit> =
            scored.into_iter().map(|(score, i)| SearchHit { score, source: index.metas[i].source.clone() }).collect();
        rank_hits(&mut hits, k);
        Ok(hits)
    }
}
