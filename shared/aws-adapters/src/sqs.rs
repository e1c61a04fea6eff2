//! `Queue` and `QueueConsumer` on SQS.

use crate::error::{classify, to_port};
use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{MessageAttributeValue, MessageSystemAttributeName, QueueAttributeName};
use ports::{Queue, QueueConsumer, QueueError, QueueName, ReceivedMessage};
use std::collections::HashMap;

/// Most messages one ReceiveMessage call may return.
const MAX_BATCH: usize = 10;
/// Longest visibility timeout SQS accepts (12 hours).
const MAX_VISIBILITY_SECS: u64 = 43_200;

/// SQS queues by role. Only the configured queues can be used; a dead-letter
/// queue is attached by the queue's own redrive policy, not by this adapter.
#[derive(Clone, Debug)]
pub struct SqsQueue {
    client: Client,
    urls: HashMap<QueueName, String>,
    wait_secs: u64,
}

impl SqsQueue {
    /// Queues by role -> queue URL.
    pub fn new(config: &SdkConfig, urls: HashMap<QueueName, String>) -> Self {
        Self::from_client(Client::new(config), urls)
    }

    pub fn from_client(client: Client, urls: HashMap<QueueName, String>) -> Self {
        Self { client, urls, wait_secs: 0 }
    }

    /// Long-polls `receive` for up to `secs` (max 20) when the queue is empty. Default 0.
    pub fn with_wait_secs(mut self, secs: u64) -> Self {
        self.wait_secs = secs.min(20);
        self
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The URL configured for a queue.
    pub fn queue_url(&self, queue: QueueName) -> Option<&str> {
        self.urls.get(&queue).map(String::as_str)
    }

    fn url(&self, queue: QueueName) -> Result<&str, QueueError> {
        self.urls
            .get(&queue)
            .map(String::as_str)
            .ok_or_else(|| QueueError::Permanent(format!("queue {} is not configured", queue.as_str())))
    }
}

fn err<E>(op: &str, queue: QueueName, e: &aws_sdk_sqs::error::SdkError<E>) -> QueueError
where
    E: aws_sdk_sqs::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    to_port(classify(&format!("{op} on {}", queue.as_str()), e), QueueError::Transient, QueueError::Permanent)
}

fn secs_i32(secs: u64) -> i32 {
    secs.min(MAX_VISIBILITY_SECS) as i32
}

#[async_trait]
impl Queue for SqsQueue {
    async fn send(&self, queue: QueueName, body: &str, attributes: &[(&str, &str)]) -> Result<(), QueueError> {
        let url = self.url(queue)?;
        let mut req = self.client.send_message().queue_url(url).message_body(body);
        for (name, value) in attributes {
            let value = MessageAttributeValue::builder()
                .data_type("String")
                .string_value(*value)
                .build()
                .map_err(|e| QueueError::Permanent(format!("message attribute {name}: {e}")))?;
            req = req.message_attributes(*name, value);
        }
        req.send().await.map_err(|e| err("SendMessage", queue, &e))?;
        Ok(())
    }
}

#[async_trait]
impl QueueConsumer for SqsQueue {
    async fn receive(
        &self,
        queue: QueueName,
        max: usize,
        visibility_secs: u64,
    ) -> Result<Vec<ReceivedMessage>, QueueError> {
        let url = self.url(queue)?;
        let out = self
            .client
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(max.clamp(1, MAX_BATCH) as i32)
            .visibility_timeout(secs_i32(visibility_secs))
            .wait_time_seconds(self.wait_secs as i32)
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .send()
            .await
            .map_err(|e| err("ReceiveMessage", queue, &e))?;
        out.messages()
            .iter()
            .map(|m| {
                let receipt = m
                    .receipt_handle()
                    .ok_or_else(|| QueueError::Permanent("received a message without a receipt handle".into()))?;
                let receive_count = m
                    .attributes()
                    .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(1);
                Ok(ReceivedMessage {
                    id: m.message_id().unwrap_or_default().to_owned(),
                    receipt: receipt.to_owned(),
                    body: m.body().unwrap_or_default().to_owned(),
                    receive_count,
                })
            })
            .collect()
    }

    async fn ack(&self, queue: QueueName, receipt: &str) -> Result<(), QueueError> {
        let url = self.url(queue)?;
        self.client
            .delete_message()
            .queue_url(url)
            .receipt_handle(receipt)
            .send()
            .await
            .map_err(|e| err("DeleteMessage", queue, &e))?;
        Ok(())
    }

    async fn nack(&self, queue: QueueName, receipt: &str, delay_secs: u64) -> Result<(), QueueError> {
        // The queue's redrive policy moves the message to its DLQ after maxReceiveCount receives.
        let url = self.url(queue)?;
        self.client
            .change_message_visibility()
            .queue_url(url)
            .receipt_handle(receipt)
            .visibility_timeout(secs_i32(delay_secs))
            .send()
            .await
            .map_err(|e| err("ChangeMessageVisibility", queue, &e))?;
        Ok(())
    }

    async fn depth(&self, queue: QueueName) -> Result<usize, QueueError> {
        let url = self.url(queue)?;
        let out = self
            .client
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await
            .map_err(|e| err("GetQueueAttributes", queue, &e))?;
        let attrs = out.attributes();
        let count = |name: QueueAttributeName| -> usize {
            attrs.and_then(|a| a.get(&name)).and_then(|v| v.parse().ok()).unwrap_or(0)
        };
        Ok(count(QueueAttributeName::ApproximateNumberOfMessages)
            + count(QueueAttributeName::ApproximateNumberOfMessagesNotVisible))
    }
}
