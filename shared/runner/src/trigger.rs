//! The embedded stand-in for the S3 → SQS notification: a blob store wrapper
//! that enqueues an ObjectCreated message after each new object under `raw/`.

use async_trait::async_trait;
use bytes::Bytes;
use ports::{BlobError, BlobStore, PresignedPost, Queue, QueueName};
use std::sync::Arc;

/// Name used as the bucket in embedded notifications.
pub const LOCAL_BUCKET: &str = "local";

pub struct NotifyingBlobStore {
    inner: Arc<dyn BlobStore>,
    queue: Arc<dyn Queue>,
}

impl NotifyingBlobStore {
    pub fn new(inner: Arc<dyn BlobStore>, queue: Arc<dyn Queue>) -> Self {
        Self { inner, queue }
    }

    /// Enqueues the notification for an object already stored.
    pub async fn notify(&self, key: &str, size: u64) -> Result<(), BlobError> {
        let body = classify::notification::object_created(LOCAL_BUCKET, key, size);
        self.queue.send(QueueName::Classify, &body, &[]).await.map_err(|e| BlobError::Transient(e.to_string()))
    }
}

#[async_trait]
impl BlobStore for NotifyingBlobStore {
    async fn put(&self, key: &str, bytes: Bytes, content_type: &str) -> Result<(), BlobError> {
        let size = bytes.len() as u64;
        self.inner.put(key, bytes, content_type).await?;
        if key.starts_with("raw/") {
            self.notify(key, size).await?;
        }
        Ok(())
    }
    async fn get(&self, key: &str) -> Result<Bytes, BlobError> {
        self.inner.get(key).await
    }
    async fn size(&self, key: &str) -> Result<Option<u64>, BlobError> {
        self.inner.size(key).await
    }
    async fn delete(&self, key: &str) -> Result<(), BlobError> {
        self.inner.delete(key).await
    }
    async fn rename(&self, from: &str, to: &str) -> Result<(), BlobError> {
        self.inner.rename(from, to).await
    }
    async fn list(&self, prefix: &str) -> Result<Vec<String>, BlobError> {
        self.inner.list(prefix).await
    }
    async fn presign_post(&self, key: &str, max_bytes: u64, expires_secs: u64) -> Result<PresignedPost, BlobError> {
        self.inner.presign_post(key, max_bytes, expires_secs).await
    }
}
