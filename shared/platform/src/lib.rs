//! Start-up plumbing shared by every binary: typed environment reading that
//! fails fast with the variable's name, and JSON tracing.

use std::str::FromStr;

/// A configuration variable that is missing or malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {name} is required")]
    Missing { name: &'static str },
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

/// A required variable.
pub fn required(name: &'static str) -> Result<String, ConfigError> {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => Ok(v),
        _ => Err(ConfigError::Missing { name }),
    }
}

/// An optional variable (empty counts as absent).
pub fn optional(name: &'static str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// A variable parsed into `T`, or `default` when absent.
pub fn parsed_or<T>(name: &'static str, default: T) -> Result<T, ConfigError>
where
    T: FromStr,
    T::Err: std::fmt::Display,
{
    match optional(name) {
        None => Ok(default),
        Some(raw) => raw.trim().parse().map_err(|e: T::Err| ConfigError::Invalid { name, reason: e.to_string() }),
    }
}

/// Chunking from `PERSONALIZATION_CHUNK_SIZE` and `PERSONALIZATION_CHUNK_OVERLAP`
/// (model tokens, special tokens included in the size).
pub fn chunk_config() -> Result<domain::chunking::ChunkConfig, ConfigError> {
    use domain::chunking::ChunkConfig;
    let size = parsed_or("PERSONALIZATION_CHUNK_SIZE", ChunkConfig::DEFAULT.size)?;
    let overlap = parsed_or("PERSONALIZATION_CHUNK_OVERLAP", ChunkConfig::DEFAULT.overlap)?;
    if size > 512 {
        return Err(ConfigError::Invalid {
            name: "PERSONALIZATION_CHUNK_SIZE",
            reason: format!("{size} tokens is more than the model's 512"),
        });
    }
    ChunkConfig::new(size, overlap)
        .map_err(|reason| ConfigError::Invalid { name: "PERSONALIZATION_CHUNK_OVERLAP", reason })
}

/// JSON logs to stderr, filtered by `RUST_LOG` (default `info`). Safe to call twice.
pub fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(true)
        .with_target(false)
        .without_time()
        .with_writer(std::io::stderr)
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_and_malformed_variables_are_named() {
        assert_eq!(
            required("PLATFORM_TEST_SURELY_UNSET"),
            Err(ConfigError::Missing { name: "PLATFORM_TEST_SURELY_UNSET" })
        );
        assert_eq!(parsed_or("PLATFORM_TEST_SURELY_UNSET", 4u32), Ok(4));
        let e = "x".parse::<u32>().map_err(|e| e.to_string()).unwrap_err();
        assert!(!e.is_empty());
    }
}
