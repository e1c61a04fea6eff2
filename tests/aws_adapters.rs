//! The AWS adapters against a moto server. Needs `AWS_ENDPOINT_URL` (see `support::moto`).
//! Every test creates its own uniquely named bucket, table or queues, so they run in parallel.

use aws_adapters::{DynamoTableStore, S3BlobStore, SqsQueue};
use bytes::Bytes;
use integration_tests::moto;
use ports::{
    BlobError, BlobStore, Item, PutCondition, Queue, QueueConsumer, QueueError, QueueName, StoreError, TableStore,
};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

fn item(pk: &str, sk: &str, attrs: Value) -> Item {
    let Value::Object(attrs) = attrs else { panic!("attrs must be an object") };
    Item { pk: pk.into(), sk: sk.into(), attrs }
}

async fn blob_store() -> S3BlobStore {
    let config = moto::sdk_config().await;
    let store = S3BlobStore::new(&config, moto::unique("blobs"));
    moto::create_bucket(store.client(), store.bucket()).await;
    store
}

async fn table_store() -> DynamoTableStore {
    let config = moto::sdk_config().await;
    let store = DynamoTableStore::new(&config, moto::unique("table"));
    moto::create_table(store.client(), store.table()).await;
    store
}

fn now_secs() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

// ------------------------------------------------------------------ S3

#[tokio::test]
async fn blobs_put_get_size_rename_list_delete() {
    let s = blob_store().await;
    s.put("raw/u1/a.pdf", Bytes::from_static(b"%PDF-1.7 hello"), "application/pdf").await.expect("put");
    s.put("raw/u1/b c+ä.txt", Bytes::from_static(b"plain"), "text/plain").await.expect("put odd key");
    s.put("raw/u2/x.txt", Bytes::from_static(b"other"), "text/plain").await.expect("put other user");

    assert_eq!(s.get("raw/u1/a.pdf").await.expect("get"), Bytes::from_static(b"%PDF-1.7 hello"));
    assert_eq!(s.size("raw/u1/a.pdf").await.expect("size"), Some(14));
    assert_eq!(s.size("raw/u1/missing").await.expect("size of missing"), None);
    assert!(matches!(s.get("raw/u1/missing").await, Err(BlobError::NotFound(_))));

    let head = s.client().head_object().bucket(s.bucket()).key("raw/u1/a.pdf").send().await.expect("head");
    assert_eq!(head.content_type(), Some("application/pdf"));
    assert_eq!(head.server_side_encryption(), Some(&aws_sdk_s3::types::ServerSideEncryption::Aes256));

    // A key that needs URL-encoding in the copy source.
    s.rename("raw/u1/b c+ä.txt", "quarantine/u1/b c+ä.txt").await.expect("rename");
    assert_eq!(s.size("raw/u1/b c+ä.txt").await.unwrap(), None);
    assert_eq!(s.get("quarantine/u1/b c+ä.txt").await.expect("get renamed"), Bytes::from_static(b"plain"));
    assert!(matches!(s.rename("raw/u1/missing", "raw/u1/elsewhere").await, Err(BlobError::NotFound(_))));

    let mut keys = s.list("raw/u1/").await.expect("list");
    keys.sort();
    assert_eq!(keys, ["raw/u1/a.pdf"]);
    assert_eq!(s.list("nothing/").await.expect("empty list"), Vec::<String>::new());

    s.delete("raw/u1/a.pdf").await.expect("delete");
    s.delete("raw/u1/a.pdf").await.expect("delete again is fine");
    assert_eq!(s.size("raw/u1/a.pdf").await.unwrap(), None);
}

#[tokio::test]
async fn blob_list_paginates() {
    let s = blob_store().await;
    // ListObjectsV2 pages hold 1000 keys.
    let mut set = tokio::task::JoinSet::new();
    for i in 0..1005 {
        let s = s.clone();
        set.spawn(async move { s.put(&format!("many/{i:04}"), Bytes::from_static(b"x"), "text/plain").await });
        if set.len() >= 32 {
            set.join_next().await.expect("task").expect("join").expect("put");
        }
    }
    while let Some(r) = set.join_next().await {
        r.expect("join").expect("put");
    }
    let keys = s.list("many/").await.expect("list");
    assert_eq!(keys.len(), 1005);
    assert_eq!(keys.first().map(String::as_str), Some("many/0000"));
    assert_eq!(keys.last().map(String::as_str), Some("many/1004"));
}

#[tokio::test]
async fn presigned_post_uploads_a_file() {
    let s = blob_store().await;
    let post = s.presign_post("raw/u1/upload.pdf", 1_000_000, 300).await.expect("presign");
    assert_eq!(post.url, format!("{}/{}", moto::endpoint_url(), s.bucket()));
    let names: Vec<&str> = post.fields.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(names.first(), Some(&"key"));
    assert_eq!(names.last(), Some(&"x-amz-signature"));

    let (status, response) = moto::post_multipart(&post.url, &post.fields, "cv.pdf", b"%PDF-1.7 uploaded").await;
    assert!((200..300).contains(&status), "upload refused: {response}");
    assert_eq!(s.get("raw/u1/upload.pdf").await.expect("uploaded object"), Bytes::from_static(b"%PDF-1.7 uploaded"));
}

// ------------------------------------------------------------------ DynamoDB

#[tokio::test]
async fn table_put_get_delete_and_conditions() {
    let t = table_store().await;
    let a = item("USER#a", "DOC#1", json!({"status": "new", "size": 12, "tags": ["x"], "meta": {"ok": true}}));
    t.put(a.clone(), PutCondition::IfAbsent).await.expect("first IfAbsent");
    assert!(matches!(t.put(a.clone(), PutCondition::IfAbsent).await, Err(StoreError::ConditionFailed)));
    assert_eq!(t.get("USER#a", "DOC#1").await.expect("get"), Some(a.clone()));

    let b = item("USER#a", "DOC#1", json!({"status": "done"}));
    t.put(b.clone(), PutCondition::IfExists).await.expect("IfExists on existing");
    assert_eq!(t.get("USER#a", "DOC#1").await.unwrap(), Some(b.clone()));
    assert!(matches!(
        t.put(item("USER#a", "DOC#2", json!({})), PutCondition::IfExists).await,
        Err(StoreError::ConditionFailed)
    ));
    assert_eq!(t.get("USER#a", "DOC#2").await.unwrap(), None);

    t.put(item("USER#a", "DOC#1", json!({"v": 3})), PutCondition::None).await.expect("unconditional");
    t.delete("USER#a", "DOC#1").await.expect("delete");
    t.delete("USER#a", "DOC#1").await.expect("delete absent");
    assert_eq!(t.get("USER#a", "DOC#1").await.unwrap(), None);

    assert!(matches!(
        t.put(item("USER#a", "X", json!({"pk": "no"})), PutCondition::None).await,
        Err(StoreError::Permanent(_))
    ));
}

#[tokio::test]
async fn table_expired_items_read_as_absent() {
    let t = table_store().await;
    let past = now_secs() - 60;
    let future = now_secs() + 3600;
    t.put(item("U", "OLD", json!({"expires_at": past, "used": 40})), PutCondition::None).await.unwrap();
    t.put(item("U", "NEW", json!({"expires_at": future})), PutCondition::None).await.unwrap();
    t.put(item("U", "ODD", json!({"expires_at": "not a number"})), PutCondition::None).await.unwrap();
    assert_eq!(t.get("U", "OLD").await.unwrap(), None);
    assert!(t.get("U", "NEW").await.unwrap().is_some());
    assert!(t.get("U", "ODD").await.unwrap().is_some());
    let sks: Vec<String> = t.query_prefix("U", "").await.unwrap().into_iter().map(|i| i.sk).collect();
    assert_eq!(sks, ["NEW", "ODD"]);

    // An expired item counts as absent for conditions and counters too.
    assert!(matches!(
        t.put(item("U", "OLD", json!({"x": 1})), PutCondition::IfExists).await,
        Err(StoreError::ConditionFailed)
    ));
    assert_eq!(t.add_bounded("U", "OLD", "used", 3, 10).await.unwrap(), 3);
    t.put(item("U", "OLD", json!({"expires_at": past})), PutCondition::None).await.unwrap();
    t.put(item("U", "OLD", json!({"fresh": true})), PutCondition::IfAbsent)
        .await
        .expect("IfAbsent over an expired item");
    assert!(matches!(
        t.put(item("U", "ODD", json!({})), PutCondition::IfAbsent).await,
        Err(StoreError::ConditionFailed)
    ));
    t.put(item("U", "ODD", json!({})), PutCondition::IfExists).await.expect("IfExists on a non-numeric expires_at");
}

#[tokio::test]
async fn table_prefix_queries_stay_in_their_partition() {
    let t = table_store().await;
    for (pk, sk) in
        [("USER#a", "DOC#2"), ("USER#a", "DOC#1"), ("USER#a", "QUOTA"), ("USER#ab", "DOC#9"), ("USER#b", "DOC#3")]
    {
        t.put(item(pk, sk, json!({"owner": pk})), PutCondition::None).await.unwrap();
    }
    let docs = t.query_prefix("USER#a", "DOC#").await.expect("query");
    let sks: Vec<&str> = docs.iter().map(|i| i.sk.as_str()).collect();
    assert_eq!(sks, ["DOC#1", "DOC#2"]);
    assert!(docs.iter().all(|i| i.pk == "USER#a" && i.attrs["owner"] == "USER#a"));
    assert_eq!(t.query_prefix("USER#a", "").await.unwrap().len(), 3);
    assert!(t.query_prefix("USER#c", "DOC#").await.unwrap().is_empty());
}

#[tokio::test]
async fn table_query_paginates() {
    let t = table_store().await;
    // ~1.2 MB in one partition: a Query page stops at 1 MB.
    let blob = "x".repeat(40_000);
    for i in 0..30 {
        t.put(item("BIG", &format!("ITEM#{i:03}"), json!({"blob": blob})), PutCondition::None).await.unwrap();
    }
    let items = t.query_prefix("BIG", "ITEM#").await.expect("query");
    assert_eq!(items.len(), 30);
    assert_eq!(items[29].sk, "ITEM#029");
}

/// 20 concurrent adds of 3 with max 50: exactly 16 succeed (3, 6, ..., 48) and 48 is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn add_bounded_is_atomic_under_concurrency() {
    let config = moto::one_at_a_time_config().await;
    let t = Arc::new(DynamoTableStore::new(&config, moto::unique("table")));
    moto::create_table(t.client(), t.table()).await;
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let t = Arc::clone(&t);
            tokio::spawn(async move { t.add_bounded("USER#a", "QUOTA", "used", 3, 50).await })
        })
        .collect();
    let mut totals = Vec::new();
    let mut refused = 0;
    for task in tasks {
        match task.await.expect("task") {
            Ok(v) => totals.push(v),
            Err(StoreError::LimitExceeded { current, delta, max }) => {
                assert_eq!((current, delta, max), (48, 3, 50));
                refused += 1;
            }
            Err(e) => panic!("unexpected error: {e:?}"),
        }
    }
    totals.sort_unstable();
    // Each add saw a different total: 3, 6, ..., 48.
    assert_eq!(totals, (1..=16).map(|i| i * 3).collect::<Vec<i64>>());
    assert_eq!(refused, 4);
    let stored = t.get("USER#a", "QUOTA").await.unwrap().expect("quota item");
    assert_eq!(stored.attrs["used"], json!(48));
}

#[tokio::test]
async fn add_bounded_edges() {
    let t = table_store().await;
    assert_eq!(t.add_bounded("U", "Q", "used", 5, 5).await.unwrap(), 5);
    assert!(matches!(
        t.add_bounded("U", "Q", "used", 1, 5).await,
        Err(StoreError::LimitExceeded { current: 5, delta: 1, max: 5 })
    ));
    assert_eq!(t.add_bounded("U", "Q", "used", -3, 5).await.unwrap(), 2);
    assert!(matches!(t.add_bounded("U", "Q", "used", 10, 5).await, Err(StoreError::LimitExceeded { current: 2, .. })));
    assert_eq!(t.add_bounded("U", "Q", "used", -10, 5).await.unwrap(), 0);
    assert_eq!(t.add_bounded("U", "NEW", "used", -1, 5).await.unwrap(), 0);
    assert_eq!(t.add_bounded("U", "BIG", "used", i64::MAX, i64::MAX).await.unwrap(), i64::MAX);

    // Other attributes of the item survive.
    t.put(item("U", "KEEP", json!({"name": "x"})), PutCondition::None).await.unwrap();
    assert_eq!(t.add_bounded("U", "KEEP", "used", 7, 100).await.unwrap(), 7);
    let kept = t.get("U", "KEEP").await.unwrap().unwrap();
    assert_eq!(kept.attrs["name"], "x");

    t.put(item("U", "BAD", json!({"used": "lots"})), PutCondition::None).await.unwrap();
    assert!(matches!(t.add_bounded("U", "BAD", "used", 1, 5).await, Err(StoreError::Malformed(_))));
    assert!(matches!(t.add_bounded("U", "BAD", "used", -1, 5).await, Err(StoreError::Malformed(_))));
}

// ------------------------------------------------------------------ SQS

async fn queues(max_receive: u32) -> SqsQueue {
    let config = moto::sdk_config().await;
    let client = aws_sdk_sqs::Client::new(&config);
    let (url, dlq_url) = moto::create_queue_with_dlq(&client, &moto::unique("classify"), max_receive).await;
    SqsQueue::from_client(client, HashMap::from([(QueueName::Classify, url), (QueueName::ClassifyDlq, dlq_url)]))
}

#[tokio::test]
async fn queue_send_receive_ack() {
    let q = queues(5).await;
    q.send(QueueName::Classify, r#"{"n":1}"#, &[("event_type", "document.uploaded")]).await.expect("send");
    q.send(QueueName::Classify, r#"{"n":2}"#, &[]).await.expect("send");
    assert_eq!(q.depth(QueueName::Classify).await.unwrap(), 2);

    let mut got = Vec::new();
    for _ in 0..10 {
        got.extend(q.receive(QueueName::Classify, 10, 30).await.expect("receive"));
        if got.len() == 2 {
            break;
        }
    }
    let mut bodies: Vec<&str> = got.iter().map(|m| m.body.as_str()).collect();
    bodies.sort();
    assert_eq!(bodies, [r#"{"n":1}"#, r#"{"n":2}"#]);
    assert!(got.iter().all(|m| m.receive_count == 1 && !m.id.is_empty()));
    // In flight still counts.
    assert_eq!(q.depth(QueueName::Classify).await.unwrap(), 2);
    assert!(q.receive(QueueName::Classify, 10, 30).await.unwrap().is_empty());

    for m in &got {
        q.ack(QueueName::Classify, &m.receipt).await.expect("ack");
    }
    assert_eq!(q.depth(QueueName::Classify).await.unwrap(), 0);

    // Unconfigured queues are a permanent error naming the queue.
    match q.send(QueueName::Extract, "{}", &[]).await {
        Err(QueueError::Permanent(msg)) => assert!(msg.contains("extract"), "{msg}"),
        other => panic!("expected a permanent error, got {other:?}"),
    }
}

#[tokio::test]
async fn message_attributes_travel() {
    let q = queues(5).await;
    q.send(QueueName::Classify, "{}", &[("event_type", "document.uploaded"), ("trace", "t-1")]).await.unwrap();
    let url = q.queue_url(QueueName::Classify).expect("configured").to_owned();
    let out = q.client().receive_message().queue_url(url).message_attribute_names("All").send().await.unwrap();
    let m = &out.messages()[0];
    let attrs = m.message_attributes().expect("attributes");
    assert_eq!(attrs["event_type"].string_value(), Some("document.uploaded"));
    assert_eq!(attrs["trace"].string_value(), Some("t-1"));
}

#[tokio::test]
async fn nacked_message_ends_in_the_dlq() {
    let q = queues(3).await;
    q.send(QueueName::Classify, "poison", &[]).await.unwrap();
    let mut counts = Vec::new();
    for _ in 0..20 {
        let msgs = q.receive(QueueName::Classify, 1, 30).await.expect("receive");
        let Some(m) = msgs.into_iter().next() else { break };
        counts.push(m.receive_count);
        q.nack(QueueName::Classify, &m.receipt, 0).await.expect("nack");
    }
    assert_eq!(counts, [1, 2, 3]);
    let dead = q.receive(QueueName::ClassifyDlq, 10, 30).await.expect("receive DLQ");
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].body, "poison");
    assert_eq!(q.depth(QueueName::Classify).await.unwrap(), 0);
}
