//! Lambda entry of extract: wiring only.

use aws_adapters::{DynamoTableStore, S3BlobStore, SqsQueue};
use extract::ExtractService;
use facts::lexicon::BuiltinLexicon;
use lambda_runtime::{LambdaEvent, run, service_fn};
use ports::{NoOcr, Ports, QueueName};
use std::collections::HashMap;
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    platform::init_tracing();
    let table = platform::required("TABLE_NAME")?;
    let bucket = platform::required("BUCKET_NAME")?;
    let embed_queue = platform::required("EMBED_QUEUE_URL")?;
    let extract_dlq = platform::required("EXTRACT_DLQ_URL")?;
    let max_receive_count: u32 = platform::parsed_or("MAX_RECEIVE_COUNT", 4)?;

    let config = aws_adapters::sdk_config().await;
    let queues = HashMap::from([(QueueName::Embed, embed_queue), (QueueName::ExtractDlq, extract_dlq)]);
    let ports = Ports {
        blobs: Arc::new(S3BlobStore::new(&config, bucket)),
        queue: Arc::new(SqsQueue::new(&config, queues)),
        table: Arc::new(DynamoTableStore::new(&config, table)),
        ocr: Arc::new(NoOcr),
    };
    let service = ExtractService::new(ports, BuiltinLexicon::shared(), max_receive_count);
    let service = &service;
    run(service_fn(move |event: LambdaEvent<aws_lambda_events::sqs::SqsEvent>| async move {
        Ok::<_, lambda_runtime::Error>(service.handle_batch(event.payload).await)
    }))
    .await
}
