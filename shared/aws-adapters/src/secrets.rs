//! The database connection string from a Secrets Manager secret in the shape
//! RDS writes (`host`, `port`, `username`, `password`, `dbname`), read once at
//! cold start.

use crate::error::classify;
use serde::Deserialize;

/// Why the secret could not be turned into a connection string.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("secret unavailable: {0}")]
    Transient(String),
    #[error("secret {id}: {reason}")]
    Invalid { id: String, reason: String },
}

#[derive(Deserialize)]
struct DatabaseSecret {
    host: String,
    #[serde(default)]
    port: Option<serde_json::Value>,
    username: String,
    password: String,
    #[serde(default)]
    dbname: Option<String>,
}

/// Reads `secret_id` and returns a libpq key/value connection string with
/// `sslmode` (e.g. `require`); values are quoted, so any password works.
pub async fn database_connection_string(
    config: &aws_config::SdkConfig,
    secret_id: &str,
    sslmode: &str,
) -> Result<String, SecretError> {
    let client = aws_sdk_secretsmanager::Client::new(config);
    let out = client.get_secret_value().secret_id(secret_id).send().await.map_err(|e| {
        let c = classify("GetSecretValue", &e);
        if c.transient {
            SecretError::Transient(c.message)
        } else {
            SecretError::Invalid { id: secret_id.to_owned(), reason: c.message }
        }
    })?;
    let text = out
        .secret_string()
        .ok_or_else(|| SecretError::Invalid { id: secret_id.to_owned(), reason: "not a string secret".into() })?;
    connection_string_from_json(text, sslmode)
        .map_err(|reason| SecretError::Invalid { id: secret_id.to_owned(), reason })
}

/// The connection string for an RDS-style secret's JSON.
pub fn connection_string_from_json(json: &str, sslmode: &str) -> Result<String, String> {
    let secret: DatabaseSecret =
        serde_json::from_str(json).map_err(|e| format!("expected host, username, password: {e}"))?;
    let port = match secret.port {
        None => "5432".to_owned(),
        Some(serde_json::Value::Number(n)) => n.to_string(),
        Some(serde_json::Value::String(s)) => s,
        Some(other) => return Err(format!("port {other} is not a number")),
    };
    let quote = |v: &str| format!("'{}'", v.replace('\\', "\\\\").replace('\'', "\\'"));
    Ok(format!(
        "host={} port={} user={} password={} dbname={} sslmode={}",
        quote(&secret.host),
        quote(&port),
        quote(&secret.username),
        quote(&secret.password),
        quote(secret.dbname.as_deref().unwrap_or("postgres")),
        quote(sslmode),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rds_secrets_become_quoted_connection_strings() {
        let json = r#"{"engine":"postgres","host":"db.example","port":5432,"username":"app","password":"p'w\\d x","dbname":"kb"}"#;
        let s = connection_string_from_json(json, "require").unwrap();
        assert_eq!(s, r"host='db.example' port='5432' user='app' password='p\'w\\d x' dbname='kb' sslmode='require'");
        assert!(connection_string_from_json(r#"{"host":"h"}"#, "require").unwrap_err().contains("username"));
    }
}
