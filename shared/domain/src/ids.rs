//! Identifiers that can only be built by parsing, so an invalid id never
//! reaches a storage key.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Why an identifier was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("user id is empty")]
    EmptyUser,
    #[error("user id is longer than {max} characters")]
    UserTooLong { max: usize },
    #[error("user id may only contain letters, digits and - _ . @ | :")]
    UserCharacters,
    #[error("document id is not a UUID")]
    BadDocument,
}

/// The authenticated user (the JWT `sub`). Safe to use inside storage keys and
/// object paths: no `/`, `#`, whitespace or control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct UserId(String);

impl UserId {
    pub const MAX_LEN: usize = 128;

    /// Parses a user id, refusing anything that could escape a key or a path.
    pub fn parse(raw: &str) -> Result<Self, IdError> {
        if raw.is_empty() {
            return Err(IdError::EmptyUser);
        }
        if raw.len() > Self::MAX_LEN {
            return Err(IdError::UserTooLong { max: Self::MAX_LEN });
        }
        let ok = raw.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@' | '|' | ':'));
        if !ok || raw == "." || raw == ".." {
            return Err(IdError::UserCharacters);
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A short stable digest for logs, so user ids never appear in clear.
    pub fn log_hash(&self) -> String {
        crate::sha256_hex(self.0.as_bytes())[..12].to_owned()
    }
}

impl TryFrom<String> for UserId {
    type Error = IdError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<UserId> for String {
    fn from(value: UserId) -> Self {
        value.0
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A document's id: a UUID chosen by the engine at upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DocumentId(uuid::Uuid);

impl DocumentId {
    /// A fresh random id.
    pub fn new() -> Self {
        Self(uuid::Uuid::new_v4())
    }

    pub fn parse(raw: &str) -> Result<Self, IdError> {
        uuid::Uuid::parse_str(raw).map(Self).map_err(|_| IdError::BadDocument)
    }

    pub fn as_uuid(&self) -> uuid::Uuid {
        self.0
    }
}

impl Default for DocumentId {
    fn default() -> Self {
        Self::new()
    }
}

impl TryFrom<String> for DocumentId {
    type Error = IdError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<DocumentId> for String {
    fn from(value: DocumentId) -> Self {
        value.0.hyphenated().to_string()
    }
}

impl fmt::Display for DocumentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.hyphenated())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_ids_that_could_escape_a_key_are_refused() {
        assert!(UserId::parse("auth0|abc-123").is_ok());
        assert_eq!(UserId::parse(""), Err(IdError::EmptyUser));
        assert_eq!(UserId::parse("a/b"), Err(IdError::UserCharacters));
        assert_eq!(UserId::parse("USER#x"), Err(IdError::UserCharacters));
        assert_eq!(UserId::parse(".."), Err(IdError::UserCharacters));
        assert!(matches!(UserId::parse(&"a".repeat(129)), Err(IdError::UserTooLong { .. })));
    }

    #[test]
    fn document_ids_round_trip() {
        let id = DocumentId::new();
        assert_eq!(DocumentId::parse(&id.to_string()), Ok(id));
        assert_eq!(DocumentId::parse("nope"), Err(IdError::BadDocument));
    }
}
