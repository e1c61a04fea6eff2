//! The knowledge API: `GET /knowledge` (facts by kind with their sources,
//! graph edges, a completeness score with what is missing), `PUT` and
//! `DELETE /knowledge/{fact_id}`, and `GET /export` (everything held about
//! the user, and the shareable profile as a JSON Resume v1 document). Every
//! read and write is scoped to the token's user: another user's fact id is
//! simply not found.

use crate::{AppState, AuthUser, DocumentView, Problem};
use axum::extract::{Path, Query, State};
use axum::routing::{get, put};
use axum::{Json, Router};
use domain::UserId;
use facts::dates::DateRange;
use facts::knowledge::{Edge, EditError, Fact, Knowledge};
use facts::model::{ContactKind, FactId, FactKind, FactValue, Provenance, Visibility};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use store::{AuditEntry, KnowledgeRepo};

/// One fact as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FactView {
    pub id: FactId,
    pub kind: FactKind,
    pub value: Value,
    /// One line for display and search.
    pub summary: String,
    pub confidence: f32,
    pub visibility: Visibility,
    pub user_edited: bool,
    pub sources: Vec<Provenance>,
}

impl FactView {
    pub fn new(fact: &Fact, sources: &[Provenance]) -> Self {
        let tagged = serde_json::to_value(&fact.value).unwrap_or(Value::Null);
        Self {
            id: fact.id.clone(),
            kind: fact.kind(),
            value: tagged.get("value").cloned().unwrap_or(Value::Null),
            summary: fact.value.summary(),
            confidence: fact.confidence,
            visibility: fact.visibility,
            user_edited: fact.user_edited,
            sources: sources.to_vec(),
        }
    }
}

/// How complete the profile is, and what would complete it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Completeness {
    /// Share of the checks that pass, 0 to 1.
    pub score: f32,
    pub missing: Vec<String>,
}

/// The answer of `GET /knowledge` (and of `personalize knowledge --json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KnowledgeView {
    /// Live facts grouped by kind.
    pub facts: BTreeMap<FactKind, Vec<FactView>>,
    pub edges: Vec<Edge>,
    pub completeness: Completeness,
    /// Each live skill fact's concept in the skill ontology (ESCO or O*NET); a
    /// skill without one stays free text, listed with `unmapped: true`.
    #[serde(default)]
    pub skill_mappings: Vec<facts::model::SkillMapping>,
}

fn views(knowledge: &Knowledge, filter: impl Fn(&Fact) -> bool) -> Vec<FactView> {
    knowledge
        .live()
        .filter(|f| filter(f))
        .map(|f| FactView::new(f, knowledge.sources.get(&f.id).map_or(&[], Vec::as_slice)))
        .collect()
}

/// The graph as `GET /knowledge` shows it.
pub fn knowledge_view(knowledge: &Knowledge) -> KnowledgeView {
    let mut facts: BTreeMap<FactKind, Vec<FactView>> = BTreeMap::new();
    for view in views(knowledge, |_| true) {
        facts.entry(view.kind).or_default().push(view);
    }
    let skill_mappings = knowledge
        .mappings
        .values()
        .filter(|m| knowledge.facts.get(&m.fact_id).is_some_and(|f| !f.deleted))
        .cloned()
        .collect();
    KnowledgeView {
        facts,
        edges: knowledge.edges.iter().cloned().collect(),
        completeness: completeness(knowledge),
        skill_mappings,
    }
}

/// Checks a good profile passes: a name and an email, at least one job, every
/// job dated, an achievement with a number, an education, three skills.
pub fn completeness(knowledge: &Knowledge) -> Completeness {
    let live: Vec<&Fact> = knowledge.live().collect();
    let has_contact =
        |kind: ContactKind| live.iter().any(|f| matches!(&f.value, FactValue::Contact(c) if c.kind == kind));
    let jobs: Vec<&facts::model::Job> = live
        .iter()
        .filter_map(|f| match &f.value {
            FactValue::Job(j) => Some(j),
            _ => None,
        })
        .collect();
    let undated = jobs.iter().filter(|j| j.dates.as_ref().is_none_or(|d| d.start.is_none())).count();
    let quantified = live.iter().any(|f| matches!(&f.value, FactValue::Achievement(s) if !s.metrics.is_empty()));
    let skills = live.iter().filter(|f| f.kind() == FactKind::Skill).count();
    let checks = [
        (has_contact(ContactKind::Name), "your name".to_owned()),
        (has_contact(ContactKind::Email), "an email address".to_owned()),
        (!jobs.is_empty(), "at least one job".to_owned()),
        (undated == 0, format!("dates for {undated} job(s)")),
        (quantified, "an achievement with a number (a percentage, an amount, a count)".to_owned()),
        (live.iter().any(|f| f.kind() == FactKind::Education), "your education".to_owned()),
        (skills >= 3, format!("at least 3 skills ({skills} so far)")),
    ];
    let passed = checks.iter().filter(|(ok, _)| *ok).count();
    Completeness {
        score: passed as f32 / checks.len() as f32,
        missing: checks.into_iter().filter(|(ok, _)| !ok).map(|(_, what)| what).collect(),
    }
}

// ---------------------------------------------------------------- JSON Resume

fn iso(range: &Option<DateRange>, end: bool) -> Option<String> {
    let d = range.as_ref()?;
    let ym = if end { d.end } else { d.start.or(d.end) };
    ym.map(|v| v.to_string())
}

fn put_opt(map: &mut serde_json::Map<String, Value>, key: &str, value: Option<String>) {
    if let Some(v) = value.filter(|v| !v.is_empty()) {
        map.insert(key.into(), Value::String(v));
    }
}

/// The user's public facts as a JSON Resume v1 document
/// (<https://jsonresume.org/schema>); private facts are left out.
pub fn json_resume(knowledge: &Knowledge) -> Value {
    let public: Vec<&Fact> = knowledge.live().filter(|f| f.visibility == Visibility::Public).collect();
    let mut basics = serde_json::Map::new();
    let mut profiles = Vec::new();
    for f in &public {
        if let FactValue::Contact(c) = &f.value {
            match c.kind {
                ContactKind::Name => {
                    basics.entry("name").or_insert_with(|| Value::String(c.value.clone()));
                }
                ContactKind::Email => {
                    basics.entry("email").or_insert_with(|| Value::String(c.value.clone()));
                }
                ContactKind::Phone => {
                    basics.entry("phone").or_insert_with(|| Value::String(c.value.clone()));
                }
                ContactKind::Location => {
                    basics.entry("location").or_insert_with(|| json!({ "address": c.value }));
                }
                ContactKind::Link => {
                    let url =
                        if c.value.starts_with("http") { c.value.clone() } else { format!("https://{}", c.value) };
                    let network = ["linkedin", "github", "gitlab", "twitter", "medium", "behance", "dribbble"]
                        .into_iter()
                        .find(|n| url.to_lowercase().contains(n));
                    match network {
                        Some(n) => {
                            let username = url.trim_end_matches('/').rsplit('/').next().unwrap_or_default().to_owned();
                            profiles.push(json!({ "network": n, "username": username, "url": url }));
                        }
                        None => {
                            basics.entry("url").or_insert_with(|| Value::String(url));
                        }
                    }
                }
            }
        }
    }
    if !profiles.is_empty() {
        basics.insert("profiles".into(), Value::Array(profiles));
    }
    let highlights = |job: &FactId| -> Vec<Value> {
        public
            .iter()
            .filter_map(|f| match &f.value {
                FactValue::Achievement(s) | FactValue::Responsibility(s) if s.job.as_ref() == Some(job) => {
                    Some(Value::String(s.text.clone()))
                }
                _ => None,
            })
            .collect()
    };
    let (mut work, mut volunteer, mut education, mut skills, mut languages) = (vec![], vec![], vec![], vec![], vec![]);
    let (mut certificates, mut awards, mut projects) = (vec![], vec![], vec![]);
    for f in &public {
        match &f.value {
            FactValue::Job(j) => {
                let mut m = serde_json::Map::new();
                let org_key = if j.volunteer { "organization" } else { "name" };
                put_opt(&mut m, org_key, j.organisation.clone());
                m.insert("position".into(), Value::String(j.title.clone()));
                put_opt(&mut m, "location", j.location.clone());
                put_opt(&mut m, "startDate", iso(&j.dates, false));
                if !j.dates.as_ref().is_some_and(|d| d.current) {
                    put_opt(&mut m, "endDate", iso(&j.dates, true));
                }
                let h = highlights(&f.id);
                if !h.is_empty() {
                    m.insert("highlights".into(), Value::Array(h));
                }
                if j.volunteer { volunteer.push(Value::Object(m)) } else { work.push(Value::Object(m)) }
            }
            FactValue::Education(e) => {
                let mut m = serde_json::Map::new();
                put_opt(&mut m, "institution", e.institution.clone());
                put_opt(&mut m, "area", e.field.clone());
                put_opt(&mut m, "studyType", e.degree.clone());
                put_opt(&mut m, "startDate", e.dates.as_ref().and_then(|d| d.start).map(|v| v.to_string()));
                put_opt(&mut m, "endDate", iso(&e.dates, true));
                put_opt(&mut m, "score", e.grade.clone());
                education.push(Value::Object(m));
            }
            FactValue::Skill(s) => {
                let mut m = serde_json::Map::new();
                m.insert("name".into(), Value::String(s.name.clone()));
                if let Some(c) = &s.category {
                    m.insert("keywords".into(), json!([c]));
                }
                skills.push(Value::Object(m));
            }
            FactValue::Language(l) => {
                let mut m = serde_json::Map::new();
                m.insert("language".into(), Value::String(l.name.clone()));
                put_opt(&mut m, "fluency", l.level.clone());
                languages.push(Value::Object(m));
            }
            FactValue::Certification(c) => {
                let mut m = serde_json::Map::new();
                m.insert("name".into(), Value::String(c.name.clone()));
                put_opt(&mut m, "issuer", c.issuer.clone());
                put_opt(&mut m, "date", iso(&c.date, true));
                certificates.push(Value::Object(m));
            }
            FactValue::Award(a) => {
                let mut m = serde_json::Map::new();
                m.insert("title".into(), Value::String(a.name.clone()));
                put_opt(&mut m, "summary", a.detail.clone());
                put_opt(&mut m, "date", iso(&a.date, true));
                awards.push(Value::Object(m));
            }
            FactValue::Project(p) => {
                let mut m = serde_json::Map::new();
                m.insert("name".into(), Value::String(p.name.clone()));
                put_opt(&mut m, "description", p.detail.clone());
                put_opt(&mut m, "endDate", iso(&p.date, true));
                projects.push(Value::Object(m));
            }
            _ => {}
        }
    }
    let mut resume = serde_json::Map::new();
    resume.insert(
        "$schema".into(),
        json!("https://raw.githubusercontent.com/jsonresume/resume-schema/v1.0.0/schema.json"),
    );
    resume.insert("basics".into(), Value::Object(basics));
    for (key, list) in [
        ("work", work),
        ("volunteer", volunteer),
        ("education", education),
        ("awards", awards),
        ("certificates", certificates),
        ("skills", skills),
        ("languages", languages),
        ("projects", projects),
    ] {
        if !list.is_empty() {
            resume.insert(key.into(), Value::Array(list));
        }
    }
    resume.insert("meta".into(), json!({ "version": "v1.0.0", "lastModified": domain::now_rfc3339() }));
    Value::Object(resume)
}

// ---------------------------------------------------------------- routes

/// `PUT /knowledge/{fact_id}`: a new value for the fact (the `value` object of
/// its kind, as `GET /knowledge` shows it) and/or a visibility.
#[derive(Debug, Deserialize)]
pub struct FactEdit {
    #[serde(default)]
    pub value: Option<Value>,
    #[serde(default)]
    pub visibility: Option<Visibility>,
}

/// Everything held about the user (`GET /export`).
#[derive(Debug, Serialize)]
pub struct Export {
    pub user_id: UserId,
    pub exported_at: String,
    pub documents: Vec<DocumentView>,
    /// Every live fact, private ones included: this export is for the user.
    pub facts: Vec<FactView>,
    pub edges: Vec<Edge>,
    pub audit: Vec<AuditEntry>,
    /// The shareable profile (public facts only).
    pub json_resume: Value,
}

#[derive(Debug, Deserialize)]
pub struct ExportParams {
    #[serde(default)]
    pub format: Option<String>,
}

fn store_problem(e: ports::StoreError) -> Problem {
    crate::dependency_problem("table store", &e)
}

/// Applies an edit as the user; another user's id, or a deleted fact, is not found.
pub async fn edit_fact(repo: &KnowledgeRepo, user: &UserId, id: &FactId, edit: FactEdit) -> Result<FactView, Problem> {
    let mut knowledge = repo.load(user).await.map_err(store_problem)?;
    let before = knowledge.edges.clone();
    let Some(kind) = knowledge.facts.get(id).filter(|f| !f.deleted).map(Fact::kind) else {
        return Err(Problem::not_found("the fact"));
    };
    let value = match edit.value {
        Some(v) => Some(serde_json::from_value::<FactValue>(json!({ "kind": kind, "value": v })).map_err(|e| {
            Problem::bad_request("invalid_fact", format!("the value is not a valid {} fact: {e}", kind.as_str()))
        })?),
        None => None,
    };
    if value.is_none() && edit.visibility.is_none() {
        return Err(Problem::bad_request("empty_edit", "give a `value`, a `visibility`, or both"));
    }
    let now = domain::now_rfc3339();
    knowledge.edit(id, value, edit.visibility, &now).map_err(|e| match e {
        EditError::NotFound => Problem::not_found("the fact"),
        other => Problem::bad_request("invalid_fact", other.to_string()),
    })?;
    knowledge.derive_edges();
    repo.save(user, &mut knowledge, &before, &now).await.map_err(store_problem)?;
    let fact = &knowledge.facts[id];
    Ok(FactView::new(fact, knowledge.sources.get(id).map_or(&[], Vec::as_slice)))
}

/// Soft-deletes as the user; another user's id is not found.
pub async fn delete_fact(repo: &KnowledgeRepo, user: &UserId, id: &FactId) -> Result<(), Problem> {
    let mut knowledge = repo.load(user).await.map_err(store_problem)?;
    let before = knowledge.edges.clone();
    let now = domain::now_rfc3339();
    knowledge.delete(id, &now).map_err(|_| Problem::not_found("the fact"))?;
    repo.save(user, &mut knowledge, &before, &now).await.map_err(store_problem)?;
    Ok(())
}

/// The whole export of one user.
pub async fn export(state: &AppState, user: &UserId) -> Result<Export, Problem> {
    let repo = KnowledgeRepo::new(state.ports.table.clone());
    let knowledge = repo.load(user).await.map_err(store_problem)?;
    let documents = state.documents.list(user).await.map_err(store_problem)?;
    Ok(Export {
        user_id: user.clone(),
        exported_at: domain::now_rfc3339(),
        documents: documents.iter().map(DocumentView::from).collect(),
        facts: views(&knowledge, |_| true),
        edges: knowledge.edges.iter().cloned().collect(),
        audit: repo.audit(user).await.map_err(store_problem)?,
        json_resume: json_resume(&knowledge),
    })
}

async fn get_knowledge(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> Result<Json<KnowledgeView>, Problem> {
    let knowledge = KnowledgeRepo::new(state.ports.table.clone()).load(&user).await.map_err(store_problem)?;
    Ok(Json(knowledge_view(&knowledge)))
}

async fn put_fact(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
    Json(edit): Json<FactEdit>,
) -> Result<Json<FactView>, Problem> {
    let repo = KnowledgeRepo::new(state.ports.table.clone());
    Ok(Json(edit_fact(&repo, &user, &FactId(id), edit).await?))
}

async fn remove_fact(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
) -> Result<axum::http::StatusCode, Problem> {
    let repo = KnowledgeRepo::new(state.ports.table.clone());
    delete_fact(&repo, &user, &FactId(id)).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

async fn get_export(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Query(params): Query<ExportParams>,
) -> Result<Json<Value>, Problem> {
    let export = export(&state, &user).await?;
    match params.format.as_deref() {
        None | Some("") | Some("all") => Ok(Json(serde_json::to_value(export).map_err(|_| Problem::internal())?)),
        Some("json_resume") => Ok(Json(export.json_resume)),
        Some(other) => {
            Err(Problem::bad_request("invalid_format", format!("format must be `all` or `json_resume`, not {other:?}")))
        }
    }
}

/// `/knowledge`, `/knowledge/{fact_id}` and `/export`, to be nested under [`crate::API_PREFIX`].
pub fn knowledge_routes() -> Router<AppState> {
    Router::new()
        .route("/knowledge", get(get_knowledge))
        .route("/knowledge/{fact_id}", put(put_fact).delete(remove_fact))
        .route("/export", get(get_export))
}
