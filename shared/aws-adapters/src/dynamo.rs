//! `TableStore` on DynamoDB: one table, string keys `pk`/`sk`, attributes
//! mapped through serde_dynamo.

use crate::error::{Classified, classify, to_port};
use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use ports::{Item, PutCondition, StoreError, TableStore};
use serde_json::{Map, Value};
use std::collections::HashMap;

/// Numeric attribute (epoch seconds) the table's TTL is configured on.
const TTL_ATTR: &str = "expires_at";
/// Retries of `add_bounded` when concurrent writers or expired items get in the way.
const MAX_ATTEMPTS: usize = 16;

type AvMap = HashMap<String, AttributeValue>;

/// The single table on DynamoDB.
///
/// TTL: DynamoDB deletes expired items lazily (up to days later), so an item
/// whose numeric `expires_at` is at or before now reads as absent here: `get`,
/// `query_prefix`, the put conditions and `add_bounded` all ignore it.
#[derive(Clone, Debug)]
pub struct DynamoTableStore {
    client: Client,
    table: String,
}

impl DynamoTableStore {
    pub fn new(config: &SdkConfig, table: impl Into<String>) -> Self {
        Self::from_client(Client::new(config), table)
    }

    pub fn from_client(client: Client, table: impl Into<String>) -> Self {
        Self { client, table: table.into() }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    fn key(pk: &str, sk: &str) -> AvMap {
        HashMap::from([
            ("pk".to_owned(), AttributeValue::S(pk.to_owned())),
            ("sk".to_owned(), AttributeValue::S(sk.to_owned())),
        ])
    }

    /// The raw stored item, expired or not.
    async fn get_raw(&self, pk: &str, sk: &str) -> Result<Option<AvMap>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(pk, sk)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| err(classify("GetItem", &e)))?;
        Ok(out.item)
    }

    /// Deletes an item only if it is (still) expired. Another writer may have replaced it: fine.
    async fn delete_expired(&self, pk: &str, sk: &str, now: i64) -> Result<(), StoreError> {
        let res = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(pk, sk)))
            .condition_expression("attribute_type(#exp, :n) AND #exp <= :now")
            .expression_attribute_names("#exp", TTL_ATTR)
            .expression_attribute_values(":n", AttributeValue::S("N".into()))
            .expression_attribute_values(":now", num(now))
            .send()
            .await;
        match res {
            Ok(_) => Ok(()),
            Err(e) => {
                let c = classify("DeleteItem", &e);
                if is_condition_failed(&c) { Ok(()) } else { Err(err(c)) }
            }
        }
    }
}

fn err(c: Classified) -> StoreError {
    to_port(c, StoreError::Transient, StoreError::Permanent)
}

fn is_condition_failed(c: &Classified) -> bool {
    c.code_is("ConditionalCheckFailedException")
}

fn num(n: i64) -> AttributeValue {
    AttributeValue::N(n.to_string())
}

fn now_secs() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn reserved_key_error() -> StoreError {
    StoreError::Permanent("attribute names pk and sk are reserved for the keys".into())
}

/// Condition: the item, if any, is not expired (a non-numeric `expires_at` never expires).
const NOT_EXPIRED: &str = "(attribute_not_exists(#exp) OR NOT attribute_type(#exp, :n) OR #exp > :now)";

pub(crate) fn encode(item: &Item) -> Result<AvMap, StoreError> {
    if item.attrs.contains_key("pk") || item.attrs.contains_key("sk") {
        return Err(reserved_key_error());
    }
    let mut map: AvMap = serde_dynamo::aws_sdk_dynamodb_1::to_item(&item.attrs)
        .map_err(|e| StoreError::Permanent(format!("cannot encode attributes of {}/{}: {e}", item.pk, item.sk)))?;
    map.insert("pk".into(), AttributeValue::S(item.pk.clone()));
    map.insert("sk".into(), AttributeValue::S(item.sk.clone()));
    Ok(map)
}

pub(crate) fn decode(mut map: AvMap) -> Result<Item, StoreError> {
    let mut key = |name: &str| match map.remove(name) {
        Some(AttributeValue::S(s)) => Ok(s),
        other => Err(StoreError::Malformed(format!("key attribute {name} is not a string: {other:?}"))),
    };
    let pk = key("pk")?;
    let sk = key("sk")?;
    let attrs: Map<String, Value> = serde_dynamo::aws_sdk_dynamodb_1::from_item(map)
        .map_err(|e| StoreError::Malformed(format!("attributes of {pk}/{sk}: {e}")))?;
    Ok(Item { pk, sk, attrs })
}

/// A numeric `expires_at` at or before `now`.
fn av_expired(map: &AvMap, now: i64) -> bool {
    match map.get(TTL_ATTR) {
        Some(AttributeValue::N(n)) => match n.parse::<i64>() {
            Ok(at) => at <= now,
            Err(_) => n.parse::<f64>().is_ok_and(|at| at <= now as f64),
        },
        _ => false,
    }
}

/// The integer value of `attr` in a stored item (absent counts as 0).
fn int_attr(map: Option<&AvMap>, attr: &str, pk: &str, sk: &str) -> Result<i64, StoreError> {
    match map.and_then(|m| m.get(attr)) {
        None | Some(AttributeValue::Null(_)) => Ok(0),
        Some(AttributeValue::N(n)) => n
            .parse::<i64>()
            .map_err(|_| StoreError::Malformed(format!("attribute {attr} of {pk}/{sk} is not an integer: {n}"))),
        Some(other) => Err(StoreError::Malformed(format!("attribute {attr} of {pk}/{sk} is not a number: {other:?}"))),
    }
}

enum Update {
    Done(i64),
    ConditionFailed,
}

impl DynamoTableStore {
    /// One conditional UpdateItem; `Update::ConditionFailed` when the condition is false.
    async fn update(
        &self,
        pk: &str,
        sk: &str,
        attr: &str,
        update: &str,
        condition: &str,
        values: Vec<(&str, AttributeValue)>,
    ) -> Result<Update, StoreError> {
        let mut req = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(pk, sk)))
            .update_expression(update)
            .condition_expression(condition)
            .expression_attribute_names("#a", attr)
            .expression_attribute_names("#exp", TTL_ATTR)
            .return_values(ReturnValue::UpdatedNew);
        for (name, value) in values {
            req = req.expression_attribute_values(name, value);
        }
        match req.send().await {
            Ok(out) => int_attr(out.attributes(), attr, pk, sk).map(Update::Done),
            Err(e) => {
                let c = classify("UpdateItem", &e);
                if is_condition_failed(&c) { Ok(Update::ConditionFailed) } else { Err(err(c)) }
            }
        }
    }
}

#[async_trait]
impl TableStore for DynamoTableStore {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError> {
        match self.get_raw(pk, sk).await? {
            Some(map) if !av_expired(&map, now_secs()) => decode(map).map(Some),
            _ => Ok(None),
        }
    }

    async fn put(&self, item: Item, condition: PutCondition) -> Result<(), StoreError> {
        let map = encode(&item)?;
        let mut req = self.client.put_item().table_name(&self.table).set_item(Some(map));
        let expr = match condition {
            PutCondition::None => None,
            // An expired item that DynamoDB has not removed yet counts as absent.
            PutCondition::IfAbsent => {
                Some("attribute_not_exists(pk) OR (attribute_type(#exp, :n) AND #exp <= :now)".to_owned())
            }
            PutCondition::IfExists => Some(format!("attribute_exists(pk) AND {NOT_EXPIRED}")),
        };
        if let Some(expr) = expr {
            req = req
                .condition_expression(expr)
                .expression_attribute_names("#exp", TTL_ATTR)
                .expression_attribute_values(":n", AttributeValue::S("N".into()))
                .expression_attribute_values(":now", num(now_secs()));
        }
        match req.send().await {
            Ok(_) => Ok(()),
            Err(e) => {
                let c = classify("PutItem", &e);
                if is_condition_failed(&c) { Err(StoreError::ConditionFailed) } else { Err(err(c)) }
            }
        }
    }

    async fn delete(&self, pk: &str, sk: &str) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(pk, sk)))
            .send()
            .await
            .map_err(|e| err(classify("DeleteItem", &e)))?;
        Ok(())
    }

    async fn query_prefix(&self, pk: &str, sk_prefix: &str) -> Result<Vec<Item>, StoreError> {
        let now = now_secs();
        let mut items = Vec::new();
        let mut start: Option<AvMap> = None;
        loop {
            let mut req = self
                .client
                .query()
                .table_name(&self.table)
                .consistent_read(true)
                .expression_attribute_names("#pk", "pk")
                .expression_attribute_values(":pk", AttributeValue::S(pk.to_owned()))
                .set_exclusive_start_key(start.take());
            // DynamoDB refuses an empty string as a key value, so no begins_with for "".
            req = if sk_prefix.is_empty() {
                req.key_condition_expression("#pk = :pk")
            } else {
                req.key_condition_expression("#pk = :pk AND begins_with(#sk, :p)")
                    .expression_attribute_names("#sk", "sk")
                    .expression_attribute_values(":p", AttributeValue::S(sk_prefix.to_owned()))
            };
            let out = req.send().await.map_err(|e| err(classify("Query", &e)))?;
            for map in out.items.unwrap_or_default() {
                if !av_expired(&map, now) {
                    items.push(decode(map)?);
                }
            }
            match out.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => break,
            }
        }
        Ok(items)
    }

    async fn add_bounded(&self, pk: &str, sk: &str, attr: &str, delta: i64, max: i64) -> Result<i64, StoreError> {
        if attr == "pk" || attr == "sk" {
            return Err(reserved_key_error());
        }
        const ADD: &str = "SET #a = if_not_exists(#a, :zero) + :d";
        for _ in 0..MAX_ATTEMPTS {
            let now = now_secs();
            let common = |extra: Vec<(&'static str, AttributeValue)>| {
                let mut v = vec![(":n", AttributeValue::S("N".into())), (":now", num(now))];
                v.extend(extra);
                v
            };
            if delta > 0 {
                // The new value must stay <= max, so the current one must be <= max - delta.
                // Comparisons are guarded by attribute_type: comparing mismatched types is
                // false on DynamoDB but an internal error on moto.
                let room = match max.checked_sub(delta) {
                    Some(room) if room >= 0 => room,
                    _ => {
                        let current = self.current_live(pk, sk, attr, now).await?;
                        return Err(StoreError::LimitExceeded { current, delta, max });
                    }
                };
                let cond =
                    format!("(attribute_not_exists(#a) OR (attribute_type(#a, :n) AND #a <= :room)) AND {NOT_EXPIRED}");
                let values = common(vec![(":zero", num(0)), (":d", num(delta)), (":room", num(room))]);
                match self.update(pk, sk, attr, ADD, &cond, values).await? {
                    Update::Done(v) => return Ok(v),
                    Update::ConditionFailed => {
                        let raw = self.get_raw(pk, sk).await?;
                        if let Some(map) = &raw
                            && av_expired(map, now)
                        {
                            self.delete_expired(pk, sk, now).await?;
                            continue;
                        }
                        let current = int_attr(raw.as_ref(), attr, pk, sk)?;
                        if current <= room {
                            continue; // changed under us; try again
                        }
                        return Err(StoreError::LimitExceeded { current, delta, max });
                    }
                }
            } else {
                // Releasing: never below zero. Subtract when there is enough, else set to 0.
                let floor = delta.checked_neg().unwrap_or(i64::MAX);
                let cond = format!("attribute_type(#a, :n) AND #a >= :floor AND {NOT_EXPIRED}");
                let values = common(vec![(":zero", num(0)), (":d", num(delta)), (":floor", num(floor))]);
                if let Update::Done(v) = self.update(pk, sk, attr, ADD, &cond, values).await? {
                    return Ok(v);
                }
                let cond =
                    format!("(attribute_not_exists(#a) OR (attribute_type(#a, :n) AND #a < :floor)) AND {NOT_EXPIRED}");
                let values = common(vec![(":zero", num(0)), (":floor", num(floor))]);
                if let Update::Done(v) = self.update(pk, sk, attr, "SET #a = :zero", &cond, values).await? {
                    return Ok(v);
                }
                let raw = self.get_raw(pk, sk).await?;
                match &raw {
                    Some(map) if av_expired(map, now) => self.delete_expired(pk, sk, now).await?,
                    // Neither condition held: the value is not a number.
                    _ => {
                        int_attr(raw.as_ref(), attr, pk, sk)?;
                    }
                }
            }
        }
        Err(StoreError::Transient(format!(
            "add_bounded on {pk}/{sk}.{attr}: too much contention, gave up after {MAX_ATTEMPTS} attempts"
        )))
    }
}

impl DynamoTableStore {
    /// Current integer value of `attr`, 0 when the item is absent or expired.
    async fn current_live(&self, pk: &str, sk: &str, attr: &str, now: i64) -> Result<i64, StoreError> {
        let raw = self.get_raw(pk, sk).await?;
        let live = raw.filter(|m| !av_expired(m, now));
        int_attr(live.as_ref(), attr, pk, sk)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn items_round_trip_through_attribute_values() {
        let Value::Object(attrs) = json!({
            "status": "uploaded",
            "size": 1234,
            "ratio": 0.5,
            "tags": ["a", "b"],
            "nested": {"ok": true, "none": null},
        }) else {
            unreachable!()
        };
        let item = Item { pk: "USER#1".into(), sk: "DOC#1".into(), attrs };
        let map = encode(&item).unwrap();
        assert_eq!(map.get("pk"), Some(&AttributeValue::S("USER#1".into())));
        assert_eq!(map.get("size"), Some(&AttributeValue::N("1234".into())));
        assert_eq!(decode(map).unwrap(), item);
    }

    #[test]
    fn reserved_names_are_refused() {
        let mut attrs = Map::new();
        attrs.insert("pk".into(), json!("x"));
        let item = Item { pk: "a".into(), sk: "b".into(), attrs };
        assert!(matches!(encode(&item), Err(StoreError::Permanent(_))));
    }

    #[test]
    fn expiry_is_numeric_only() {
        let mut m = AvMap::new();
        m.insert(TTL_ATTR.into(), AttributeValue::N("100".into()));
        assert!(av_expired(&m, 100));
        assert!(!av_expired(&m, 99));
        m.insert(TTL_ATTR.into(), AttributeValue::S("100".into()));
        assert!(!av_expired(&m, 1000));
    }
}
