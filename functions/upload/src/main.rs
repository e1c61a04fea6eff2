//! Lambda entry of upload: wiring only.

use api::auth::JwtConfig;
use api::{AppState, JwtVerifier};
use aws_adapters::{DynamoTableStore, S3BlobStore, SqsQueue};
use domain::Limits;
use ports::{NoOcr, Ports, QueueName};
use std::collections::HashMap;
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    platform::init_tracing();
    let table = platform::required("TABLE_NAME")?;
    let bucket = platform::required("BUCKET_NAME")?;
    let verifier = JwtVerifier::new(&JwtConfig::from_env()?)?;
    // `PUT /documents/{id}` hands a document whose kind the user corrected back to extract.
    let queues = HashMap::from([(QueueName::Extract, platform::required("EXTRACT_QUEUE_URL")?)]);

    let config = aws_adapters::sdk_config().await;
    let ports = Ports {
        blobs: Arc::new(S3BlobStore::new(&config, bucket)),
        queue: Arc::new(SqsQueue::new(&config, queues)),
        table: Arc::new(DynamoTableStore::new(&config, table)),
        ocr: Arc::new(NoOcr),
    };
    let state = AppState::new(ports, Arc::new(verifier), Limits::default());
    lambda_http::run(upload::router(state)).await
}
