//! Every table key and object key of the engine, in one place.

use domain::{DocumentId, DocumentKind, KindSource, UserId};

pub const DOCUMENT_PREFIX: &str = "DOC#";
pub const QUOTA_SK: &str = "QUOTA";
pub const IDEMPOTENCY_SK: &str = "-";
pub const EMBEDDING_PREFIX: &str = "EMB#";
pub const FACT_PREFIX: &str = "FACT#";
/// A skill fact's ontology concept: `SKILLMAP#{fact}`.
pub const SKILL_MAPPING_PREFIX: &str = "SKILLMAP#";
pub const PROVENANCE_PREFIX: &str = "PROV#";
pub const EDGE_PREFIX: &str = "EDGE#";
pub const AUDIT_PREFIX: &str = "AUDIT#";

/// Partition of everything a user owns.
pub fn user_pk(user: &UserId) -> String {
    format!("USER#{user}")
}

pub fn document_sk(doc: &DocumentId) -> String {
    format!("{DOCUMENT_PREFIX}{doc}")
}

/// A cached embedding of one normalised text under one model version.
pub fn embedding_sk(model_version: &str, text_hash: &str) -> String {
    format!("{EMBEDDING_PREFIX}{model_version}#{text_hash}")
}

/// A knowledge fact.
pub fn skill_mapping_sk(fact: &str) -> String {
    format!("{SKILL_MAPPING_PREFIX}{fact}")
}

pub fn fact_sk(fact: &str) -> String {
    format!("{FACT_PREFIX}{fact}")
}

/// One source of a fact; `source` is a stable hash of where it was read, so
/// reading the same place again writes the same item.
pub fn provenance_sk(fact: &str, source: &str) -> String {
    format!("{PROVENANCE_PREFIX}{fact}#{source}")
}

/// A graph edge `from -rel-> to`.
pub fn edge_sk(from: &str, rel: &str, to: &str) -> String {
    format!("{EDGE_PREFIX}{from}#{rel}#{to}")
}

/// An audit entry, ordered by time.
pub fn audit_sk(timestamp: &str, id: &str) -> String {
    format!("{AUDIT_PREFIX}{timestamp}#{id}")
}

pub fn idempotency_pk(doc: &DocumentId, stage: &str) -> String {
    format!("IDEM#{doc}#{stage}")
}

/// What the extract stage's marker records as done: the content, the kind it
/// was read as and who named that kind. A corrected kind is a new reading
/// (extracted again); a redelivery of the same reading is not.
pub fn extract_fingerprint(sha256: &str, kind: DocumentKind, source: KindSource) -> String {
    format!("{sha256}#{kind}#{}", source.as_str())
}

/// Object key of an uploaded original.
pub fn raw_object(user: &UserId, doc: &DocumentId) -> String {
    format!("raw/{user}/{doc}")
}

/// Object key of a quarantined original.
pub fn quarantine_object(user: &UserId, doc: &DocumentId) -> String {
    format!("quarantine/{user}/{doc}")
}

/// Object key of the extracted text (JSON array of pages).
pub fn text_object(user: &UserId, doc: &DocumentId) -> String {
    format!("text/{user}/{doc}.json")
}

/// Prefix of all of a user's objects under one area (`raw`, `quarantine`, `text`).
pub fn user_prefix(area: &str, user: &UserId) -> String {
    format!("{area}/{user}/")
}

/// Parses `raw/{user}/{doc}` back into its ids; anything else is `None`.
pub fn parse_raw_object(key: &str) -> Option<(UserId, DocumentId)> {
    let rest = key.strip_prefix("raw/")?;
    let (user, doc) = rest.split_once('/')?;
    Some((UserId::parse(user).ok()?, DocumentId::parse(doc).ok()?))
}

/// An interview session: `CONV#{session}`; its turns `CONV#{session}#TURN#{nnnn}`.
pub const CONVERSATION_PREFIX: &str = "CONV#";
pub fn conversation_sk(session: &str) -> String {
    format!("{CONVERSATION_PREFIX}{session}")
}
pub fn turn_sk(session: &str, turn: u32) -> String {
    format!("{CONVERSATION_PREFIX}{session}#TURN#{turn:04}")
}
/// The request answering a turn holds `CONV#{session}#CLAIM#{nnnn}` while it works.
pub fn claim_sk(session: &str, turn: u32) -> String {
    format!("{CONVERSATION_PREFIX}{session}#CLAIM#{turn:04}")
}

/// A topic the interview has covered (answered or declined): `TOPIC#{topic}`.
pub const TOPIC_PREFIX: &str = "TOPIC#";
pub fn topic_sk(topic: &str) -> String {
    format!("{TOPIC_PREFIX}{topic}")
}

/// A behavioural pattern: `PATTERN#{id}`.
pub const PATTERN_PREFIX: &str = "PATTERN#";
pub fn pattern_sk(id: &str) -> String {
    format!("{PATTERN_PREFIX}{id}")
}

/// Career insights: one item per version, `INSIGHT#v{nnnnnn}`, and the
/// pointer to the latest complete one, `INSIGHT#LATEST`.
pub const INSIGHT_VERSION_PREFIX: &str = "INSIGHT#v";
pub const INSIGHT_LATEST_SK: &str = "INSIGHT#LATEST";
pub fn insight_sk(version: u64) -> String {
    format!("{INSIGHT_VERSION_PREFIX}{version:06}")
}

/// The partition listing users whose knowledge changed (one item per user,
/// `USER#{user}`, with the time of the last change), read by the schedule.
pub const KNOWLEDGE_CHANGES_PK: &str = "KNOWLEDGE_CHANGES";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_keys_round_trip_and_strangers_are_refused() {
        let user = UserId::parse("u-1").unwrap();
        let doc = DocumentId::new();
        assert_eq!(parse_raw_object(&raw_object(&user, &doc)), Some((user.clone(), doc)));
        assert_eq!(parse_raw_object(&quarantine_object(&user, &doc)), None);
        assert_eq!(parse_raw_object("raw/u-1/not-a-uuid"), None);
        assert_eq!(parse_raw_object(&format!("raw/a/b/{doc}")), None);
    }

    #[test]
    fn extract_fingerprints_differ_by_kind_and_by_who_named_it() {
        let a = extract_fingerprint("abc", DocumentKind::Resume, KindSource::Classifier);
        assert_eq!(a, "abc#resume#classifier");
        assert_ne!(a, extract_fingerprint("abc", DocumentKind::CoverLetter, KindSource::Classifier));
        assert_ne!(a, extract_fingerprint("abc", DocumentKind::Resume, KindSource::User));
        assert_eq!(a, extract_fingerprint("abc", DocumentKind::Resume, KindSource::Classifier));
    }
}
