//! The insight function: regenerates a user's career insights when their
//! knowledge changes (`knowledge.updated`, `conversation.turn_completed` on
//! the insight queue) and on an EventBridge schedule (only for users whose
//! knowledge changed since their last insights), and serves `GET /insights`.

pub mod routes;
pub mod service;

pub use routes::{InsightState, insight_routes};
pub use service::{Generated, InsightError, InsightService, ScheduleReport};
