//! BehavioralExtractor: the work patterns a text shows (leadership,
//! ownership, collaboration, learning, problem solving, communication), each
//! with the sentence that shows it. Cues are phrases on word boundaries; a
//! pattern counts once per sentence.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PatternKind {
    Leadership,
    Ownership,
    Collaboration,
    Learning,
    ProblemSolving,
    Communication,
}

impl PatternKind {
    pub const ALL: [PatternKind; 6] = [
        PatternKind::Leadership,
        PatternKind::Ownership,
        PatternKind::Collaboration,
        PatternKind::Learning,
        PatternKind::ProblemSolving,
        PatternKind::Communication,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PatternKind::Leadership => "leadership",
            PatternKind::Ownership => "ownership",
            PatternKind::Collaboration => "collaboration",
            PatternKind::Learning => "learning",
            PatternKind::ProblemSolving => "problem_solving",
            PatternKind::Communication => "communication",
        }
    }

    /// How people name the pattern as a skill: a profile listing one of
    /// these claims it.
    pub fn claims(self) -> &'static [&'static str] {
        match self {
            PatternKind::Leadership => &[
                "leadership",
                "team leadership",
                "people management",
                "team management",
                "mentoring",
                "coaching",
                "management",
            ],
            PatternKind::Ownership => &["ownership", "accountability", "initiative"],
            PatternKind::Collaboration => &[
                "collaboration",
                "teamwork",
                "team player",
                "cross functional collaboration",
                "stakeholder management",
            ],
            PatternKind::Learning => &["fast learner", "continuous learning", "learning agility", "adaptability"],
            PatternKind::ProblemSolving => {
                &["problem solving", "troubleshooting", "analytical thinking", "critical thinking", "debugging"]
            }
            PatternKind::Communication => &[
                "communication",
                "communication skills",
                "presentation",
                "presentations",
                "public speaking",
                "writing",
            ],
        }
    }

    fn cues(self) -> &'static [&'static str] {
        match self {
            PatternKind::Leadership => &[
                "led",
                "lead a",
                "lead the",
                "leading",
                "managed a team",
                "managed the team",
                "manage a team",
                "mentored",
                "mentoring",
                "mentor",
                "coached",
                "supervised",
                "hired",
                "team of",
                "headed",
                "onboarded",
                "trained",
                "directed",
            ],
            PatternKind::Ownership => &[
                "owned",
                "took ownership",
                "ownership of",
                "responsible for",
                "end to end",
                "on my own",
                "took charge",
                "accountable",
                "i decided",
                "i drove",
                "drove",
                "volunteered to",
                "took the initiative",
            ],
            PatternKind::Collaboration => &[
                "worked with",
                "worked closely",
                "partnered",
                "collaborated",
                "cross functional",
                "together with",
                "alongside",
                "stakeholders",
                "with the team",
                "with other teams",
                "paired with",
            ],
            PatternKind::Learning => &[
                "learned",
                "learnt",
                "taught myself",
                "picked up",
                "self taught",
                "a course",
                "studied",
                "upskilled",
                "new to me",
                "got certified",
            ],
            PatternKind::ProblemSolving => &[
                "solved",
                "debugged",
                "root cause",
                "diagnosed",
                "troubleshot",
                "troubleshooting",
                "fixed",
                "investigated",
                "figured out",
                "resolved",
                "optimised",
                "optimized",
                "automated",
            ],
            PatternKind::Communication => &[
                "presented",
                "wrote",
                "documented",
                "explained",
                "communicated",
                "reported to",
                "workshop",
                "workshops",
                "negotiated",
                "briefed",
            ],
        }
    }
}

/// One pattern shown by one sentence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pattern {
    pub kind: PatternKind,
    /// The sentence that shows it, as written.
    pub quote: String,
    /// The cues found in it.
    pub cues: Vec<String>,
    pub confidence: f32,
}

/// Lowercase words separated by single spaces, padded with a space each side.
fn padded(text: &str) -> String {
    let words: Vec<String> = crate::words(&text.replace('-', " "));
    format!(" {} ", words.join(" "))
}

/// Every pattern in `text`, sentence by sentence, in order.
pub fn patterns(text: &str) -> Vec<Pattern> {
    let mut out = Vec::new();
    for (s, e) in crate::sentences(text) {
        let sentence = &text[s..e];
        let words = padded(sentence);
        let first_person = words.contains(" i ") || words.contains(" we ") || words.contains(" my ");
        for kind in PatternKind::ALL {
            let cues: Vec<String> =
                kind.cues().iter().filter(|c| words.contains(&format!(" {c} "))).map(|c| (*c).to_owned()).collect();
            if cues.is_empty() {
                continue;
            }
            let confidence = (0.6 + 0.1 * (cues.len() as f32 - 1.0) + if first_person { 0.05 } else { 0.0 }).min(0.9);
            out.push(Pattern {
                kind,
                quote: sentence.to_owned(),
                cues,
                confidence: (confidence * 100.0).round() / 100.0,
            });
        }
    }
    out
}

/// Whether a skill name claims the pattern ("Team leadership" claims leadership).
pub fn claims(skill: &str, kind: PatternKind) -> bool {
    let name = padded(skill);
    kind.claims().iter().any(|c| name.trim() == *c || (c.contains(' ') && name.contains(&format!(" {c} "))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_sentence_shows_its_patterns_with_the_quote() {
        let found = patterns("I led a team of 4 analysts. We worked closely with finance to fix the root cause.");
        let kinds: Vec<(PatternKind, &str)> = found.iter().map(|p| (p.kind, p.quote.as_str())).collect();
        assert_eq!(
            kinds,
            [
                (PatternKind::Leadership, "I led a team of 4 analysts."),
                (PatternKind::Collaboration, "We worked closely with finance to fix the root cause."),
                (PatternKind::ProblemSolving, "We worked closely with finance to fix the root cause."),
            ]
        );
        assert!(patterns("The weather was nice.").is_empty());
    }

    #[test]
    fn a_skill_name_claims_a_pattern() {
        assert!(claims("Team Leadership", PatternKind::Leadership));
        assert!(claims("leadership", PatternKind::Leadership));
        assert!(!claims("SQL", PatternKind::Leadership));
    }
}

/// A pattern as stored (`PATTERN#{id}`): where it was said, and the facts
/// learned from the same answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PatternRecord {
    /// Stable: the hash of the kind, the source and the quote.
    pub id: String,
    pub kind: PatternKind,
    pub quote: String,
    pub cues: Vec<String>,
    pub confidence: f32,
    /// `conversation/{session}/{turn}`.
    pub source: String,
    #[serde(default)]
    pub facts: Vec<facts::model::FactId>,
    pub at: String,
}

impl PatternRecord {
    pub fn new(p: &Pattern, source: &str, facts: Vec<facts::model::FactId>, at: &str) -> PatternRecord {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(format!("{}|{source}|{}", p.kind.as_str(), p.quote).as_bytes());
        PatternRecord {
            id: hex::encode(&digest[..8]),
            kind: p.kind,
            quote: p.quote.clone(),
            cues: p.cues.clone(),
            confidence: p.confidence,
            source: source.to_owned(),
            facts,
            at: at.to_owned(),
        }
    }
}
