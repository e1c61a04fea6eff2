//! `TableStore` on redb: one table keyed by `(pk, sk)`, value = JSON attributes.

use crate::{EmbeddedDb, now_millis, redb_is_transient};
use async_trait::async_trait;
use ports::{Item, PutCondition, StoreError, TableStore};
use redb::{ReadableDatabase, ReadableTable, TableDefinition};
use serde_json::{Map, Value};
use std::sync::Arc;

/// Items of the single table: `(pk, sk)` -> JSON object of attributes.
pub(crate) const ITEMS: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("items");

/// Numeric attribute (epoch seconds) after which an item reads as absent.
const TTL_ATTR: &str = "expires_at";

type Attrs = Map<String, Value>;

/// The single-table store in the embedded database.
///
/// TTL: an item whose numeric `expires_at` (epoch seconds) is in the past is
/// treated as absent everywhere (reads, queries, conditions, `add_bounded`);
/// it is physically removed when overwritten or by [`RedbTableStore::purge_expired`].
#[derive(Debug, Clone)]
pub struct RedbTableStore {
    db: Arc<EmbeddedDb>,
}

impl RedbTableStore {
    pub fn new(db: Arc<EmbeddedDb>) -> Self {
        Self { db }
    }

    /// Removes every expired item; returns how many went.
    pub async fn purge_expired(&self) -> Result<usize, StoreError> {
        self.blocking(|db| {
            let now = now_secs();
            let txn = db.begin_write().map_err(db_err)?;
            let removed;
            {
                let mut table = txn.open_table(ITEMS).map_err(db_err)?;
                let mut expired = Vec::new();
                for entry in table.iter().map_err(db_err)? {
                    let (key, value) = entry.map_err(db_err)?;
                    // Malformed items are left alone: purging is no place to fail.
                    if let Ok(attrs) = decode(value.value())
                        && is_expired(&attrs, now)
                    {
                        let (pk, sk) = key.value();
                        expired.push((pk.to_owned(), sk.to_owned()));
                    }
                }
                for (pk, sk) in &expired {
                    table.remove((pk.as_str(), sk.as_str())).map_err(db_err)?;
                }
                removed = expired.len();
            }
            txn.commit().map_err(db_err)?;
            Ok(removed)
        })
        .await
    }

    async fn blocking<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&redb::Database) -> Result<T, StoreError> + Send + 'static,
    {
        let db = Arc::clone(&self.db);
        tokio::task::spawn_blocking(move || f(db.redb()))
            .await
            .map_err(|e| StoreError::Permanent(format!("table store task failed: {e}")))?
    }
}

#[async_trait]
impl TableStore for RedbTableStore {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError> {
        let (pk, sk) = (pk.to_owned(), sk.to_owned());
        self.blocking(move |db| {
            let txn = db.begin_read().map_err(db_err)?;
            let table = txn.open_table(ITEMS).map_err(db_err)?;
            let attrs = live_attrs(table.get((pk.as_str(), sk.as_str())).map_err(db_err)?.map(|v| v.value().to_vec()))?;
            Ok(attrs.map(|attrs| Item { pk, sk, attrs }))
        })
        .await
    }

    async fn put(&self, item: Item, condition: PutCondition) -> Result<(), StoreError> {
        if item.attrs.contains_key("pk") || item.attrs.contains_key("sk") {
            return Err(StoreError::Permanent("attribute names pk and sk are reserved for the keys".into()));
        }
        let bytes = serde_json::to_vec(&item.attrs)
            .map_err(|e| StoreError::Permanent(format!("cannot encode attributes: {e}")))?;
        self.blocking(move |db| {
            let key = (item.pk.as_str(), item.sk.as_str());
            let txn = db.begin_write().map_err(db_err)?;
            {
                let mut table = txn.open_table(ITEMS).map_err(db_err)?;
                if condition != PutCondition::None {
                    let existing = live_attrs(table.get(key).map_err(db_err)?.map(|v| v.value().to_vec()))?;
                    let ok = match condition {
                        PutCondition::IfAbsent => existing.is_none(),
                        PutCondition::IfExists => existing.is_some(),
                        PutCondition::None => true,
                    };
                    if !ok {
                        // Dropping the transaction aborts it: nothing changes.
                        return Err(StoreError::ConditionFailed);
                    }
                }
                table.insert(key, bytes.as_slice()).map_err(db_err)?;
            }
            txn.commit().map_err(db_err)
        })
        .await
    }

    async fn delete(&self, pk: &str, sk: &str) -> Result<(), StoreError> {
        let (pk, sk) = (pk.to_owned(), sk.to_owned());
        self.blocking(move |db| {
            let txn = db.begin_write().map_err(db_err)?;
            {
                let mut table = txn.open_table(ITEMS).map_err(db_err)?;
                table.remove((pk.as_str(), sk.as_str())).map_err(db_err)?;
            }
            txn.commit().map_err(db_err)
        })
        .await
    }

    async fn query_prefix(&self, pk: &str, sk_prefix: &str) -> Result<Vec<Item>, StoreError> {
        let (pk, sk_prefix) = (pk.to_owned(), sk_prefix.to_owned());
        self.blocking(move |db| {
            let now = now_secs();
            let txn = db.begin_read().map_err(db_err)?;
            let table = txn.open_table(ITEMS).map_err(db_err)?;
            let mut items = Vec::new();
            // Keys compare element by element, so this starts at the first sort key
            // >= the prefix inside this partition, and other partitions never interleave.
            for entry in table.range((pk.as_str(), sk_prefix.as_str())..).map_err(db_err)? {
                let (key, value) = entry.map_err(db_err)?;
                let (key_pk, key_sk) = key.value();
                if key_pk != pk || !key_sk.starts_with(sk_prefix.as_str()) {
                    break;
                }
                let attrs = decode(value.value())?;
                if !is_expired(&attrs, now) {
                    items.push(Item { pk: key_pk.to_owned(), sk: key_sk.to_owned(), attrs });
                }
            }
            Ok(items)
        })
        .await
    }

    async fn add_bounded(&self, pk: &str, sk: &str, attr: &str, delta: i64, max: i64) -> Result<i64, StoreError> {
        if attr == "pk" || attr == "sk" {
            return Err(StoreError::Permanent("attribute names pk and sk are reserved for the keys".into()));
        }
        let (pk, sk, attr) = (pk.to_owned(), sk.to_owned(), attr.to_owned());
        self.blocking(move |db| {
            let key = (pk.as_str(), sk.as_str());
            let txn = db.begin_write().map_err(db_err)?;
            let next;
            {
                let mut table = txn.open_table(ITEMS).map_err(db_err)?;
                let mut attrs =
                    live_attrs(table.get(key).map_err(db_err)?.map(|v| v.value().to_vec()))?.unwrap_or_default();
                let current = match attrs.get(&attr) {
                    None | Some(Value::Null) => 0,
                    Some(v) => v.as_i64().ok_or_else(|| {
                        StoreError::Malformed(format!("attribute {attr} of {pk}/{sk} is not an integer: {v}"))
                    })?,
                };
                next = if delta > 0 {
                    match current.checked_add(delta) {
                        Some(n) if n <= max => n,
                        _ => {
                            return Err(StoreError::LimitExceeded { current, delta, max });
                        }
                    }
                } else {
                    current.saturating_add(delta).max(0)
                };
                if next == current && attrs.contains_key(&attr) {
                    return Ok(next);
                }
                attrs.insert(attr.clone(), Value::from(next));
                let bytes = serde_json::to_vec(&attrs)
                    .map_err(|e| StoreError::Permanent(format!("cannot encode attributes: {e}")))?;
                table.insert(key, bytes.as_slice()).map_err(db_err)?;
            }
            txn.commit().map_err(db_err)?;
            Ok(next)
        })
        .await
    }
}

fn now_secs() -> i64 {
    i64::try_from(now_millis() / 1000).unwrap_or(i64::MAX)
}

fn db_err(e: impl Into<redb::Error>) -> StoreError {
    let e = e.into();
    if redb_is_transient(&e) { StoreError::Transient(e.to_string()) } else { StoreError::Permanent(e.to_string()) }
}

fn decode(bytes: &[u8]) -> Result<Attrs, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Malformed(format!("attributes are not a JSON object: {e}")))
}

/// Decoded attributes of a stored value, or `None` when absent or expired.
fn live_attrs(bytes: Option<Vec<u8>>) -> Result<Option<Attrs>, StoreError> {
    let Some(bytes) = bytes else { return Ok(None) };
    let attrs = decode(&bytes)?;
    Ok((!is_expired(&attrs, now_secs())).then_some(attrs))
}

/// A numeric `expires_at` at or before `now` (epoch seconds); other types are ignored, as DynamoDB does.
fn is_expired(attrs: &Attrs, now: i64) -> bool {
    match attrs.get(TTL_ATTR) {
        Some(Value::Number(n)) => match n.as_i64() {
            Some(at) => at <= now,
            None => n.as_f64().is_some_and(|at| at <= now as f64),
        },
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::TempDir;
    use serde_json::json;

    fn item(pk: &str, sk: &str, attrs: Value) -> Item {
        let Value::Object(attrs) = attrs else { panic!("attrs must be an object") };
        Item { pk: pk.into(), sk: sk.into(), attrs }
    }

    fn store(dir: &TempDir) -> RedbTableStore {
        RedbTableStore::new(EmbeddedDb::open(dir.path()).expect("open db"))
    }

    #[tokio::test]
    async fn put_get_delete_and_conditions() {
        let dir = TempDir::new();
        let s = store(&dir);
        let a = item("USER#a", "DOC#1", json!({"status": "new"}));
        s.put(a.clone(), PutCondition::IfAbsent).await.expect("first IfAbsent");
        let err = s.put(a.clone(), PutCondition::IfAbsent).await.expect_err("second IfAbsent");
        assert!(matches!(err, StoreError::ConditionFailed), "{err:?}");
        assert_eq!(s.get("USER#a", "DOC#1").await.unwrap(), Some(a.clone()));

        let missing = item("USER#a", "DOC#2", json!({}));
        let err = s.put(missing, PutCondition::IfExists).await.expect_err("IfExists on missing");
        assert!(matches!(err, StoreError::ConditionFailed), "{err:?}");
        assert_eq!(s.get("USER#a", "DOC#2").await.unwrap(), None);

        let updated = item("USER#a", "DOC#1", json!({"status": "done"}));
        s.put(updated.clone(), PutCondition::IfExists).await.expect("IfExists on present");
        assert_eq!(s.get("USER#a", "DOC#1").await.unwrap(), Some(updated));

        s.delete("USER#a", "DOC#1").await.unwrap();
        s.delete("USER#a", "DOC#1").await.expect("deleting an absent item is fine");
        assert_eq!(s.get("USER#a", "DOC#1").await.unwrap(), None);

        let reserved = item("USER#a", "X", json!({"pk": "other"}));
        assert!(matches!(s.put(reserved, PutCondition::None).await, Err(StoreError::Permanent(_))));
    }

    #[tokio::test]
    async fn prefix_query_is_ordered_and_isolated_by_partition() {
        let dir = TempDir::new();
        let s = store(&dir);
        for (pk, sk) in [
            ("USER#a", "DOC#3"),
            ("USER#ab", "DOC#0"),
            ("USER#a", "DOC#1"),
            ("USER#a", "META"),
            ("USER#a", "DOC#2"),
            ("USER#", "DOC#9"),
            ("USER#ab", "DOC#4"),
            ("USER#a", "DOC"),
        ] {
            s.put(item(pk, sk, json!({"n": sk})), PutCondition::None).await.unwrap();
        }
        let sks = |items: Vec<Item>| items.into_iter().map(|i| (i.pk, i.sk)).collect::<Vec<_>>();
        let got = sks(s.query_prefix("USER#a", "DOC#").await.unwrap());
        assert_eq!(
            got,
            vec![
                ("USER#a".into(), "DOC#1".into()),
                ("USER#a".into(), "DOC#2".into()),
                ("USER#a".into(), "DOC#3".into())
            ]
        );
        let all = sks(s.query_prefix("USER#a", "").await.unwrap());
        assert_eq!(all.len(), 5);
        assert!(all.iter().all(|(pk, _)| pk == "USER#a"));
        assert!(all.windows(2).all(|w| w[0].1 < w[1].1));
        let ab = sks(s.query_prefix("USER#ab", "").await.unwrap());
        assert_eq!(ab, vec![("USER#ab".into(), "DOC#0".into()), ("USER#ab".into(), "DOC#4".into())]);
        assert!(s.query_prefix("USER#", "DOC#0").await.unwrap().is_empty());
        assert!(s.query_prefix("USER#zz", "").await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn add_bounded_is_atomic_under_concurrency() {
        let dir = TempDir::new();
        let s = Arc::new(store(&dir));
        let mut tasks = Vec::new();
        for _ in 0..20 {
            let s = Arc::clone(&s);
            tasks.push(tokio::spawn(async move { s.add_bounded("USER#a", "QUOTA", "used", 3, 50).await }));
        }
        let mut ok = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(_) => ok += 1,
                Err(StoreError::LimitExceeded { current: 48, delta: 3, max: 50 }) => {}
                Err(e) => panic!("unexpected error {e:?}"),
            }
        }
        assert_eq!(ok, 16);
        let got = s.get("USER#a", "QUOTA").await.unwrap().unwrap();
        assert_eq!(got.attrs["used"], json!(48));
    }

    #[tokio::test]
    async fn add_bounded_edges() {
        let dir = TempDir::new();
        let s = store(&dir);
        s.put(item("U", "Q", json!({"other": "kept"})), PutCondition::None).await.unwrap();
        assert_eq!(s.add_bounded("U", "Q", "used", 5, 5).await.unwrap(), 5);
        let err = s.add_bounded("U", "Q", "used", 1, 5).await.expect_err("past max");
        assert!(matches!(err, StoreError::LimitExceeded { current: 5, delta: 1, max: 5 }), "{err:?}");
        assert_eq!(s.add_bounded("U", "Q", "used", -3, 5).await.unwrap(), 2);
        // Overflow counts as passing the limit.
        assert!(matches!(
            s.add_bounded("U", "Q", "used", i64::MAX, i64::MAX).await,
            Err(StoreError::LimitExceeded { current: 2, .. })
        ));
        assert_eq!(s.add_bounded("U", "Q", "used", -10, 5).await.unwrap(), 0);
        let got = s.get("U", "Q").await.unwrap().unwrap();
        assert_eq!(got.attrs["other"], json!("kept"));
        assert_eq!(got.attrs["used"], json!(0));
        // Negative delta on an absent item: never below zero, never fails.
        assert_eq!(s.add_bounded("U", "NEW", "used", -1, 5).await.unwrap(), 0);
        s.put(item("U", "BAD", json!({"used": "three"})), PutCondition::None).await.unwrap();
        assert!(matches!(s.add_bounded("U", "BAD", "used", 1, 5).await, Err(StoreError::Malformed(_))));
    }

    #[tokio::test]
    async fn expired_items_read_as_absent() {
        let dir = TempDir::new();
        let s = store(&dir);
        let past = now_secs() - 10;
        let future = now_secs() + 3600;
        s.put(item("U", "OLD", json!({"expires_at": past})), PutCondition::None).await.unwrap();
        s.put(item("U", "NEW", json!({"expires_at": future})), PutCondition::None).await.unwrap();
        s.put(item("U", "ODD", json!({"expires_at": "not a number"})), PutCondition::None).await.unwrap();
        assert_eq!(s.get("U", "OLD").await.unwrap(), None);
        assert!(s.get("U", "NEW").await.unwrap().is_some());
        assert!(s.get("U", "ODD").await.unwrap().is_some());
        let sks: Vec<_> = s.query_prefix("U", "").await.unwrap().into_iter().map(|i| i.sk).collect();
        assert_eq!(sks, vec!["NEW", "ODD"]);
        // An expired item does not block IfAbsent, and does not satisfy IfExists.
        assert!(matches!(
            s.put(item("U", "OLD", json!({"x": 1})), PutCondition::IfExists).await,
            Err(StoreError::ConditionFailed)
        ));
        s.put(item("U", "OLD2", json!({"expires_at": past, "used": 40})), PutCondition::None).await.unwrap();
        assert_eq!(s.add_bounded("U", "OLD2", "used", 3, 10).await.unwrap(), 3);
        assert_eq!(s.purge_expired().await.unwrap(), 1);
        s.put(item("U", "OLD", json!({"x": 1})), PutCondition::IfAbsent).await.expect("expired counts as absent");
    }
}
