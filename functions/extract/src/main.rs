//! Lambda entry of extract: wiring only. `EXTRACT_HANDLER=sqs` (the default)
//! consumes the extract queue; `EXTRACT_HANDLER=api` serves the knowledge API
//! (`/knowledge`, `/knowledge/{fact_id}`, `/export`) from the same binary.

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
    match platform::optional("EXTRACT_HANDLER").as_deref() {
        None | Some("sqs") => extract_queue().await,
        Some("api") => knowledge_api().await,
        Some(other) => Err(platform::ConfigError::Invalid {
            name: "EXTRACT_HANDLER",
            reason: format!("{other:?} is not one of sqs, api"),
        }
        .into()),
    }
}

/// The ports on AWS; `queues` names the queues this mode sends to.
async fn ports(queues: HashMap<QueueName, String>) -> Result<Ports, lambda_runtime::Error> {
    let table = platform::required("TABLE_NAME")?;
    let bucket = platform::required("BUCKET_NAME")?;
    let config = aws_adapters::sdk_config().await;
    Ok(Ports {
        blobs: Arc::new(S3BlobStore::new(&config, bucket)),
        queue: Arc::new(SqsQueue::new(&config, queues)),
        table: Arc::new(DynamoTableStore::new(&config, table)),
        ocr: Arc::new(NoOcr),
    })
}

/// The SQS consumer.
async fn extract_queue() -> Result<(), lambda_runtime::Error> {
    let embed_queue = platform::required("EMBED_QUEUE_URL")?;
    let extract_dlq = platform::required("EXTRACT_DLQ_URL")?;
    let max_receive_count: u32 = platform::parsed_or("MAX_RECEIVE_COUNT", 4)?;
    let ports = ports(HashMap::from([(QueueName::Embed, embed_queue), (QueueName::ExtractDlq, extract_dlq)])).await?;
    let mut service = ExtractService::new(ports, BuiltinLexicon::shared(), max_receive_count);
    if platform::parsed_or("FEATURE_LLM_EXTRACTION", false)? {
        let model_id = platform::required("BEDROCK_MODEL_ID")?;
        let config = aws_adapters::sdk_config().await;
        service = service.with_language_model(Arc::new(aws_adapters::BedrockLanguageModel::new(&config, model_id)));
    }
    let service = &service;
    run(service_fn(move |event: LambdaEvent<aws_lambda_events::sqs::SqsEvent>| async move {
        Ok::<_, lambda_runtime::Error>(service.handle_batch(event.payload).await)
    }))
    .await
}

/// `/knowledge` and `/export` behind API Gateway.
async fn knowledge_api() -> Result<(), lambda_runtime::Error> {
    let verifier = api::JwtVerifier::new(&api::auth::JwtConfig::from_env()?)?;
    let ports = ports(HashMap::new()).await?;
    let state = api::AppState::new(ports, Arc::new(verifier), domain::Limits::default());
    let router = axum::Router::new()
        .nest(api::API_PREFIX, api::knowledge_routes().with_state(state))
        .fallback(|| async { api::Problem::not_found("the route") });
    lambda_http::run(router).await
}
