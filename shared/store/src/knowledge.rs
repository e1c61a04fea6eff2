//! The user's knowledge graph in the single table: `FACT#{fact}`,
//! `PROV#{fact}#{source}`, `EDGE#{from}#{rel}#{to}` and the append-only
//! `AUDIT#{time}#{id}`, all under `USER#{user}`.

use crate::{from_item, keys, to_item};
use domain::UserId;
use facts::knowledge::{Change, Edge, Fact, Knowledge};
use facts::model::{FactId, Provenance, Source};
use ports::{Item, PutCondition, StoreError, TableStore};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::sync::Arc;

#[derive(Serialize, Deserialize)]
struct ProvenanceRow {
    fact_id: FactId,
    #[serde(flatten)]
    provenance: Provenance,
}

#[derive(Serialize, Deserialize)]
struct EdgeRow {
    #[serde(flatten)]
    edge: Edge,
}

/// One audit entry as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    #[serde(flatten)]
    pub change: Change,
    pub at: String,
}

/// A stable short hash of where a source was read.
fn source_key(source: &Source) -> String {
    let json = serde_json::to_string(source).unwrap_or_default();
    domain::sha256_hex(json.as_bytes())[..16].to_owned()
}

/// Reads and writes one user's knowledge. Every key starts with the user's
/// partition, so no call can touch another user's facts.
#[derive(Clone)]
pub struct KnowledgeRepo {
    table: Arc<dyn TableStore>,
}

impl KnowledgeRepo {
    pub fn new(table: Arc<dyn TableStore>) -> Self {
        Self { table }
    }

    /// The whole graph of `user` (deleted facts included, for the audit).
    pub async fn load(&self, user: &UserId) -> Result<Knowledge, StoreError> {
        let pk = keys::user_pk(user);
        let facts: Vec<Fact> = self
            .table
            .query_prefix(&pk, keys::FACT_PREFIX)
            .await?
            .into_iter()
            .map(from_item)
            .collect::<Result<_, _>>()?;
        let sources: Vec<(FactId, Provenance)> = self
            .table
            .query_prefix(&pk, keys::PROVENANCE_PREFIX)
            .await?
            .into_iter()
            .map(|item| from_item::<ProvenanceRow>(item).map(|r| (r.fact_id, r.provenance)))
            .collect::<Result<_, _>>()?;
        let edges: Vec<Edge> = self
            .table
            .query_prefix(&pk, keys::EDGE_PREFIX)
            .await?
            .into_iter()
            .map(|item| from_item::<EdgeRow>(item).map(|r| r.edge))
            .collect::<Result<_, _>>()?;
        let mut knowledge = Knowledge::from_parts(facts, sources, edges);
        for item in self.table.query_prefix(&pk, keys::SKILL_MAPPING_PREFIX).await? {
            let m: facts::model::SkillMapping = from_item(item)?;
            knowledge.mappings.insert(m.fact_id.clone(), m);
        }
        Ok(knowledge)
    }

    /// Writes skill mappings (one item per skill fact; a new one replaces the old).
    pub async fn save_mappings(
        &self,
        user: &UserId,
        mappings: &[facts::model::SkillMapping],
    ) -> Result<(), StoreError> {
        let pk = keys::user_pk(user);
        for m in mappings {
            let sk = keys::skill_mapping_sk(&m.fact_id.0);
            self.table.put(to_item(pk.clone(), sk, "skill_mapping", m)?, PutCondition::None).await?;
        }
        Ok(())
    }

    /// Writes what changed since `knowledge` was loaded with edges `before`:
    /// the changed facts and their sources, the edge difference, the deletion
    /// of withdrawn sources and retracted facts (with their skill mappings),
    /// and one audit entry per change, and marks the user in the change
    /// index. Puts and deletes are idempotent, so a retried save after a
    /// partial failure converges.
    pub async fn save(
        &self,
        user: &UserId,
        knowledge: &mut Knowledge,
        before: &BTreeSet<Edge>,
        now: &str,
    ) -> Result<usize, StoreError> {
        let pk = keys::user_pk(user);
        let (changes, dirty) = knowledge.take_changes();
        let removals = knowledge.take_removals();
        for id in &dirty {
            let Some(fact) = knowledge.facts.get(id) else { continue };
            self.table.put(to_item(pk.clone(), keys::fact_sk(&id.0), "fact", fact)?, PutCondition::None).await?;
            for provenance in knowledge.sources.get(id).into_iter().flatten() {
                let row = ProvenanceRow { fact_id: id.clone(), provenance: provenance.clone() };
                let sk = keys::provenance_sk(&id.0, &source_key(&provenance.source));
                self.table.put(to_item(pk.clone(), sk, "provenance", &row)?, PutCondition::None).await?;
            }
        }
        for edge in knowledge.edges.difference(before) {
            let sk = keys::edge_sk(&edge.from, edge.rel.as_str(), &edge.to);
            self.table
                .put(to_item(pk.clone(), sk, "edge", &EdgeRow { edge: edge.clone() })?, PutCondition::None)
                .await?;
        }
        for edge in before.difference(&knowledge.edges) {
            self.table.delete(&pk, &keys::edge_sk(&edge.from, edge.rel.as_str(), &edge.to)).await?;
        }
        for (n, change) in changes.iter().enumerate() {
            // Time first so entries list in order; the suffix keeps entries of one instant apart.
            let id = format!("{n:05}-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
            let entry = AuditEntry { change: change.clone(), at: now.to_owned() };
            let item: Item = to_item(pk.clone(), keys::audit_sk(now, &id), "audit", &entry)?;
            self.table.put(item, PutCondition::IfAbsent).await?;
        }
        // After their audit entries (a save retried after a failure here audits
        // them again rather than not at all): retracted facts, then withdrawn
        // sources (a retracted fact's sources are among them; left behind by a
        // failure, they are withdrawn again by the retry, while a fact left
        // without its sources would never be).
        for id in &removals.facts {
            self.table.delete(&pk, &keys::skill_mapping_sk(&id.0)).await?;
            self.table.delete(&pk, &keys::fact_sk(&id.0)).await?;
        }
        for (id, source) in &removals.sources {
            self.table.delete(&pk, &keys::provenance_sk(&id.0, &source_key(source))).await?;
        }
        if !dirty.is_empty() || !changes.is_empty() || !removals.facts.is_empty() {
            // For the scheduled insight run: this user's knowledge changed.
            crate::ChangeIndex::new(self.table.clone()).mark(user, now).await?;
        }
        Ok(dirty.len())
    }

    /// The audit trail of `user`, oldest first.
    pub async fn audit(&self, user: &UserId) -> Result<Vec<AuditEntry>, StoreError> {
        self.table.query_prefix(&keys::user_pk(user), keys::AUDIT_PREFIX).await?.into_iter().map(from_item).collect()
    }
}
