//! AWS adapters for the ports: S3 ([`S3BlobStore`]), SQS ([`SqsQueue`]),
//! DynamoDB ([`DynamoTableStore`]), Textract ([`TextractOcr`]) and the
//! database secret in Secrets Manager.
//!
//! No SDK type crosses the port boundary: every SDK error is mapped onto the
//! port's error enum, classified as transient (throttling, 5xx, timeouts,
//! network failures) or permanent (everything else).

mod bedrock;
mod dynamo;
mod error;
mod presign;
mod s3;
mod secrets;
mod sqs;
mod textract;

pub use bedrock::BedrockLanguageModel;
pub use dynamo::DynamoTableStore;
pub use s3::S3BlobStore;
pub use secrets::{SecretError, connection_string_from_json, database_connection_string};
pub use sqs::SqsQueue;
pub use textract::TextractOcr;

/// Re-exported so callers can name the configuration without depending on `aws-config`.
pub use aws_config::SdkConfig;

/// Loads the SDK configuration from the environment (region, credentials chain,
/// `AWS_ENDPOINT_URL` for local endpoints such as moto or LocalStack).
pub async fn sdk_config() -> SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest()).load().await
}
