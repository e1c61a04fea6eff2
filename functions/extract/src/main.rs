//! Lambda entry of extract: wiring only. `EXTRACT_HANDLER=sqs` (the default)
//! consumes the extract queue; `EXTRACT_HANDLER=api` serves the knowledge API
//! (`/knowledge`, `/knowledge/{fact_id}`, `/export`) and the reference data
//! (`/skills/search`, `/skills/{id}`, `/occupations/search`) from the same binary.

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
    // Skill mapping, when the ontology layer is there (template.yaml mounts it).
    if let Some(artifact) = platform::optional("PERSONALIZATION_ONTOLOGY") {
        let ontology = ontology::Ontology::open(artifact.as_ref())?;
        let model = platform::optional("PERSONALIZATION_EMBEDDING_MODEL")
            .unwrap_or_else(|| "/opt/models/all-MiniLM-L6-v2".into());
        let embedder: Arc<dyn ports::TextEmbedder> = Arc::new(embedding::Embedder::load(model.as_ref())?);
        service = service.with_ontology(Arc::new(ontology), embedder);
    }
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

/// `/knowledge`, `/export`, `/skills…` and `/occupations…` behind API Gateway.
async fn knowledge_api() -> Result<(), lambda_runtime::Error> {
    let verifier = Arc::new(api::JwtVerifier::new(&api::auth::JwtConfig::from_env()?)?);
    let ports = ports(HashMap::new()).await?;
    // The ontology and the model, loaded once per container (layers at /opt).
    let started = std::time::Instant::now();
    let artifact =
        platform::optional("PERSONALIZATION_ONTOLOGY").unwrap_or_else(|| "/opt/ontology/ontology.bin".into());
    let ontology = ontology::Ontology::open(artifact.as_ref())?;
    let model =
        platform::optional("PERSONALIZATION_EMBEDDING_MODEL").unwrap_or_else(|| "/opt/models/all-MiniLM-L6-v2".into());
    let embedder: Arc<dyn ports::TextEmbedder> = Arc::new(embedding::Embedder::load(model.as_ref())?);
    tracing::info!(concepts = ontology.len(), init_ms = started.elapsed().as_millis() as u64, "reference data loaded");
    let reference = api::OntologyState {
        verifier: verifier.clone(),
        ontology: Arc::new(ontology),
        embedder,
        knowledge: Some(store::KnowledgeRepo::new(ports.table.clone())),
    };
    let state = api::AppState::new(ports, verifier, domain::Limits::default());
    let router = axum::Router::new()
        .nest(
            api::API_PREFIX,
            api::knowledge_routes().with_state(state).merge(api::ontology_routes().with_state(reference)),
        )
        .fallback(|| async { api::Problem::not_found("the route") });
    lambda_http::run(router).await
}
