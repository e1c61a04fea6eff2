//! `POST /conversation/start`, `POST /conversation/turn` and
//! `GET /conversation/{session_id}`, scoped to the token's user: another
//! user's session id is simply not found.

use crate::service::{ConversationService, ConverseError, TurnView};
use api::{AuthUser, JwtVerifier, Problem};
use axum::extract::{FromRef, Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use career::session::Session;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

#[derive(Clone)]
pub struct ConversationState {
    pub verifier: Arc<JwtVerifier>,
    pub service: Arc<ConversationService>,
}

impl FromRef<ConversationState> for Arc<JwtVerifier> {
    fn from_ref(state: &ConversationState) -> Self {
        state.verifier.clone()
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartRequest {
    /// Questions in the session (1 to 20; 8 by default).
    #[serde(default)]
    pub budget: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TurnRequest {
    pub session_id: String,
    pub answer: String,
    /// The turn being answered; a retry of a recorded turn returns it again.
    #[serde(default)]
    pub turn: Option<u32>,
}

/// A session with its turns (`GET /conversation/{id}`).
#[derive(Debug, Serialize)]
pub struct SessionView {
    #[serde(flatten)]
    pub session: Session,
    pub turns: Vec<career::session::Turn>,
    pub progress: career::session::Progress,
}

pub fn problem(e: &ConverseError) -> Problem {
    match e {
        ConverseError::NotFound => Problem::not_found("the session"),
        ConverseError::Ended(reason) => Problem::new(
            StatusCode::CONFLICT,
            "session_ended",
            "Session ended",
            format!("the session has ended: {reason}; start a new one"),
        ),
        ConverseError::Invalid { code, detail, limit } => {
            let p = Problem::bad_request(code, detail.clone());
            match limit {
                Some(l) => p.with_limit(*l),
                None => p,
            }
        }
        ConverseError::InProgress(n) => Problem::new(
            StatusCode::CONFLICT,
            "turn_in_progress",
            "Turn in progress",
            format!("turn {n} is being answered by another request; retry with \"turn\": {n} to get its result"),
        ),
        ConverseError::Store(s) => api::dependency_problem("table store", s),
        ConverseError::Queue(q) => api::dependency_problem("queue", q),
    }
}

fn invalid_body(e: serde_json::Error) -> Problem {
    Problem::bad_request("invalid_body", format!("the JSON body is invalid: {e}"))
}

async fn start(
    State(state): State<ConversationState>,
    AuthUser(user): AuthUser,
    bytes: axum::body::Bytes,
) -> Result<(StatusCode, Json<TurnView>), Problem> {
    let request: StartRequest = if bytes.iter().all(u8::is_ascii_whitespace) {
        StartRequest::default()
    } else {
        serde_json::from_slice(&bytes).map_err(invalid_body)?
    };
    let view = state.service.start(&user, request.budget).await.map_err(|e| problem(&e))?;
    Ok((StatusCode::CREATED, Json(view)))
}

async fn turn(
    State(state): State<ConversationState>,
    AuthUser(user): AuthUser,
    bytes: axum::body::Bytes,
) -> Result<Json<TurnView>, Problem> {
    let request: TurnRequest = serde_json::from_slice(&bytes).map_err(invalid_body)?;
    let view =
        state.service.turn(&user, &request.session_id, &request.answer, request.turn).await.map_err(|e| problem(&e))?;
    Ok(Json(view))
}

async fn resume(
    State(state): State<ConversationState>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
) -> Result<Json<SessionView>, Problem> {
    let session = state.service.session(&user, &id).await.map_err(|e| problem(&e))?;
    let progress = session.progress();
    let turns = session.turns.clone();
    Ok(Json(SessionView { session, turns, progress }))
}

/// The conversation routes, to be nested under [`api::API_PREFIX`].
pub fn conversation_routes() -> Router<ConversationState> {
    Router::new()
        .route("/conversation/start", post(start))
        .route("/conversation/turn", post(turn))
        .route("/conversation/{session_id}", get(resume))
}
