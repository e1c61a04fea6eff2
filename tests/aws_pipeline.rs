//! The ingestion spine on AWS APIs (moto): upload → S3 → notification → classify
//! → DynamoDB status and text → envelope on the extract queue; retries, DLQ,
//! idempotency, quota under concurrency, tenant isolation.

use api::auth::{JwtConfig, KeySource, Secret, mint_hs256};
use api::{AppState, JwtVerifier};
use async_trait::async_trait;
use aws_adapters::{DynamoTableStore, S3BlobStore, SqsQueue};
use aws_lambda_events::sqs::SqsEvent;
use aws_sdk_s3::types::{
    Event, FilterRule, FilterRuleName, NotificationConfiguration, NotificationConfigurationFilter, QueueConfiguration,
    S3KeyFilter,
};
use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use bytes::Bytes;
use classify::Classifier;
use domain::{DocumentId, DocumentStatus, Limits, UserId};
use http_body_util::BodyExt;
use integration_tests::{fixtures, moto};
use ports::{BlobError, BlobStore, NoOcr, Ports, PresignedPost, QueueName};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use store::DocumentRepo;
use tower::ServiceExt;

const SECRET: &[u8] = b"moto-test-secret-that-is-at-least-32-bytes";
const MAX_RECEIVE: u32 = 4;

struct Stack {
    s3: aws_sdk_s3::Client,
    sqs: aws_sdk_sqs::Client,
    bucket: String,
    classify_url: String,
    classify_dlq: String,
    extract_url: String,
    ports: Ports,
}

async fn stack() -> Stack {
    // One request at a time: moto's conditional updates are not atomic under
    // concurrency (DynamoDB's are), and the quota test depends on that.
    let config = moto::one_at_a_time_config().await;
    let s3 = moto::s3_client(&config);
    let sqs = aws_sdk_sqs::Client::new(&config);
    let dynamo = aws_sdk_dynamodb::Client::new(&config);
    let bucket = moto::unique("docs");
    let table = moto::unique("table");
    moto::create_bucket(&s3, &bucket).await;
    moto::create_table(&dynamo, &table).await;
    let (classify_url, classify_dlq) = moto::create_queue_with_dlq(&sqs, &moto::unique("classify"), MAX_RECEIVE).await;
    let (extract_url, extract_dlq) = moto::create_queue_with_dlq(&sqs, &moto::unique("extract"), MAX_RECEIVE).await;
    let (embed_url, embed_dlq) = moto::create_queue_with_dlq(&sqs, &moto::unique("embed"), MAX_RECEIVE).await;

    // The S3 → SQS trigger, as template.yaml declares it.
    let attrs = sqs
        .get_queue_attributes()
        .queue_url(&classify_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .expect("queue arn");
    let arn = attrs.attributes().and_then(|a| a.get(&QueueAttributeName::QueueArn)).expect("arn").clone();
    let filter = NotificationConfigurationFilter::builder()
        .key(
            S3KeyFilter::builder()
                .filter_rules(FilterRule::builder().name(FilterRuleName::Prefix).value("raw/").build())
                .build(),
        )
        .build();
    let queue_config = QueueConfiguration::builder()
        .queue_arn(arn)
        .events(Event::from("s3:ObjectCreated:*"))
        .filter(filter)
        .build()
        .expect("queue config");
    s3.put_bucket_notification_configuration()
        .bucket(&bucket)
        .notification_configuration(NotificationConfiguration::builder().queue_configurations(queue_config).build())
        .send()
        .await
        .expect("notification");

    let queues = HashMap::from([
        (QueueName::Classify, classify_url.clone()),
        (QueueName::ClassifyDlq, classify_dlq.clone()),
        (QueueName::Extract, extract_url.clone()),
        (QueueName::ExtractDlq, extract_dlq),
        (QueueName::Embed, embed_url),
        (QueueName::EmbedDlq, embed_dlq),
    ]);
    let ports = Ports {
        blobs: Arc::new(S3BlobStore::new(&config, bucket.clone())),
        queue: Arc::new(SqsQueue::new(&config, queues)),
        table: Arc::new(DynamoTableStore::new(&config, table)),
        ocr: Arc::new(NoOcr),
    };
    Stack { s3, sqs, bucket, classify_url, classify_dlq, extract_url, ports }
}

fn router(ports: Ports) -> axum::Router {
    let config = JwtConfig {
        issuer: "moto-test".into(),
        audience: "personalization".into(),
        keys: KeySource::Hs256(Secret::new(SECRET.to_vec())),
    };
    let verifier = Arc::new(JwtVerifier::new(&config).expect("verifier"));
    upload::router(AppState::new(ports, verifier, Limits::default()))
}

fn bearer(user: &str) -> String {
    format!("Bearer {}", mint_hs256(SECRET, "moto-test", "personalization", user, 600))
}

async fn call(router: &axum::Router, request: Request<Body>) -> (StatusCode, Value) {
    let response = router.clone().oneshot(request).await.expect("response");
    let status = response.status();
    let bytes = response.into_body().collect().await.expect("body").to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

async fn upload(router: &axum::Router, user: &str, name: &str, bytes: &[u8]) -> (StatusCode, Value) {
    let (content_type, body) = fixtures::multipart(name, bytes);
    let request = Request::post("/api/v1/personalization/upload")
        .header("authorization", bearer(user))
        .header("content-type", content_type)
        .body(Body::from(body))
        .expect("request");
    call(router, request).await
}

async fn get(router: &axum::Router, user: &str, path: &str) -> (StatusCode, Value) {
    let request = Request::get(format!("/api/v1/personalization{path}"))
        .header("authorization", bearer(user))
        .body(Body::empty())
        .expect("request");
    call(router, request).await
}

/// Receives what is there (long-polling up to `wait` seconds) as the Lambda
/// event source would: an `SqsEvent` plus the receipt handles.
async fn receive(sqs: &aws_sdk_sqs::Client, url: &str, wait: i32, visibility: i32) -> (SqsEvent, Vec<String>) {
    let out = sqs
        .receive_message()
        .queue_url(url)
        .max_number_of_messages(10)
        .wait_time_seconds(wait)
        .visibility_timeout(visibility)
        .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
        .message_attribute_names("All")
        .send()
        .await
        .expect("receive");
    let mut records = Vec::new();
    let mut receipts = Vec::new();
    for m in out.messages() {
        let count = m
            .attributes()
            .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
            .cloned()
            .unwrap_or_else(|| "1".into());
        records.push(json!({
            "messageId": m.message_id(),
            "receiptHandle": m.receipt_handle(),
            "body": m.body(),
            "attributes": { "ApproximateReceiveCount": count },
            "messageAttributes": {},
            "eventSource": "aws:sqs",
            "awsRegion": "us-east-1",
        }));
        receipts
            .push((m.message_id().unwrap_or_default().to_owned(), m.receipt_handle().unwrap_or_default().to_owned()));
    }
    let event: SqsEvent = serde_json::from_value(json!({ "Records": records })).expect("sqs event");
    let receipts = receipts.into_iter().map(|(_, r)| r).collect();
    (event, receipts)
}

async fn delete_all(sqs: &aws_sdk_sqs::Client, url: &str, receipts: &[String]) {
    for r in receipts {
        sqs.delete_message().queue_url(url).receipt_handle(r).send().await.expect("delete");
    }
}

/// Bodies currently in a queue (received once, then made visible again).
async fn bodies(sqs: &aws_sdk_sqs::Client, url: &str, wait: i32) -> Vec<(String, HashMap<String, String>)> {
    let out = sqs
        .receive_message()
        .queue_url(url)
        .max_number_of_messages(10)
        .wait_time_seconds(wait)
        .message_attribute_names("All")
        .send()
        .await
        .expect("receive");
    out.messages()
        .iter()
        .map(|m| {
            let attrs = m
                .message_attributes()
                .map(|a| a.iter().map(|(k, v)| (k.clone(), v.string_value().unwrap_or_default().to_owned())).collect())
                .unwrap_or_default();
            (m.body().unwrap_or_default().to_owned(), attrs)
        })
        .collect()
}

/// Messages in a queue, visible or in flight.
async fn queue_depth(sqs: &aws_sdk_sqs::Client, url: &str) -> usize {
    let out = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
        .send()
        .await
        .expect("queue attributes");
    let attrs = out.attributes().cloned().unwrap_or_default();
    [QueueAttributeName::ApproximateNumberOfMessages, QueueAttributeName::ApproximateNumberOfMessagesNotVisible]
        .iter()
        .map(|name| attrs.get(name).and_then(|v| v.parse::<usize>().ok()).unwrap_or(0))
        .sum()
}

/// Receives until a message naming `doc` arrives on the classify queue.
async fn notification_for(stack: &Stack, doc: &str) -> (SqsEvent, Vec<String>) {
    for _ in 0..10 {
        let (event, receipts) = receive(&stack.sqs, &stack.classify_url, 2, 30).await;
        if event.records.iter().any(|r| r.body.as_deref().unwrap_or_default().contains(doc)) {
            return (event, receipts);
        }
        // Test events and others: acknowledge them as the classifier would.
        delete_all(&stack.sqs, &stack.classify_url, &receipts).await;
    }
    panic!("no S3 notification for {doc} reached the classify queue");
}

#[tokio::test]
async fn upload_to_extract_queue_on_aws_apis_with_idempotent_redelivery() {
    let stack = stack().await;
    let router = router(stack.ports.clone());
    let classifier = Classifier::new(stack.ports.clone(), Limits::default(), MAX_RECEIVE);

    let (status, created) = upload(&router, "alice", "cv.pdf", &fixtures::resume_pdf()).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["document_id"].as_str().expect("id").to_owned();
    let key = format!("raw/alice/{id}");
    let head = stack.s3.head_object().bucket(&stack.bucket).key(&key).send().await.expect("object in S3");
    assert!(head.content_length().unwrap_or(0) > 100);

    let (event, receipts) = notification_for(&stack, &id).await;
    let redelivery = event.clone();
    let response = classifier.handle_batch(event).await;
    assert!(response.batch_item_failures.is_empty());
    delete_all(&stack.sqs, &stack.classify_url, &receipts).await;

    let repo = DocumentRepo::new(stack.ports.table.clone());
    let alice = UserId::parse("alice").expect("user");
    let doc_id = DocumentId::parse(&id).expect("doc id");
    let record = repo.get(&alice, &doc_id).await.expect("get").expect("record in DynamoDB");
    assert_eq!(record.status, DocumentStatus::TextExtracted);
    assert_eq!(record.pages, Some(1));
    let (status, text) = get(&router, "alice", &format!("/documents/{id}/text")).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let page = text["pages"][0]["text"].as_str().expect("page text");
    assert!(page.contains("Reduced cloud spend by 35% across 12 services"), "{page}");
    assert_eq!(text["pages"][0]["page"], 1);

    let events = bodies(&stack.sqs, &stack.extract_url, 2).await;
    assert_eq!(events.len(), 1, "{events:?}");
    let envelope: Value = serde_json::from_str(&events[0].0).expect("envelope json");
    assert_eq!(envelope["type"], "personalization.document.classified");
    assert_eq!(envelope["version"], 1);
    assert_eq!(envelope["user_id"], "alice");
    assert_eq!(envelope["data"]["document_id"], id.as_str());
    assert_eq!(envelope["data"]["kind"], "unclassified");
    assert_eq!(envelope["data"]["status"], "text_extracted");

    // At-least-once delivery: the same message again changes nothing.
    let response = classifier.handle_batch(redelivery).await;
    assert!(response.batch_item_failures.is_empty());
    let again = repo.get(&alice, &doc_id).await.expect("get").expect("record");
    assert_eq!(again.updated_at, record.updated_at, "a redelivery rewrote the record");
    assert_eq!(queue_depth(&stack.sqs, &stack.extract_url).await, 1, "a redelivery published again");
}

/// Blob store whose reads of originals always time out: a retryable failure
/// that never clears.
struct UnreachableOriginals(Arc<dyn BlobStore>);

#[async_trait]
impl BlobStore for UnreachableOriginals {
    async fn put(&self, key: &str, bytes: Bytes, content_type: &str) -> Result<(), BlobError> {
        self.0.put(key, bytes, content_type).await
    }
    async fn get(&self, key: &str) -> Result<Bytes, BlobError> {
        if key.starts_with("raw/") {
            return Err(BlobError::Transient("timed out reading the object".into()));
        }
        self.0.get(key).await
    }
    async fn size(&self, key: &str) -> Result<Option<u64>, BlobError> {
        self.0.size(key).await
    }
    async fn delete(&self, key: &str) -> Result<(), BlobError> {
        self.0.delete(key).await
    }
    async fn rename(&self, from: &str, to: &str) -> Result<(), BlobError> {
        self.0.rename(from, to).await
    }
    async fn list(&self, prefix: &str) -> Result<Vec<String>, BlobError> {
        self.0.list(prefix).await
    }
    async fn presign_post(&self, key: &str, max: u64, secs: u64) -> Result<PresignedPost, BlobError> {
        self.0.presign_post(key, max, secs).await
    }
}

#[tokio::test]
async fn poison_messages_end_in_the_dlq_and_the_document_shows_failed() {
    let stack = stack().await;
    let router = router(stack.ports.clone());
    let mut broken = stack.ports.clone();
    broken.blobs = Arc::new(UnreachableOriginals(stack.ports.blobs.clone()));
    let classifier = Classifier::new(broken, Limits::default(), MAX_RECEIVE);

    // A body that is no S3 notification at all: dead-lettered at once.
    stack.sqs.send_message().queue_url(&stack.classify_url).message_body("not json").send().await.expect("send");

    let (status, created) = upload(&router, "alice", "cv.pdf", &fixtures::resume_pdf()).await;
    assert_eq!(status, StatusCode::CREATED);
    let id = created["document_id"].as_str().expect("id").to_owned();

    // Play the Lambda event source: receive, handle, delete what succeeded.
    for _ in 0..(MAX_RECEIVE * 3) {
        let (event, receipts) = receive(&stack.sqs, &stack.classify_url, 1, 0).await;
        if event.records.is_empty() {
            break;
        }
        let failed: Vec<String> = classifier
            .handle_batch(event.clone())
            .await
            .batch_item_failures
            .into_iter()
            .map(|f| f.item_identifier)
            .collect();
        for (record, receipt) in event.records.iter().zip(&receipts) {
            if !failed.contains(record.message_id.as_ref().expect("id")) {
                delete_all(&stack.sqs, &stack.classify_url, std::slice::from_ref(receipt)).await;
            }
        }
    }

    let record = DocumentRepo::new(stack.ports.table.clone())
        .get(&UserId::parse("alice").expect("user"), &DocumentId::parse(&id).expect("id"))
        .await
        .expect("get")
        .expect("record");
    assert_eq!(record.status, DocumentStatus::Failed);
    let reason = record.reason.expect("reason");
    assert_eq!(reason.code, "retries_exhausted");
    assert!(reason.detail.contains(&format!("{MAX_RECEIVE} attempts")), "{reason}");

    let dead = bodies(&stack.sqs, &stack.classify_dlq, 2).await;
    assert!(
        dead.iter()
            .any(|(b, attrs)| b == "not json"
                && attrs.get("error_code").map(String::as_str) == Some("malformed_message")),
        "{dead:?}"
    );
    assert!(dead.iter().any(|(b, _)| b.contains(&id)), "the exhausted message is not in the DLQ: {dead:?}");
    let left = bodies(&stack.sqs, &stack.classify_url, 0).await;
    assert!(left.iter().all(|(b, _)| !b.contains(&id)), "{left:?}");
}

#[tokio::test]
async fn concurrent_uploads_cannot_break_the_quota() {
    let stack = stack().await;
    let service = upload::UploadService::new(stack.ports.clone(), Limits::default());
    let user = UserId::parse("carol").expect("user");
    // Ten concurrent 6 MB uploads: only eight fit in 50 MB.
    let mut tasks = Vec::new();
    for i in 0..10u8 {
        let service = service.clone();
        let user = user.clone();
        tasks.push(tokio::spawn(async move {
            let mut text = format!("Resume {i}\n").into_bytes();
            text.resize(6_000_000, b'a' + i);
            service.upload(&user, "cv.txt", Bytes::from(text)).await
        }));
    }
    let mut ok = 0;
    let mut refused = 0;
    for task in tasks {
        match task.await.expect("join") {
            Ok(_) => ok += 1,
            Err(upload::UploadError::Quota(q)) => {
                assert_eq!(q.max, 50_000_000);
                refused += 1;
            }
            Err(other) => panic!("unexpected error: {other}"),
        }
    }
    assert_eq!((ok, refused), (8, 2));
    let used = store::QuotaRepo::new(stack.ports.table.clone()).used(&user).await.expect("used");
    assert_eq!(used, 48_000_000);
    let objects = stack.s3.list_objects_v2().bucket(&stack.bucket).prefix("raw/carol/").send().await.expect("list");
    assert_eq!(objects.contents().len(), 8);
}

#[tokio::test]
async fn tenants_are_isolated_in_dynamodb() {
    let stack = stack().await;
    let router = router(stack.ports.clone());
    let (status, created) = upload(&router, "alice", "cv.pdf", &fixtures::resume_pdf()).await;
    assert_eq!(status, StatusCode::CREATED);
    let id = created["document_id"].as_str().expect("id").to_owned();
    assert_eq!(get(&router, "alice", &format!("/documents/{id}")).await.0, StatusCode::OK);
    for path in [format!("/documents/{id}"), format!("/documents/{id}/text")] {
        let (status, problem) = get(&router, "bob", &path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{problem}");
    }
    let (_, list) = get(&router, "bob", "/documents").await;
    assert_eq!(list["documents"].as_array().map(Vec::len), Some(0));
    let repo = DocumentRepo::new(stack.ports.table.clone());
    let stolen =
        repo.get(&UserId::parse("bob").expect("bob"), &DocumentId::parse(&id).expect("id")).await.expect("get");
    assert!(stolen.is_none());
}

#[tokio::test]
async fn presigned_uploads_are_rechecked_and_counted_when_they_arrive() {
    let stack = stack().await;
    let router = router(stack.ports.clone());
    let classifier = Classifier::new(stack.ports.clone(), Limits::default(), MAX_RECEIVE);
    let pdf = fixtures::resume_pdf();

    let request = Request::post("/api/v1/personalization/upload/presign")
        .header("authorization", bearer("dave"))
        .header("content-type", "application/json")
        .body(Body::from(json!({ "filename": "cv.pdf", "size_bytes": pdf.len() }).to_string()))
        .expect("request");
    let (status, presigned) = call(&router, request).await;
    assert_eq!(status, StatusCode::CREATED, "{presigned}");
    let id = presigned["document_id"].as_str().expect("id").to_owned();
    assert_eq!(presigned["max_bytes"], 10_000_000);
    let (_, doc) = get(&router, "dave", &format!("/documents/{id}")).await;
    assert_eq!(doc["status"], "awaiting_upload");

    // The browser's POST straight to S3, with the policy fields we returned.
    let url = presigned["upload"]["url"].as_str().expect("url");
    let fields: Vec<(String, String)> = presigned["upload"]["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .map(|pair| (pair[0].as_str().expect("name").to_owned(), pair[1].as_str().expect("value").to_owned()))
        .collect();
    assert!(fields.iter().any(|(k, v)| k == "key" && v == &format!("raw/dave/{id}")), "{fields:?}");
    let (code, body) = moto::post_multipart(url, &fields, "cv.pdf", &pdf).await;
    assert!((200..300).contains(&code), "{code}: {body}");

    let (event, receipts) = notification_for(&stack, &id).await;
    assert!(classifier.handle_batch(event).await.batch_item_failures.is_empty());
    delete_all(&stack.sqs, &stack.classify_url, &receipts).await;

    let (_, doc) = get(&router, "dave", &format!("/documents/{id}")).await;
    assert_eq!(doc["status"], "text_extracted", "{doc}");
    assert_eq!(doc["size_bytes"], pdf.len());
    let used = store::QuotaRepo::new(stack.ports.table.clone()).used(&UserId::parse("dave").expect("user")).await;
    assert_eq!(used.expect("quota"), pdf.len() as u64, "the arrival reserved the quota");
}
