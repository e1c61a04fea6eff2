//! AdaptiveQuestioner: the next question by its expected value for the
//! profile: the gap's score, lowered for a question type just used (variety)
//! and for a subject the user just skipped, raised for a follow-up on what
//! the last answer taught (STAR, then quantification). A topic asked once in
//! the session is never asked again, and gaps come from the current profile,
//! so nothing the profile already answers is asked.

use crate::gaps::{Gap, GapKind};
use crate::session::Session;
use facts::model::FactId;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuestionType {
    /// Situation, task, action, result: a story of one achievement.
    Star,
    /// A number for something already said.
    Quantification,
    /// Evidence for a claimed or required skill.
    Evidence,
    /// Filling in a fact: dates, a period.
    Clarification,
}

impl QuestionType {
    pub fn of(kind: GapKind) -> QuestionType {
        match kind {
            GapKind::JobWithoutAchievements => QuestionType::Star,
            GapKind::UnquantifiedAchievement => QuestionType::Quantification,
            GapKind::TargetSkillUnevidenced | GapKind::SkillNotEvidenced => QuestionType::Evidence,
            GapKind::UnexplainedDateGap | GapKind::EducationWithoutDates => QuestionType::Clarification,
        }
    }
}

/// A question put to the user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Question {
    pub text: String,
    pub kind: QuestionType,
    pub topic: String,
    pub gap: GapKind,
    /// Why this question: the gap's reason.
    pub reason: String,
    pub subject: String,
    /// Expected value when chosen.
    pub value: f32,
    pub facts: Vec<FactId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<FactId>,
    /// "template" or the language model's id.
    pub phrased_by: String,
}

/// The question a template writes for a gap.
pub fn template(gap: &Gap) -> String {
    let s = &gap.subject;
    match gap.kind {
        GapKind::JobWithoutAchievements => format!(
            "As {s}, what is one result you are proud of? Tell me the situation, what you did, and what changed because of it."
        ),
        GapKind::UnquantifiedAchievement => {
            format!(
                "You wrote \"{s}\". How big was the effect? A number helps: a percentage, an amount, a count or time saved."
            )
        }
        GapKind::TargetSkillUnevidenced => {
            format!("The role you are aiming for asks for {s}. Where have you used {s}, and what did you do with it?")
        }
        GapKind::SkillNotEvidenced => format!(
            "You list {s} as a skill. Which project or job shows it best, and what did you build or achieve with it?"
        ),
        GapKind::UnexplainedDateGap => {
            format!("What were you doing from {s}? Study, travel, care, freelance work all count.")
        }
        GapKind::EducationWithoutDates => format!("When did you start and finish {s}?"),
    }
}

/// How much a gap is worth asking about now, in this session.
pub fn expected_value(gap: &Gap, session: &Session) -> f32 {
    let kind = QuestionType::of(gap.kind);
    let recent: Vec<QuestionType> = session.turns.iter().rev().take(2).map(|t| t.question.kind).collect();
    let mut value = gap.score;
    if recent.first() == Some(&kind) {
        value *= 0.75;
    } else if recent.get(1) == Some(&kind) {
        value *= 0.9;
    }
    if let Some(last) = session.turns.last() {
        let learned: Vec<&FactId> = last.learned.iter().map(|l| &l.fact_id).collect();
        if gap.facts.iter().any(|f| learned.contains(&f)) {
            // A follow-up on what the user just said.
            value *= 1.2;
        }
        if last.signals.skipped && gap.job.is_some() && gap.job == last.question.job {
            value *= 0.6;
        }
    }
    (value * 1000.0).round() / 1000.0
}

/// The next question for the session, or `None` when no gap is left to ask.
pub fn next_question(gaps: &[Gap], session: &Session) -> Option<Question> {
    let asked: Vec<&str> = session.turns.iter().map(|t| t.question.topic.as_str()).collect();
    gaps.iter()
        .filter(|g| !asked.contains(&g.topic.as_str()))
        .map(|g| (expected_value(g, session), g))
        .max_by(|a, b| a.0.total_cmp(&b.0).then_with(|| b.1.topic.cmp(&a.1.topic)))
        .map(|(value, gap)| Question {
            text: template(gap),
            kind: QuestionType::of(gap.kind),
            topic: gap.topic.clone(),
            gap: gap.kind,
            reason: gap.reason.clone(),
            subject: gap.subject.clone(),
            value,
            facts: gap.facts.clone(),
            job: gap.job.clone(),
            phrased_by: "template".to_owned(),
        })
}

/// Instructions for a language model that rewords a question. The template
/// question is the first line of the user message.
pub const PHRASING_SYSTEM: &str = "You are a friendly career coach interviewing someone about their work history. \
Rewrite the question on the first line of the message so it sounds natural and warm. Keep every name, title and \
number in it, ask one question only, and answer with the question alone, no preamble.";

/// The user message for rewording `q`.
pub fn phrasing_prompt(q: &Question) -> String {
    format!("{}\n\nWhy it is asked: {}\nQuestion type: {:?}", q.text, q.reason, q.kind)
}

/// A reworded question, if it is usable: one line or two, under 400
/// characters, a question, and it still names the subject's first word.
pub fn accept_phrasing(candidate: &str, q: &Question) -> Option<String> {
    let text = candidate.trim().trim_matches('"').trim();
    if text.is_empty() || text.len() > 400 || !text.contains('?') || text.lines().count() > 2 {
        return None;
    }
    let key = crate::words(&q.subject).into_iter().find(|w| w.len() > 2);
    if let Some(key) = key
        && !text.to_lowercase().contains(&key)
    {
        return None;
    }
    Some(text.to_owned())
}
