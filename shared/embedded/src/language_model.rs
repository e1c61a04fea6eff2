//! The embedded `LanguageModel`: a deterministic template generator. It
//! answers the prompts the engine knows with fixed, valid output (no facts
//! proposed, so extraction relies on the rules alone) and echoes others.

use async_trait::async_trait;
use ports::{LanguageModel, LanguageModelError, Prompt};

/// Deterministic answers: the same prompt always gives the same text.
#[derive(Debug, Clone, Default)]
pub struct TemplateLanguageModel;

#[async_trait]
impl LanguageModel for TemplateLanguageModel {
    fn model_id(&self) -> &str {
        "template@1"
    }

    async fn complete(&self, prompt: &Prompt) -> Result<String, LanguageModelError> {
        if prompt.system.contains("\"facts\"") {
            return Ok(r#"{"facts": []}"#.to_owned());
        }
        let first = prompt.user.lines().next().unwrap_or_default();
        Ok(first.chars().take(prompt.max_tokens as usize * 4).collect())
    }
}
