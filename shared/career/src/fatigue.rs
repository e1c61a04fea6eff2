//! FatigueManager: reads each answer's length, latency, skips, repetition
//! and tone, and shortens or ends the session before the user tires, saying
//! why. A session also has a turn budget.

use serde::{Deserialize, Serialize};

/// The default number of questions in a session.
pub const DEFAULT_BUDGET: u32 = 8;
/// Fewer words than this (and no number) is a terse answer.
pub const TERSE_WORDS: usize = 4;
/// An answer slower than this counts as hesitation.
pub const SLOW_MS: u64 = 90_000;

/// What one answer says about the user's energy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Signals {
    pub words: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u64>,
    /// Empty, or "skip", "pass", "no idea", ...
    pub skipped: bool,
    /// Very short and without a number.
    pub terse: bool,
    /// Mostly the same words as an earlier answer.
    pub repeated: bool,
    /// −1 (annoyed, tired) to 1 (keen).
    pub sentiment: f32,
    /// The user asked to stop.
    pub stop_requested: bool,
}

const SKIPS: &[&str] = &[
    "skip",
    "pass",
    "next",
    "no idea",
    "not sure",
    "dont know",
    "don't know",
    "i don't know",
    "n a",
    "na",
    "none",
    "nothing",
    "no",
    "-",
];
const STOPS: &[&str] = &[
    "stop",
    "i'm done",
    "im done",
    "i am done",
    "that's enough",
    "thats enough",
    "enough",
    "let's stop",
    "quit",
    "end",
];
const NEGATIVE: &[&str] = &[
    "tired",
    "boring",
    "bored",
    "annoying",
    "annoyed",
    "whatever",
    "again",
    "already told",
    "already said",
    "enough",
    "tedious",
    "exhausted",
    "busy",
    "later",
    "meh",
    "ugh",
];
const POSITIVE: &[&str] = &["happy", "glad", "proud", "enjoyed", "love", "great", "excited", "sure"];

/// The signals of one answer, given the earlier answers of the session.
pub fn signals(answer: &str, latency_ms: Option<u64>, earlier: &[&str]) -> Signals {
    let trimmed = answer.trim();
    let lower = trimmed.to_lowercase();
    let plain: String = lower.trim_end_matches(['.', '!', '?']).trim().to_owned();
    let words = crate::words(trimmed);
    let has_number = trimmed.chars().any(|c| c.is_ascii_digit());
    let skipped = trimmed.is_empty() || SKIPS.contains(&plain.as_str());
    let padded = format!(" {} ", words.join(" "));
    // A stop word counts in a short answer ("Stop, I'm done"), not in a story
    // ("we had to stop the project").
    let stop_requested = (words.len() <= 6 && STOPS.iter().any(|s| padded.contains(&format!(" {s} "))))
        || lower.contains("stop asking")
        || lower.contains("no more questions");
    let count = |list: &[&str]| list.iter().filter(|w| padded.contains(&format!(" {w} "))).count() as f32;
    let (neg, pos) = (count(NEGATIVE), count(POSITIVE));
    let sentiment = if neg + pos == 0.0 { 0.0 } else { (pos - neg) / (pos + neg) };
    let mine: std::collections::BTreeSet<&str> = words.iter().map(String::as_str).collect();
    let repeated = !mine.is_empty()
        && earlier.iter().any(|e| {
            let theirs: Vec<String> = crate::words(e);
            let theirs: std::collections::BTreeSet<&str> = theirs.iter().map(String::as_str).collect();
            let shared = mine.intersection(&theirs).count() as f32;
            let union = mine.union(&theirs).count() as f32;
            union > 0.0 && shared / union >= 0.8
        });
    Signals {
        words: words.len(),
        latency_ms,
        skipped,
        terse: !skipped && words.len() < TERSE_WORDS && !has_number,
        repeated,
        sentiment,
        stop_requested,
    }
}

/// What the manager decides after an answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Decision {
    Continue,
    /// Ask fewer questions: the budget drops to `budget`.
    Shorten {
        budget: u32,
        reason: String,
    },
    End {
        reason: String,
    },
}

/// Tiredness of one answer, 0 (fresh) to 1.
fn strain(s: &Signals, first_words: usize) -> f32 {
    let mut x: f32 = 0.0;
    if s.skipped {
        x += 1.0;
    }
    if s.terse {
        x += 0.6;
    }
    if s.repeated {
        x += 0.5;
    }
    if s.sentiment < 0.0 {
        x += 0.4 * -s.sentiment;
    }
    if s.latency_ms.is_some_and(|l| l > SLOW_MS) {
        x += 0.3;
    }
    if first_words >= 12 && s.words * 3 < first_words {
        x += 0.3;
    }
    x.min(1.0)
}

/// The fatigue score after these answers: the strain of the last three, the
/// latest counting twice.
pub fn fatigue(history: &[Signals]) -> f32 {
    let first = history.first().map_or(0, |s| s.words);
    let last: Vec<&Signals> = history.iter().rev().take(3).collect();
    if last.is_empty() {
        return 0.0;
    }
    let total: f32 = last.iter().enumerate().map(|(i, s)| strain(s, first) * if i == 0 { 2.0 } else { 1.0 }).sum();
    let score = total / (last.len() as f32 + 1.0);
    (score * 100.0).round() / 100.0
}

/// Decides after the answer to turn `history.len()` of a session whose
/// budget is `budget` questions.
pub fn assess(history: &[Signals], budget: u32) -> Decision {
    let Some(last) = history.last() else { return Decision::Continue };
    let done = history.len() as u32;
    if last.stop_requested {
        return Decision::End { reason: "you asked to stop; everything you said so far is saved".into() };
    }
    let low = |s: &Signals| s.skipped || s.terse;
    if history.len() >= 2 && history[history.len() - 2..].iter().all(low) {
        return Decision::End {
            reason: "the last two answers were skipped or very short: ending before this becomes a chore".into(),
        };
    }
    if done >= budget {
        return Decision::End { reason: format!("the session's budget of {budget} questions is used up") };
    }
    let score = fatigue(history);
    if score >= 0.8 {
        return Decision::End { reason: format!("signs of fatigue (score {score:.2}): ending early") };
    }
    if score >= 0.4 && budget > done + 1 {
        return Decision::Shorten {
            budget: done + 1,
            reason: format!("answers are getting shorter or slower (fatigue {score:.2}): one last question"),
        };
    }
    Decision::Continue
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skips_and_terse_answers_end_the_session() {
        let a = signals("I rebuilt the reporting pipeline in Python and it cut the run to 2 hours", None, &[]);
        let b = signals("skip", None, &[]);
        let c = signals("ok fine", None, &[]);
        assert!(!a.skipped && !a.terse && b.skipped && c.terse);
        assert_eq!(assess(std::slice::from_ref(&a), 8), Decision::Continue);
        assert!(matches!(assess(&[a, b, c], 8), Decision::End { reason } if reason.contains("skipped or very short")));
    }

    #[test]
    fn a_stop_request_ends_at_once_and_the_budget_bounds_the_session() {
        let stop = signals("Stop, I'm done for today", None, &[]);
        assert!(stop.stop_requested);
        assert!(matches!(assess(&[stop], 8), Decision::End { reason } if reason.contains("asked to stop")));
        let fine = signals("We shipped the migration two weeks early with no downtime at all", None, &[]);
        assert!(matches!(assess(&[fine.clone(), fine], 2), Decision::End { reason } if reason.contains("budget of 2")));
    }

    #[test]
    fn repetition_and_annoyance_shorten_the_session() {
        let first = "I led the migration of our billing system to Kubernetes over six months with a team of three";
        let a = signals(first, None, &[]);
        let b = signals("ugh, I already told you, this is boring", Some(120_000), &[first]);
        let d = assess(&[a, b], 8);
        assert!(matches!(d, Decision::Shorten { budget: 3, .. }), "{d:?}");
    }
}
