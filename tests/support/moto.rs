//! Helpers for tests against a moto server (`AWS_ENDPOINT_URL`).
//!
//! CI starts moto and exports `AWS_ENDPOINT_URL`, `AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY` and `AWS_REGION`. Without the endpoint the tests fail
//! loudly rather than reaching for real AWS or skipping silently.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType, TimeToLiveSpecification,
};
use aws_sdk_sqs::types::QueueAttributeName;

/// The moto endpoint; panics with instructions when unset.
pub fn endpoint_url() -> String {
    match std::env::var("AWS_ENDPOINT_URL") {
        Ok(url) if !url.trim().is_empty() => url.trim().trim_end_matches('/').to_owned(),
        _ => panic!(
            "AWS_ENDPOINT_URL is not set: these tests need a moto server. Start one with \
             `moto_server -H 127.0.0.1 -p 5000` and export AWS_ENDPOINT_URL=http://127.0.0.1:5000 \
             AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1"
        ),
    }
}

/// SDK configuration pointing at moto (panics when `AWS_ENDPOINT_URL` is unset).
pub async fn sdk_config() -> aws_adapters::SdkConfig {
    endpoint_url();
    let config = aws_adapters::sdk_config().await;
    if config.region().is_some() {
        return config;
    }
    // A bare AWS_ENDPOINT_URL is enough: moto does not care about the region.
    config.into_builder().region(aws_config::Region::new("us-east-1")).build()
}

/// A unique resource name: `{prefix}-{uuid}` (lowercase, ≤ 63 characters).
pub fn unique(prefix: &str) -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("{prefix}-{}", &id[..20])
}

pub async fn create_bucket(client: &aws_sdk_s3::Client, name: &str) {
    client
        .create_bucket()
        .bucket(name)
        .send()
        .await
        .unwrap_or_else(|e| panic!("create bucket {name}: {}", aws_sdk_s3::error::DisplayErrorContext(&e)));
}

/// The single table: string `pk` (hash) and `sk` (range), on demand, TTL on `expires_at`.
pub async fn create_table(client: &aws_sdk_dynamodb::Client, name: &str) {
    let attr = |n: &str| {
        AttributeDefinition::builder()
            .attribute_name(n)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .expect("attribute definition")
    };
    let key =
        |n: &str, t: KeyType| KeySchemaElement::builder().attribute_name(n).key_type(t).build().expect("key schema");
    client
        .create_table()
        .table_name(name)
        .attribute_definitions(attr("pk"))
        .attribute_definitions(attr("sk"))
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range))
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap_or_else(|e| panic!("create table {name}: {}", aws_sdk_dynamodb::error::DisplayErrorContext(&e)));
    client
        .update_time_to_live()
        .table_name(name)
        .time_to_live_specification(
            TimeToLiveSpecification::builder().attribute_name("expires_at").enabled(true).build().expect("ttl spec"),
        )
        .send()
        .await
        .unwrap_or_else(|e| panic!("enable TTL on {name}: {}", aws_sdk_dynamodb::error::DisplayErrorContext(&e)));
}

/// Creates `{name}-dlq` and `{name}` redriving to it after `max_receive` receives.
/// Returns `(queue_url, dlq_url)`.
pub async fn create_queue_with_dlq(client: &aws_sdk_sqs::Client, name: &str, max_receive: u32) -> (String, String) {
    let fail = |what: &str, e: &dyn std::fmt::Display| -> ! { panic!("{what} for queue {name}: {e}") };
    let dlq_url = client
        .create_queue()
        .queue_name(format!("{name}-dlq"))
        .send()
        .await
        .unwrap_or_else(|e| fail("create DLQ", &aws_sdk_sqs::error::DisplayErrorContext(&e)))
        .queue_url
        .expect("DLQ url");
    let dlq_arn = client
        .get_queue_attributes()
        .queue_url(&dlq_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap_or_else(|e| fail("get DLQ ARN", &aws_sdk_sqs::error::DisplayErrorContext(&e)))
        .attributes
        .and_then(|mut a| a.remove(&QueueAttributeName::QueueArn))
        .expect("DLQ ARN");
    let redrive = serde_json::json!({
        "deadLetterTargetArn": dlq_arn,
        "maxReceiveCount": max_receive.to_string(),
    });
    let url = client
        .create_queue()
        .queue_name(name)
        .attributes(QueueAttributeName::RedrivePolicy, redrive.to_string())
        .send()
        .await
        .unwrap_or_else(|e| fail("create queue", &aws_sdk_sqs::error::DisplayErrorContext(&e)))
        .queue_url
        .expect("queue url");
    (url, dlq_url)
}

/// POSTs a multipart form (`fields` then `file`) over plain HTTP and returns
/// `(status, body)`. Enough for presigned-POST tests against moto.
pub async fn post_multipart(url: &str, fields: &[(String, String)], file_name: &str, file: &[u8]) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let rest =
        url.strip_prefix("http://").unwrap_or_else(|| panic!("post_multipart only speaks plain http, got {url}"));
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let boundary = format!("----moto-test-{}", uuid::Uuid::new_v4().simple());
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());

    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let mut stream =
        tokio::net::TcpStream::connect(authority).await.unwrap_or_else(|e| panic!("connect to {authority}: {e}"));
    stream.write_all(head.as_bytes()).await.expect("write request head");
    stream.write_all(&body).await.expect("write request body");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.expect("read response");
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("malformed HTTP response: {text}"));
    (status, text)
}

/// An HTTP client that sends one request at a time. moto does not serialise
/// DynamoDB writes across its request threads (a conditional UpdateItem checks
/// its condition on one snapshot and applies the update to another, so two
/// racing adds can both pass and store 51 > 50), which DynamoDB itself never
/// does. Serialising requests gives moto the per-item atomicity DynamoDB has,
/// while the adapter calls still interleave between their requests.
pub mod one_at_a_time {
    use aws_smithy_runtime_api::client::http::{
        HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
    };
    use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
    use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
    use std::sync::Arc;
    use tokio::sync::Mutex;

    #[derive(Debug, Clone)]
    pub struct Client {
        inner: SharedHttpClient,
        lock: Arc<Mutex<()>>,
    }

    impl Client {
        /// Plain HTTP (moto).
        pub fn new() -> Self {
            Self { inner: aws_smithy_http_client::Builder::new().build_http(), lock: Arc::default() }
        }
    }

    impl Default for Client {
        fn default() -> Self {
            Self::new()
        }
    }

    impl HttpClient for Client {
        fn http_connector(
            &self,
            settings: &HttpConnectorSettings,
            components: &RuntimeComponents,
        ) -> SharedHttpConnector {
            SharedHttpConnector::new(Connector {
                inner: self.inner.http_connector(settings, components),
                lock: Arc::clone(&self.lock),
            })
        }
    }

    #[derive(Debug)]
    struct Connector {
        inner: SharedHttpConnector,
        lock: Arc<Mutex<()>>,
    }

    impl HttpConnector for Connector {
        fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
            let (inner, lock) = (self.inner.clone(), Arc::clone(&self.lock));
            // moto answers once the operation is done, so holding the lock until the
            // response head arrives serialises the operations.
            HttpConnectorFuture::new(async move {
                let _turn = lock.lock().await;
                inner.call(request).await
            })
        }
    }
}

/// SDK configuration for moto whose requests go one at a time (see [`one_at_a_time`]).
pub async fn one_at_a_time_config() -> aws_adapters::SdkConfig {
    sdk_config().await.into_builder().http_client(one_at_a_time::Client::new()).build()
}

/// An S3 client for moto (path-style addressing).
pub fn s3_client(config: &aws_adapters::SdkConfig) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(config).force_path_style(true).build())
}
