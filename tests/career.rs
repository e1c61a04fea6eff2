//! The interview and the insights end to end on the embedded adapters:
//! profiles seeded from résumé PDFs built here, a scripted interview through
//! the conversation service, insights for profiles with known answers, the
//! HTTP routes' isolation between users, and the schedule path.

use api::JwtVerifier;
use api::auth::{JwtConfig, KeySource, Secret, mint_hs256};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use career::gaps::{self, GapKind};
use career::session::SessionStatus;
use converse::{ConversationService, ConversationState};
use domain::{DocumentId, DocumentKind, UserId};
use embedded::{EmbeddedDb, RedbQueue, RedbTableStore};
use facts::extract::Doc;
use facts::knowledge::{Knowledge, RuleMatcher};
use facts::lexicon::BuiltinLexicon;
use facts::model::{FactId, FactValue, Source};
use http_body_util::BodyExt;
use insight::{InsightService, InsightState};
use integration_tests::fixtures;
use ports::{QueueConsumer, QueueName, TableStore};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::sync::Arc;
use store::{ConversationRepo, KnowledgeRepo};
use tower::ServiceExt;

const SECRET: &[u8] = b"a-test-secret-that-is-at-least-32-bytes-long";

struct Harness {
    table: Arc<dyn TableStore>,
    queue: Arc<RedbQueue>,
    knowledge: KnowledgeRepo,
    _dir: std::path::PathBuf,
}

fn harness(label: &str) -> Harness {
    let dir = fixtures::temp_dir(label);
    let db = EmbeddedDb::open(&dir).expect("db");
    let table: Arc<dyn TableStore> = Arc::new(RedbTableStore::new(db.clone()));
    Harness { knowledge: KnowledgeRepo::new(table.clone()), table, queue: Arc::new(RedbQueue::new(db, 4)), _dir: dir }
}

impl Harness {
    fn conversation(&self) -> ConversationService {
        ConversationService::new(self.table.clone(), self.queue.clone(), BuiltinLexicon::shared())
    }

    fn insights(&self) -> InsightService {
        InsightService::new(self.table.clone(), self.queue.clone(), 4)
    }

    /// Seeds `user`'s profile with the facts of a one-page PDF résumé of `lines`.
    async fn seed(&self, user: &UserId, lines: &[&str]) -> Knowledge {
        let lines: Vec<String> = lines.iter().map(|l| (*l).to_owned()).collect();
        let pages = documents::extract_text(domain::ContentType::Pdf, &fixtures::pdf(&[lines])).expect("text");
        let doc = Doc::new(DocumentId::new(), &pages, "2026-12-01T00:00:00Z");
        let found = facts::extract_document(DocumentKind::Resume, &doc, BuiltinLexicon::get());
        let mut knowledge = self.knowledge.load(user).await.expect("load");
        let before = knowledge.edges.clone();
        let now = domain::now_rfc3339();
        knowledge.merge(found, &RuleMatcher { today: career::today() }, &now);
        self.knowledge.save(user, &mut knowledge, &before, &now).await.expect("save");
        self.knowledge.load(user).await.expect("load")
    }
}

fn user(id: &str) -> UserId {
    UserId::parse(id).expect("user id")
}

/// The id of the live statement whose text starts with `prefix`.
fn statement_id(k: &Knowledge, prefix: &str) -> FactId {
    k.live()
        .find(|f| match &f.value {
            FactValue::Achievement(s) | FactValue::Responsibility(s) => s.text.starts_with(prefix),
            _ => false,
        })
        .map(|f| f.id.clone())
        .unwrap_or_else(|| {
            panic!("no statement starting {prefix:?}: {:?}", k.live().map(|f| f.value.summary()).collect::<Vec<_>>())
        })
}

fn skill_id(k: &Knowledge, name: &str) -> FactId {
    k.live()
        .find(|f| matches!(&f.value, FactValue::Skill(s) if s.name == name))
        .map(|f| f.id.clone())
        .unwrap_or_else(|| panic!("no skill {name}"))
}

const ANALYST: &[&str] = &[
    "Dana Reyes",
    "dana@example.com",
    "EXPERIENCE",
    "Data Analyst, Northwind Traders, Jan 2021 - Present",
    "- Built weekly sales dashboards in Tableau for the regional managers",
    "Junior Analyst, Contoso, Jan 2018 - Dec 2019",
    "EDUCATION",
    "BSc Statistics, University of Leeds",
    "SKILLS",
    "SQL, Excel, Tableau, Python",
];

#[tokio::test]
async fn a_scripted_interview_fills_the_best_gap_first_and_stops_before_the_user_tires() {
    let h = harness("interview");
    let dana = user("dana");
    let seeded = h.seed(&dana, ANALYST).await;
    let gaps = gaps::analyze(&seeded, &BTreeSet::new(), career::today());
    let kinds: BTreeSet<GapKind> = gaps.iter().map(|g| g.kind).collect();
    // The seeded profile has the gaps it was written to have.
    for expected in [
        GapKind::JobWithoutAchievements,
        GapKind::UnexplainedDateGap,
        GapKind::SkillNotEvidenced,
        GapKind::EducationWithoutDates,
    ] {
        assert!(kinds.contains(&expected), "{expected:?} in {gaps:#?}");
    }
    let contoso = gaps
        .iter()
        .find(|g| g.kind == GapKind::JobWithoutAchievements && g.subject.contains("Contoso"))
        .expect("the Contoso job has no achievement");
    assert!(
        gaps.iter().any(|g| g.kind == GapKind::UnexplainedDateGap && g.reason.starts_with("12 months")),
        "{gaps:#?}"
    );

    let service = h.conversation();
    let start = service.start(&dana, Some(6)).await.expect("start");
    let first = start.question.clone().expect("a first question");
    // The first question targets the highest-value gap.
    assert_eq!(first.topic, gaps[0].topic, "{gaps:#?}");
    assert_eq!(first.kind, career::questioner::QuestionType::Star);
    assert_eq!((start.progress.answered, start.progress.gaps_at_start), (0, gaps.len()));

    // An answer with a number becomes a quantified achievement of that job,
    // with conversation provenance.
    let answer = "I automated the monthly stock report with Python, which cut the preparation time by 60% \
                  and saved the team 2 days a month.";
    let one = service.turn(&dana, &start.session_id, answer, Some(1)).await.expect("turn 1");
    assert_eq!(one.turn, 1);
    let knowledge = h.knowledge.load(&dana).await.unwrap();
    let learned = one.learned.iter().find(|l| l.kind == facts::model::FactKind::Achievement).expect("an achievement");
    let fact = &knowledge.facts[&learned.fact_id];
    let FactValue::Achievement(statement) = &fact.value else { panic!("{fact:?}") };
    assert_eq!(statement.metrics.first().map(|m| m.value), Some(60.0), "{statement:?}");
    assert_eq!(statement.job, first.job, "the achievement belongs to the job asked about");
    let sources = &knowledge.sources[&learned.fact_id];
    assert!(
        sources.iter().any(|p| p.source == Source::Conversation { session: start.session_id.clone(), turn: 1 }
            && answer.contains(&p.text)),
        "{sources:?}"
    );
    assert!(one.patterns.iter().any(|p| p.kind == career::behavior::PatternKind::ProblemSolving), "{:?}", one.patterns);
    // The new fact goes to embedding like a document's; the turn is announced.
    let embed = h.queue.receive(QueueName::Embed, 10, 30).await.unwrap();
    assert!(embed.iter().any(|m| m.body.contains(&learned.fact_id.0)), "{embed:?}");
    let turns = h.queue.receive(QueueName::Insight, 10, 30).await.unwrap();
    assert!(turns.iter().any(|m| m.body.contains("personalization.conversation.turn_completed")));
    // What the profile now answers is not asked again.
    let after = gaps::analyze(&knowledge, &BTreeSet::new(), career::today());
    assert!(after.iter().all(|g| g.topic != first.topic), "the gap is closed: {after:#?}");
    let second = one.question.clone().expect("a second question");
    assert_ne!(second.topic, first.topic);

    // A retried request for turn 1 changes nothing and answers the same.
    let again = service.turn(&dana, &start.session_id, answer, Some(1)).await.expect("retry");
    assert_eq!((again.turn, again.learned.clone()), (1, one.learned.clone()));

    // The session survives a cold start: a new service over the same table resumes it.
    let cold = h.conversation();
    let resumed = cold.resume(&dana, &start.session_id).await.expect("resume");
    assert_eq!(resumed.question.as_ref().map(|q| &q.topic), Some(&second.topic));

    // Skipped and terse answers: the fatigue manager ends the session and says why.
    // Another request answering turn 2 holds its claim: this one is refused and changes nothing.
    let repo = ConversationRepo::new(h.table.clone());
    assert!(repo.claim_turn(&dana, &start.session_id, 2, &domain::now_rfc3339(), 60).await.unwrap());
    let busy = cold.turn(&dana, &start.session_id, "skip", None).await;
    assert!(matches!(busy, Err(converse::ConverseError::InProgress(2))), "{busy:?}");
    assert_eq!(cold.session(&dana, &start.session_id).await.unwrap().turns.len(), 1);
    // A claim left by a request that died is taken over once it is a minute old.
    repo.release_turn(&dana, &start.session_id, 2).await.unwrap();
    assert!(repo.claim_turn(&dana, &start.session_id, 2, "2026-01-01T00:00:00Z", 60).await.unwrap());
    let two = cold.turn(&dana, &start.session_id, "skip", None).await.expect("turn 2");
    assert!(two.learned.is_empty());
    assert_eq!(two.status, SessionStatus::Active, "{two:?}");
    let three = cold.turn(&dana, &start.session_id, "meh", None).await.expect("turn 3");
    assert_eq!(three.status, SessionStatus::Ended, "{three:?}");
    assert!(three.question.is_none());
    let reason = three.end_reason.clone().unwrap_or_default();
    assert!(reason.contains("skipped or very short"), "{reason}");
    assert!(cold.turn(&dana, &start.session_id, "one more", None).await.is_err(), "an ended session takes no answer");

    // No topic was asked twice, in this session or the next one.
    let session = cold.session(&dana, &start.session_id).await.unwrap();
    let topics: Vec<&str> = session.turns.iter().map(|t| t.question.topic.as_str()).collect();
    assert_eq!(topics.iter().collect::<BTreeSet<_>>().len(), topics.len(), "{topics:?}");
    let next = cold.start(&dana, None).await.expect("a second session");
    let q = next.question.expect("more to ask");
    assert!(!topics.contains(&q.topic.as_str()), "{} was covered in the first session", q.topic);
    assert_ne!(q.topic, contoso.topic);
    // The patterns are stored with their quotes.
    let patterns = ConversationRepo::new(h.table.clone()).patterns(&dana).await.unwrap();
    assert!(
        patterns
            .iter()
            .any(|p| p.quote.contains("automated") && p.source == format!("conversation/{}/1", start.session_id))
    );
}

const LEADER: &[&str] = &[
    "Sam Okafor",
    "sam@example.com",
    "EXPERIENCE",
    "Senior Data Analyst, Fabrikam, Mar 2021 - Present",
    "- Led a team of 4 analysts to rebuild the reporting pipeline, cutting run time by 70%",
    "- Mentored two junior analysts in SQL and dashboard design",
    "Data Analyst, Litware, Jun 2017 - Feb 2021",
    "- Built a churn model in Python that reduced churn by 8%",
    "SKILLS",
    "SQL, Excel, Tableau",
];

#[tokio::test]
async fn insights_name_the_strengths_a_profile_shows_but_never_claims() {
    let h = harness("insights");
    let sam = user("sam");
    let k = h.seed(&sam, LEADER).await;
    let service = h.insights();
    let generated = service.generate(&sam, "test", false).await.expect("generate");
    assert!(generated.regenerated && generated.version == 1);
    let latest = service.repo().latest(&sam).await.unwrap().expect("stored");
    let i = &latest.insights;
    let leadership = i.strengths.iter().find(|s| s.name == "leadership").expect("leadership is a hidden strength");
    let led = statement_id(&k, "Led a team of 4");
    let mentored = statement_id(&k, "Mentored two junior");
    assert!(
        leadership.evidence.fact_ids.contains(&led) && leadership.evidence.fact_ids.contains(&mentored),
        "{leadership:?}"
    );
    assert!(leadership.confidence >= 0.7, "{leadership:?}");
    // Python is used in the work but not listed: a hidden skill, with its evidence.
    let python = i.strengths.iter().find(|s| s.name == "Python").expect("Python is used, never listed");
    assert!(python.evidence.fact_ids.contains(&statement_id(&k, "Built a churn model")), "{python:?}");
    // SQL is listed: never a hidden strength.
    assert!(i.strengths.iter().all(|s| s.name != "SQL"));
    let t = i.trajectory.as_ref().expect("two dated jobs make a trajectory");
    assert_eq!(t.direction, "rising", "{t:?}");
    assert_eq!(t.steps.iter().map(|s| s.seniority).collect::<Vec<_>>(), [2, 3]);
    // Every insight names its evidence.
    assert!(i.strengths.iter().all(|s| !s.evidence.fact_ids.is_empty()));
    assert!(i.recommendations.iter().all(|r| !r.evidence.fact_ids.is_empty()));
    // Nothing changed: asking again serves the same version.
    let again = service.generate(&sam, "test", false).await.unwrap();
    assert_eq!((again.version, again.regenerated), (1, false));
    // The generated event goes out.
    let out = h.queue.receive(QueueName::Notifications, 10, 30).await.unwrap();
    assert!(out.iter().any(|m| m.body.contains("personalization.insight.generated")));
}

const ENGINEER: &[&str] = &[
    "Lee Park",
    "lee@example.com",
    "EXPERIENCE",
    "Software Developer, Initech, Jan 2019 - Present",
    "- Built REST services in Python and PostgreSQL for the billing team",
    "SKILLS",
    "Python, JavaScript, SQL, PostgreSQL, Git, Linux, React",
];

#[tokio::test]
async fn insights_find_the_adjacent_roles_an_engineers_skills_fit() {
    if !fixtures::onet_release() {
        return;
    }
    let h = harness("paths");
    let lee = user("lee");
    let k = h.seed(&lee, ENGINEER).await;
    let onto = Arc::new(ontology::Ontology::open(&fixtures::ontology()).expect("ontology"));
    let embedder: Arc<dyn ports::TextEmbedder> =
        Arc::new(embedding::Embedder::load(&fixtures::model_dir()).expect("model"));
    let service = h.insights().with_ontology(onto, embedder);
    service.generate(&lee, "test", false).await.expect("generate");
    let i = service.repo().latest(&lee).await.unwrap().expect("stored").insights;
    let codes: Vec<(&str, &str, f32)> =
        i.paths.iter().map(|p| (p.code.as_str(), p.title.as_str(), p.distance)).collect();
    let web = i.paths.iter().find(|p| p.code == ADJACENT).unwrap_or_else(|| panic!("{ADJACENT} among {codes:?}"));
    let python = skill_id(&k, "Python");
    assert!(web.have.iter().any(|h| h.skill == "Python" && h.fact_ids.contains(&python)), "{web:?}");
    assert!(web.evidence.fact_ids.contains(&python), "{web:?}");
    assert!(!web.missing.is_empty() && web.distance < 1.0, "{web:?}");
    assert!(i.recommendations.iter().any(|r| r.kind == career::insight::RecommendationKind::TargetRole));
}

/// O*NET-SOC of the adjacent role the engineer's skills fit.
const ADJACENT: &str = "15-1251.00";

async fn call(
    router: &axum::Router,
    method: &str,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let request = Request::builder()
        .method(method)
        .uri(format!("{}{path}", api::API_PREFIX))
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
        .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

#[tokio::test]
async fn sessions_and_insights_of_one_user_are_invisible_to_another() {
    let h = harness("career-isolation");
    let (a, b) = (user("alice"), user("bob"));
    let alice = h.seed(&a, LEADER).await;
    let config =
        JwtConfig { issuer: "t".into(), audience: "a".into(), keys: KeySource::Hs256(Secret::new(SECRET.to_vec())) };
    let verifier = Arc::new(JwtVerifier::new(&config).unwrap());
    let conversations = ConversationState { verifier: verifier.clone(), service: Arc::new(h.conversation()) };
    let insights = InsightState { verifier, service: Arc::new(h.insights()) };
    let router = axum::Router::new().nest(
        api::API_PREFIX,
        converse::conversation_routes().with_state(conversations).merge(insight::insight_routes().with_state(insights)),
    );
    let token_a = mint_hs256(SECRET, "t", "a", "alice", 600);
    let token_b = mint_hs256(SECRET, "t", "a", "bob", 600);

    let (status, started) = call(&router, "POST", "/conversation/start", &token_a, Some(json!({}))).await;
    assert_eq!(status, StatusCode::CREATED, "{started}");
    let session = started["session_id"].as_str().unwrap().to_owned();
    assert!(started["question"]["text"].is_string(), "{started}");

    // Bob can neither read nor answer Alice's session.
    let (status, _) = call(&router, "GET", &format!("/conversation/{session}"), &token_b, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let turn = json!({ "session_id": session, "answer": "I grew revenue by 40% at Fabrikam" });
    let (status, _) = call(&router, "POST", "/conversation/turn", &token_b, Some(turn.clone())).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(h.knowledge.load(&b).await.unwrap().facts.is_empty(), "nothing written for Bob");
    assert_eq!(h.knowledge.load(&a).await.unwrap().facts.len(), alice.facts.len(), "nothing written for Alice");
    let (status, own) = call(&router, "GET", &format!("/conversation/{session}"), &token_a, None).await;
    assert_eq!((status, own["id"].as_str()), (StatusCode::OK, Some(session.as_str())), "{own}");
    // Bad input gets a clear error with the limit.
    let long = json!({ "session_id": session, "answer": "x".repeat(4001) });
    let (status, problem) = call(&router, "POST", "/conversation/turn", &token_a, Some(long)).await;
    assert_eq!(
        (status, problem["code"].as_str(), problem["limit"].as_u64()),
        (StatusCode::BAD_REQUEST, Some("answer_too_long"), Some(4000)),
        "{problem}"
    );
    let (status, problem) = call(&router, "POST", "/conversation/start", &token_a, Some(json!({ "budget": 99 }))).await;
    assert_eq!((status, problem["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_budget")), "{problem}");

    // Insights: each user sees their own, built from their own facts only.
    let (status, mine) = call(&router, "GET", "/insights", &token_a, None).await;
    assert_eq!(status, StatusCode::OK, "{mine}");
    let alice_ids: Vec<String> = alice.facts.keys().map(|f| f.0.clone()).collect();
    assert!(alice_ids.iter().any(|id| mine.to_string().contains(id.as_str())), "{mine}");
    let (status, theirs) = call(&router, "GET", "/insights", &token_b, None).await;
    assert_eq!(status, StatusCode::OK, "{theirs}");
    assert!(alice_ids.iter().all(|id| !theirs.to_string().contains(id.as_str())), "{theirs}");
    assert_eq!(theirs["insights"]["strengths"], json!([]));
    let (status, _) = call(&router, "GET", "/insights", "not-a-token", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_schedule_regenerates_insights_only_for_users_whose_knowledge_changed() {
    let h = harness("schedule");
    let (a, b) = (user("ana"), user("ben"));
    h.seed(&a, LEADER).await;
    h.seed(&b, ANALYST).await;
    let service = h.insights();
    // Both have insights (the knowledge.updated path, from the event in events/).
    let template = std::fs::read_to_string(fixtures::event_path("insight/sqs-knowledge-updated.json")).unwrap();
    for u in [&a, &b] {
        let event: aws_lambda_events::sqs::SqsEvent =
            serde_json::from_str(&template.replace("{{USER}}", u.as_str())).expect("the SQS event parses");
        let response = service.handle_batch(event).await;
        assert!(response.batch_item_failures.is_empty());
    }
    assert_eq!(service.repo().pointer(&a).await.unwrap().map(|p| p.version), Some(1));
    assert_eq!(service.repo().pointer(&b).await.unwrap().map(|p| p.version), Some(1));
    // Ana's knowledge changes; Ben's does not.
    let mut k = h.knowledge.load(&a).await.unwrap();
    let id = statement_id(&k, "Mentored two junior");
    let before = k.edges.clone();
    let now = domain::now_rfc3339();
    k.delete(&id, &now).unwrap();
    h.knowledge.save(&a, &mut k, &before, &now).await.unwrap();
    // The scheduled event (as EventBridge sends it) triggers the run.
    let scheduled: Value =
        serde_json::from_str(&std::fs::read_to_string(fixtures::event_path("insight/schedule.json")).unwrap()).unwrap();
    assert_eq!(scheduled["detail-type"], "Scheduled Event");
    let report = service.run_schedule().await.expect("schedule");
    assert_eq!((report.users_checked, report.regenerated, report.up_to_date), (2, 1, 1), "{report:?}");
    assert_eq!(service.repo().pointer(&a).await.unwrap().map(|p| p.version), Some(2));
    assert_eq!(service.repo().pointer(&b).await.unwrap().map(|p| p.version), Some(1));
    // The previous version is kept; the new one no longer cites the deleted fact.
    assert_eq!(service.repo().versions(&a).await.unwrap(), [1, 2]);
    let latest = service.repo().latest(&a).await.unwrap().unwrap();
    assert!(!serde_json::to_string(&latest).unwrap().contains(&id.0));
    // A malformed message is dead-lettered with its reason, not retried.
    assert!(service.process_message("{not json", 1).await);
    let dead = h.queue.receive(QueueName::InsightDlq, 10, 30).await.unwrap();
    assert_eq!(dead.len(), 1);
}
