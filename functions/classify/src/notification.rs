//! The S3 event notification carried in an SQS message body.

use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Notification {
    #[serde(rename = "Records", default)]
    records: Vec<Record>,
    /// `s3:TestEvent`, sent once when a notification is configured.
    #[serde(rename = "Event", default)]
    event: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Record {
    #[serde(rename = "eventName", default)]
    event_name: String,
    s3: S3Entity,
}

#[derive(Debug, Deserialize)]
struct S3Entity {
    object: S3Object,
}

#[derive(Debug, Deserialize)]
struct S3Object {
    key: String,
}

/// What a message body asks us to do.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    /// Object keys that were created (URL-decoded).
    Created(Vec<String>),
    /// A test event or non-creation events: nothing to do.
    Nothing,
}

/// Parses an S3 notification; `None` when the body is not one.
pub fn parse(body: &str) -> Option<Parsed> {
    let n: Notification = serde_json::from_str(body).ok()?;
    if n.event.as_deref() == Some("s3:TestEvent") {
        return Some(Parsed::Nothing);
    }
    if n.records.is_empty() {
        return None;
    }
    let keys: Vec<String> = n
        .records
        .into_iter()
        .filter(|r| r.event_name.starts_with("ObjectCreated"))
        .map(|r| decode_key(&r.s3.object.key))
        .collect();
    Some(if keys.is_empty() { Parsed::Nothing } else { Parsed::Created(keys) })
}

/// S3 URL-encodes keys in notifications, with `+` for spaces.
fn decode_key(key: &str) -> String {
    let spaced = key.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced).decode_utf8_lossy().into_owned()
}

/// An S3 ObjectCreated notification for one key: what the embedded blob store
/// enqueues so both runtimes feed classify the same message.
pub fn object_created(bucket: &str, key: &str, size: u64) -> String {
    let encoded: String = percent_encoding::utf8_percent_encode(key, percent_encoding::NON_ALPHANUMERIC)
        .to_string()
        .replace("%2F", "/")
        .replace("%2D", "-")
        .replace("%5F", "_")
        .replace("%2E", ".");
    serde_json::json!({
        "Records": [{
            "eventVersion": "2.1",
            "eventSource": "aws:s3",
            "eventName": "ObjectCreated:Put",
            "eventTime": domain::now_rfc3339(),
            "s3": {
                "s3SchemaVersion": "1.0",
                "bucket": { "name": bucket },
                "object": { "key": encoded, "size": size }
            }
        }]
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notifications_parse_and_keys_decode() {
        let body = object_created("b", "raw/u 1/x", 3);
        assert_eq!(parse(&body), Some(Parsed::Created(vec!["raw/u 1/x".into()])));
        assert_eq!(parse(r#"{"Event":"s3:TestEvent","Service":"Amazon S3"}"#), Some(Parsed::Nothing));
        assert_eq!(parse("not json"), None);
        assert_eq!(parse(r#"{"Records":[]}"#), None);
        let plus = r#"{"Records":[{"eventName":"ObjectCreated:Put","s3":{"object":{"key":"raw/a+b/c%3Ad"}}}]}"#;
        assert_eq!(parse(plus), Some(Parsed::Created(vec!["raw/a b/c:d".into()])));
        let removed = r#"{"Records":[{"eventName":"ObjectRemoved:Delete","s3":{"object":{"key":"raw/a/b"}}}]}"#;
        assert_eq!(parse(removed), Some(Parsed::Nothing));
    }

    #[test]
    fn the_sample_s3_event_parses() {
        let sample = include_str!("../../../events/classify/s3-object-created.json")
            .replace("{{USER}}", "alice")
            .replace("{{DOC}}", "d")
            .replace("{{BUCKET}}", "b");
        assert_eq!(parse(&sample), Some(Parsed::Created(vec!["raw/alice/d".into()])));
    }
}
