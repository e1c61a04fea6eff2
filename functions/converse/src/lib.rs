//! The converse function: the adaptive interview behind
//! `POST /conversation/start` and `POST /conversation/turn` (and
//! `GET /conversation/{session_id}` to resume one).

pub mod routes;
pub mod service;

pub use routes::{ConversationState, conversation_routes};
pub use service::{ConversationService, ConverseError, TurnView};
