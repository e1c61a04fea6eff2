//! `GET /search?q=&k=`: semantic search over the caller's own chunks and facts.

use crate::{AuthUser, JwtVerifier, Problem, dependency_problem};
use axum::extract::{FromRef, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use ports::{SearchHit, TextEmbedder, VectorStore};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Longest query accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 1000;
/// Most hits one search returns.
pub const MAX_K: usize = 50;
pub const DEFAULT_K: usize = 10;

/// What the search routes need; built once at start.
#[derive(Clone)]
pub struct SearchState {
    pub verifier: Arc<JwtVerifier>,
    pub embedder: Arc<dyn TextEmbedder>,
    pub vectors: Arc<dyn VectorStore>,
}

impl FromRef<SearchState> for Arc<JwtVerifier> {
    fn from_ref(state: &SearchState) -> Self {
        state.verifier.clone()
    }
}

#[derive(Debug, Deserialize)]
pub struct SearchParams {
    #[serde(default)]
    pub q: Option<String>,
    #[serde(default)]
    pub k: Option<String>,
}

/// The answer of `GET /search` (also what `personalize search --json` prints).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchResponse {
    pub query: String,
    pub k: usize,
    pub model: String,
    pub hits: Vec<SearchHit>,
}

/// A required text parameter: trimmed, not empty, at most `max` characters.
#[allow(clippy::result_large_err)] // a Problem is built at most once per request
pub(crate) fn text_param(raw: Option<&str>, param: &str, what: &str, max: usize) -> Result<String, Problem> {
    let text = raw.map(str::trim).unwrap_or_default();
    if text.is_empty() {
        return Err(Problem::bad_request("missing_query", format!("give {what} in the `{param}` parameter")));
    }
    let chars = text.chars().count();
    if chars > max {
        return Err(Problem::bad_request(
            "query_too_long",
            format!("the query has {chars} characters; the limit is {max}"),
        )
        .with_limit(max as u64));
    }
    Ok(text.to_owned())
}

/// An optional whole-number parameter in 1..=`max`, `default` when absent.
#[allow(clippy::result_large_err)]
pub(crate) fn count_param(raw: Option<&str>, param: &str, default: usize, max: usize) -> Result<usize, Problem> {
    match raw {
        None | Some("") => Ok(default),
        Some(raw) => match raw.parse::<usize>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(Problem::bad_request(
                &format!("invalid_{param}"),
                format!("{param} must be a whole number from 1 to {max}, not {raw:?}"),
            )
            .with_limit(max as u64)),
        },
    }
}

/// Checks the parameters: a non-empty query of at most [`MAX_QUERY_CHARS`], and `k` in 1..=[`MAX_K`].
#[allow(clippy::result_large_err)] // a Problem is built at most once per request
pub fn validate(params: &SearchParams) -> Result<(String, usize), Problem> {
    let q = text_param(params.q.as_deref(), "q", "the search text", MAX_QUERY_CHARS)?;
    let k = count_param(params.k.as_deref(), "k", DEFAULT_K, MAX_K)?;
    Ok((q, k))
}

/// Embeds the query and searches the user's vectors.
pub async fn search(
    embedder: Arc<dyn TextEmbedder>,
    vectors: &dyn VectorStore,
    user: &domain::UserId,
    query: String,
    k: usize,
) -> Result<SearchResponse, Problem> {
    let model = embedder.model_version().to_owned();
    let text = query.clone();
    let vector = tokio::task::spawn_blocking(move || embedder.embed(&[text.as_str()]))
        .await
        .map_err(|_| Problem::internal())?
        .map_err(|e| dependency_problem("embedding model", &e))?
        .pop()
        .ok_or_else(Problem::internal)?;
    let hits = vectors.search(user, &vector, k).await.map_err(|e| dependency_problem("vector store", &e))?;
    Ok(SearchResponse { query, k, model, hits })
}

async fn search_route(
    State(state): State<SearchState>,
    AuthUser(user): AuthUser,
    Query(params): Query<SearchParams>,
) -> Result<Json<SearchResponse>, Problem> {
    let (q, k) = validate(&params)?;
    let started = std::time::Instant::now();
    let response = search(state.embedder.clone(), state.vectors.as_ref(), &user, q, k).await?;
    tracing::info!(hits = response.hits.len(), k, latency_ms = started.elapsed().as_millis() as u64, "search");
    Ok(Json(response))
}

/// `/search`, to be nested under [`crate::API_PREFIX`].
pub fn search_routes() -> Router<SearchState> {
    Router::new().route("/search", get(search_route))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(q: Option<&str>, k: Option<&str>) -> SearchParams {
        SearchParams { q: q.map(String::from), k: k.map(String::from) }
    }

    #[test]
    fn parameters_are_checked_with_their_limits() {
        assert_eq!(validate(&params(Some(" kafka "), None)).unwrap(), ("kafka".into(), DEFAULT_K));
        assert_eq!(validate(&params(Some("x"), Some("50"))).unwrap().1, 50);
        assert_eq!(validate(&params(None, None)).unwrap_err().code, "missing_query");
        assert_eq!(validate(&params(Some("  "), None)).unwrap_err().code, "missing_query");
        let long = "a".repeat(MAX_QUERY_CHARS + 1);
        let e = validate(&params(Some(&long), None)).unwrap_err();
        assert_eq!((e.code.as_str(), e.limit), ("query_too_long", Some(MAX_QUERY_CHARS as u64)));
        for bad in ["0", "51", "-1", "ten"] {
            let e = validate(&params(Some("x"), Some(bad))).unwrap_err();
            assert_eq!((e.code.as_str(), e.limit), ("invalid_k", Some(MAX_K as u64)), "{bad}");
        }
    }
}
