//! The state of one interview, persisted between turns (a session survives
//! a cold start and can be resumed).

use crate::behavior::Pattern;
use crate::fatigue::Signals;
use crate::questioner::Question;
use facts::model::{FactId, FactKind};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionStatus {
    Active,
    Ended,
}

/// A fact an answer added or strengthened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Learned {
    pub fact_id: FactId,
    pub kind: FactKind,
    pub summary: String,
    /// New to the profile (else it gained a source or a field).
    pub new: bool,
}

/// One question and its answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Turn {
    /// 1-based.
    pub number: u32,
    pub question: Question,
    pub answer: String,
    pub learned: Vec<Learned>,
    pub patterns: Vec<Pattern>,
    pub signals: Signals,
    pub answered_at: String,
}

/// Where the session stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    /// Questions answered.
    pub answered: u32,
    pub budget: u32,
    pub gaps_at_start: usize,
    pub gaps_left: usize,
    /// Share of the budget used, 0–100.
    pub percent: u32,
    pub fatigue: f32,
}

/// A session: its questions, answers and budget.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub id: String,
    pub status: SessionStatus,
    pub budget: u32,
    pub started_at: String,
    pub updated_at: String,
    pub gaps_at_start: usize,
    pub gaps_left: usize,
    /// The question waiting for an answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<Question>,
    /// When the pending question was asked (RFC 3339), for the answer's latency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asked_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_reason: Option<String>,
    /// Kept in their own items; loaded with the session.
    #[serde(skip)]
    pub turns: Vec<Turn>,
}

impl Session {
    pub fn new(id: String, budget: u32, now: &str) -> Session {
        Session {
            id,
            status: SessionStatus::Active,
            budget,
            started_at: now.to_owned(),
            updated_at: now.to_owned(),
            gaps_at_start: 0,
            gaps_left: 0,
            pending: None,
            asked_at: None,
            end_reason: None,
            turns: Vec::new(),
        }
    }

    pub fn progress(&self) -> Progress {
        let answered = self.turns.len() as u32;
        let history: Vec<Signals> = self.turns.iter().map(|t| t.signals.clone()).collect();
        Progress {
            answered,
            budget: self.budget,
            gaps_at_start: self.gaps_at_start,
            gaps_left: self.gaps_left,
            percent: if self.status == SessionStatus::Ended {
                100
            } else {
                (answered * 100 / self.budget.max(1)).min(100)
            },
            fatigue: crate::fatigue::fatigue(&history),
        }
    }

    /// The session's provenance prefix for a turn: `conversation/{session}/{turn}`.
    pub fn provenance(&self, turn: u32) -> String {
        format!("conversation/{}/{turn}", self.id)
    }
}
