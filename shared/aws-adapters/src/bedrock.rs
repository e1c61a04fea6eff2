//! `LanguageModel` on Amazon Bedrock's Converse API (any model Converse
//! serves: Claude, Llama, Titan, Nova). Throttling and timeouts are retried by
//! the SDK's standard retry policy and reported as transient when they persist.

use crate::error::{classify, to_port};
use async_trait::async_trait;
use aws_sdk_bedrockruntime::Client;
use aws_sdk_bedrockruntime::types::{
    ContentBlock, ConversationRole, ConverseOutput, InferenceConfiguration, Message, SystemContentBlock,
};
use ports::{LanguageModel, LanguageModelError, Prompt};

/// One Bedrock model, by id (e.g. `anthropic.claude-3-5-haiku-20241022-v1:0`
/// or an inference profile).
pub struct BedrockLanguageModel {
    client: Client,
    /// What Bedrock calls the model.
    bedrock_id: String,
    /// `bedrock:{id}`, as recorded in provenance.
    model_id: String,
}

impl BedrockLanguageModel {
    pub fn new(config: &aws_config::SdkConfig, model_id: impl Into<String>) -> Self {
        let bedrock_id = model_id.into();
        Self { client: Client::new(config), model_id: format!("bedrock:{bedrock_id}"), bedrock_id }
    }
}

#[async_trait]
impl LanguageModel for BedrockLanguageModel {
    fn model_id(&self) -> &str {
        &self.model_id
    }

    async fn complete(&self, prompt: &Prompt) -> Result<String, LanguageModelError> {
        let message = Message::builder()
            .role(ConversationRole::User)
            .content(ContentBlock::Text(prompt.user.clone()))
            .build()
            .map_err(|e| LanguageModelError::Permanent(e.to_string()))?;
        let inference = InferenceConfiguration::builder()
            .max_tokens(i32::try_from(prompt.max_tokens).unwrap_or(i32::MAX))
            .temperature(prompt.temperature)
            .build();
        let output = self
            .client
            .converse()
            .model_id(&self.bedrock_id)
            .system(SystemContentBlock::Text(prompt.system.clone()))
            .messages(message)
            .inference_config(inference)
            .send()
            .await
            .map_err(|e| {
                to_port(classify("Converse", &e), LanguageModelError::Transient, LanguageModelError::Permanent)
            })?;
        match output.output() {
            Some(ConverseOutput::Message(message)) => Ok(message
                .content()
                .iter()
                .filter_map(|block| match block {
                    ContentBlock::Text(text) => Some(text.as_str()),
                    _ => None,
                })
                .collect::<Vec<_>>()
                .join("")),
            _ => Err(LanguageModelError::Permanent("Converse answered without a message".into())),
        }
    }
}
