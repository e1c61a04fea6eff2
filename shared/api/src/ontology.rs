//! Reference data: `GET /skills/search`, `GET /skills/{id}` and
//! `GET /occupations/search` over the skill ontology (ESCO and O*NET). The
//! data is public but the routes still need a valid token; every answer
//! carries the sources' attribution (both are CC BY 4.0).

use crate::{AuthUser, JwtVerifier, Problem};
use axum::extract::{FromRef, Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use ontology::model::{ConceptKind, Scheme};
use ontology::{Hit, Ontology, OntologyError};
use ports::TextEmbedder;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

pub const MAX_QUERY_CHARS: usize = 200;
pub const MAX_CONTEXT_CHARS: usize = 1000;
pub const MAX_LIMIT: usize = 50;
pub const DEFAULT_LIMIT: usize = 10;

/// What the ontology routes need; built once per container.
#[derive(Clone)]
pub struct OntologyState {
    pub verifier: Arc<JwtVerifier>,
    pub ontology: Arc<Ontology>,
    pub embedder: Arc<dyn TextEmbedder>,
    /// The users' knowledge, for `/occupations/mine` (scoped to the token's user).
    pub knowledge: Option<store::KnowledgeRepo>,
}

impl FromRef<OntologyState> for Arc<JwtVerifier> {
    fn from_ref(state: &OntologyState) -> Self {
        state.verifier.clone()
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct LookupParams {
    #[serde(default)]
    pub q: Option<String>,
    #[serde(default)]
    pub limit: Option<String>,
    #[serde(default)]
    pub scheme: Option<String>,
    /// A sentence around the term, to choose between its meanings.
    #[serde(default)]
    pub context: Option<String>,
}

/// A checked lookup.
#[derive(Debug, Clone, PartialEq)]
pub struct Lookup {
    pub q: String,
    pub limit: usize,
    pub scheme: Option<Scheme>,
    pub context: Option<String>,
}

/// One result of a search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConceptHit {
    /// "esco:skill/…", "onet:tech/python", "onet:15-1252.00", "esco:occupation/…".
    pub id: String,
    /// The O*NET-SOC code or the ESCO URI.
    pub code: String,
    pub scheme: String,
    pub kind: String,
    /// The preferred label.
    pub label: String,
    /// An occupation's title (the same as its label).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The name that matched.
    pub matched: String,
    pub score: f32,
    /// exact_label, alias, normalised, typo, semantic.
    pub reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distance: Option<u32>,
}

/// The answer of `/skills/search` and `/occupations/search` (and of
/// `personalize skills|occupations --json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LookupResponse {
    pub query: String,
    pub limit: usize,
    pub results: Vec<ConceptHit>,
    pub attribution: Vec<String>,
}

/// One concept with what relates to it (`GET /skills/{id}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConceptView {
    pub id: String,
    pub code: String,
    pub scheme: String,
    pub kind: String,
    pub label: String,
    pub aliases: Vec<String>,
    pub description: String,
    /// The same concept in the other scheme.
    pub crosswalk: Vec<CrosswalkView>,
    /// Occupations using it (O*NET technology skills, directly or through the crosswalk).
    pub occupations: Vec<Named>,
    /// For an occupation: its related occupations (O*NET tiers).
    pub related: Vec<Named>,
    pub attribution: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CrosswalkView {
    pub id: String,
    pub label: String,
    pub confidence: f32,
    pub method: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Named {
    pub id: String,
    pub code: String,
    pub label: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tier: Option<String>,
}

/// Checks the parameters, naming each limit.
#[allow(clippy::result_large_err)] // a Problem is built at most once per request
pub fn validate(params: &LookupParams) -> Result<Lookup, Problem> {
    let q = crate::search::text_param(params.q.as_deref(), "q", "the text to look up", MAX_QUERY_CHARS)?;
    let limit = crate::search::count_param(params.limit.as_deref(), "limit", DEFAULT_LIMIT, MAX_LIMIT)?;
    let scheme = match params.scheme.as_deref() {
        None | Some("") => None,
        Some(raw) => Some(Scheme::parse(raw).ok_or_else(|| {
            Problem::bad_request("invalid_scheme", format!("scheme must be `esco` or `onet`, not {raw:?}"))
        })?),
    };
    let context = params.context.as_deref().map(str::trim).filter(|c| !c.is_empty());
    if let Some(c) = context
        && c.chars().count() > MAX_CONTEXT_CHARS
    {
        return Err(Problem::bad_request(
            "context_too_long",
            format!("the context has {} characters; the limit is {MAX_CONTEXT_CHARS}", c.chars().count()),
        )
        .with_limit(MAX_CONTEXT_CHARS as u64));
    }
    Ok(Lookup { q, limit, scheme, context: context.map(str::to_owned) })
}

fn code_of(id: &str) -> String {
    if let Some(rest) = id.strip_prefix("esco:") {
        format!("http://data.europa.eu/esco/{rest}")
    } else {
        id.strip_prefix("onet:").unwrap_or(id).to_owned()
    }
}

fn kind_name(kind: ConceptKind) -> &'static str {
    match kind {
        ConceptKind::Skill => "skill",
        ConceptKind::Technology => "technology",
        ConceptKind::Occupation => "occupation",
    }
}

fn attribution(ontology: &Ontology) -> Vec<String> {
    ontology.catalogue().sources.iter().map(|s| s.attribution.clone()).collect()
}

fn hit_view(ontology: &Ontology, hit: &Hit) -> ConceptHit {
    let c = ontology.concept(hit.concept);
    ConceptHit {
        id: c.id.clone(),
        code: code_of(&c.id),
        scheme: c.scheme.as_str().to_owned(),
        kind: kind_name(c.kind).to_owned(),
        label: c.label.clone(),
        title: (c.kind == ConceptKind::Occupation).then(|| c.label.clone()),
        matched: hit.matched.clone(),
        score: (hit.score * 1000.0).round() / 1000.0,
        reason: hit.reason.as_str().to_owned(),
        distance: hit.distance,
    }
}

fn ontology_problem(e: &OntologyError) -> Problem {
    tracing::error!(error = %e, "ontology lookup failed");
    Problem::internal()
}

/// Looks a skill (ESCO skill or O*NET technology) or an occupation up.
pub fn lookup(
    ontology: &Ontology,
    embedder: &dyn TextEmbedder,
    lookup: &Lookup,
    occupations: bool,
) -> Result<LookupResponse, OntologyError> {
    let kinds: &[ConceptKind] =
        if occupations { &[ConceptKind::Occupation] } else { &[ConceptKind::Skill, ConceptKind::Technology] };
    let query = ontology::Query {
        text: &lookup.q,
        limit: lookup.limit,
        scheme: lookup.scheme,
        kinds,
        context: lookup.context.as_deref(),
    };
    let hits = ontology.search(&query, Some(embedder))?;
    Ok(LookupResponse {
        query: lookup.q.clone(),
        limit: lookup.limit,
        results: hits.iter().map(|h| hit_view(ontology, h)).collect(),
        attribution: attribution(ontology),
    })
}

/// One concept with its crosswalk, occupations and related occupations.
pub fn concept_view(ontology: &Ontology, id: &str) -> Option<ConceptView> {
    let index = ontology.find(id)?;
    let c = ontology.concept(index);
    let named = |i: u32, tier: Option<&str>| {
        let o = ontology.concept(i);
        Named { id: o.id.clone(), code: code_of(&o.id), label: o.label.clone(), tier: tier.map(str::to_owned) }
    };
    let crosswalk: Vec<(u32, f32, String)> =
        ontology.crosswalk(index).into_iter().map(|(i, conf, m)| (i, conf, m.to_owned())).collect();
    let mut occupations: Vec<u32> = match c.kind {
        ConceptKind::Technology => ontology.occupations_using(index),
        ConceptKind::Skill => crosswalk.iter().flat_map(|(t, _, _)| ontology.occupations_using(*t)).collect(),
        ConceptKind::Occupation => Vec::new(),
    };
    occupations.sort_unstable();
    occupations.dedup();
    let related: Vec<Named> = match c.kind {
        ConceptKind::Occupation => {
            let onet = if c.scheme == Scheme::Onet {
                Some(index)
            } else {
                crosswalk.iter().map(|(i, _, _)| *i).find(|i| ontology.concept(*i).scheme == Scheme::Onet)
            };
            onet.map(|o| ontology.related(o).into_iter().map(|(r, tier)| named(r, Some(tier))).collect())
                .unwrap_or_default()
        }
        _ => Vec::new(),
    };
    Some(ConceptView {
        id: c.id.clone(),
        code: code_of(&c.id),
        scheme: c.scheme.as_str().to_owned(),
        kind: kind_name(c.kind).to_owned(),
        label: c.label.clone(),
        aliases: c.aliases.clone(),
        description: c.description.clone(),
        crosswalk: crosswalk
            .iter()
            .map(|(i, confidence, method)| CrosswalkView {
                id: ontology.concept(*i).id.clone(),
                label: ontology.concept(*i).label.clone(),
                confidence: *confidence,
                method: method.clone(),
            })
            .collect(),
        occupations: occupations.into_iter().map(|o| named(o, None)).collect(),
        related,
        attribution: attribution(ontology),
    })
}

async fn run_lookup(state: OntologyState, params: LookupParams, occupations: bool) -> Result<LookupResponse, Problem> {
    let checked = validate(&params)?;
    let started = std::time::Instant::now();
    let (ontology, embedder) = (state.ontology.clone(), state.embedder.clone());
    let response = tokio::task::spawn_blocking(move || lookup(&ontology, embedder.as_ref(), &checked, occupations))
        .await
        .map_err(|_| Problem::internal())?
        .map_err(|e| ontology_problem(&e))?;
    tracing::info!(
        results = response.results.len(),
        occupations,
        latency_us = started.elapsed().as_micros() as u64,
        "ontology lookup"
    );
    Ok(response)
}

async fn skills_search(
    State(state): State<OntologyState>,
    AuthUser(_user): AuthUser,
    Query(params): Query<LookupParams>,
) -> Result<Json<LookupResponse>, Problem> {
    run_lookup(state, params, false).await.map(Json)
}

async fn occupations_search(
    State(state): State<OntologyState>,
    AuthUser(_user): AuthUser,
    Query(params): Query<LookupParams>,
) -> Result<Json<LookupResponse>, Problem> {
    run_lookup(state, params, true).await.map(Json)
}

async fn skill(
    State(state): State<OntologyState>,
    AuthUser(_user): AuthUser,
    Path(id): Path<String>,
) -> Result<Json<ConceptView>, Problem> {
    concept_view(&state.ontology, &id).map(Json).ok_or_else(|| Problem::not_found("the concept"))
}

/// One of the caller's likely occupations (`GET /occupations/mine`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MyOccupation {
    pub id: String,
    pub code: String,
    pub scheme: String,
    pub title: String,
    pub score: f32,
    /// The caller's job titles that match it.
    pub supporting_titles: Vec<String>,
    /// The caller's skills it uses (O*NET technology skills).
    pub supporting_skills: Vec<String>,
}

/// The answer of `GET /occupations/mine` (and `personalize occupations --mine --json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MyOccupations {
    pub occupations: Vec<MyOccupation>,
    pub attribution: Vec<String>,
}

/// Ranks the occupations the knowledge points to: its job titles (the
/// latest first) and its skills.
pub fn my_occupations(
    ontology: &Ontology,
    embedder: &dyn TextEmbedder,
    knowledge: &facts::knowledge::Knowledge,
    limit: usize,
) -> Result<MyOccupations, OntologyError> {
    use facts::model::FactValue;
    let mut jobs: Vec<&facts::model::Job> = knowledge
        .live()
        .filter_map(|f| match &f.value {
            FactValue::Job(j) if !j.volunteer => Some(j),
            _ => None,
        })
        .collect();
    // The current role first, then by start, latest first.
    jobs.sort_by_key(|j| {
        let d = j.dates.as_ref();
        (std::cmp::Reverse(d.is_some_and(|d| d.current)), std::cmp::Reverse(d.and_then(|d| d.start)))
    });
    let titles: Vec<ontology::profile::TitleInput> = jobs
        .iter()
        .enumerate()
        .map(|(rank, j)| ontology::profile::TitleInput { title: j.title.clone(), rank })
        .collect();
    let mut skills: Vec<String> = knowledge
        .live()
        .filter_map(|f| match &f.value {
            FactValue::Skill(s) => Some(s.name.clone()),
            _ => None,
        })
        .collect();
    skills.sort();
    skills.dedup();
    let ranked = ontology::profile::rank_occupations(ontology, &titles, &skills, Some(embedder), limit)?;
    Ok(MyOccupations {
        occupations: ranked
            .into_iter()
            .map(|r| {
                let c = ontology.concept(r.concept);
                MyOccupation {
                    id: c.id.clone(),
                    code: code_of(&c.id),
                    scheme: c.scheme.as_str().to_owned(),
                    title: c.label.clone(),
                    score: (r.score * 1000.0).round() / 1000.0,
                    supporting_titles: r.titles,
                    supporting_skills: r.skills,
                }
            })
            .collect(),
        attribution: attribution(ontology),
    })
}

async fn occupations_mine(
    State(state): State<OntologyState>,
    AuthUser(user): AuthUser,
    Query(params): Query<LookupParams>,
) -> Result<Json<MyOccupations>, Problem> {
    let repo = state.knowledge.clone().ok_or_else(Problem::internal)?;
    let limit = crate::search::count_param(params.limit.as_deref(), "limit", DEFAULT_LIMIT, MAX_LIMIT)?;
    let knowledge = repo.load(&user).await.map_err(|e| crate::dependency_problem("table store", &e))?;
    let (ontology, embedder) = (state.ontology.clone(), state.embedder.clone());
    let answer = tokio::task::spawn_blocking(move || my_occupations(&ontology, embedder.as_ref(), &knowledge, limit))
        .await
        .map_err(|_| Problem::internal())?
        .map_err(|e| ontology_problem(&e))?;
    Ok(Json(answer))
}

/// `/skills/search`, `/skills/{id}` (ids hold slashes: "esco:skill/…"),
/// `/occupations/search` and `/occupations/mine`, to be nested under
/// [`crate::API_PREFIX`].
pub fn ontology_routes() -> Router<OntologyState> {
    Router::new()
        .route("/skills/search", get(skills_search))
        .route("/skills/{*id}", get(skill))
        .route("/occupations/search", get(occupations_search))
        .route("/occupations/mine", get(occupations_mine))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(q: &str, limit: Option<&str>, scheme: Option<&str>) -> LookupParams {
        LookupParams {
            q: Some(q.into()),
            limit: limit.map(String::from),
            scheme: scheme.map(String::from),
            context: None,
        }
    }

    #[test]
    fn parameters_are_checked_with_their_limits() {
        let ok = validate(&params(" Rust ", None, Some("onet"))).unwrap();
        assert_eq!((ok.q.as_str(), ok.limit, ok.scheme), ("Rust", DEFAULT_LIMIT, Some(Scheme::Onet)));
        assert_eq!(validate(&params("  ", None, None)).unwrap_err().code, "missing_query");
        let e = validate(&params(&"a".repeat(MAX_QUERY_CHARS + 1), None, None)).unwrap_err();
        assert_eq!((e.code.as_str(), e.limit), ("query_too_long", Some(MAX_QUERY_CHARS as u64)));
        for bad in ["0", "51", "x"] {
            let e = validate(&params("x", Some(bad), None)).unwrap_err();
            assert_eq!((e.code.as_str(), e.limit), ("invalid_limit", Some(MAX_LIMIT as u64)));
        }
        assert_eq!(validate(&params("x", None, Some("isco"))).unwrap_err().code, "invalid_scheme");
        assert_eq!(code_of("onet:15-1252.00"), "15-1252.00");
        assert_eq!(code_of("esco:skill/abc"), "http://data.europa.eu/esco/skill/abc");
    }
}
