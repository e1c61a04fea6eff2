//! Lambda entry of embed: wiring only. The model is loaded and the database
//! connected (and migrated) before the first event, once per container.

use aws_adapters::{DynamoTableStore, S3BlobStore, SqsQueue};
use embed::EmbedService;
use lambda_runtime::{LambdaEvent, run, service_fn};
use pgvector_store::PgVectorStore;
use ports::{NoOcr, Ports, QueueName};
use std::collections::HashMap;
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    platform::init_tracing();
    match platform::optional("EMBED_HANDLER").as_deref() {
        None | Some("sqs") => embed_queue().await,
        Some("search") => search_api().await,
        Some(other) => Err(platform::ConfigError::Invalid {
            name: "EMBED_HANDLER",
            reason: format!("{other:?} is not one of sqs, search"),
        }
        .into()),
    }
}

/// The vector store from `DATABASE_URL`, or from the secret in `DATABASE_SECRET_ARN`.
async fn vector_store(config: &aws_adapters::SdkConfig) -> Result<PgVectorStore, lambda_runtime::Error> {
    let database = match (platform::optional("DATABASE_URL"), platform::optional("DATABASE_SECRET_ARN")) {
        (Some(url), _) => url,
        (None, Some(arn)) => {
            let sslmode = platform::optional("DATABASE_SSLMODE").unwrap_or_else(|| "require".into());
            aws_adapters::database_connection_string(config, &arn, &sslmode).await?
        }
        (None, None) => return Err(platform::ConfigError::Missing { name: "DATABASE_SECRET_ARN" }.into()),
    };
    let ca_file = platform::optional("DATABASE_CA_FILE").map(std::path::PathBuf::from);
    let vectors = PgVectorStore::connect(&database, ca_file.as_deref()).await?;
    if platform::parsed_or("DATABASE_MIGRATE", true)? {
        vectors.migrate().await?;
    }
    Ok(vectors)
}

fn model_dir() -> String {
    platform::optional("PERSONALIZATION_EMBEDDING_MODEL").unwrap_or_else(|| "/opt/models/all-MiniLM-L6-v2".into())
}

/// `GET /search` behind API Gateway.
async fn search_api() -> Result<(), lambda_runtime::Error> {
    let started = std::time::Instant::now();
    let verifier = api::JwtVerifier::new(&api::auth::JwtConfig::from_env()?)?;
    let config = aws_adapters::sdk_config().await;
    let embedder = embedding::Embedder::load(model_dir().as_ref())?;
    let vectors = vector_store(&config).await?;
    tracing::info!(model = embedder.version(), init_ms = started.elapsed().as_millis() as u64, "search ready");
    let state =
        api::SearchState { verifier: Arc::new(verifier), embedder: Arc::new(embedder), vectors: Arc::new(vectors) };
    let router = axum::Router::new()
        .nest(api::API_PREFIX, api::search_routes().with_state(state))
        .fallback(|| async { api::Problem::not_found("the route") });
    lambda_http::run(router).await
}

/// The SQS consumer.
async fn embed_queue() -> Result<(), lambda_runtime::Error> {
    let started = std::time::Instant::now();
    let table = platform::required("TABLE_NAME")?;
    let bucket = platform::required("BUCKET_NAME")?;
    let insight_queue = platform::required("INSIGHT_QUEUE_URL")?;
    let embed_dlq = platform::required("EMBED_DLQ_URL")?;
    let max_receive_count: u32 = platform::parsed_or("MAX_RECEIVE_COUNT", 4)?;
    let chunking = platform::chunk_config()?;

    let config = aws_adapters::sdk_config().await;
    let embedder = embedding::Embedder::load(model_dir().as_ref())?.with_max_tokens(chunking.size)?;
    let vectors = vector_store(&config).await?;
    tracing::info!(
        model = embedder.version(),
        chunk_size = chunking.size,
        chunk_overlap = chunking.overlap,
        init_ms = started.elapsed().as_millis() as u64,
        "embed ready"
    );

    let queues = HashMap::from([(QueueName::Insight, insight_queue), (QueueName::EmbedDlq, embed_dlq)]);
    let ports = Ports {
        blobs: Arc::new(S3BlobStore::new(&config, bucket)),
        queue: Arc::new(SqsQueue::new(&config, queues)),
        table: Arc::new(DynamoTableStore::new(&config, table)),
        ocr: Arc::new(NoOcr),
    };
    let service = EmbedService::new(ports, Arc::new(vectors), Arc::new(embedder), chunking, max_receive_count);
    let service = &service;
    run(service_fn(move |event: LambdaEvent<aws_lambda_events::sqs::SqsEvent>| async move {
        Ok::<_, lambda_runtime::Error>(service.handle_batch(event.payload).await)
    }))
    .await
}
