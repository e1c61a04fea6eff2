//! Classification of SDK errors into transient and permanent failures.

use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

/// Error codes that mean "try again later", across the services used here.
const TRANSIENT_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottled",
    "RequestThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "ProvisionedThroughputExceededException",
    "LimitExceededException",
    "SlowDown",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "InternalError",
    "InternalFailure",
    "InternalServerError",
    "InternalServerErrorException",
    "RequestTimeout",
    "RequestTimeoutException",
    "TransactionInProgressException",
    "KMS.ThrottlingException",
];

/// A classified SDK failure.
#[derive(Debug)]
pub(crate) struct Classified {
    pub transient: bool,
    /// The service's error code, when the service answered with one.
    pub code: Option<String>,
    /// HTTP status of the response, when there was one.
    pub status: Option<u16>,
    pub message: String,
}

impl Classified {
    pub fn code_is(&self, code: &str) -> bool {
        self.code.as_deref() == Some(code)
    }
}

/// Classifies an SDK error. `op` names the operation for the message.
pub(crate) fn classify<E>(op: &str, err: &SdkError<E>) -> Classified
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let message = format!("{op}: {}", DisplayErrorContext(err));
    let status = err.raw_response().map(|r| r.status().as_u16());
    let code = err.code().map(str::to_owned);
    let transient = match err {
        SdkError::ConstructionFailure(_) => false,
        SdkError::TimeoutError(_) => true,
        // A user error is a misconfigured client; I/O, timeouts and others are the network.
        SdkError::DispatchFailure(e) => !e.is_user(),
        // The response could not be read or parsed: usually a broken connection.
        SdkError::ResponseError(_) => true,
        SdkError::ServiceError(_) => {
            code.as_deref().is_some_and(|c| TRANSIENT_CODES.contains(&c))
                || status.is_some_and(|s| s >= 500 || s == 429)
        }
        _ => status.is_some_and(|s| s >= 500 || s == 429),
    };
    Classified { transient, code, status, message }
}

/// Builds a port error from a classification.
pub(crate) fn to_port<T>(c: Classified, transient: fn(String) -> T, permanent: fn(String) -> T) -> T {
    if c.transient { transient(c.message) } else { permanent(c.message) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodb::config::http::HttpResponse;
    use aws_sdk_dynamodb::operation::get_item::GetItemError;
    use aws_sdk_s3::error::ErrorMetadata;
    use aws_sdk_s3::primitives::SdkBody;

    fn service(code: &str, status: u16) -> SdkError<GetItemError> {
        let err = GetItemError::generic(ErrorMetadata::builder().code(code).message("boom").build());
        let raw = HttpResponse::new(status.try_into().expect("status"), SdkBody::empty());
        SdkError::service_error(err, raw)
    }

    #[test]
    fn throttling_and_server_errors_are_transient() {
        for (code, status) in [
            ("ThrottlingException", 400),
            ("ProvisionedThroughputExceededException", 400),
            ("SlowDown", 503),
            ("Whatever", 500),
            ("Whatever", 429),
        ] {
            let c = classify("Op", &service(code, status));
            assert!(c.transient, "{code} {status}");
            assert!(c.message.starts_with("Op: "), "{}", c.message);
        }
        let timeout: SdkError<GetItemError> = SdkError::timeout_error("slow");
        assert!(classify("Op", &timeout).transient);
    }

    #[test]
    fn bad_requests_are_permanent() {
        for code in [
            "ValidationException",
            "ConditionalCheckFailedException",
            "InvalidParameterException",
            "UnsupportedDocumentException",
        ] {
            let c = classify("Op", &service(code, 400));
            assert!(!c.transient, "{code}");
            assert!(c.code_is(code));
            assert_eq!(c.status, Some(400));
        }
        let built: SdkError<GetItemError> = SdkError::construction_failure("bad input");
        assert!(!classify("Op", &built).transient);
    }
}
