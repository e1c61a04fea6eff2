//! Lambda entry of insight: wiring only. `INSIGHT_HANDLER=sqs` (default)
//! consumes the insight queue, `schedule` is the EventBridge rule's target,
//! `api` serves `GET /insights`. The ontology and the model are loaded once
//! per container (layers at /opt).

use aws_adapters::{DynamoTableStore, SqsQueue};
use insight::{InsightService, InsightState};
use lambda_runtime::{LambdaEvent, run, service_fn};
use ports::QueueName;
use std::collections::HashMap;
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    platform::init_tracing();
    let mode = platform::optional("INSIGHT_HANDLER");
    let table = platform::required("TABLE_NAME")?;
    let notifications = platform::required("NOTIFICATIONS_QUEUE_URL")?;
    let mut queues = HashMap::from([(QueueName::Notifications, notifications)]);
    if let Some(dlq) = platform::optional("INSIGHT_DLQ_URL") {
        queues.insert(QueueName::InsightDlq, dlq);
    }
    let max_receive_count: u32 = platform::parsed_or("MAX_RECEIVE_COUNT", 4)?;
    let config = aws_adapters::sdk_config().await;
    let mut service = InsightService::new(
        Arc::new(DynamoTableStore::new(&config, table)),
        Arc::new(SqsQueue::new(&config, queues)),
        max_receive_count,
    );
    let artifact =
        platform::optional("PERSONALIZATION_ONTOLOGY").unwrap_or_else(|| "/opt/ontology/ontology.bin".into());
    if std::path::Path::new(&artifact).exists() {
        let model = platform::optional("PERSONALIZATION_EMBEDDING_MODEL")
            .unwrap_or_else(|| "/opt/models/all-MiniLM-L6-v2".into());
        let ontology = ontology::Ontology::open(artifact.as_ref())?;
        let embedder: Arc<dyn ports::TextEmbedder> = Arc::new(embedding::Embedder::load(model.as_ref())?);
        service = service.with_ontology(Arc::new(ontology), embedder);
    } else {
        tracing::warn!(artifact, "no ontology artifact: insights will have no career paths");
    }
    let service = Arc::new(service);
    match mode.as_deref() {
        None | Some("sqs") => {
            let service = &service;
            run(service_fn(move |event: LambdaEvent<aws_lambda_events::sqs::SqsEvent>| async move {
                Ok::<_, lambda_runtime::Error>(service.handle_batch(event.payload).await)
            }))
            .await
        }
        Some("schedule") => {
            let service = &service;
            run(service_fn(move |_event: LambdaEvent<serde_json::Value>| async move {
                service.run_schedule().await.map_err(lambda_runtime::Error::from)
            }))
            .await
        }
        Some("api") => {
            let verifier = Arc::new(api::JwtVerifier::new(&api::auth::JwtConfig::from_env()?)?);
            let state = InsightState { verifier, service };
            let router = axum::Router::new()
                .nest(api::API_PREFIX, insight::insight_routes().with_state(state))
                .fallback(|| async { api::Problem::not_found("the route") });
            lambda_http::run(router).await
        }
        Some(other) => Err(platform::ConfigError::Invalid {
            name: "INSIGHT_HANDLER",
            reason: format!("{other:?} is not one of sqs, schedule, api"),
        }
        .into()),
    }
}
