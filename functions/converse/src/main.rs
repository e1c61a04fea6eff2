//! Lambda entry of converse: wiring only. Serves `/conversation/*` behind
//! API Gateway; questions are worded by Bedrock when
//! `FEATURE_LLM_CONVERSATION` is on, by templates otherwise.

use aws_adapters::{DynamoTableStore, SqsQueue};
use converse::{ConversationService, ConversationState};
use facts::lexicon::BuiltinLexicon;
use ports::QueueName;
use std::collections::HashMap;
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    platform::init_tracing();
    let table = platform::required("TABLE_NAME")?;
    let embed_queue = platform::required("EMBED_QUEUE_URL")?;
    let insight_queue = platform::required("INSIGHT_QUEUE_URL")?;
    let budget: u32 = platform::parsed_or("CONVERSATION_BUDGET", career::fatigue::DEFAULT_BUDGET)?;
    let verifier = Arc::new(api::JwtVerifier::new(&api::auth::JwtConfig::from_env()?)?);
    let config = aws_adapters::sdk_config().await;
    let queue = Arc::new(SqsQueue::new(
        &config,
        HashMap::from([(QueueName::Embed, embed_queue), (QueueName::Insight, insight_queue)]),
    ));
    let mut service =
        ConversationService::new(Arc::new(DynamoTableStore::new(&config, table)), queue, BuiltinLexicon::shared())
            .with_budget(budget);
    if platform::parsed_or("FEATURE_LLM_CONVERSATION", false)? {
        let model_id = platform::required("BEDROCK_MODEL_ID")?;
        service = service.with_language_model(Arc::new(aws_adapters::BedrockLanguageModel::new(&config, model_id)));
    }
    let state = ConversationState { verifier, service: Arc::new(service) };
    let router = axum::Router::new()
        .nest(api::API_PREFIX, converse::conversation_routes().with_state(state))
        .fallback(|| async { api::Problem::not_found("the route") });
    lambda_http::run(router).await
}
