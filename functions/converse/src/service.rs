//! One interview turn at a time. A start analyses the gaps and asks the best
//! question; a turn reads the answer (facts with conversation provenance,
//! behavioural patterns, fatigue signals), saves everything, and asks the
//! next question or ends the session saying why. New facts go to the embed
//! queue like document facts; every turn emits `conversation.turn_completed`.

use career::behavior::{self, Pattern, PatternRecord};
use career::fatigue::{self, Decision};
use career::gaps;
use career::questioner::{self, Question};
use career::session::{Learned, Progress, Session, SessionStatus, Turn};
use domain::{Envelope, EventType, FactExtracted, FactText, UserId};
use facts::knowledge::RuleMatcher;
use facts::lexicon::SkillLexicon;
use ports::{LanguageModel, Prompt, Queue, QueueError, QueueName, Retryable, StoreError, TableStore};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use store::{ConversationRepo, KnowledgeRepo};

/// Longest answer accepted, in characters.
pub const MAX_ANSWER_CHARS: usize = 4000;
/// Most questions a session may be given.
pub const MAX_BUDGET: u32 = 20;
/// A turn's claim older than this belongs to a request that died: it is taken over.
pub const CLAIM_STALE_SECS: i64 = 60;

#[derive(Debug, thiserror::Error)]
pub enum ConverseError {
    #[error("no such session")]
    NotFound,
    #[error("the session has ended: {0}")]
    Ended(String),
    #[error("{detail}")]
    Invalid { code: &'static str, detail: String, limit: Option<u64> },
    /// Another request is answering this turn right now.
    #[error("turn {0} is being answered by another request")]
    InProgress(u32),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Queue(#[from] QueueError),
}

impl Retryable for ConverseError {
    fn is_retryable(&self) -> bool {
        match self {
            ConverseError::Store(e) => e.is_retryable(),
            ConverseError::Queue(e) => e.is_retryable(),
            _ => false,
        }
    }
}

/// What `start` and `turn` answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TurnView {
    pub session_id: String,
    pub status: SessionStatus,
    /// The turn just answered (0 after a start).
    pub turn: u32,
    /// The next question, while the session is active.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub question: Option<Question>,
    /// What the answer added to the profile.
    pub learned: Vec<Learned>,
    /// The work patterns the answer shows, with their quotes.
    pub patterns: Vec<Pattern>,
    pub progress: Progress,
    /// Why the session was shortened, when it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice: Option<String>,
    /// Why the session ended, when it has.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_reason: Option<String>,
}

fn view(session: &Session, turn: Option<&Turn>, notice: Option<String>) -> TurnView {
    TurnView {
        session_id: session.id.clone(),
        status: session.status,
        turn: turn.map_or(0, |t| t.number),
        question: session.pending.clone(),
        learned: turn.map(|t| t.learned.clone()).unwrap_or_default(),
        patterns: turn.map(|t| t.patterns.clone()).unwrap_or_default(),
        progress: session.progress(),
        notice,
        end_reason: session.end_reason.clone(),
    }
}

/// The interview, over the table and the queue.
pub struct ConversationService {
    knowledge: KnowledgeRepo,
    conversations: ConversationRepo,
    queue: Arc<dyn Queue>,
    lexicon: Arc<dyn SkillLexicon>,
    language_model: Option<Arc<dyn LanguageModel>>,
    budget: u32,
}

impl ConversationService {
    pub fn new(table: Arc<dyn TableStore>, queue: Arc<dyn Queue>, lexicon: Arc<dyn SkillLexicon>) -> Self {
        Self {
            knowledge: KnowledgeRepo::new(table.clone()),
            conversations: ConversationRepo::new(table),
            queue,
            lexicon,
            language_model: None,
            budget: fatigue::DEFAULT_BUDGET,
        }
    }

    /// Questions worded by a language model (Bedrock); templates otherwise.
    pub fn with_language_model(mut self, model: Arc<dyn LanguageModel>) -> Self {
        self.language_model = Some(model);
        self
    }

    /// The default number of questions per session.
    pub fn with_budget(mut self, budget: u32) -> Self {
        self.budget = budget.clamp(1, MAX_BUDGET);
        self
    }

    /// The template question, reworded by the model when one is set and its
    /// wording passes the checks; the template when the model fails.
    async fn phrase(&self, mut q: Question) -> Question {
        let Some(model) = &self.language_model else { return q };
        let prompt = Prompt {
            system: questioner::PHRASING_SYSTEM.to_owned(),
            user: questioner::phrasing_prompt(&q),
            max_tokens: 200,
            temperature: 0.3,
        };
        match model.complete(&prompt).await {
            Ok(text) => match questioner::accept_phrasing(&text, &q) {
                Some(text) => {
                    q.text = text;
                    q.phrased_by = model.model_id().to_owned();
                }
                None => tracing::warn!(model = model.model_id(), "question wording refused; the template stands"),
            },
            Err(e) => tracing::warn!(error = %e, "question wording failed; the template stands"),
        }
        q
    }

    /// Puts the next best question to the session, or ends it with `none_left`.
    async fn ask_next(&self, session: &mut Session, gaps: &[gaps::Gap], now: &str, none_left: &str) {
        match questioner::next_question(gaps, session) {
            Some(q) => {
                session.pending = Some(self.phrase(q).await);
                session.asked_at = Some(now.to_owned());
            }
            None => {
                session.status = SessionStatus::Ended;
                session.end_reason = Some(none_left.to_owned());
            }
        }
    }

    /// Starts a session: gaps analysed, first question chosen.
    pub async fn start(&self, user: &UserId, budget: Option<u32>) -> Result<TurnView, ConverseError> {
        let budget = match budget {
            Some(b) if b == 0 || b > MAX_BUDGET => {
                return Err(ConverseError::Invalid {
                    code: "invalid_budget",
                    detail: format!("budget must be 1 to {MAX_BUDGET} questions, got {b}"),
                    limit: Some(u64::from(MAX_BUDGET)),
                });
            }
            Some(b) => b,
            None => self.budget,
        };
        let now = domain::now_rfc3339();
        let knowledge = self.knowledge.load(user).await?;
        let covered = self.conversations.covered(user).await?;
        let gaps = gaps::analyze(&knowledge, &covered, career::today());
        let mut session = Session::new(uuid::Uuid::new_v4().to_string(), budget, &now);
        session.gaps_at_start = gaps.len();
        session.gaps_left = gaps.len();
        self.ask_next(&mut session, &gaps, &now, "the profile has no gaps worth asking about").await;
        self.conversations.save_session(user, &session).await?;
        tracing::info!(session = %session.id, gaps = gaps.len(), "conversation started");
        Ok(view(&session, None, None))
    }

    /// Where a session stands, to continue it (the pending question).
    pub async fn resume(&self, user: &UserId, id: &str) -> Result<TurnView, ConverseError> {
        let session = self.session(user, id).await?;
        let mut v = view(&session, None, None);
        v.turn = session.turns.len() as u32;
        Ok(v)
    }

    /// A session of `user` with its turns.
    pub async fn session(&self, user: &UserId, id: &str) -> Result<Session, ConverseError> {
        self.conversations.load(user, id).await?.ok_or(ConverseError::NotFound)
    }

    /// Answers the pending question. `turn` (optional) is the number of the
    /// turn being answered: a retried request for a turn already recorded
    /// gets that turn's result again, and changes nothing.
    pub async fn turn(
        &self,
        user: &UserId,
        session_id: &str,
        answer: &str,
        turn: Option<u32>,
    ) -> Result<TurnView, ConverseError> {
        if answer.chars().count() > MAX_ANSWER_CHARS {
            return Err(ConverseError::Invalid {
                code: "answer_too_long",
                detail: format!("an answer may have at most {MAX_ANSWER_CHARS} characters"),
                limit: Some(MAX_ANSWER_CHARS as u64),
            });
        }
        let session = self.session(user, session_id).await?;
        if let Some(n) = turn
            && let Some(done) = session.turns.iter().find(|t| t.number == n)
        {
            return Ok(view(&session, Some(done), None));
        }
        if session.status == SessionStatus::Ended {
            return Err(ConverseError::Ended(session.end_reason.clone().unwrap_or_default()));
        }
        let Some(question) = session.pending.clone() else {
            return Err(ConverseError::Ended("no question is waiting for an answer".into()));
        };
        let number = session.turns.len() as u32 + 1;
        if let Some(n) = turn
            && n != number
        {
            return Err(ConverseError::Invalid {
                code: "wrong_turn",
                detail: format!("turn {n} is not the one waiting for an answer (turn {number})"),
                limit: None,
            });
        }
        let now = domain::now_rfc3339();
        if !self.conversations.claim_turn(user, &session.id, number, &now, CLAIM_STALE_SECS).await? {
            return Err(ConverseError::InProgress(number));
        }
        let result = self.answer(user, session, question, number, answer, now).await;
        if result.is_err() {
            // A failed attempt frees the turn for the retry at once.
            if let Err(e) = self.conversations.release_turn(user, session_id, number).await {
                tracing::warn!(error = %e, "could not release the turn's claim; it goes stale in a minute");
            }
        }
        result
    }

    /// Reads the answer to turn `number` (claimed) and moves the session on.
    async fn answer(
        &self,
        user: &UserId,
        mut session: Session,
        question: Question,
        number: u32,
        answer: &str,
        now: String,
    ) -> Result<TurnView, ConverseError> {
        let session_id = session.id.clone();
        let session_id = session_id.as_str();
        let latency_ms =
            match (session.asked_at.as_deref().and_then(domain::parse_rfc3339), domain::parse_rfc3339(&now)) {
                (Some(a), Some(b)) => Some((b - a).whole_milliseconds().max(0) as u64),
                _ => None,
            };
        let earlier: Vec<&str> = session.turns.iter().map(|t| t.answer.as_str()).collect();
        let signals = fatigue::signals(answer, latency_ms, &earlier);
        let source = session.provenance(number);

        // What the answer teaches.
        let mut knowledge = self.knowledge.load(user).await?;
        let mut learned = Vec::new();
        let mut patterns = Vec::new();
        if !signals.skipped && !signals.stop_requested {
            let found =
                career::answers::learn(answer, &question, &knowledge, self.lexicon.as_ref(), &session.id, number, &now);
            let before = knowledge.edges.clone();
            let report = knowledge.merge(found, &RuleMatcher { today: career::today() }, &now);
            self.knowledge.save(user, &mut knowledge, &before, &now).await?;
            for (ids, new) in [(&report.added, true), (&report.merged, false)] {
                for id in ids {
                    if let Some(f) = knowledge.facts.get(id) {
                        learned.push(Learned { fact_id: id.clone(), kind: f.kind(), summary: f.value.summary(), new });
                    }
                }
            }
            patterns = behavior::patterns(answer);
            let ids: Vec<_> = learned.iter().map(|l| l.fact_id.clone()).collect();
            let records: Vec<PatternRecord> =
                patterns.iter().map(|p| PatternRecord::new(p, &source, ids.clone(), &now)).collect();
            self.conversations.save_patterns(user, &records).await?;
        }
        self.conversations.cover(user, &question.topic, &source, !signals.skipped).await?;
        let record = Turn {
            number,
            question,
            answer: answer.to_owned(),
            learned: learned.clone(),
            patterns: patterns.clone(),
            signals,
            answered_at: now.clone(),
        };
        match self.conversations.add_turn(user, &session.id, &record).await {
            Ok(()) => {}
            Err(StoreError::ConditionFailed) => {
                // Recorded meanwhile by a request that took over a stale claim: its answer stands.
                let again = self.session(user, session_id).await?;
                let done = again.turns.iter().find(|t| t.number == number).cloned();
                return Ok(view(&again, done.as_ref(), None));
            }
            Err(e) => return Err(e.into()),
        }
        session.turns.push(record);

        // Continue, shorten or end.
        let history: Vec<_> = session.turns.iter().map(|t| t.signals.clone()).collect();
        let mut notice = None;
        let covered = self.conversations.covered(user).await?;
        let gaps = gaps::analyze(&knowledge, &covered, career::today());
        session.gaps_left = gaps.len();
        session.pending = None;
        session.asked_at = None;
        match fatigue::assess(&history, session.budget) {
            Decision::End { reason } => {
                session.status = SessionStatus::Ended;
                session.end_reason = Some(reason);
            }
            decision => {
                if let Decision::Shorten { budget, reason } = decision {
                    session.budget = budget;
                    notice = Some(reason);
                }
                self.ask_next(&mut session, &gaps, &now, "no gaps are left worth asking about").await;
            }
        }
        session.updated_at = now.clone();
        self.conversations.save_session(user, &session).await?;

        // Out: the new facts to embedding, the turn to the insight queue.
        let done = session.turns.last().expect("the turn just added");
        if !done.learned.is_empty() {
            let texts: Vec<FactText> = done
                .learned
                .iter()
                .filter_map(|l| knowledge.facts.get(&l.fact_id))
                .filter(|f| !f.value.is_personal())
                .map(|f| FactText { fact_id: f.id.0.clone(), text: f.value.summary() })
                .collect();
            let event = Envelope::new(
                EventType::FactExtracted,
                FactExtracted::VERSION,
                user.clone(),
                &format!("{source}#facts"),
                FactExtracted { document_id: None, facts: texts },
            );
            let body = serde_json::to_string(&event).map_err(|e| StoreError::Permanent(e.to_string()))?;
            self.queue.send(QueueName::Embed, &body, &[("event_type", "personalization.fact.extracted")]).await?;
        }
        let completed = Envelope::new(
            EventType::ConversationTurnCompleted,
            TurnCompleted::VERSION,
            user.clone(),
            &source,
            TurnCompleted {
                session_id: session.id.clone(),
                turn: number,
                facts: done.learned.len() as u32,
                patterns: done.patterns.len() as u32,
                ended: session.status == SessionStatus::Ended,
            },
        );
        let body = serde_json::to_string(&completed).map_err(|e| StoreError::Permanent(e.to_string()))?;
        self.queue
            .send(QueueName::Insight, &body, &[("event_type", "personalization.conversation.turn_completed")])
            .await?;
        tracing::info!(
            session = %session.id,
            turn = number,
            facts = done.learned.len(),
            patterns = done.patterns.len(),
            ended = session.status == SessionStatus::Ended,
            "conversation turn completed"
        );
        Ok(view(&session, Some(done), notice))
    }
}

/// The data of `personalization.conversation.turn_completed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TurnCompleted {
    pub session_id: String,
    pub turn: u32,
    pub facts: u32,
    pub patterns: u32,
    pub ended: bool,
}

impl TurnCompleted {
    pub const VERSION: u32 = 1;
}
