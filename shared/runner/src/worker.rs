//! The background worker: polls the embedded classify queue and runs the same
//! `Classifier` the Lambda function runs.

use classify::{Classifier, MessageOutcome};
use ports::{QueueConsumer, QueueError, QueueName};

/// Seconds a received message stays hidden while it is processed.
const VISIBILITY_SECS: u64 = 300;

/// Receives and processes one batch; returns how many messages it handled.
pub async fn step(consumer: &dyn QueueConsumer, classifier: &Classifier) -> Result<usize, QueueError> {
    let messages = consumer.receive(QueueName::Classify, 8, VISIBILITY_SECS).await?;
    for message in &messages {
        match classifier.process_message(&message.body, message.receive_count).await {
            MessageOutcome::Ack => consumer.ack(QueueName::Classify, &message.receipt).await?,
            MessageOutcome::Retry(_) => {
                // Exponential backoff, capped: 2, 4, 8 ... 30 seconds.
                let delay = 2u64.saturating_pow(message.receive_count.min(5)).min(30);
                consumer.nack(QueueName::Classify, &message.receipt, delay).await?;
            }
        }
    }
    Ok(messages.len())
}
