//! The background worker: polls the embedded queues and runs the same
//! `Classifier`, `ExtractService` and `EmbedService` the Lambda functions run.

use ports::{QueueConsumer, QueueError, QueueName};

/// Seconds a received message stays hidden while it is processed.
const VISIBILITY_SECS: u64 = 300;

/// What the embedded queues deliver to.
pub struct Stages<'a> {
    pub classify: &'a classify::Classifier,
    pub extract: &'a extract::ExtractService,
    pub embed: &'a embed::EmbedService,
}

/// Receives and processes one batch from each stage's queue; returns how many
/// messages it handled.
pub async fn step(consumer: &dyn QueueConsumer, stages: &Stages<'_>) -> Result<usize, QueueError> {
    let mut handled = 0;
    for queue in [QueueName::Classify, QueueName::Extract, QueueName::Embed] {
        let messages = consumer.receive(queue, 8, VISIBILITY_SECS).await?;
        for message in &messages {
            let retry = match queue {
                QueueName::Classify => matches!(
                    stages.classify.process_message(&message.body, message.receive_count).await,
                    classify::MessageOutcome::Retry(_)
                ),
                QueueName::Extract => !stages.extract.process_message(&message.body, message.receive_count).await,
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
