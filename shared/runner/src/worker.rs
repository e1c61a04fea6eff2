//! The background worker: polls the embedded queues and runs the same
//! `Classifier`, `ExtractService`, `EmbedService` and `InsightService` the
//! Lambda functions run.

use ports::{QueueConsumer, QueueError, QueueName};

/// Seconds a received message stays hidden while it is processed.
const VISIBILITY_SECS: u64 = 300;

/// What the embedded queues deliver to.
pub struct Stages<'a> {
    pub classify: &'a classify::Classifier,
    pub extract: &'a extract::ExtractService,
    pub embed: &'a embed::EmbedService,
    pub insight: &'a insight::InsightService,
}

/// The stage queues the worker polls, in pipeline order.
pub const ALL: [QueueName; 5] =
    [QueueName::Classify, QueueName::Extract, QueueName::Embed, QueueName::Insight, QueueName::Notifications];

/// Receives and processes one batch from each of `queues`; returns how many
/// messages it handled. Notifications (`insight.generated`) are for a
/// frontend: here they are logged and acknowledged.
pub async fn step(
    consumer: &dyn QueueConsumer,
    stages: &Stages<'_>,
    queues: &[QueueName],
) -> Result<usize, QueueError> {
    let mut handled = 0;
    for &queue in queues {
        let messages = consumer.receive(queue, 8, VISIBILITY_SECS).await?;
        for message in &messages {
            let retry = match queue {
                QueueName::Classify => matches!(
                    stages.classify.process_message(&message.body, message.receive_count).await,
                    classify::MessageOutcome::Retry(_)
                ),
                QueueName::Extract => !stages.extract.process_message(&message.body, message.receive_count).await,
                QueueName::Insight => !stages.insight.process_message(&message.body, message.receive_count).await,
                QueueName::Notifications => {
                    // The event's type only: its body names the user.
                    let event = serde_json::from_str::<serde_json::Value>(&message.body)
                        .ok()
                        .and_then(|v| v["type"].as_str().map(str::to_owned))
                        .unwrap_or_default();
                    tracing::info!(event, "notification");
                    false
                }
                _ => matches!(
                    stages.embed.process_message(&message.body, message.receive_count).await,
                    embed::MessageOutcome::Retry(_)
                ),
            };
            if retry {
                // Exponential backoff, capped: 2, 4, 8 ... 30 seconds.
                let delay = 2u64.saturating_pow(message.receive_count.min(5)).min(30);
                consumer.nack(queue, &message.receipt, delay).await?;
            } else {
                consumer.ack(queue, &message.receipt).await?;
            }
        }
        handled += messages.len();
    }
    Ok(handled)
}
