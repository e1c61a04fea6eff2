//! `GET /insights`: the user's latest complete insights (regenerated first
//! when the knowledge changed since, or when there are none yet).

use crate::service::{InsightError, InsightService};
use api::{AuthUser, JwtVerifier, Problem};
use axum::extract::{FromRef, State};
use axum::routing::get;
use axum::{Json, Router};
use std::sync::Arc;
use store::InsightVersion;

#[derive(Clone)]
pub struct InsightState {
    pub verifier: Arc<JwtVerifier>,
    pub service: Arc<InsightService>,
}

impl FromRef<InsightState> for Arc<JwtVerifier> {
    fn from_ref(state: &InsightState) -> Self {
        state.verifier.clone()
    }
}

fn problem(e: &InsightError) -> Problem {
    match e {
        InsightError::Store(s) => api::dependency_problem("table store", s),
        InsightError::Queue(q) => api::dependency_problem("queue", q),
        other => {
            tracing::error!(error = %other, "insights failed");
            Problem::internal()
        }
    }
}

/// The latest insights of `user`: regenerated first when the knowledge
/// changed since (or when there are none yet), else served as stored.
pub async fn latest(service: &InsightService, user: &domain::UserId) -> Result<InsightVersion, InsightError> {
    service.generate(user, "request", false).await?;
    service.repo().latest(user).await?.ok_or_else(|| InsightError::Generation("no version after generating one".into()))
}

async fn get_insights(
    State(state): State<InsightState>,
    AuthUser(user): AuthUser,
) -> Result<Json<InsightVersion>, Problem> {
    latest(&state.service, &user).await.map(Json).map_err(|e| problem(&e))
}

pub fn insight_routes() -> Router<InsightState> {
    Router::new().route("/insights", get(get_insights))
}
