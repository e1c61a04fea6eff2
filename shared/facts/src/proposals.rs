//! The language-model pass over a document: the model proposes facts as
//! strict JSON, each with the exact text it read it from; a proposal whose
//! text is not in the document (a hallucination), whose shape is not a fact,
//! or whose kind is unknown is dropped. What survives carries provenance like
//! any other fact and is merged with the rule-based ones.

use crate::extract::{Doc, Found};
use crate::model::FactValue;
use serde::Deserialize;

/// Instructions for the model: the JSON shape it must answer with.
pub const SYSTEM_PROMPT: &str = r#"You extract career facts from a document. Answer with JSON only, no prose, in exactly this shape:
{"facts": [{"kind": "<kind>", "value": {...}, "source_text": "<exact text copied from the document>"}]}
Kinds and their values:
- job: {"title", "organisation", "location", "dates": {"start": "YYYY-MM", "end": "YYYY-MM", "current": bool, "raw", "confidence"}}
- achievement / responsibility: {"text", "metrics": []}
- education: {"degree", "field", "institution", "dates", "grade"}
- skill: {"name", "source": "listed" or "mentioned"}
- certification: {"name", "issuer", "credential_id"}
- language: {"name", "level"}
Leave out what the document does not state. "source_text" must be copied character for character from the document."#;

/// Longest document text sent, in characters (the prompt must fit the model's context).
pub const MAX_PROMPT_CHARS: usize = 24_000;

#[derive(Deserialize)]
struct Answer {
    facts: Vec<Proposal>,
}

#[derive(Deserialize)]
struct Proposal {
    kind: String,
    value: serde_json::Value,
    source_text: String,
}

/// What became of the model's answer.
#[derive(Debug, Default, PartialEq)]
pub struct ProposalReport {
    pub accepted: usize,
    /// Proposals whose source text is not in the document.
    pub not_in_document: usize,
    /// Proposals that are not a valid fact of a known kind.
    pub invalid: usize,
}

/// Why an answer was unusable as a whole.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("the model's answer is not the JSON asked for: {0}")]
pub struct MalformedAnswer(pub String);

/// The user message: the document's pages, marked, cut at [`MAX_PROMPT_CHARS`].
pub fn user_prompt(doc: &Doc<'_>) -> String {
    let mut out = String::new();
    for page in doc.pages {
        if out.len() >= MAX_PROMPT_CHARS {
            break;
        }
        out.push_str(&format!("=== page {} ===\n", page.page));
        let room = MAX_PROMPT_CHARS.saturating_sub(out.len());
        out.extend(page.text.chars().take(room));
        out.push('\n');
    }
    out
}

/// Validates the model's answer against the document and turns what holds
/// into facts with provenance (`extractor` is the model id).
pub fn accept(doc: &Doc<'_>, answer: &str, model_id: &str) -> Result<(Vec<Found>, ProposalReport), MalformedAnswer> {
    // Models sometimes wrap JSON in a fenced block; take the outermost object.
    let start = answer.find('{').ok_or_else(|| MalformedAnswer("no JSON object".into()))?;
    let end = answer.rfind('}').ok_or_else(|| MalformedAnswer("no JSON object".into()))?;
    let parsed: Answer = serde_json::from_str(&answer[start..=end]).map_err(|e| MalformedAnswer(e.to_string()))?;
    let mut report = ProposalReport::default();
    let mut found = Vec::new();
    for proposal in parsed.facts {
        let needle = proposal.source_text.trim();
        let located = doc.lines.iter().find_map(|line| {
            let page = doc.page_text(line);
            (!needle.is_empty()).then(|| page.find(needle).map(|at| (line, at))).flatten()
        });
        let Some((line, at)) = located else {
            report.not_in_document += 1;
            continue;
        };
        let tagged = serde_json::json!({ "kind": proposal.kind, "value": proposal.value });
        let Ok(value) = serde_json::from_value::<FactValue>(tagged) else {
            report.invalid += 1;
            continue;
        };
        let mut fact = doc.fact(value, line, at, at + needle.len(), 0.6);
        fact.provenance.extractor = model_id.to_owned();
        fact.provenance.extractor_version = "1".into();
        found.push(Found { fact, parent: None });
        report.accepted += 1;
    }
    Ok((found, report))
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::{DocumentId, PageText};

    #[test]
    fn proposals_are_kept_only_when_their_text_is_in_the_document() {
        let pages = vec![PageText { page: 1, text: "Jane\nStaff Engineer at Hooli, 2019 - 2023\nPython".into() }];
        let doc = Doc::new(DocumentId::new(), &pages, "t");
        let answer = r#"```json
{"facts": [
  {"kind": "job", "value": {"title": "Staff Engineer", "organisation": "Hooli"}, "source_text": "Staff Engineer at Hooli, 2019 - 2023"},
  {"kind": "skill", "value": {"name": "Python", "source": "listed"}, "source_text": "Python"},
  {"kind": "skill", "value": {"name": "COBOL", "source": "listed"}, "source_text": "COBOL"},
  {"kind": "spaceship", "value": {}, "source_text": "Jane"}
]}
```"#;
        let (found, report) = accept(&doc, answer, "bedrock:test").unwrap();
        assert_eq!(report, ProposalReport { accepted: 2, not_in_document: 1, invalid: 1 });
        assert_eq!(found[0].fact.provenance.text, "Staff Engineer at Hooli, 2019 - 2023");
        assert_eq!(found[0].fact.provenance.extractor, "bedrock:test");
        assert!(accept(&doc, "Sure! Here are the facts: none", "m").is_err());
        assert!(accept(&doc, r#"{"facts": [{"kind": "job"}]}"#, "m").is_err());
    }
}
