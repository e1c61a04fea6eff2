//! S3 presigned POST (browser upload form), built by hand: the SDK only
//! presigns single requests, not POST policies.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use ports::PresignedPost;
use sha2::Sha256;
use time::{Duration, OffsetDateTime, format_description::well_known::Rfc3339, macros::format_description};

/// Longest validity S3 accepts for SigV4 signatures.
pub(crate) const MAX_EXPIRES_SECS: u64 = 7 * 24 * 3600;

/// Everything a POST policy depends on.
#[derive(Debug, Clone)]
pub(crate) struct PostRequest<'a> {
    pub url: String,
    pub bucket: &'a str,
    pub key: &'a str,
    pub max_bytes: u64,
    pub expires_secs: u64,
    pub region: &'a str,
    pub access_key_id: &'a str,
    pub secret_access_key: &'a str,
    pub session_token: Option<&'a str>,
}

type HmacSha256 = Hmac<Sha256>;

pub(crate) fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length.
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// The SigV4 signing key: AWS4+secret -> date -> region -> service -> "aws4_request".
pub(crate) fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> Vec<u8> {
    let k_date = hmac_sha256(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k_region = hmac_sha256(&k_date, region.as_bytes());
    let k_service = hmac_sha256(&k_region, service.as_bytes());
    hmac_sha256(&k_service, b"aws4_request")
}

/// Builds the policy, signs it and returns the form fields, in the order a form should send them.
pub(crate) fn build(req: &PostRequest<'_>, now: OffsetDateTime) -> PresignedPost {
    let now = now.to_offset(time::UtcOffset::UTC).replace_nanosecond(0).unwrap_or(now);
    let expires = now + Duration::seconds(req.expires_secs.clamp(1, MAX_EXPIRES_SECS) as i64);

    let date = now.format(format_description!("[year][month][day]")).expect("formatting a date cannot fail");
    let amz_date = now
        .format(format_description!("[year][month][day]T[hour][minute][second]Z"))
        .expect("formatting a date cannot fail");
    let expiration = expires
        .format(format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].000Z"))
        .expect("formatting a date cannot fail");
    let credential = format!("{}/{date}/{}/s3/aws4_request", req.access_key_id, req.region);

    let mut conditions = vec![
        serde_json::json!({ "bucket": req.bucket }),
        serde_json::json!({ "key": req.key }),
        serde_json::json!(["content-length-range", 1, req.max_bytes]),
        serde_json::json!({ "x-amz-algorithm": "AWS4-HMAC-SHA256" }),
        serde_json::json!({ "x-amz-credential": credential }),
        serde_json::json!({ "x-amz-date": amz_date }),
    ];
    if let Some(token) = req.session_token {
        conditions.push(serde_json::json!({ "x-amz-security-token": token }));
    }
    conditions.push(serde_json::json!({ "x-amz-server-side-encryption": "AES256" }));
    let policy = serde_json::json!({ "expiration": expiration, "conditions": conditions });
    let policy_b64 = base64::engine::general_purpose::STANDARD.encode(policy.to_string());

    let key = signing_key(req.secret_access_key, &date, req.region, "s3");
    let signature = hex::encode(hmac_sha256(&key, policy_b64.as_bytes()));

    let mut fields = vec![
        ("key".to_owned(), req.key.to_owned()),
        ("policy".to_owned(), policy_b64),
        ("x-amz-algorithm".to_owned(), "AWS4-HMAC-SHA256".to_owned()),
        ("x-amz-credential".to_owned(), credential),
        ("x-amz-date".to_owned(), amz_date),
    ];
    if let Some(token) = req.session_token {
        fields.push(("x-amz-security-token".to_owned(), token.to_owned()));
    }
    fields.push(("x-amz-server-side-encryption".to_owned(), "AES256".to_owned()));
    fields.push(("x-amz-signature".to_owned(), signature));

    PresignedPost {
        url: req.url.clone(),
        fields,
        expires_at: expires.format(&Rfc3339).expect("formatting a date cannot fail"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn request(token: Option<&'static str>) -> PostRequest<'static> {
        PostRequest {
            url: "https://uploads.s3.eu-west-1.amazonaws.com".into(),
            bucket: "uploads",
            key: "raw/user-1/doc-1",
            max_bytes: 10_000_000,
            expires_secs: 300,
            region: "eu-west-1",
            access_key_id: "AKIDEXAMPLE",
            secret_access_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            session_token: token,
        }
    }

    fn field<'a>(post: &'a PresignedPost, name: &str) -> &'a str {
        post.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("no field {name}"))
    }

    /// Independent HMAC, straight from the `hmac` crate, step by step.
    fn mac(key: &[u8], data: &str) -> Vec<u8> {
        let mut m = Hmac::<Sha256>::new_from_slice(key).unwrap();
        m.update(data.as_bytes());
        m.finalize().into_bytes().to_vec()
    }

    #[test]
    fn signature_matches_an_independent_sigv4_chain() {
        let post = build(&request(None), datetime!(2015-12-29 01:02:03.456 UTC));
        let policy = field(&post, "policy");
        let k1 = mac(b"AWS4wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "20151229");
        let k2 = mac(&k1, "eu-west-1");
        let k3 = mac(&k2, "s3");
        let k4 = mac(&k3, "aws4_request");
        let expected = hex::encode(mac(&k4, policy));
        assert_eq!(field(&post, "x-amz-signature"), expected);
        assert_eq!(field(&post, "x-amz-date"), "20151229T010203Z");
        assert_eq!(field(&post, "x-amz-credential"), "AKIDEXAMPLE/20151229/eu-west-1/s3/aws4_request");
        assert_eq!(post.expires_at, "2015-12-29T01:07:03Z");
    }

    #[test]
    fn signing_key_matches_the_aws_documented_example() {
        // From the AWS SigV4 documentation ("Examples of how to derive a signing key").
        let key = signing_key("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215", "us-east-1", "iam");
        assert_eq!(hex::encode(key), "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
    }

    #[test]
    fn policy_has_the_expected_conditions_and_field_order() {
        let post = build(&request(None), datetime!(2015-12-29 00:00:00 UTC));
        let raw = base64::engine::general_purpose::STANDARD.decode(field(&post, "policy")).unwrap();
        let policy: serde_json::Value = serde_json::from_slice(&raw).unwrap();
        assert_eq!(policy["expiration"], "2015-12-29T00:05:00.000Z");
        let conditions = policy["conditions"].as_array().unwrap();
        assert!(conditions.contains(&serde_json::json!(["content-length-range", 1, 10_000_000])));
        assert!(conditions.contains(&serde_json::json!({"bucket": "uploads"})));
        assert!(conditions.contains(&serde_json::json!({"key": "raw/user-1/doc-1"})));
        assert!(conditions.contains(&serde_json::json!({"x-amz-server-side-encryption": "AES256"})));
        assert!(!raw.windows(20).any(|w| w == b"x-amz-security-token"));
        let names: Vec<&str> = post.fields.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "key",
                "policy",
                "x-amz-algorithm",
                "x-amz-credential",
                "x-amz-date",
                "x-amz-server-side-encryption",
                "x-amz-signature"
            ]
        );
    }

    #[test]
    fn session_token_is_a_condition_and_a_field() {
        let post = build(&request(Some("TOKEN/abc")), datetime!(2015-12-29 00:00:00 UTC));
        assert_eq!(field(&post, "x-amz-security-token"), "TOKEN/abc");
        let raw = base64::engine::general_purpose::STANDARD.decode(field(&post, "policy")).unwrap();
        let policy: serde_json::Value = serde_json::from_slice(&raw).unwrap();
        assert!(
            policy["conditions"]
                .as_array()
                .unwrap()
                .contains(&serde_json::json!({"x-amz-security-token": "TOKEN/abc"}))
        );
    }

    #[test]
    fn expiry_is_capped_at_seven_days() {
        let mut req = request(None);
        req.expires_secs = u64::MAX;
        let post = build(&req, datetime!(2015-12-29 00:00:00 UTC));
        assert_eq!(post.expires_at, "2016-01-05T00:00:00Z");
    }
}
