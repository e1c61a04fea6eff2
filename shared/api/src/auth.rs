//! JWT bearer authentication.
//!
//! Two key sources: an HS256 shared secret for local use, and a JWKS document
//! (RS256 only) for production. The algorithm is pinned by the key source, never
//! taken from the token, so `alg: none` and HS256/RS256 confusion are refused.
//! Keys are parsed once at start; verification never fetches anything (`jku`,
//! `x5u` and embedded `jwk` headers are ignored).

use crate::problem::Problem;
use axum::extract::{FromRef, FromRequestParts};
use axum::http::{HeaderMap, header, request::Parts};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use domain::UserId;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet, KeyAlgorithm, KeyOperations, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

/// Variable holding the expected `iss`.
pub const ENV_ISSUER: &str = "JWT_ISSUER";
/// Variable holding the expected `aud`.
pub const ENV_AUDIENCE: &str = "JWT_AUDIENCE";
/// Variable holding the HS256 secret (local use).
pub const ENV_HS256_SECRET: &str = "JWT_HS256_SECRET";
/// Variable holding the JWKS JSON document (production, RS256).
pub const ENV_JWKS: &str = "JWT_JWKS";

/// Shortest HS256 secret accepted, in bytes (RFC 7518 §3.2: at least the hash size).
pub const MIN_SECRET_LEN: usize = 32;
/// Clock skew tolerated on `exp` and `nbf`, in seconds.
pub const LEEWAY_SECS: u64 = 30;
/// Longest token accepted, in bytes; anything longer is refused before decoding.
pub const MAX_TOKEN_LEN: usize = 8 * 1024;

/// A secret whose `Debug` never prints its bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl Secret {
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Self(bytes.into())
    }

    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Where the verification keys come from.
#[derive(Debug, Clone)]
pub enum KeySource {
    /// A shared secret; only HS256 tokens are accepted. For local use.
    Hs256(Secret),
    /// A JWKS JSON document; only RS256 tokens with a known `kid` are accepted.
    Jwks(String),
}

/// What a valid token must carry and how to check its signature.
#[derive(Debug, Clone)]
pub struct JwtConfig {
    pub issuer: String,
    pub audience: String,
    pub keys: KeySource,
}

/// A JWT setting that is missing or unusable; always names the variable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {name} is required")]
    Missing { name: &'static str },
    #[error("set exactly one of {ENV_HS256_SECRET} (local) or {ENV_JWKS} (production)")]
    NoKeySource,
    #[error("set only one of {ENV_HS256_SECRET} or {ENV_JWKS}, not both")]
    BothKeySources,
    #[error("{name} must be at least {min} bytes long (got {actual})")]
    SecretTooShort { name: &'static str, min: usize, actual: usize },
    #[error("{name} is not a usable JWKS document: {reason}")]
    InvalidJwks { name: &'static str, reason: String },
}

impl JwtConfig {
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>, keys: KeySource) -> Self {
        Self { issuer: issuer.into(), audience: audience.into(), keys }
    }

    /// Reads `JWT_ISSUER`, `JWT_AUDIENCE` and exactly one of `JWT_HS256_SECRET`
    /// or `JWT_JWKS`. The keys are checked here so a bad deployment fails at start.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// [`JwtConfig::from_env`] over any variable lookup (empty counts as unset).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let issuer = get(ENV_ISSUER).ok_or(ConfigError::Missing { name: ENV_ISSUER })?;
        let audience = get(ENV_AUDIENCE).ok_or(ConfigError::Missing { name: ENV_AUDIENCE })?;
        let keys = match (get(ENV_HS256_SECRET), get(ENV_JWKS)) {
            (Some(_), Some(_)) => return Err(ConfigError::BothKeySources),
            (None, None) => return Err(ConfigError::NoKeySource),
            (Some(secret), None) => KeySource::Hs256(Secret::new(secret.into_bytes())),
            (None, Some(jwks)) => KeySource::Jwks(jwks),
        };
        let config = Self { issuer: issuer.trim().to_owned(), audience: audience.trim().to_owned(), keys };
        Keys::load(&config.keys)?;
        Ok(config)
    }
}

/// Why a token was refused. `Display` is the short reason sent to the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("missing bearer token")]
    MissingToken,
    #[error("authorization scheme must be Bearer")]
    NotBearer,
    #[error("malformed token")]
    Malformed,
    #[error("unsupported algorithm")]
    Algorithm,
    #[error("missing key id")]
    MissingKeyId,
    #[error("unknown key id")]
    UnknownKey,
    #[error("bad signature")]
    BadSignature,
    #[error("expired")]
    Expired,
    #[error("not yet valid")]
    NotYetValid,
    #[error("wrong issuer")]
    WrongIssuer,
    #[error("wrong audience")]
    WrongAudience,
    #[error("missing claim {0}")]
    MissingClaim(&'static str),
    #[error("invalid claim {0}")]
    InvalidClaim(&'static str),
    #[error("invalid subject")]
    BadSubject,
    #[error("verification failed")]
    Rejected,
}

impl From<&AuthError> for Problem {
    fn from(error: &AuthError) -> Self {
        match error {
            AuthError::MissingToken | AuthError::NotBearer => Problem::unauthorized(error.to_string()),
            _ => Problem::unauthorized(format!("invalid token: {error}")),
        }
    }
}

impl From<AuthError> for Problem {
    fn from(error: AuthError) -> Self {
        Problem::from(&error)
    }
}

/// Parsed verification keys.
enum Keys {
    Hs256(DecodingKey),
    /// RS256 keys by `kid`.
    Jwks(HashMap<String, DecodingKey>),
}

impl Keys {
    fn load(source: &KeySource) -> Result<Self, ConfigError> {
        match source {
            KeySource::Hs256(secret) => {
                if secret.len() < MIN_SECRET_LEN {
                    return Err(ConfigError::SecretTooShort {
                        name: ENV_HS256_SECRET,
                        min: MIN_SECRET_LEN,
                        actual: secret.len(),
                    });
                }
                let key = DecodingKey::from_secret(secret.expose()).map_err(|_| ConfigError::SecretTooShort {
                    name: ENV_HS256_SECRET,
                    min: MIN_SECRET_LEN,
                    actual: 0,
                })?;
                Ok(Self::Hs256(key))
            }
            KeySource::Jwks(document) => parse_jwks(document).map(Self::Jwks),
        }
    }
}

/// The RS256 signature keys of a JWKS, by `kid`. Keys for another algorithm or
/// use, or without a `kid`, are skipped; none left is an error.
fn parse_jwks(document: &str) -> Result<HashMap<String, DecodingKey>, ConfigError> {
    let invalid = |reason: String| ConfigError::InvalidJwks { name: ENV_JWKS, reason };
    let set: JwkSet = serde_json::from_str(document).map_err(|e| invalid(format!("not a JWK set ({e})")))?;
    let mut keys = HashMap::new();
    for jwk in &set.keys {
        let AlgorithmParameters::RSA(rsa) = &jwk.algorithm else { continue };
        let Some(kid) = jwk.common.key_id.as_deref().filter(|k| !k.is_empty()) else { continue };
        let alg_ok = jwk.common.key_algorithm.is_none_or(|alg| alg == KeyAlgorithm::RS256);
        let use_ok = jwk.common.public_key_use.as_ref().is_none_or(|u| *u == PublicKeyUse::Signature);
        let ops_ok = jwk.common.key_operations.as_ref().is_none_or(|ops| ops.contains(&KeyOperations::Verify));
        if !(alg_ok && use_ok && ops_ok) {
            continue;
        }
        let key = DecodingKey::from_rsa_components(&rsa.n, &rsa.e)
            .map_err(|_| invalid(format!("key {kid:?} has a malformed modulus or exponent")))?;
        if keys.insert(kid.to_owned(), key).is_some() {
            return Err(invalid(format!("duplicate kid {kid:?}")));
        }
    }
    if keys.is_empty() {
        return Err(invalid("no RS256 signature key with a kid".into()));
    }
    Ok(keys)
}

/// Verifies bearer tokens; built once at start and shared.
pub struct JwtVerifier {
    keys: Keys,
    algorithm: Algorithm,
    /// `algorithm` as spelled in a JOSE header.
    alg_name: &'static str,
    validation: Validation,
    issuer: String,
    audience: String,
}

impl fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("JwtVerifier");
        d.field("algorithm", &self.algorithm).field("issuer", &self.issuer).field("audience", &self.audience);
        match &self.keys {
            Keys::Hs256(_) => d.field("keys", &"hs256 [redacted]"),
            Keys::Jwks(keys) => {
                let mut kids: Vec<&str> = keys.keys().map(String::as_str).collect();
                kids.sort_unstable();
                d.field("kids", &kids)
            }
        };
        d.finish()
    }
}

#[derive(Deserialize)]
struct RawHeader {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    crit: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct Claims {
    #[serde(default)]
    sub: Option<serde_json::Value>,
}

impl JwtVerifier {
    pub fn new(config: &JwtConfig) -> Result<Self, ConfigError> {
        let keys = Keys::load(&config.keys)?;
        let (algorithm, alg_name) = match keys {
            Keys::Hs256(_) => (Algorithm::HS256, "HS256"),
            Keys::Jwks(_) => (Algorithm::RS256, "RS256"),
        };
        let mut validation = Validation::new(algorithm);
        validation.leeway = LEEWAY_SECS;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.validate_aud = true;
        validation.set_issuer(&[config.issuer.as_str()]);
        validation.set_audience(&[config.audience.as_str()]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        Ok(Self {
            keys,
            algorithm,
            alg_name,
            validation,
            issuer: config.issuer.clone(),
            audience: config.audience.clone(),
        })
    }

    /// Checks the signature and the claims and returns the token's user.
    pub fn verify(&self, token: &str) -> Result<UserId, AuthError> {
        if token.is_empty() || token.len() > MAX_TOKEN_LEN {
            return Err(AuthError::Malformed);
        }
        let header = read_header(token)?;
        // Pinned by the key source: never trust the token's own choice.
        if header.alg != self.alg_name {
            return Err(AuthError::Algorithm);
        }
        // No extension is understood, so a token that makes one critical is refused (RFC 7515 §4.1.11).
        if header.crit.is_some() {
            return Err(AuthError::Malformed);
        }
        let key = match &self.keys {
            Keys::Hs256(key) => key,
            Keys::Jwks(keys) => {
                let kid = header.kid.as_deref().ok_or(AuthError::MissingKeyId)?;
                keys.get(kid).ok_or(AuthError::UnknownKey)?
            }
        };
        let data = jsonwebtoken::decode::<Claims>(token, key, &self.validation).map_err(map_error)?;
        match data.claims.sub {
            Some(serde_json::Value::String(sub)) => UserId::parse(&sub).map_err(|_| AuthError::BadSubject),
            Some(_) => Err(AuthError::InvalidClaim("sub")),
            None => Err(AuthError::MissingClaim("sub")),
        }
    }
}

fn read_header(token: &str) -> Result<RawHeader, AuthError> {
    let mut parts = token.split('.');
    let (Some(header), Some(_), Some(_), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(AuthError::Malformed);
    };
    let bytes = URL_SAFE_NO_PAD.decode(header).map_err(|_| AuthError::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| AuthError::Malformed)
}

fn claim_name(claim: &str) -> &'static str {
    match claim {
        "exp" => "exp",
        "nbf" => "nbf",
        "iss" => "iss",
        "aud" => "aud",
        "sub" => "sub",
        _ => "unknown",
    }
}

fn map_error(error: jsonwebtoken::errors::Error) -> AuthError {
    match error.kind() {
        ErrorKind::InvalidToken | ErrorKind::Base64(_) | ErrorKind::Json(_) | ErrorKind::Utf8(_) => {
            AuthError::Malformed
        }
        ErrorKind::InvalidSignature => AuthError::BadSignature,
        ErrorKind::InvalidAlgorithm
        | ErrorKind::UnsupportedAlgorithm
        | ErrorKind::MissingAlgorithm
        | ErrorKind::InvalidAlgorithmName => AuthError::Algorithm,
        ErrorKind::ExpiredSignature => AuthError::Expired,
        ErrorKind::ImmatureSignature => AuthError::NotYetValid,
        ErrorKind::InvalidIssuer => AuthError::WrongIssuer,
        ErrorKind::InvalidAudience => AuthError::WrongAudience,
        ErrorKind::MissingRequiredClaim(claim) => AuthError::MissingClaim(claim_name(claim)),
        ErrorKind::InvalidClaimFormat(claim) => AuthError::InvalidClaim(claim_name(claim)),
        _ => AuthError::Rejected,
    }
}

/// The token of an `Authorization: Bearer <token>` header (scheme case-insensitive).
pub fn bearer_token(headers: &HeaderMap) -> Result<&str, AuthError> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let value = values.next().ok_or(AuthError::MissingToken)?;
    if values.next().is_some() {
        return Err(AuthError::Malformed);
    }
    let value = value.to_str().map_err(|_| AuthError::Malformed)?.trim();
    let (scheme, token) = value.split_once(' ').ok_or(AuthError::NotBearer)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AuthError::NotBearer);
    }
    let token = token.trim();
    if token.is_empty() {
        return Err(AuthError::MissingToken);
    }
    Ok(token)
}

/// The authenticated user of a request; refuses with a 401 problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthUser(pub UserId);

impl<S> FromRequestParts<S> for AuthUser
where
    Arc<JwtVerifier>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let verifier = Arc::<JwtVerifier>::from_ref(state);
        match bearer_token(&parts.headers).and_then(|token| verifier.verify(token)) {
            Ok(user) => Ok(Self(user)),
            Err(error) => {
                tracing::debug!(reason = %error, "bearer token refused");
                Err(Problem::from(&error))
            }
        }
    }
}

#[derive(Serialize)]
struct MintClaims<'a> {
    iss: &'a str,
    aud: &'a str,
    sub: &'a str,
    iat: u64,
    nbf: u64,
    exp: u64,
}

/// An HS256 token for `sub`, valid for `ttl_secs` (local runner and tests).
///
/// # Panics
/// If `secret` is empty.
pub fn mint_hs256(secret: &[u8], issuer: &str, audience: &str, sub: &str, ttl_secs: u64) -> String {
    let now = jsonwebtoken::get_current_timestamp();
    let claims = MintClaims { iss: issuer, aud: audience, sub, iat: now, nbf: now, exp: now.saturating_add(ttl_secs) };
    let key = EncodingKey::from_secret(secret).expect("an HS256 secret must not be empty");
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &key).expect("HS256 signing cannot fail")
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize, PublicKeyComponents};
    use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256};
    use axum::Router;
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use axum::routing::get;
    use http_body_util::BodyExt;
    use serde_json::{Value, json};
    use std::collections::HashMap;
    use std::sync::OnceLock;
    use tower::ServiceExt;

    const SECRET: &[u8] = b"unit-test-secret-that-is-at-least-32-bytes";
    const ISS: &str = "https://issuer.test/";
    const AUD: &str = "personalization";
    const KID: &str = "test-key-1";

    fn now() -> i64 {
        jsonwebtoken::get_current_timestamp() as i64
    }

    fn b64(bytes: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(bytes)
    }

    fn claims(sub: &str) -> Value {
        json!({ "iss": ISS, "aud": AUD, "sub": sub, "iat": now(), "exp": now() + 300 })
    }

    fn hs_verifier() -> JwtVerifier {
        JwtVerifier::new(&JwtConfig::new(ISS, AUD, KeySource::Hs256(Secret::new(SECRET)))).expect("verifier")
    }

    fn sign_hs256(claims: &Value, secret: &[u8]) -> String {
        let key = EncodingKey::from_secret(secret).expect("key");
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &key).expect("sign")
    }

    /// A token with a hand-written header, signed over `header.payload` by `sign`.
    fn craft(header: &Value, claims: &Value, sign: impl Fn(&[u8]) -> Vec<u8>) -> String {
        let message = format!("{}.{}", b64(header.to_string().as_bytes()), b64(claims.to_string().as_bytes()));
        let signature = sign(message.as_bytes());
        format!("{message}.{}", b64(&signature))
    }

    fn rsa_key() -> &'static RsaKeyPair {
        static KEY: OnceLock<RsaKeyPair> = OnceLock::new();
        KEY.get_or_init(|| RsaKeyPair::generate(KeySize::Rsa2048).expect("rsa key"))
    }

    fn other_rsa_key() -> &'static RsaKeyPair {
        static KEY: OnceLock<RsaKeyPair> = OnceLock::new();
        KEY.get_or_init(|| RsaKeyPair::generate(KeySize::Rsa2048).expect("rsa key"))
    }

    fn rs256_sign(key: &RsaKeyPair, message: &[u8]) -> Vec<u8> {
        let mut signature = vec![0; key.public_modulus_len()];
        key.sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), message, &mut signature).expect("rsa sign");
        signature
    }

    fn rs256_token(key: &RsaKeyPair, kid: Option<&str>, claims: &Value) -> String {
        let header = match kid {
            Some(kid) => json!({ "alg": "RS256", "typ": "JWT", "kid": kid }),
            None => json!({ "alg": "RS256", "typ": "JWT" }),
        };
        craft(&header, claims, |m| rs256_sign(key, m))
    }

    fn components(key: &RsaKeyPair) -> PublicKeyComponents<Vec<u8>> {
        PublicKeyComponents::<Vec<u8>>::from(key.public_key())
    }

    fn jwk(key: &RsaKeyPair, kid: &str, extra: Value) -> Value {
        let c = components(key);
        let mut jwk = json!({ "kty": "RSA", "kid": kid, "n": b64(&c.n), "e": b64(&c.e) });
        if let (Value::Object(jwk), Value::Object(extra)) = (&mut jwk, extra) {
            jwk.extend(extra);
        }
        jwk
    }

    fn jwks_verifier(keys: Vec<Value>) -> Result<JwtVerifier, ConfigError> {
        let document = json!({ "keys": keys }).to_string();
        JwtVerifier::new(&JwtConfig::new(ISS, AUD, KeySource::Jwks(document)))
    }

    fn rs_verifier() -> JwtVerifier {
        jwks_verifier(vec![
            jwk(rsa_key(), KID, json!({ "alg": "RS256", "use": "sig" })),
            jwk(other_rsa_key(), "enc-key", json!({ "alg": "RS256", "use": "enc" })),
            jwk(other_rsa_key(), "rs384-key", json!({ "alg": "RS384" })),
        ])
        .expect("jwks verifier")
    }

    // ---- HS256 -------------------------------------------------------------

    #[test]
    fn hs256_valid_token_gives_the_user() {
        let user = hs_verifier().verify(&sign_hs256(&claims("auth0|alice-1"), SECRET)).expect("valid");
        assert_eq!(user.as_str(), "auth0|alice-1");
    }

    #[test]
    fn minted_tokens_verify() {
        let token = mint_hs256(SECRET, ISS, AUD, "bob", 60);
        assert_eq!(hs_verifier().verify(&token).expect("valid").as_str(), "bob");
    }

    #[test]
    fn expired_token_is_refused_beyond_the_leeway_only() {
        let mut c = claims("alice");
        c["exp"] = json!(now() - 120);
        assert_eq!(hs_verifier().verify(&sign_hs256(&c, SECRET)), Err(AuthError::Expired));
        c["exp"] = json!(now() - 5);
        assert!(hs_verifier().verify(&sign_hs256(&c, SECRET)).is_ok(), "within the leeway");
    }

    #[test]
    fn missing_exp_is_refused() {
        let mut c = claims("alice");
        c.as_object_mut().unwrap().remove("exp");
        assert_eq!(hs_verifier().verify(&sign_hs256(&c, SECRET)), Err(AuthError::MissingClaim("exp")));
    }

    #[test]
    fn future_nbf_is_refused() {
        let mut c = claims("alice");
        c["nbf"] = json!(now() + 600);
        assert_eq!(hs_verifier().verify(&sign_hs256(&c, SECRET)), Err(AuthError::NotYetValid));
        c["nbf"] = json!(now() - 1);
        assert!(hs_verifier().verify(&sign_hs256(&c, SECRET)).is_ok());
    }

    #[test]
    fn wrong_audience_is_refused() {
        let mut c = claims("alice");
        c["aud"] = json!("someone-else");
        assert_eq!(hs_verifier().verify(&sign_hs256(&c, SECRET)), Err(AuthError::WrongAudience));
        c["aud"] = json!(["someone-else", AUD]);
        assert!(hs_verifier().verify(&sign_hs256(&c, SECRET)).is_ok(), "aud array containing ours");
        c.as_object_mut().unwrap().remove("aud");
        assert_eq!(hs_verifier().verify(&sign_hs256(&c, SECRET)), Err(AuthError::MissingClaim("aud")));
    }

    #[test]
    fn wrong_issuer_is_refused() {
        let mut c = claims("alice");
        c["iss"] = json!("https://evil.test/");
        assert_eq!(hs_verifier().verify(&sign_hs256(&c, SECRET)), Err(AuthError::WrongIssuer));
        c.as_object_mut().unwrap().remove("iss");
        assert_eq!(hs_verifier().verify(&sign_hs256(&c, SECRET)), Err(AuthError::MissingClaim("iss")));
    }

    #[test]
    fn alg_none_is_refused() {
        let header = json!({ "alg": "none", "typ": "JWT" });
        let token = craft(&header, &claims("alice"), |_| Vec::new());
        assert!(token.ends_with('.'), "empty signature");
        assert_eq!(hs_verifier().verify(&token), Err(AuthError::Algorithm));
        assert_eq!(rs_verifier().verify(&token), Err(AuthError::Algorithm));
        let header = json!({ "alg": "None", "typ": "JWT" });
        assert_eq!(hs_verifier().verify(&craft(&header, &claims("alice"), |_| Vec::new())), Err(AuthError::Algorithm));
    }

    #[test]
    fn tampered_payload_is_refused() {
        let token = sign_hs256(&claims("alice"), SECRET);
        let parts: Vec<&str> = token.split('.').collect();
        let forged = b64(claims("mallory").to_string().as_bytes());
        let tampered = format!("{}.{}.{}", parts[0], forged, parts[2]);
        assert_eq!(hs_verifier().verify(&tampered), Err(AuthError::BadSignature));
    }

    #[test]
    fn wrong_secret_is_refused() {
        let token = sign_hs256(&claims("alice"), b"another-secret-that-is-also-32-bytes-long!!");
        assert_eq!(hs_verifier().verify(&token), Err(AuthError::BadSignature));
    }

    #[test]
    fn missing_or_bad_sub_is_refused() {
        let mut c = claims("alice");
        c.as_object_mut().unwrap().remove("sub");
        assert_eq!(hs_verifier().verify(&sign_hs256(&c, SECRET)), Err(AuthError::MissingClaim("sub")));
        for bad in ["a/b", "", "..", "USER#x", "has space"] {
            assert_eq!(hs_verifier().verify(&sign_hs256(&claims(bad), SECRET)), Err(AuthError::BadSubject), "{bad:?}");
        }
        c["sub"] = json!(42);
        assert!(hs_verifier().verify(&sign_hs256(&c, SECRET)).is_err());
    }

    #[test]
    fn garbage_is_malformed() {
        let v = hs_verifier();
        for token in ["", "abc", "a.b", "a.b.c.d", "!!!.e30.", &"a".repeat(MAX_TOKEN_LEN + 1)] {
            assert_eq!(v.verify(token), Err(AuthError::Malformed), "{token:?}");
        }
    }

    #[test]
    fn crit_header_is_refused() {
        let header = json!({ "alg": "HS256", "crit": ["exp"], "exp": 1 });
        let key = EncodingKey::from_secret(SECRET).unwrap();
        let token = craft(&header, &claims("alice"), |m| {
            let sig = jsonwebtoken::crypto::sign(m, &key, Algorithm::HS256).unwrap();
            URL_SAFE_NO_PAD.decode(sig).unwrap()
        });
        assert_eq!(hs_verifier().verify(&token), Err(AuthError::Malformed));
    }

    #[test]
    fn rs256_token_is_refused_by_an_hs256_verifier() {
        let token = rs256_token(rsa_key(), Some(KID), &claims("alice"));
        assert_eq!(hs_verifier().verify(&token), Err(AuthError::Algorithm));
    }

    // ---- RS256 / JWKS ------------------------------------------------------

    #[test]
    fn rs256_valid_token_gives_the_user() {
        let token = rs256_token(rsa_key(), Some(KID), &claims("auth0|alice"));
        assert_eq!(rs_verifier().verify(&token).expect("valid").as_str(), "auth0|alice");
    }

    #[test]
    fn rs256_claims_are_checked_too() {
        let mut c = claims("alice");
        c["exp"] = json!(now() - 120);
        assert_eq!(rs_verifier().verify(&rs256_token(rsa_key(), Some(KID), &c)), Err(AuthError::Expired));
        let mut c = claims("alice");
        c["aud"] = json!("other");
        assert_eq!(rs_verifier().verify(&rs256_token(rsa_key(), Some(KID), &c)), Err(AuthError::WrongAudience));
    }

    #[test]
    fn unknown_or_missing_kid_is_refused() {
        let v = rs_verifier();
        assert_eq!(v.verify(&rs256_token(rsa_key(), Some("nope"), &claims("alice"))), Err(AuthError::UnknownKey));
        assert_eq!(v.verify(&rs256_token(rsa_key(), None, &claims("alice"))), Err(AuthError::MissingKeyId));
    }

    #[test]
    fn jwks_keys_for_another_alg_or_use_are_not_used() {
        let v = rs_verifier();
        for kid in ["enc-key", "rs384-key"] {
            let token = rs256_token(other_rsa_key(), Some(kid), &claims("alice"));
            assert_eq!(v.verify(&token), Err(AuthError::UnknownKey), "{kid}");
        }
    }

    #[test]
    fn signature_by_another_key_is_refused() {
        let token = rs256_token(other_rsa_key(), Some(KID), &claims("alice"));
        assert_eq!(rs_verifier().verify(&token), Err(AuthError::BadSignature));
    }

    #[test]
    fn alg_confusion_is_refused() {
        // HS256 "signed" with the public key material an attacker can fetch.
        let c = components(rsa_key());
        let public_der = rsa_key().public_key().as_ref().to_vec();
        let jwk_json = jwk(rsa_key(), KID, json!({})).to_string();
        let v = rs_verifier();
        for secret in [public_der, c.n.clone(), jwk_json.into_bytes()] {
            let key = EncodingKey::from_secret(&secret).unwrap();
            let mut header = Header::new(Algorithm::HS256);
            header.kid = Some(KID.into());
            let token = jsonwebtoken::encode(&header, &claims("alice"), &key).unwrap();
            assert_eq!(v.verify(&token), Err(AuthError::Algorithm));
        }
    }

    #[test]
    fn unusable_jwks_is_a_config_error() {
        let only_enc = jwks_verifier(vec![jwk(rsa_key(), KID, json!({ "use": "enc" }))]);
        assert!(matches!(only_enc, Err(ConfigError::InvalidJwks { name: ENV_JWKS, .. })));
        let no_kid = json!({ "keys": [{ "kty": "RSA", "n": b64(&components(rsa_key()).n), "e": "AQAB" }] });
        let config = JwtConfig::new(ISS, AUD, KeySource::Jwks(no_kid.to_string()));
        assert!(matches!(JwtVerifier::new(&config), Err(ConfigError::InvalidJwks { .. })));
        let duplicate = jwks_verifier(vec![jwk(rsa_key(), KID, json!({})), jwk(other_rsa_key(), KID, json!({}))]);
        assert!(matches!(duplicate, Err(ConfigError::InvalidJwks { .. })));
        let config = JwtConfig::new(ISS, AUD, KeySource::Jwks("not json".into()));
        let error = JwtVerifier::new(&config).unwrap_err();
        assert!(error.to_string().contains("JWT_JWKS"), "{error}");
    }

    // ---- configuration -----------------------------------------------------

    fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: HashMap<String, String> = vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        move |name| vars.get(name).cloned()
    }

    #[test]
    fn config_from_env_reads_each_key_source() {
        let secret = std::str::from_utf8(SECRET).unwrap();
        let config = JwtConfig::from_lookup(lookup(&[
            (ENV_ISSUER, ISS),
            (ENV_AUDIENCE, AUD),
            (ENV_HS256_SECRET, secret),
            (ENV_JWKS, ""),
        ]))
        .expect("hs256 config");
        assert!(matches!(&config.keys, KeySource::Hs256(s) if s.expose() == SECRET));
        assert_eq!(config.issuer, ISS);

        let jwks = json!({ "keys": [jwk(rsa_key(), KID, json!({ "alg": "RS256" }))] }).to_string();
        let config = JwtConfig::from_lookup(lookup(&[(ENV_ISSUER, ISS), (ENV_AUDIENCE, AUD), (ENV_JWKS, &jwks)]))
            .expect("jwks config");
        let token = rs256_token(rsa_key(), Some(KID), &claims("alice"));
        assert_eq!(JwtVerifier::new(&config).unwrap().verify(&token).unwrap().as_str(), "alice");
    }

    #[test]
    fn config_errors_name_the_variable() {
        let short =
            JwtConfig::from_lookup(lookup(&[(ENV_ISSUER, ISS), (ENV_AUDIENCE, AUD), (ENV_HS256_SECRET, "short")]))
                .unwrap_err();
        assert_eq!(short, ConfigError::SecretTooShort { name: ENV_HS256_SECRET, min: 32, actual: 5 });
        let message = short.to_string();
        assert!(message.contains("JWT_HS256_SECRET") && message.contains("32"), "{message}");

        let missing = JwtConfig::from_lookup(lookup(&[(ENV_AUDIENCE, AUD), (ENV_HS256_SECRET, "x")])).unwrap_err();
        assert!(missing.to_string().contains("JWT_ISSUER"), "{missing}");
        let missing = JwtConfig::from_lookup(lookup(&[(ENV_ISSUER, ISS), (ENV_HS256_SECRET, "x")])).unwrap_err();
        assert!(missing.to_string().contains("JWT_AUDIENCE"), "{missing}");

        let neither = JwtConfig::from_lookup(lookup(&[(ENV_ISSUER, ISS), (ENV_AUDIENCE, AUD)])).unwrap_err();
        assert_eq!(neither, ConfigError::NoKeySource);
        let both = JwtConfig::from_lookup(lookup(&[
            (ENV_ISSUER, ISS),
            (ENV_AUDIENCE, AUD),
            (ENV_HS256_SECRET, std::str::from_utf8(SECRET).unwrap()),
            (ENV_JWKS, "{}"),
        ]))
        .unwrap_err();
        assert_eq!(both, ConfigError::BothKeySources);

        let bad = JwtConfig::from_lookup(lookup(&[(ENV_ISSUER, ISS), (ENV_AUDIENCE, AUD), (ENV_JWKS, "{not json")]))
            .unwrap_err();
        assert!(matches!(bad, ConfigError::InvalidJwks { name: "JWT_JWKS", .. }), "{bad}");

        // The direct constructor checks the secret too.
        let config = JwtConfig::new(ISS, AUD, KeySource::Hs256(Secret::new(b"too-short".to_vec())));
        assert!(matches!(JwtVerifier::new(&config), Err(ConfigError::SecretTooShort { .. })));
    }

    #[test]
    fn secrets_never_reach_debug_output() {
        let config = JwtConfig::new(ISS, AUD, KeySource::Hs256(Secret::new(SECRET)));
        let printed = format!("{config:?} {:?}", JwtVerifier::new(&config).unwrap());
        assert!(printed.contains("[redacted]"), "{printed}");
        assert!(!printed.contains("unit-test-secret"), "{printed}");
        assert!(!printed.contains(&format!("{:?}", SECRET)), "{printed}");
    }

    // ---- extractor ---------------------------------------------------------

    fn app(verifier: JwtVerifier) -> Router {
        Router::new()
            .route("/me", get(|AuthUser(user): AuthUser| async move { user.to_string() }))
            .with_state(Arc::new(verifier))
    }

    async fn call(authorization: Option<String>) -> (StatusCode, HeaderMap, String) {
        let mut request = Request::builder().uri("/me");
        if let Some(value) = authorization {
            request = request.header(header::AUTHORIZATION, value);
        }
        let response = app(hs_verifier()).oneshot(request.body(Body::empty()).unwrap()).await.unwrap();
        let (parts, body) = response.into_parts();
        let bytes = body.collect().await.unwrap().to_bytes();
        (parts.status, parts.headers, String::from_utf8(bytes.to_vec()).unwrap())
    }

    fn assert_problem(status: StatusCode, headers: &HeaderMap, body: &str, detail: &str) {
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(headers[header::CONTENT_TYPE], "application/problem+json");
        assert_eq!(headers[header::WWW_AUTHENTICATE], "Bearer");
        let problem: Value = serde_json::from_str(body).unwrap();
        assert_eq!(problem["status"], 401);
        assert_eq!(problem["detail"], detail, "{body}");
    }

    #[tokio::test]
    async fn extractor_accepts_a_valid_bearer_token_with_any_scheme_case() {
        for scheme in ["Bearer", "bearer", "BEARER"] {
            let token = mint_hs256(SECRET, ISS, AUD, "alice@example.com", 60);
            let (status, _, body) = call(Some(format!("{scheme} {token}"))).await;
            assert_eq!(status, StatusCode::OK, "{scheme}: {body}");
            assert_eq!(body, "alice@example.com");
        }
    }

    #[tokio::test]
    async fn extractor_refuses_with_a_401_problem() {
        let (status, headers, body) = call(None).await;
        assert_problem(status, &headers, &body, "missing bearer token");

        let (status, headers, body) = call(Some("Basic YWxpY2U6cHc=".into())).await;
        assert_problem(status, &headers, &body, "authorization scheme must be Bearer");

        let mut c = claims("alice");
        c["exp"] = json!(now() - 3600);
        let (status, headers, body) = call(Some(format!("Bearer {}", sign_hs256(&c, SECRET)))).await;
        assert_problem(status, &headers, &body, "invalid token: expired");

        let token = mint_hs256(SECRET, ISS, "other-audience", "alice", 60);
        let (status, headers, body) = call(Some(format!("Bearer {token}"))).await;
        assert_problem(status, &headers, &body, "invalid token: wrong audience");

        let token = mint_hs256(SECRET, ISS, AUD, "a/b", 60);
        let (status, headers, body) = call(Some(format!("Bearer {token}"))).await;
        assert_problem(status, &headers, &body, "invalid token: invalid subject");
        assert!(!body.contains("a/b"), "the refused subject is not echoed: {body}");
    }
}
