//! Lambda entry of classify: wiring only.

use aws_adapters::{DynamoTableStore, S3BlobStore, SqsQueue, TextractOcr};
use classify::{Classifier, KindClassifier};
use domain::Limits;
use lambda_runtime::{LambdaEvent, run, service_fn};
use ports::{NoOcr, Ports, QueueName};
use std::collections::HashMap;
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    platform::init_tracing();
    let table = platform::required("TABLE_NAME")?;
    let bucket = platform::required("BUCKET_NAME")?;
    let extract_queue = platform::required("EXTRACT_QUEUE_URL")?;
    let embed_queue = platform::required("EMBED_QUEUE_URL")?;
    let classify_dlq = platform::required("CLASSIFY_DLQ_URL")?;
    let max_receive_count: u32 = platform::parsed_or("MAX_RECEIVE_COUNT", 4)?;
    let ocr_engine = platform::optional("OCR_ENGINE").unwrap_or_else(|| "none".into());
    let model_dir =
        platform::optional("PERSONALIZATION_EMBEDDING_MODEL").unwrap_or_else(|| "/opt/models/all-MiniLM-L6-v2".into());
    // Loaded once per container, before the first event.
    let embedder = Arc::new(embedding::Embedder::load(model_dir.as_ref())?);
    let kinds = Arc::new(KindClassifier::new(embedder)?);

    let config = aws_adapters::sdk_config().await;
    let queues = HashMap::from([
        (QueueName::Extract, extract_queue),
        (QueueName::Embed, embed_queue),
        (QueueName::ClassifyDlq, classify_dlq),
    ]);
    let ocr: Arc<dyn ports::Ocr> = match ocr_engine.as_str() {
        "textract" => Arc::new(TextractOcr::new(&config)),
        "none" => Arc::new(NoOcr),
        other => {
            return Err(platform::ConfigError::Invalid {
                name: "OCR_ENGINE",
                reason: format!("{other:?} is not one of textract, none"),
            }
            .into());
        }
    };
    let ports = Ports {
        blobs: Arc::new(S3BlobStore::new(&config, bucket)),
        queue: Arc::new(SqsQueue::new(&config, queues)),
        table: Arc::new(DynamoTableStore::new(&config, table)),
        ocr,
    };
    let classifier = Classifier::new(ports, Limits::default(), max_receive_count).with_kinds(kinds);
    let classifier = &classifier;
    run(service_fn(move |event: LambdaEvent<aws_lambda_events::sqs::SqsEvent>| async move {
        Ok::<_, lambda_runtime::Error>(classifier.handle_batch(event.payload).await)
    }))
    .await
}
