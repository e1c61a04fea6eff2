//! `Queue` and `QueueConsumer` on redb: durable messages keyed by
//! `(queue name, enqueue sequence)`, so each queue reads in FIFO order.

use crate::{EmbeddedDb, now_millis, redb_is_transient};
use async_trait::async_trait;
use ports::{Queue, QueueConsumer, QueueError, QueueName, ReceivedMessage};
use redb::{ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Messages: `(queue, sequence)` -> JSON of [`Stored`].
pub(crate) const MESSAGES: TableDefinition<(&str, u64), &[u8]> = TableDefinition::new("queue_messages");
/// Counters: `"next_seq"` -> next enqueue sequence.
pub(crate) const META: TableDefinition<&str, u64> = TableDefinition::new("queue_meta");
const NEXT_SEQ: &str = "next_seq";

/// Receives after which a failed message goes to the dead-letter queue.
pub const DEFAULT_MAX_RECEIVES: u32 = 3;

/// Attribute added to a dead-lettered message: why it was moved.
pub const DEAD_LETTER_REASON_ATTR: &str = "dead_letter_reason";
/// Attribute added to a dead-lettered message: the queue it came from.
pub const DEAD_LETTER_SOURCE_ATTR: &str = "dead_letter_source";

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Stored {
    id: String,
    body: String,
    attributes: Vec<(String, String)>,
    receive_count: u32,
    /// Epoch millis from which the message can be received.
    visible_at: u64,
    /// Received and neither acked nor nacked since (its hiding is a visibility timeout).
    in_flight: bool,
    enqueued_at: u64,
}

/// A stored message, for inspection (tests, CLI).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedMessage {
    pub id: String,
    pub body: String,
    pub attributes: Vec<(String, String)>,
    pub receive_count: u32,
    /// Epoch millis from which it can be received.
    pub visible_at_ms: u64,
    pub in_flight: bool,
    pub enqueued_at_ms: u64,
}

impl QueuedMessage {
    /// Value of an attribute, if present.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

impl From<Stored> for QueuedMessage {
    fn from(s: Stored) -> Self {
        Self {
            id: s.id,
            body: s.body,
            attributes: s.attributes,
            receive_count: s.receive_count,
            visible_at_ms: s.visible_at,
            in_flight: s.in_flight,
            enqueued_at_ms: s.enqueued_at,
        }
    }
}

/// Durable queues in the embedded database.
///
/// A receipt is `seq:receive_count:id`: it stops working once the message is
/// received again. `ack`/`nack` with such a stale receipt fail with
/// `QueueError::Permanent` and change nothing; with a receipt of a message that
/// is gone (already acked or dead-lettered) they succeed and do nothing.
///
/// A message received `max_receives` times goes to the queue's DLQ when it is
/// nacked, or when its visibility timeout runs out and it would be received
/// again (as SQS's redrive policy does). A DLQ never dead-letters its own messages.
#[derive(Debug, Clone)]
pub struct RedbQueue {
    db: Arc<EmbeddedDb>,
    max_receives: u32,
}

impl RedbQueue {
    /// `max_receives` of 0 is taken as 1.
    pub fn new(db: Arc<EmbeddedDb>, max_receives: u32) -> Self {
        Self { db, max_receives: max_receives.max(1) }
    }

    /// With [`DEFAULT_MAX_RECEIVES`].
    pub fn with_defaults(db: Arc<EmbeddedDb>) -> Self {
        Self::new(db, DEFAULT_MAX_RECEIVES)
    }

    pub fn max_receives(&self) -> u32 {
        self.max_receives
    }

    /// Makes every in-flight message visible now. Only one process can own the
    /// database, so at start-up anything in flight was abandoned by a crash.
    /// Messages delayed by a `nack` keep their delay. Returns how many were released.
    pub async fn recover_in_flight(&self) -> Result<usize, QueueError> {
        self.blocking(|db| {
            let now = now_millis();
            let txn = db.begin_write().map_err(db_err)?;
            let mut released = 0;
            {
                let mut table = txn.open_table(MESSAGES).map_err(db_err)?;
                let mut updates = Vec::new();
                for entry in table.iter().map_err(db_err)? {
                    let (key, value) = entry.map_err(db_err)?;
                    let mut msg = decode(value.value())?;
                    if msg.in_flight {
                        let (queue, seq) = key.value();
                        if msg.visible_at > now {
                            released += 1;
                        }
                        msg.in_flight = false;
                        msg.visible_at = now;
                        updates.push((queue.to_owned(), seq, encode(&msg)?));
                    }
                }
                for (queue, seq, bytes) in &updates {
                    table.insert((queue.as_str(), *seq), bytes.as_slice()).map_err(db_err)?;
                }
            }
            txn.commit().map_err(db_err)?;
            Ok(released)
        })
        .await
    }

    /// Every message of a queue, in FIFO order, without receiving them.
    pub async fn messages(&self, queue: QueueName) -> Result<Vec<QueuedMessage>, QueueError> {
        self.blocking(move |db| {
            let txn = db.begin_read().map_err(db_err)?;
            let table = txn.open_table(MESSAGES).map_err(db_err)?;
            let mut out = Vec::new();
            for entry in table.range(queue_range(queue)).map_err(db_err)? {
                let (_, value) = entry.map_err(db_err)?;
                out.push(decode(value.value())?.into());
            }
            Ok(out)
        })
        .await
    }

    /// The messages in the dead-letter queue behind `queue`, in FIFO order.
    pub async fn dlq_messages(&self, queue: QueueName) -> Result<Vec<QueuedMessage>, QueueError> {
        self.messages(queue.dlq()).await
    }

    async fn blocking<T, F>(&self, f: F) -> Result<T, QueueError>
    where
        T: Send + 'static,
        F: FnOnce(&redb::Database) -> Result<T, QueueError> + Send + 'static,
    {
        let db = Arc::clone(&self.db);
        tokio::task::spawn_blocking(move || f(db.redb()))
            .await
            .map_err(|e| QueueError::Permanent(format!("queue task failed: {e}")))?
    }
}

#[async_trait]
impl Queue for RedbQueue {
    async fn send(&self, queue: QueueName, body: &str, attributes: &[(&str, &str)]) -> Result<(), QueueError> {
        let now = now_millis();
        let msg = Stored {
            id: uuid::Uuid::new_v4().to_string(),
            body: body.to_owned(),
            attributes: attributes.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
            receive_count: 0,
            visible_at: now,
            in_flight: false,
            enqueued_at: now,
        };
        let bytes = encode(&msg)?;
        self.blocking(move |db| {
            let txn = db.begin_write().map_err(db_err)?;
            {
                let mut meta = txn.open_table(META).map_err(db_err)?;
                let mut table = txn.open_table(MESSAGES).map_err(db_err)?;
                let seq = next_seq(&mut meta)?;
                table.insert((queue.as_str(), seq), bytes.as_slice()).map_err(db_err)?;
            }
            txn.commit().map_err(db_err)
        })
        .await
    }
}

#[async_trait]
impl QueueConsumer for RedbQueue {
    async fn receive(
        &self,
        queue: QueueName,
        max: usize,
        visibility_secs: u64,
    ) -> Result<Vec<ReceivedMessage>, QueueError> {
        if max == 0 {
            return Ok(Vec::new());
        }
        let max_receives = self.max_receives;
        self.blocking(move |db| {
            let now = now_millis();
            let hidden_until = now.saturating_add(visibility_secs.saturating_mul(1000));
            let txn = db.begin_write().map_err(db_err)?;
            let mut received = Vec::new();
            {
                let mut meta = txn.open_table(META).map_err(db_err)?;
                let mut table = txn.open_table(MESSAGES).map_err(db_err)?;
                let mut deliver = Vec::new();
                let mut exhausted = Vec::new();
                for entry in table.range(queue_range(queue)).map_err(db_err)? {
                    if deliver.len() >= max {
                        break;
                    }
                    let (key, value) = entry.map_err(db_err)?;
                    let msg = decode(value.value())?;
                    if msg.visible_at > now {
                        continue;
                    }
                    let seq = key.value().1;
                    if msg.receive_count >= max_receives && queue.dlq() != queue {
                        exhausted.push((seq, msg));
                    } else {
                        deliver.push((seq, msg));
                    }
                }
                for (seq, msg) in exhausted {
                    let reason = format!(
                        "not acknowledged after {} receives (visibility timeout expired); max_receives is {max_receives}",
                        msg.receive_count
                    );
                    move_to_dlq(&mut table, &mut meta, queue, seq, msg, &reason, now)?;
                }
                for (seq, mut msg) in deliver {
                    msg.receive_count = msg.receive_count.saturating_add(1);
                    msg.visible_at = hidden_until;
                    msg.in_flight = true;
                    table.insert((queue.as_str(), seq), encode(&msg)?.as_slice()).map_err(db_err)?;
                    received.push(ReceivedMessage {
                        receipt: format!("{seq}:{}:{}", msg.receive_count, msg.id),
                        id: msg.id,
                        body: msg.body,
                        receive_count: msg.receive_count,
                    });
                }
            }
            txn.commit().map_err(db_err)?;
            Ok(received)
        })
        .await
    }

    async fn ack(&self, queue: QueueName, receipt: &str) -> Result<(), QueueError> {
        let receipt = Receipt::parse(receipt)?;
        self.blocking(move |db| {
            let txn = db.begin_write().map_err(db_err)?;
            {
                let mut table = txn.open_table(MESSAGES).map_err(db_err)?;
                if current(&table, queue, &receipt)?.is_none() {
                    return Ok(());
                }
                table.remove((queue.as_str(), receipt.seq)).map_err(db_err)?;
            }
            txn.commit().map_err(db_err)
        })
        .await
    }

    async fn nack(&self, queue: QueueName, receipt: &str, delay_secs: u64) -> Result<(), QueueError> {
        let receipt = Receipt::parse(receipt)?;
        let max_receives = self.max_receives;
        self.blocking(move |db| {
            let now = now_millis();
            let txn = db.begin_write().map_err(db_err)?;
            {
                let mut meta = txn.open_table(META).map_err(db_err)?;
                let mut table = txn.open_table(MESSAGES).map_err(db_err)?;
                let Some(mut msg) = current(&table, queue, &receipt)? else {
                    return Ok(());
                };
                if msg.receive_count >= max_receives && queue.dlq() != queue {
                    let reason = format!("failed {} times; max_receives is {max_receives}", msg.receive_count);
                    move_to_dlq(&mut table, &mut meta, queue, receipt.seq, msg, &reason, now)?;
                } else {
                    msg.in_flight = false;
                    msg.visible_at = now.saturating_add(delay_secs.saturating_mul(1000));
                    table.insert((queue.as_str(), receipt.seq), encode(&msg)?.as_slice()).map_err(db_err)?;
                }
            }
            txn.commit().map_err(db_err)
        })
        .await
    }

    async fn depth(&self, queue: QueueName) -> Result<usize, QueueError> {
        self.blocking(move |db| {
            let txn = db.begin_read().map_err(db_err)?;
            let table = txn.open_table(MESSAGES).map_err(db_err)?;
            let mut n = 0;
            for entry in table.range(queue_range(queue)).map_err(db_err)? {
                entry.map_err(db_err)?;
                n += 1;
            }
            Ok(n)
        })
        .await
    }
}

/// What a receipt names: a message at `seq` as of its `receive_count`-th receipt.
struct Receipt {
    seq: u64,
    receive_count: u32,
    id: String,
}

impl Receipt {
    fn parse(s: &str) -> Result<Self, QueueError> {
        let bad = || QueueError::Permanent(format!("malformed receipt {s:?}"));
        let mut parts = s.splitn(3, ':');
        let seq = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        let receive_count = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        let id = parts.next().filter(|p| !p.is_empty()).ok_or_else(bad)?.to_owned();
        Ok(Self { seq, receive_count, id })
    }
}

/// The message a receipt names: `None` when it is gone, an error when the
/// receipt is stale (the message was received again since).
fn current(
    table: &redb::Table<'_, (&'static str, u64), &'static [u8]>,
    queue: QueueName,
    receipt: &Receipt,
) -> Result<Option<Stored>, QueueError> {
    let Some(value) = table.get((queue.as_str(), receipt.seq)).map_err(db_err)? else {
        return Ok(None);
    };
    let msg = decode(value.value())?;
    if msg.id != receipt.id {
        // The sequence was reused by another message: ours is gone.
        return Ok(None);
    }
    if msg.receive_count != receipt.receive_count {
        return Err(QueueError::Permanent(format!(
            "stale receipt for message {}: it has been received again since",
            msg.id
        )));
    }
    Ok(Some(msg))
}

fn move_to_dlq(
    table: &mut redb::Table<'_, (&'static str, u64), &'static [u8]>,
    meta: &mut redb::Table<'_, &'static str, u64>,
    queue: QueueName,
    seq: u64,
    mut msg: Stored,
    reason: &str,
    now: u64,
) -> Result<(), QueueError> {
    table.remove((queue.as_str(), seq)).map_err(db_err)?;
    msg.attributes.retain(|(k, _)| k != DEAD_LETTER_REASON_ATTR && k != DEAD_LETTER_SOURCE_ATTR);
    msg.attributes.push((DEAD_LETTER_REASON_ATTR.to_owned(), reason.to_owned()));
    msg.attributes.push((DEAD_LETTER_SOURCE_ATTR.to_owned(), queue.as_str().to_owned()));
    msg.visible_at = now;
    msg.in_flight = false;
    let dlq_seq = next_seq(meta)?;
    tracing::warn!(message_id = %msg.id, queue = queue.as_str(), reason, "message moved to the dead-letter queue");
    table.insert((queue.dlq().as_str(), dlq_seq), encode(&msg)?.as_slice()).map_err(db_err)?;
    Ok(())
}

fn next_seq(meta: &mut redb::Table<'_, &'static str, u64>) -> Result<u64, QueueError> {
    let seq = meta.get(NEXT_SEQ).map_err(db_err)?.map(|v| v.value()).unwrap_or(0);
    let next = seq.checked_add(1).ok_or_else(|| QueueError::Permanent("queue sequence exhausted".into()))?;
    meta.insert(NEXT_SEQ, next).map_err(db_err)?;
    Ok(seq)
}

fn queue_range(queue: QueueName) -> std::ops::RangeInclusive<(&'static str, u64)> {
    (queue.as_str(), 0)..=(queue.as_str(), u64::MAX)
}

fn encode(msg: &Stored) -> Result<Vec<u8>, QueueError> {
    serde_json::to_vec(msg).map_err(|e| QueueError::Permanent(format!("cannot encode message: {e}")))
}

fn decode(bytes: &[u8]) -> Result<Stored, QueueError> {
    serde_json::from_slice(bytes).map_err(|e| QueueError::Permanent(format!("stored message is malformed: {e}")))
}

fn db_err(e: impl Into<redb::Error>) -> QueueError {
    let e = e.into();
    if redb_is_transient(&e) { QueueError::Transient(e.to_string()) } else { QueueError::Permanent(e.to_string()) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::TempDir;

    fn open(dir: &TempDir) -> RedbQueue {
        RedbQueue::new(EmbeddedDb::open(dir.path()).expect("open db"), 3)
    }

    #[tokio::test]
    async fn send_receive_ack_in_fifo_order() {
        let dir = TempDir::new();
        let q = open(&dir);
        for i in 0..5 {
            q.send(QueueName::Classify, &format!("m{i}"), &[("n", &i.to_string())]).await.unwrap();
        }
        q.send(QueueName::Extract, "other", &[]).await.unwrap();
        assert_eq!(q.depth(QueueName::Classify).await.unwrap(), 5);
        assert_eq!(q.depth(QueueName::Extract).await.unwrap(), 1);

        let got = q.receive(QueueName::Classify, 3, 30).await.unwrap();
        let bodies: Vec<_> = got.iter().map(|m| m.body.as_str()).collect();
        assert_eq!(bodies, ["m0", "m1", "m2"]);
        assert!(got.iter().all(|m| m.receive_count == 1));
        let rest = q.receive(QueueName::Classify, 10, 30).await.unwrap();
        let bodies: Vec<_> = rest.iter().map(|m| m.body.as_str()).collect();
        assert_eq!(bodies, ["m3", "m4"]);
        assert!(q.receive(QueueName::Classify, 10, 30).await.unwrap().is_empty());
        assert_eq!(q.depth(QueueName::Classify).await.unwrap(), 5, "in-flight messages count");

        for m in got.iter().chain(&rest) {
            q.ack(QueueName::Classify, &m.receipt).await.unwrap();
        }
        q.ack(QueueName::Classify, &got[0].receipt).await.expect("acking twice is harmless");
        assert_eq!(q.depth(QueueName::Classify).await.unwrap(), 0);
        assert_eq!(q.depth(QueueName::Extract).await.unwrap(), 1);
        let kept = q.messages(QueueName::Extract).await.unwrap();
        assert_eq!(kept[0].body, "other");
        assert!(q.ack(QueueName::Classify, "garbage").await.is_err());
    }

    #[tokio::test]
    async fn received_message_stays_hidden_until_visible_and_old_receipts_die() {
        let dir = TempDir::new();
        let q = open(&dir);
        q.send(QueueName::Classify, "m", &[]).await.unwrap();
        let first = q.receive(QueueName::Classify, 1, 0).await.unwrap();
        assert_eq!(first.len(), 1);
        // Visibility 0: visible again at once, received a second time.
        let second = q.receive(QueueName::Classify, 1, 60).await.unwrap();
        assert_eq!(second.len(), 1);
        assert_eq!(second[0].id, first[0].id);
        assert_eq!(second[0].receive_count, 2);
        assert!(q.receive(QueueName::Classify, 1, 60).await.unwrap().is_empty(), "hidden for 60 s");
        // The first receipt no longer works.
        assert!(matches!(q.ack(QueueName::Classify, &first[0].receipt).await, Err(QueueError::Permanent(_))));
        assert!(q.nack(QueueName::Classify, &first[0].receipt, 0).await.is_err());
        assert_eq!(q.depth(QueueName::Classify).await.unwrap(), 1);
        // nack with a delay: hidden until then.
        q.nack(QueueName::Classify, &second[0].receipt, 60).await.unwrap();
        assert!(q.receive(QueueName::Classify, 1, 60).await.unwrap().is_empty());
        let msgs = q.messages(QueueName::Classify).await.unwrap();
        assert!(!msgs[0].in_flight);
        assert!(msgs[0].visible_at_ms > now_millis() + 50_000);
    }

    #[tokio::test]
    async fn nack_moves_to_dlq_after_max_receives() {
        let dir = TempDir::new();
        let q = open(&dir);
        q.send(QueueName::Extract, "poison", &[("trace", "t1")]).await.unwrap();
        for attempt in 1..=3 {
            let got = q.receive(QueueName::Extract, 1, 60).await.unwrap();
            assert_eq!(got.len(), 1, "attempt {attempt}");
            assert_eq!(got[0].receive_count, attempt);
            q.nack(QueueName::Extract, &got[0].receipt, 0).await.unwrap();
        }
        assert_eq!(q.depth(QueueName::Extract).await.unwrap(), 0);
        assert_eq!(q.depth(QueueName::ExtractDlq).await.unwrap(), 1);
        let dead = q.dlq_messages(QueueName::Extract).await.unwrap();
        assert_eq!(dead[0].body, "poison");
        assert_eq!(dead[0].attribute("trace"), Some("t1"));
        assert_eq!(dead[0].attribute(DEAD_LETTER_SOURCE_ATTR), Some("extract"));
        assert!(dead[0].attribute(DEAD_LETTER_REASON_ATTR).unwrap().contains("failed 3 times"));
        // The DLQ can be consumed and never dead-letters into itself.
        for _ in 0..5 {
            let got = q.receive(QueueName::ExtractDlq, 1, 60).await.unwrap();
            q.nack(QueueName::ExtractDlq, &got[0].receipt, 0).await.unwrap();
        }
        assert_eq!(q.depth(QueueName::ExtractDlq).await.unwrap(), 1);
    }

    #[tokio::test]
    async fn expired_visibility_after_max_receives_dead_letters_on_receive() {
        let dir = TempDir::new();
        let q = open(&dir);
        q.send(QueueName::Classify, "abandoned", &[]).await.unwrap();
        q.send(QueueName::Classify, "fine", &[]).await.unwrap();
        for _ in 0..3 {
            let got = q.receive(QueueName::Classify, 1, 0).await.unwrap();
            assert_eq!(got[0].body, "abandoned");
        }
        let got = q.receive(QueueName::Classify, 1, 60).await.unwrap();
        assert_eq!(got[0].body, "fine");
        let dead = q.dlq_messages(QueueName::Classify).await.unwrap();
        assert_eq!(dead.len(), 1);
        assert!(dead[0].attribute(DEAD_LETTER_REASON_ATTR).unwrap().contains("not acknowledged"));
    }

    #[tokio::test]
    async fn messages_survive_reopening_and_in_flight_ones_are_recovered() {
        let dir = TempDir::new();
        {
            let q = open(&dir);
            for i in 0..3 {
                q.send(QueueName::Classify, &format!("m{i}"), &[]).await.unwrap();
            }
            let got = q.receive(QueueName::Classify, 2, 600).await.unwrap();
            assert_eq!(got.len(), 2);
            // Delayed by a nack: must stay delayed after recovery.
            q.nack(QueueName::Classify, &got[1].receipt, 600).await.unwrap();
        } // "crash": the database handle goes away with m0 in flight.
        let q = open(&dir);
        assert_eq!(q.depth(QueueName::Classify).await.unwrap(), 3);
        let got = q.receive(QueueName::Classify, 10, 60).await.unwrap();
        assert_eq!(got.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(), ["m2"]);
        q.ack(QueueName::Classify, &got[0].receipt).await.unwrap();
        assert_eq!(q.recover_in_flight().await.unwrap(), 1);
        let got = q.receive(QueueName::Classify, 10, 60).await.unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].body, "m0");
        assert_eq!(got[0].receive_count, 2);
        // Sequences keep increasing across reopenings: FIFO holds for new sends.
        q.send(QueueName::Classify, "m3", &[]).await.unwrap();
        let all: Vec<_> = q.messages(QueueName::Classify).await.unwrap().into_iter().map(|m| m.body).collect();
        assert_eq!(all, ["m0", "m1", "m3"]);
    }
}
