//! The embed stage on AWS APIs (moto) and PostgreSQL + pgvector with the real
//! all-MiniLM-L6-v2: classified document → chunks → vectors → search, the
//! `knowledge.updated` event, idempotent redelivery, the embedding cache, and
//! partial batch failures.

use async_trait::async_trait;
use aws_adapters::{DynamoTableStore, S3BlobStore, SqsQueue};
use aws_lambda_events::sqs::SqsEvent;
use bytes::Bytes;
use domain::chunking::ChunkConfig;
use domain::{
    ContentType, DocumentClassified, DocumentId, DocumentKind, DocumentRecord, DocumentStatus, Envelope, EventType,
    PageText, UploadMethod, UserId,
};
use embed::EmbedService;
use integration_tests::{fixtures, moto, pg};
use pgvector_store::PgVectorStore;
use ports::{
    ChunkVector, EmbedderError, FactVector, HitSource, NoOcr, Ports, QueueName, SearchHit, TextEmbedder, VectorError,
    VectorStore,
};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use store::{DocumentRepo, keys};

fn model() -> Arc<embedding::Embedder> {
    static MODEL: OnceLock<Arc<embedding::Embedder>> = OnceLock::new();
    MODEL
        .get_or_init(|| {
            let dir = fixtures::model_dir();
            Arc::new(embedding::Embedder::load(&dir).expect("model").with_max_tokens(128).expect("max"))
        })
        .clone()
}

/// The real model, counting the texts it embeds.
struct Counting {
    inner: Arc<embedding::Embedder>,
    texts: AtomicUsize,
}

impl TextEmbedder for Counting {
    fn model_version(&self) -> &str {
        self.inner.version()
    }
    fn max_tokens(&self) -> usize {
        self.inner.max_tokens()
    }
    fn token_spans(&self, text: &str) -> Result<Vec<(usize, usize)>, EmbedderError> {
        TextEmbedder::token_spans(self.inner.as_ref(), text)
    }
    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedderError> {
        self.texts.fetch_add(texts.len(), Ordering::SeqCst);
        TextEmbedder::embed(self.inner.as_ref(), texts)
    }
}

/// Fails with a transient error for one user, as a database fail-over would.
struct Flaky {
    inner: Arc<dyn VectorStore>,
    failing_user: String,
}

#[async_trait]
impl VectorStore for Flaky {
    async fn upsert_chunks(&self, user: &UserId, chunks: &[ChunkVector]) -> Result<(), VectorError> {
        if user.as_str() == self.failing_user {
            return Err(VectorError::Transient("connection reset".into()));
        }
        self.inner.upsert_chunks(user, chunks).await
    }
    async fn upsert_facts(&self, user: &UserId, facts: &[FactVector]) -> Result<(), VectorError> {
        self.inner.upsert_facts(user, facts).await
    }
    async fn delete_document(&self, user: &UserId, document: &DocumentId) -> Result<(), VectorError> {
        self.inner.delete_document(user, document).await
    }
    async fn delete_user(&self, user: &UserId) -> Result<(), VectorError> {
        self.inner.delete_user(user).await
    }
    async fn search(&self, user: &UserId, query: &[f32], k: usize) -> Result<Vec<SearchHit>, VectorError> {
        self.inner.search(user, query, k).await
    }
}

struct Stack {
    sqs: aws_sdk_sqs::Client,
    insight_url: String,
    embed_dlq: String,
    ports: Ports,
    vectors: Arc<PgVectorStore>,
    embedder: Arc<Counting>,
}

async fn stack() -> Stack {
    let config = moto::one_at_a_time_config().await;
    let s3 = moto::s3_client(&config);
    let sqs = aws_sdk_sqs::Client::new(&config);
    let dynamo = aws_sdk_dynamodb::Client::new(&config);
    let bucket = moto::unique("embed-docs");
    let table = moto::unique("embed-table");
    moto::create_bucket(&s3, &bucket).await;
    moto::create_table(&dynamo, &table).await;
    let (insight_url, insight_dlq) = moto::create_queue_with_dlq(&sqs, &moto::unique("insight"), 4).await;
    let (_, embed_dlq) = moto::create_queue_with_dlq(&sqs, &moto::unique("embed"), 4).await;
    let queues = HashMap::from([
        (QueueName::Insight, insight_url.clone()),
        (QueueName::InsightDlq, insight_dlq),
        (QueueName::EmbedDlq, embed_dlq.clone()),
    ]);
    let ports = Ports {
        blobs: Arc::new(S3BlobStore::new(&config, bucket)),
        queue: Arc::new(SqsQueue::new(&config, queues)),
        table: Arc::new(DynamoTableStore::new(&config, table)),
        ocr: Arc::new(NoOcr),
    };
    let url = pg::fresh_database().await;
    let vectors = Arc::new(PgVectorStore::connect(&url, None).await.expect("pg"));
    assert_eq!(vectors.migrate().await.expect("migrate"), vec![1, 2]);
    let embedder = Arc::new(Counting { inner: model(), texts: AtomicUsize::new(0) });
    Stack { sqs, insight_url, embed_dlq, ports, vectors, embedder }
}

impl Stack {
    fn service(&self, vectors: Arc<dyn VectorStore>) -> EmbedService {
        // Small chunks so a two-page document gives several.
        EmbedService::new(self.ports.clone(), vectors, self.embedder.clone(), ChunkConfig::new(64, 12).unwrap(), 4)
    }

    /// A document as classify leaves it: record text_extracted, text in the bucket. Returns the event body.
    async fn classified(&self, user: &str, pages: &[&str]) -> (DocumentId, String) {
        let user = UserId::parse(user).unwrap();
        let id = DocumentId::new();
        let pages: Vec<PageText> =
            pages.iter().enumerate().map(|(i, t)| PageText { page: i as u32 + 1, text: (*t).to_owned() }).collect();
        let text = serde_json::to_vec(&pages).unwrap();
        let sha = domain::sha256_hex(&text);
        let mut record = DocumentRecord::new(user.clone(), id, "cv.pdf", text.len() as u64, UploadMethod::Direct);
        record.sha256 = Some(sha.clone());
        record.content_type = Some(ContentType::Pdf);
        record.kind = DocumentKind::Resume;
        record.pages = Some(pages.len() as u32);
        record.transition(DocumentStatus::TextExtracted, None);
        DocumentRepo::new(self.ports.table.clone()).save(&record).await.unwrap();
        let text_key = keys::text_object(&user, &id);
        self.ports.blobs.put(&text_key, Bytes::from(text), "application/json").await.unwrap();
        let event = Envelope::new(
            EventType::DocumentClassified,
            DocumentClassified::VERSION,
            user,
            &format!("{id}#classify#{sha}"),
            DocumentClassified {
                document_id: id,
                kind: DocumentKind::Resume,
                confidence: Some(0.9),
                content_type: ContentType::Pdf,
                status: DocumentStatus::TextExtracted,
                sha256: sha,
                pages: pages.len() as u32,
                text_key,
            },
        );
        (id, serde_json::to_string(&event).unwrap())
    }

    async fn record(&self, user: &str, id: &DocumentId) -> DocumentRecord {
        DocumentRepo::new(self.ports.table.clone()).get(&UserId::parse(user).unwrap(), id).await.unwrap().unwrap()
    }

    async fn drain(&self, url: &str) -> Vec<(String, HashMap<String, String>)> {
        let mut all = Vec::new();
        loop {
            let out = self
                .sqs
                .receive_message()
                .queue_url(url)
                .max_number_of_messages(10)
                .wait_time_seconds(1)
                .message_attribute_names("All")
                .send()
                .await
                .expect("receive");
            if out.messages().is_empty() {
                return all;
            }
            for m in out.messages() {
                let attrs = m
                    .message_attributes()
                    .map(|a| {
                        a.iter().map(|(k, v)| (k.clone(), v.string_value().unwrap_or_default().to_owned())).collect()
                    })
                    .unwrap_or_default();
                all.push((m.body().unwrap_or_default().to_owned(), attrs));
                self.sqs.delete_message().queue_url(url).receipt_handle(m.receipt_handle().unwrap()).send().await.ok();
            }
        }
    }

    async fn search(&self, user: &str, query: &str, k: usize) -> Vec<SearchHit> {
        let q = model().embed(&[query]).unwrap().remove(0);
        self.vectors.search(&UserId::parse(user).unwrap(), &q, k).await.unwrap()
    }
}

fn sqs_event(messages: &[(&str, &str)]) -> SqsEvent {
    let records: Vec<Value> = messages
        .iter()
        .map(|(id, body)| {
            json!({
                "messageId": id, "receiptHandle": format!("r-{id}"), "body": body,
                "attributes": { "ApproximateReceiveCount": "1" }, "messageAttributes": {},
                "eventSource": "aws:sqs", "awsRegion": "us-east-1",
            })
        })
        .collect();
    serde_json::from_value(json!({ "Records": records })).unwrap()
}

const PAGE_1: &str = "Jane Example\nSenior Data Engineer\n\nExperience\nAcme Corp, 2019 - Present. \
    Built streaming pipelines in Kafka and Spark that process two billion events per day. \
    Cut the nightly batch window from six hours to forty minutes by rewriting jobs in Rust. \
    Mentored four engineers and ran the on-call rotation for the data platform.";
const PAGE_2: &str = "Education\nMSc Computer Science, University of Edinburgh, 2017.\n\nSkills\n\
    Python, Rust, SQL, Kafka, Spark, Airflow, Terraform, Kubernetes. \
    Languages: English, Spanish. Hobbies: sailing, chess and baking sourdough bread.";

#[tokio::test]
async fn embed_writes_searchable_chunks_once_and_caches_every_embedding() {
    let stack = stack().await;
    let service = stack.service(stack.vectors.clone());
    let user = "embed-alice";
    let (doc, body) = stack.classified(user, &[PAGE_1, PAGE_2]).await;

    let response = service.handle_batch(sqs_event(&[("m1", &body)])).await;
    assert!(response.batch_item_failures.is_empty(), "{:?}", response.batch_item_failures);
    let record = stack.record(user, &doc).await;
    let chunks = record.chunks.expect("chunk count recorded");
    assert!(chunks >= 3, "two pages in 64-token chunks give several chunks, got {chunks}");
    assert!(record.embedded_at.is_some());
    let computed = stack.embedder.texts.load(Ordering::SeqCst);
    assert_eq!(computed, chunks as usize, "one embedding per distinct chunk");

    // knowledge.updated names the document and what was written.
    let events = stack.drain(&stack.insight_url).await;
    assert_eq!(events.len(), 1);
    let event: Value = serde_json::from_str(&events[0].0).unwrap();
    assert_eq!(event["type"], "personalization.knowledge.updated");
    assert_eq!(event["user_id"], user);
    assert_eq!(event["data"]["document_id"], doc.to_string());
    assert_eq!(event["data"]["chunks"], chunks);
    assert_eq!(event["data"]["computed"], chunks);

    // Search finds the right passage, with its page and span.
    let hits = stack.search(user, "which stream processing tools has she used?", 3).await;
    let HitSource::Chunk { document_id, page, char_start, char_end, text, .. } = &hits[0].source else {
        panic!("a chunk first: {hits:?}")
    };
    assert_eq!(*document_id, doc);
    assert_eq!(*page, 1);
    assert!(text.contains("Kafka"), "{text}");
    let page_chars: Vec<char> = PAGE_1.chars().collect();
    assert_eq!(page_chars[*char_start as usize..*char_end as usize].iter().collect::<String>(), *text);
    let hits = stack.search(user, "what degree does she hold?", 1).await;
    assert!(matches!(&hits[0].source, HitSource::Chunk { page: 2, text, .. } if text.contains("MSc")), "{hits:?}");

    // Redelivery: nothing recomputed, nothing re-sent.
    let response = service.handle_batch(sqs_event(&[("m1", &body)])).await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(stack.embedder.texts.load(Ordering::SeqCst), computed);
    assert!(stack.drain(&stack.insight_url).await.is_empty(), "no second knowledge.updated");

    // The same text uploaded again as a new document: every vector from the cache.
    let (doc2, body2) = stack.classified(user, &[PAGE_1, PAGE_2]).await;
    service.handle_batch(sqs_event(&[("m2", &body2)])).await;
    assert_eq!(stack.embedder.texts.load(Ordering::SeqCst), computed, "re-ingesting computes nothing");
    assert_eq!(stack.record(user, &doc2).await.chunks, Some(chunks));
    let events = stack.drain(&stack.insight_url).await;
    let event: Value = serde_json::from_str(&events[0].0).unwrap();
    assert_eq!(event["data"]["computed"], 0);

    // Another user sees none of it, and the cache is per user.
    assert!(stack.search("embed-mallory", "Kafka streaming pipelines", 10).await.is_empty());
    let (_, body3) = stack.classified("embed-mallory", &[PAGE_1]).await;
    service.handle_batch(sqs_event(&[("m3", &body3)])).await;
    assert!(stack.embedder.texts.load(Ordering::SeqCst) > computed, "no cache hits across users");
}

#[tokio::test]
async fn a_bad_message_is_dead_lettered_and_a_transient_failure_is_retried_alone() {
    let stack = stack().await;
    let flaky: Arc<dyn VectorStore> =
        Arc::new(Flaky { inner: stack.vectors.clone(), failing_user: "embed-flaky".into() });
    let service = stack.service(flaky);
    let (good_doc, good) = stack.classified("embed-bob", &[PAGE_1]).await;
    let (flaky_doc, transient) = stack.classified("embed-flaky", &[PAGE_2]).await;
    let (missing_doc, missing_text) = stack.classified("embed-bob", &[PAGE_2]).await;
    stack.ports.blobs.delete(&keys::text_object(&UserId::parse("embed-bob").unwrap(), &missing_doc)).await.unwrap();

    let response = service
        .handle_batch(sqs_event(&[
            ("good", &good),
            ("poison", "{not json"),
            ("flaky", &transient),
            ("gone", &missing_text),
        ]))
        .await;
    let failed: Vec<&str> = response.batch_item_failures.iter().map(|f| f.item_identifier.as_str()).collect();
    assert_eq!(failed, vec!["flaky"], "only the transient failure is retried");

    assert!(stack.record("embed-bob", &good_doc).await.chunks.is_some());
    // A retryable failure leaves the document as it was until the last receive.
    let flaky_record = stack.record("embed-flaky", &flaky_doc).await;
    assert_eq!(flaky_record.status, DocumentStatus::TextExtracted);
    assert_eq!(flaky_record.chunks, None);
    // The permanent ones are in the DLQ with their reason; the one with a document is marked failed.
    let dead = stack.drain(&stack.embed_dlq).await;
    let mut codes: Vec<&str> =
        dead.iter().map(|(_, a)| a.get("error_code").map(String::as_str).unwrap_or("")).collect();
    codes.sort();
    assert_eq!(codes, vec!["malformed_message", "text_missing"], "{dead:?}");
    let missing = stack.record("embed-bob", &missing_doc).await;
    assert_eq!(missing.status, DocumentStatus::Failed);
    assert_eq!(missing.reason.map(|r| r.code).as_deref(), Some("text_missing"));

    // The last allowed receive of the transient failure records why before the redrive.
    let outcome = service.process_message(&transient, 4).await;
    assert!(matches!(outcome, embed::MessageOutcome::Retry(_)));
    let exhausted = stack.record("embed-flaky", &flaky_doc).await;
    assert_eq!(exhausted.status, DocumentStatus::Failed);
    assert_eq!(exhausted.reason.map(|r| r.code).as_deref(), Some("retries_exhausted"));
}

#[tokio::test]
async fn facts_get_one_vector_each_and_are_found_by_search() {
    let stack = stack().await;
    let service = stack.service(stack.vectors.clone());
    let user = UserId::parse("embed-facts").unwrap();
    let event = Envelope::new(
        EventType::FactExtracted,
        domain::FactExtracted::VERSION,
        user.clone(),
        "facts-1",
        domain::FactExtracted {
            document_id: None,
            facts: vec![
                domain::FactText { fact_id: "f-kafka".into(), text: "Built streaming pipelines with Kafka".into() },
                domain::FactText { fact_id: "f-degree".into(), text: "MSc Computer Science, Edinburgh".into() },
                domain::FactText { fact_id: "f-empty".into(), text: "   ".into() },
            ],
        },
    );
    let body = serde_json::to_string(&event).unwrap();
    let response = service.handle_batch(sqs_event(&[("f1", &body)])).await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(stack.embedder.texts.load(Ordering::SeqCst), 2, "blank facts are not embedded");
    let hits = stack.search(user.as_str(), "event streaming experience", 2).await;
    assert_eq!(hits[0].source, HitSource::Fact { fact_id: "f-kafka".into() }, "{hits:?}");
    assert_eq!(hits.len(), 2);
    let events = stack.drain(&stack.insight_url).await;
    let updated: Value = serde_json::from_str(&events[0].0).unwrap();
    assert_eq!((updated["data"]["facts"].as_u64(), updated["data"]["computed"].as_u64()), (Some(2), Some(2)));

    // Redelivered: the same rows, no new embeddings, an event with the same id.
    service.handle_batch(sqs_event(&[("f1", &body)])).await;
    assert_eq!(stack.embedder.texts.load(Ordering::SeqCst), 2);
    assert_eq!(stack.search(user.as_str(), "event streaming experience", 10).await.len(), 2);
    let again: Value = serde_json::from_str(&stack.drain(&stack.insight_url).await[0].0).unwrap();
    assert_eq!(again["id"], updated["id"]);
}
