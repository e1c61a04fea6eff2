//! Answers to knowledge: the facts an answer states, each with provenance
//! `conversation/{session}/{turn}` and the exact words it was read from.
//!
//! - A sentence with a number is a quantified achievement (of the question's
//!   job when there is one).
//! - In a story (STAR or evidence questions) a sentence of five words or more
//!   is a responsibility of that job.
//! - Skills named in the answer become skill facts; the job then USED them.
//! - An answer to "when did you study …" gives that education its dates.

use crate::questioner::{Question, QuestionType};
use facts::dates::find_ranges;
use facts::extract::Found;
use facts::knowledge::Knowledge;
use facts::lexicon::SkillLexicon;
use facts::model::{Extracted, FactValue, Provenance, Skill, SkillSource, Source, Statement};

pub const EXTRACTOR: &str = "interview";
pub const EXTRACTOR_VERSION: &str = "1";

fn provenance(session: &str, turn: u32, quote: &str, confidence: f32, at: &str) -> Provenance {
    Provenance {
        source: Source::Conversation { session: session.to_owned(), turn },
        text: quote.to_owned(),
        extractor: EXTRACTOR.to_owned(),
        extractor_version: EXTRACTOR_VERSION.to_owned(),
        confidence,
        at: at.to_owned(),
    }
}

/// The facts of `answer` to `question`.
pub fn learn(
    answer: &str,
    question: &Question,
    knowledge: &Knowledge,
    lexicon: &dyn SkillLexicon,
    session: &str,
    turn: u32,
    at: &str,
) -> Vec<Found> {
    let mut out: Vec<Found> = Vec::new();
    let fact = |value: FactValue, quote: &str, confidence: f32| Found {
        fact: Extracted { value, provenance: provenance(session, turn, quote, confidence, at) },
        parent: None,
    };
    // Education dates.
    if question.kind == QuestionType::Clarification
        && let Some(id) = question.facts.first()
        && let Some(FactValue::Education(e)) = knowledge.facts.get(id).map(|f| &f.value)
    {
        if let Some(found) = find_ranges(answer, true).into_iter().next() {
            let mut dated = e.clone();
            dated.dates = Some(found.range);
            out.push(fact(FactValue::Education(dated), &answer[found.start..found.end], 0.8));
        }
        return out;
    }
    let story = matches!(question.kind, QuestionType::Star | QuestionType::Evidence | QuestionType::Quantification);
    let mut skills_seen: Vec<String> = Vec::new();
    for (s, e) in crate::sentences(answer) {
        let sentence = answer[s..e].trim_end_matches(['.', '!', ';']).trim();
        let words = crate::words(sentence).len();
        if words < 3 {
            continue;
        }
        let metrics = facts::metrics::metrics(sentence);
        let statement = Statement { text: sentence.to_owned(), metrics: metrics.clone(), job: question.job.clone() };
        if !metrics.is_empty() {
            out.push(fact(FactValue::Achievement(statement), sentence, 0.8));
        } else if story && words >= 5 && question.kind != QuestionType::Quantification {
            out.push(fact(FactValue::Responsibility(statement), sentence, 0.7));
        }
        for mention in lexicon.mentions(sentence) {
            if !skills_seen.contains(&mention.name) {
                skills_seen.push(mention.name.clone());
                let skill = Skill { name: mention.name.clone(), category: None, source: SkillSource::Mentioned };
                out.push(fact(FactValue::Skill(skill), &sentence[mention.start..mention.end], 0.7));
            }
        }
    }
    out
}
