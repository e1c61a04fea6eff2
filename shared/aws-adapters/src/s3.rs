//! `BlobStore` on S3.

use crate::error::{classify, to_port};
use crate::presign;
use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ServerSideEncryption;
use bytes::Bytes;
use ports::{BlobError, BlobStore, PresignedPost};

/// Objects in one S3 bucket. Every object is written with SSE-S3 (AES256).
#[derive(Clone, Debug)]
pub struct S3BlobStore {
    client: Client,
    bucket: String,
    /// For presigned POSTs, which the SDK cannot build.
    credentials: Option<SharedCredentialsProvider>,
    region: String,
    /// Custom endpoint (moto, LocalStack): path-style URLs.
    endpoint_url: Option<String>,
}

impl S3BlobStore {
    /// A store on `bucket`, with path-style addressing when the configuration
    /// names a custom endpoint (`AWS_ENDPOINT_URL`).
    pub fn new(config: &SdkConfig, bucket: impl Into<String>) -> Self {
        let mut builder = aws_sdk_s3::config::Builder::from(config);
        if config.endpoint_url().is_some() {
            builder = builder.force_path_style(true);
        }
        Self {
            client: Client::from_conf(builder.build()),
            bucket: bucket.into(),
            credentials: config.credentials_provider(),
            region: config.region().map(|r| r.as_ref().to_owned()).unwrap_or_else(|| "us-east-1".to_owned()),
            endpoint_url: config.endpoint_url().map(|u| u.trim_end_matches('/').to_owned()),
        }
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The underlying client (for setup code such as tests).
    pub fn client(&self) -> &Client {
        &self.client
    }

    fn post_url(&self) -> String {
        match &self.endpoint_url {
            Some(endpoint) => format!("{endpoint}/{}", self.bucket),
            None => format!("https://{}.s3.{}.amazonaws.com", self.bucket, self.region),
        }
    }
}

fn err<E>(op: &str, e: &aws_sdk_s3::error::SdkError<E>) -> BlobError
where
    E: aws_sdk_s3::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    to_port(classify(op, e), BlobError::Transient, BlobError::Permanent)
}

/// Percent-encodes a key for `x-amz-copy-source`, keeping `/` separators.
fn encode_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for b in key.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[async_trait]
impl BlobStore for S3BlobStore {
    async fn put(&self, key: &str, bytes: Bytes, content_type: &str) -> Result<(), BlobError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .server_side_encryption(ServerSideEncryption::Aes256)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(|e| err("PutObject", &e))?;
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Bytes, BlobError> {
        let out = match self.client.get_object().bucket(&self.bucket).key(key).send().await {
            Ok(out) => out,
            Err(e) => {
                let c = classify("GetObject", &e);
                if e.as_service_error().is_some_and(|s| s.is_no_such_key()) || c.status == Some(404) {
                    return Err(BlobError::NotFound(key.to_owned()));
                }
                return Err(to_port(c, BlobError::Transient, BlobError::Permanent));
            }
        };
        let data =
            out.body.collect().await.map_err(|e| BlobError::Transient(format!("GetObject body of {key}: {e}")))?;
        Ok(data.into_bytes())
    }

    async fn size(&self, key: &str) -> Result<Option<u64>, BlobError> {
        match self.client.head_object().bucket(&self.bucket).key(key).send().await {
            Ok(out) => Ok(Some(out.content_length().unwrap_or(0).max(0) as u64)),
            Err(e) => {
                let c = classify("HeadObject", &e);
                if e.as_service_error().is_some_and(|s| s.is_not_found()) || c.status == Some(404) {
                    Ok(None)
                } else {
                    Err(to_port(c, BlobError::Transient, BlobError::Permanent))
                }
            }
        }
    }

    async fn delete(&self, key: &str) -> Result<(), BlobError> {
        // S3 answers 204 for absent keys too.
        self.client.delete_object().bucket(&self.bucket).key(key).send().await.map_err(|e| err("DeleteObject", &e))?;
        Ok(())
    }

    async fn rename(&self, from: &str, to: &str) -> Result<(), BlobError> {
        if from == to {
            return match self.size(from).await? {
                Some(_) => Ok(()),
                None => Err(BlobError::NotFound(from.to_owned())),
            };
        }
        let source = format!("{}/{}", self.bucket, encode_key(from));
        if let Err(e) = self
            .client
            .copy_object()
            .bucket(&self.bucket)
            .key(to)
            .copy_source(source)
            .server_side_encryption(ServerSideEncryption::Aes256)
            .send()
            .await
        {
            let c = classify("CopyObject", &e);
            if c.code_is("NoSuchKey") || c.status == Some(404) {
                return Err(BlobError::NotFound(from.to_owned()));
            }
            return Err(to_port(c, BlobError::Transient, BlobError::Permanent));
        }
        self.delete(from).await
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, BlobError> {
        let mut keys = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let out = self
                .client
                .list_objects_v2()
                .bucket(&self.bucket)
                .prefix(prefix)
                .set_continuation_token(token.take())
                .send()
                .await
                .map_err(|e| err("ListObjectsV2", &e))?;
            keys.extend(out.contents().iter().filter_map(|o| o.key().map(str::to_owned)));
            match out.next_continuation_token() {
                Some(next) if out.is_truncated().unwrap_or(false) => token = Some(next.to_owned()),
                _ => break,
            }
        }
        Ok(keys)
    }

    async fn presign_post(&self, key: &str, max_bytes: u64, expires_secs: u64) -> Result<PresignedPost, BlobError> {
        let provider = self
            .credentials
            .as_ref()
            .ok_or_else(|| BlobError::Permanent("no credentials provider configured for presigning".into()))?;
        let creds = provider.provide_credentials().await.map_err(credentials_error)?;
        let req = presign::PostRequest {
            url: self.post_url(),
            bucket: &self.bucket,
            key,
            max_bytes,
            expires_secs,
            region: &self.region,
            access_key_id: creds.access_key_id(),
            secret_access_key: creds.secret_access_key(),
            session_token: creds.session_token(),
        };
        Ok(presign::build(&req, time::OffsetDateTime::now_utc()))
    }
}

fn credentials_error(e: aws_credential_types::provider::error::CredentialsError) -> BlobError {
    use aws_credential_types::provider::error::CredentialsError as E;
    let msg = format!("loading credentials for presigning: {}", aws_sdk_s3::error::DisplayErrorContext(&e));
    match e {
        E::CredentialsNotLoaded(_) | E::InvalidConfiguration(_) => BlobError::Permanent(msg),
        _ => BlobError::Transient(msg),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_source_keys_are_percent_encoded_but_keep_slashes() {
        assert_eq!(encode_key("raw/u 1/ä+b.pdf"), "raw/u%201/%C3%A4%2Bb.pdf");
        assert_eq!(encode_key("a-b_c.d~e"), "a-b_c.d~e");
    }
}
