//! HTTP plumbing shared by the API functions: JWT auth, problem+json, the app
//! state and the document routes. One axum `Router` per API function, served by
//! `lambda_http` on Lambda and by hyper in the local runner.

pub mod auth;
pub mod documents;
pub mod knowledge;
pub mod ontology;
pub mod problem;
pub mod search;

pub use auth::{AuthUser, JwtVerifier};
pub use documents::{DocumentView, KindCorrectionError, PagesView, document_routes};
pub use knowledge::{KnowledgeView, knowledge_routes};
pub use ontology::{OntologyState, ontology_routes};
pub use problem::Problem;
pub use search::{SearchResponse, SearchState, search_routes};

use axum::extract::FromRef;
use domain::Limits;
use ports::{Ports, Retryable, StoreError};
use std::sync::Arc;
use store::{DocumentRepo, QuotaRepo};

/// Path prefix of every route.
pub const API_PREFIX: &str = "/api/v1/personalization";

/// Everything a request handler may use; built once at start.
#[derive(Clone)]
pub struct AppState {
    pub ports: Ports,
    pub verifier: Arc<JwtVerifier>,
    pub limits: Limits,
    pub documents: DocumentRepo,
    pub quota: QuotaRepo,
}

impl AppState {
    pub fn new(ports: Ports, verifier: Arc<JwtVerifier>, limits: Limits) -> Self {
        let documents = DocumentRepo::new(ports.table.clone());
        let quota = QuotaRepo::new(ports.table.clone());
        Self { ports, verifier, limits, documents, quota }
    }
}

impl FromRef<AppState> for Arc<JwtVerifier> {
    fn from_ref(state: &AppState) -> Self {
        state.verifier.clone()
    }
}

/// Maps a port failure to a problem: retryable ones are 503, the rest 500. The
/// cause is logged, never sent.
pub fn dependency_problem<E: Retryable + std::fmt::Display>(what: &str, error: &E) -> Problem {
    tracing::error!(dependency = what, error = %error, retryable = error.is_retryable(), "dependency failed");
    if error.is_retryable() {
        Problem::unavailable(format!("the {what} is temporarily unavailable; try again"))
    } else {
        Problem::internal()
    }
}

impl From<StoreError> for Problem {
    fn from(error: StoreError) -> Self {
        dependency_problem("table store", &error)
    }
}
