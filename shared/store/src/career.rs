//! Interview sessions and turns (`conversation_sessions`), covered topics,
//! behavioural patterns (`behavioral_patterns`), versioned career insights
//! (`career_insights`) and the index of users whose knowledge changed. Every
//! key is under the user's partition except that index, which holds only
//! user ids and times.

use crate::{from_item, keys, to_item};
use career::behavior::PatternRecord;
use career::session::{Session, Turn};
use domain::UserId;
use ports::{PutCondition, StoreError, TableStore};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::sync::Arc;

/// Sessions, turns, topics and patterns of one user at a time.
#[derive(Clone)]
pub struct ConversationRepo {
    table: Arc<dyn TableStore>,
}

#[derive(Serialize, Deserialize)]
struct ClaimRow {
    at: String,
}

#[derive(Serialize, Deserialize)]
struct TopicRow {
    topic: String,
    /// `conversation/{session}/{turn}`.
    source: String,
    answered: bool,
}

impl ConversationRepo {
    pub fn new(table: Arc<dyn TableStore>) -> Self {
        Self { table }
    }

    /// Writes the session's header (status, pending question, budget).
    pub async fn save_session(&self, user: &UserId, session: &Session) -> Result<(), StoreError> {
        let item = to_item(keys::user_pk(user), keys::conversation_sk(&session.id), "conversation_session", session)?;
        self.table.put(item, PutCondition::None).await
    }

    /// Writes a turn once: a second write of the same turn number fails with
    /// `ConditionFailed` (a retried request).
    pub async fn add_turn(&self, user: &UserId, session: &str, turn: &Turn) -> Result<(), StoreError> {
        let item = to_item(keys::user_pk(user), keys::turn_sk(session, turn.number), "conversation_turn", turn)?;
        self.table.put(item, PutCondition::IfAbsent).await
    }

    /// Claims turn `turn` of a session for one request (`CONV#{session}#CLAIM#{n}`),
    /// so two concurrent answers to the same turn cannot both write facts.
    /// `Ok(false)` when another request holds a claim younger than
    /// `stale_secs`; an older claim (its request died) is taken over.
    pub async fn claim_turn(
        &self,
        user: &UserId,
        session: &str,
        turn: u32,
        now: &str,
        stale_secs: i64,
    ) -> Result<bool, StoreError> {
        let pk = keys::user_pk(user);
        let sk = keys::claim_sk(session, turn);
        let row = ClaimRow { at: now.to_owned() };
        match self.table.put(to_item(pk.clone(), sk.clone(), "conversation_claim", &row)?, PutCondition::IfAbsent).await
        {
            Ok(()) => Ok(true),
            Err(StoreError::ConditionFailed) => {
                let held: Option<ClaimRow> = match self.table.get(&pk, &sk).await? {
                    Some(item) => Some(from_item(item)?),
                    None => None,
                };
                let stale = match (held.as_ref().and_then(|c| domain::parse_rfc3339(&c.at)), domain::parse_rfc3339(now))
                {
                    (Some(at), Some(now)) => (now - at).whole_seconds() >= stale_secs,
                    _ => true,
                };
                if stale {
                    self.table.put(to_item(pk, sk, "conversation_claim", &row)?, PutCondition::None).await?;
                }
                Ok(stale)
            }
            Err(e) => Err(e),
        }
    }

    /// Frees a turn's claim (after a failed attempt).
    pub async fn release_turn(&self, user: &UserId, session: &str, turn: u32) -> Result<(), StoreError> {
        self.table.delete(&keys::user_pk(user), &keys::claim_sk(session, turn)).await
    }

    /// The session with its turns, if `user` has it.
    pub async fn load(&self, user: &UserId, session: &str) -> Result<Option<Session>, StoreError> {
        let pk = keys::user_pk(user);
        let Some(item) = self.table.get(&pk, &keys::conversation_sk(session)).await? else { return Ok(None) };
        let mut s: Session = from_item(item)?;
        let prefix = format!("{}#TURN#", keys::conversation_sk(session));
        let mut turns: Vec<Turn> =
            self.table.query_prefix(&pk, &prefix).await?.into_iter().map(from_item).collect::<Result<_, _>>()?;
        turns.sort_by_key(|t| t.number);
        s.turns = turns;
        Ok(Some(s))
    }

    /// Records a topic as covered, so no later session asks it again.
    pub async fn cover(&self, user: &UserId, topic: &str, source: &str, answered: bool) -> Result<(), StoreError> {
        let row = TopicRow { topic: topic.to_owned(), source: source.to_owned(), answered };
        let item = to_item(keys::user_pk(user), keys::topic_sk(topic), "conversation_topic", &row)?;
        self.table.put(item, PutCondition::None).await
    }

    /// Topics covered in any session.
    pub async fn covered(&self, user: &UserId) -> Result<BTreeSet<String>, StoreError> {
        let items = self.table.query_prefix(&keys::user_pk(user), keys::TOPIC_PREFIX).await?;
        items.into_iter().map(|i| from_item::<TopicRow>(i).map(|r| r.topic)).collect()
    }

    /// Writes patterns (idempotent: a pattern's id is the hash of what it is)
    /// and marks the user's knowledge as changed for the insights.
    pub async fn save_patterns(&self, user: &UserId, patterns: &[PatternRecord]) -> Result<(), StoreError> {
        for p in patterns {
            let item = to_item(keys::user_pk(user), keys::pattern_sk(&p.id), "behavioral_pattern", p)?;
            self.table.put(item, PutCondition::None).await?;
        }
        if let Some(last) = patterns.last() {
            ChangeIndex::new(self.table.clone()).mark(user, &last.at).await?;
        }
        Ok(())
    }

    pub async fn patterns(&self, user: &UserId) -> Result<Vec<PatternRecord>, StoreError> {
        let items = self.table.query_prefix(&keys::user_pk(user), keys::PATTERN_PREFIX).await?;
        items.into_iter().map(from_item).collect()
    }
}

/// The pointer to a user's latest complete insights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InsightPointer {
    pub version: u64,
    pub generated_at: String,
    /// The knowledge change the version was generated from (see [`ChangeIndex`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub knowledge_changed_at: Option<String>,
}

/// One stored version of a user's insights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InsightVersion {
    pub version: u64,
    pub generated_at: String,
    /// What triggered it: "knowledge.updated", "schedule", "request".
    pub trigger: String,
    pub insights: career::insight::Insights,
}

/// Versioned insights: a new version is written whole, then the pointer
/// moves to it (conditionally, so two writers cannot both win); earlier
/// versions stay until pruned, so a regeneration never loses the previous
/// insights before the new ones are complete.
#[derive(Clone)]
pub struct InsightRepo {
    table: Arc<dyn TableStore>,
}

/// Versions kept per user.
pub const KEEP_VERSIONS: u64 = 3;

impl InsightRepo {
    pub fn new(table: Arc<dyn TableStore>) -> Self {
        Self { table }
    }

    pub async fn pointer(&self, user: &UserId) -> Result<Option<InsightPointer>, StoreError> {
        match self.table.get(&keys::user_pk(user), keys::INSIGHT_LATEST_SK).await? {
            Some(item) => Ok(Some(from_item(item)?)),
            None => Ok(None),
        }
    }

    /// The latest complete version.
    pub async fn latest(&self, user: &UserId) -> Result<Option<InsightVersion>, StoreError> {
        let Some(p) = self.pointer(user).await? else { return Ok(None) };
        match self.table.get(&keys::user_pk(user), &keys::insight_sk(p.version)).await? {
            Some(item) => Ok(Some(from_item(item)?)),
            None => Err(StoreError::Malformed(format!("insight version {} is missing", p.version))),
        }
    }

    /// Stored versions, oldest first.
    pub async fn versions(&self, user: &UserId) -> Result<Vec<u64>, StoreError> {
        let items = self.table.query_prefix(&keys::user_pk(user), keys::INSIGHT_VERSION_PREFIX).await?;
        let mut v: Vec<u64> = items
            .iter()
            .filter_map(|i| i.sk.strip_prefix(keys::INSIGHT_VERSION_PREFIX).and_then(|n| n.parse().ok()))
            .collect();
        v.sort_unstable();
        Ok(v)
    }

    /// Writes `version` as the next version and moves the pointer to it.
    /// `ConditionFailed` when another writer published first.
    pub async fn publish(
        &self,
        user: &UserId,
        previous: Option<&InsightPointer>,
        version: &InsightVersion,
        knowledge_changed_at: Option<String>,
    ) -> Result<InsightPointer, StoreError> {
        let pk = keys::user_pk(user);
        let item = to_item(pk.clone(), keys::insight_sk(version.version), "career_insights", version)?;
        self.table.put(item, PutCondition::IfAbsent).await?;
        let pointer = InsightPointer {
            version: version.version,
            generated_at: version.generated_at.clone(),
            knowledge_changed_at,
        };
        let condition = if previous.is_some() { PutCondition::IfExists } else { PutCondition::IfAbsent };
        if let Some(prev) = previous {
            // The pointer must still be the one read (no other publish since).
            let now = self.pointer(user).await?;
            if now.as_ref().map(|p| p.version) != Some(prev.version) {
                return Err(StoreError::ConditionFailed);
            }
        }
        let item = to_item(pk.clone(), keys::INSIGHT_LATEST_SK.to_owned(), "career_insights_latest", &pointer)?;
        self.table.put(item, condition).await?;
        for old in self.versions(user).await? {
            if old + KEEP_VERSIONS <= version.version {
                self.table.delete(&pk, &keys::insight_sk(old)).await?;
            }
        }
        Ok(pointer)
    }
}

/// Users whose knowledge changed, and when: written by every knowledge save,
/// read by the scheduled insight run.
#[derive(Clone)]
pub struct ChangeIndex {
    table: Arc<dyn TableStore>,
}

#[derive(Serialize, Deserialize)]
struct ChangeRow {
    user_id: String,
    changed_at: String,
}

impl ChangeIndex {
    pub fn new(table: Arc<dyn TableStore>) -> Self {
        Self { table }
    }

    pub async fn mark(&self, user: &UserId, now: &str) -> Result<(), StoreError> {
        let row = ChangeRow { user_id: user.as_str().to_owned(), changed_at: now.to_owned() };
        let item = to_item(keys::KNOWLEDGE_CHANGES_PK.to_owned(), keys::user_pk(user), "knowledge_change", &row)?;
        self.table.put(item, PutCondition::None).await
    }

    /// When `user`'s knowledge last changed.
    pub async fn changed_at(&self, user: &UserId) -> Result<Option<String>, StoreError> {
        match self.table.get(keys::KNOWLEDGE_CHANGES_PK, &keys::user_pk(user)).await? {
            Some(item) => Ok(Some(from_item::<ChangeRow>(item)?.changed_at)),
            None => Ok(None),
        }
    }

    /// Every user with a recorded change, and its time.
    pub async fn all(&self) -> Result<Vec<(UserId, String)>, StoreError> {
        let items = self.table.query_prefix(keys::KNOWLEDGE_CHANGES_PK, "USER#").await?;
        let mut out = Vec::new();
        for item in items {
            let row: ChangeRow = from_item(item)?;
            let user = UserId::parse(&row.user_id).map_err(|e| StoreError::Malformed(e.to_string()))?;
            out.push((user, row.changed_at));
        }
        Ok(out)
    }
}
