//! The Bedrock Converse adapter against a fake Converse HTTP server, through
//! the extract stage's language-model pass: a well-formed answer adds facts,
//! a hallucinated one is dropped, malformed JSON leaves the rules' facts
//! alone, and throttling is retried until the model answers; and the
//! interview's question wording: a good one is used, malformed output or
//! throttling falls back to the template.

use aws_adapters::BedrockLanguageModel;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use domain::{
    ContentType, DocumentClassified, DocumentId, DocumentKind, DocumentRecord, DocumentStatus, Envelope, EventType,
    PageText, UploadMethod, UserId,
};
use embedded::{EmbeddedDb, FsBlobStore, RedbQueue, RedbTableStore};
use extract::ExtractService;
use facts::lexicon::BuiltinLexicon;
use facts::model::FactValue;
use integration_tests::fixtures;
use ports::{LanguageModel, LanguageModelError, NoOcr, Ports, Prompt};
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use store::{DocumentRepo, KnowledgeRepo, keys};

const MODEL: &str = "anthropic.claude-test-v1:0";

/// Canned answers, in order, and what was asked.
#[derive(Default)]
struct Fake {
    answers: Mutex<VecDeque<(StatusCode, Value)>>,
    requests: Mutex<Vec<(String, Value)>>,
}

async fn converse(
    State(fake): State<Arc<Fake>>,
    Path(model): Path<String>,
    _headers: HeaderMap,
    body: String,
) -> Response {
    fake.requests.lock().unwrap().push((model, serde_json::from_str(&body).unwrap_or(Value::Null)));
    let (status, body) =
        fake.answers.lock().unwrap().pop_front().unwrap_or((StatusCode::INTERNAL_SERVER_ERROR, json!({})));
    let mut response = (status, axum::Json(body)).into_response();
    if status == StatusCode::TOO_MANY_REQUESTS {
        response.headers_mut().insert("x-amzn-errortype", "ThrottlingException".parse().unwrap());
    }
    response
}

/// A Converse reply whose message is `text`.
fn reply(text: &str) -> (StatusCode, Value) {
    (
        StatusCode::OK,
        json!({
            "output": { "message": { "role": "assistant", "content": [ { "text": text } ] } },
            "stopReason": "end_turn",
            "usage": { "inputTokens": 100, "outputTokens": 50, "totalTokens": 150 },
            "metrics": { "latencyMs": 12 }
        }),
    )
}

fn throttled() -> (StatusCode, Value) {
    (StatusCode::TOO_MANY_REQUESTS, json!({ "message": "Too many requests, please wait before trying again." }))
}

async fn serve(answers: Vec<(StatusCode, Value)>) -> (Arc<Fake>, BedrockLanguageModel) {
    let fake = Arc::new(Fake { answers: Mutex::new(answers.into()), ..Default::default() });
    let app = axum::Router::new().route("/model/{model}/converse", post(converse)).with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(url)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_credential_types::Credentials::new("test", "test", None, None, "fake"))
        .retry_config(
            aws_config::retry::RetryConfig::standard()
                .with_max_attempts(3)
                .with_initial_backoff(std::time::Duration::from_millis(20)),
        )
        .load()
        .await;
    (fake, BedrockLanguageModel::new(&config, MODEL))
}

const RESUME: &str = "Ada Byron\nExperience\nResearch Engineer, Analytical Engines Ltd, 2019 - Present\n\
    • Studied quantum annealing schedules for logistics\nSkills\nPython\n";

/// Runs the extract stage with `model` on the résumé; returns the user's facts.
async fn extract_with(model: Arc<dyn LanguageModel>) -> Vec<facts::knowledge::Fact> {
    let dir = fixtures::temp_dir("bedrock");
    let db = EmbeddedDb::open(&dir).expect("db");
    let ports = Ports {
        blobs: Arc::new(FsBlobStore::new(&dir)),
        queue: Arc::new(RedbQueue::new(db.clone(), 4)),
        table: Arc::new(RedbTableStore::new(db)),
        ocr: Arc::new(NoOcr),
    };
    let service = ExtractService::new(ports.clone(), BuiltinLexicon::shared(), 4).with_language_model(model);
    let user = UserId::parse("ada").unwrap();
    let pages = vec![PageText { page: 1, text: RESUME.to_owned() }];
    let mut record =
        DocumentRecord::new(user.clone(), DocumentId::new(), "cv.txt", RESUME.len() as u64, UploadMethod::Direct);
    let sha = domain::sha256_hex(RESUME.as_bytes());
    record.sha256 = Some(sha.clone());
    record.content_type = Some(ContentType::Txt);
    record.transition(DocumentStatus::TextExtracted, None);
    DocumentRepo::new(ports.table.clone()).save(&record).await.unwrap();
    let text_key = keys::text_object(&user, &record.document_id);
    ports.blobs.put(&text_key, serde_json::to_vec(&pages).unwrap().into(), "application/json").await.unwrap();
    let data = DocumentClassified {
        document_id: record.document_id,
        kind: DocumentKind::Resume,
        confidence: Some(0.9),
        content_type: ContentType::Txt,
        status: DocumentStatus::TextExtracted,
        sha256: sha,
        pages: 1,
        text_key,
    };
    let event = Envelope::new(EventType::DocumentClassified, DocumentClassified::VERSION, user.clone(), "k", data);
    service.handle(&serde_json::to_string(&event).unwrap()).await.expect("extract").expect("done");
    KnowledgeRepo::new(ports.table.clone()).load(&user).await.unwrap().live().cloned().collect()
}

fn skill_names(facts: &[facts::knowledge::Fact]) -> Vec<String> {
    facts
        .iter()
        .filter_map(|f| match &f.value {
            FactValue::Skill(s) => Some(s.name.clone()),
            _ => None,
        })
        .collect()
}

const PROPOSALS: &str = r#"{"facts": [
  {"kind": "skill", "value": {"name": "Quantum annealing", "source": "mentioned"}, "source_text": "quantum annealing"},
  {"kind": "skill", "value": {"name": "COBOL", "source": "listed"}, "source_text": "COBOL on mainframes"},
  {"kind": "job", "value": {"title": "Research Engineer", "organisation": "Analytical Engines Ltd"}, "source_text": "Research Engineer, Analytical Engines Ltd, 2019 - Present"}
]}"#;

#[tokio::test]
async fn a_well_formed_answer_adds_facts_and_a_hallucinated_one_is_dropped() {
    let (fake, model) = serve(vec![reply(PROPOSALS)]).await;
    let facts = extract_with(Arc::new(model)).await;
    let skills = skill_names(&facts);
    assert!(skills.contains(&"Quantum annealing".to_owned()), "the model's fact is in: {skills:?}");
    assert!(skills.contains(&"Python".to_owned()), "the rules' facts are in too");
    assert!(!skills.contains(&"COBOL".to_owned()), "a fact whose text is not in the document is dropped");
    let jobs = facts.iter().filter(|f| matches!(f.value, FactValue::Job(_))).count();
    assert_eq!(jobs, 1, "the model's job and the rules' job are one");
    // What was sent: the model id in the path, the instructions and the document.
    let requests = fake.requests.lock().unwrap();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].0, MODEL);
    let sent = &requests[0].1;
    assert!(sent["system"][0]["text"].as_str().unwrap().contains("\"facts\""));
    assert!(sent["messages"][0]["content"][0]["text"].as_str().unwrap().contains("quantum annealing"));
    assert_eq!(sent["inferenceConfig"]["temperature"], 0.0);
}

#[tokio::test]
async fn malformed_json_leaves_the_rules_facts_and_throttling_is_retried() {
    let (_, model) = serve(vec![reply("Here are the facts you asked for: Python, annealing.")]).await;
    let skills = skill_names(&extract_with(Arc::new(model)).await);
    assert!(skills.contains(&"Python".to_owned()) && !skills.contains(&"Quantum annealing".to_owned()), "{skills:?}");

    let (fake, model) = serve(vec![throttled(), throttled(), reply(PROPOSALS)]).await;
    let skills = skill_names(&extract_with(Arc::new(model)).await);
    assert!(skills.contains(&"Quantum annealing".to_owned()), "answered after two throttles: {skills:?}");
    assert_eq!(fake.requests.lock().unwrap().len(), 3);

    // Throttled past the retries: a transient error, which extraction survives.
    let (_, model) = serve(vec![throttled(), throttled(), throttled()]).await;
    let prompt = Prompt { system: "s".into(), user: "u".into(), max_tokens: 10, temperature: 0.0 };
    assert!(matches!(model.complete(&prompt).await, Err(LanguageModelError::Transient(_))));
    let (_, model) = serve(vec![throttled(), throttled(), throttled()]).await;
    let skills = skill_names(&extract_with(Arc::new(model)).await);
    assert!(skills.contains(&"Python".to_owned()));
}

/// An interview service on a fresh table with a one-job profile (no
/// achievement: the first question is a STAR question about the job).
async fn interview_with(model: Arc<dyn LanguageModel>) -> (converse::ConversationService, UserId) {
    let dir = fixtures::temp_dir("bedrock-interview");
    let db = EmbeddedDb::open(&dir).expect("db");
    let table: Arc<dyn ports::TableStore> = Arc::new(RedbTableStore::new(db.clone()));
    let user = UserId::parse("ada").unwrap();
    let repo = KnowledgeRepo::new(table.clone());
    let mut k = repo.load(&user).await.unwrap();
    let job = facts::model::Job {
        title: "Research Engineer".into(),
        organisation: Some("Analytical Engines Ltd".into()),
        location: None,
        dates: None,
        volunteer: false,
    };
    let provenance = facts::model::Provenance {
        source: facts::model::Source::UserEdit,
        text: "Research Engineer, Analytical Engines Ltd".into(),
        extractor: "test".into(),
        extractor_version: "1".into(),
        confidence: 0.9,
        at: "2026-12-01T00:00:00Z".into(),
    };
    let found = vec![facts::extract::Found {
        fact: facts::model::Extracted { value: FactValue::Job(job), provenance },
        parent: None,
    }];
    let before = k.edges.clone();
    k.merge(
        found,
        &facts::knowledge::RuleMatcher { today: facts::dates::YearMonth::new(2026, Some(12)).unwrap() },
        "now",
    );
    repo.save(&user, &mut k, &before, "2026-12-01T00:00:00Z").await.unwrap();
    let service = converse::ConversationService::new(table, Arc::new(RedbQueue::new(db, 4)), BuiltinLexicon::shared())
        .with_language_model(model);
    (service, user)
}

#[tokio::test]
async fn interview_questions_are_worded_by_the_model_or_fall_back_to_the_template() {
    // A good wording is used, with the model named.
    let worded =
        "Thinking of your time as Research Engineer at Analytical Engines Ltd, which result are you proudest of?";
    let (fake, model) = serve(vec![reply(worded)]).await;
    let (service, user) = interview_with(Arc::new(model)).await;
    let view = service.start(&user, None).await.expect("start");
    let q = view.question.expect("a question");
    assert_eq!((q.text.as_str(), q.phrased_by.clone()), (worded, format!("bedrock:{MODEL}")));
    let sent = fake.requests.lock().unwrap()[0].1.clone();
    let first_line = sent["messages"][0]["content"][0]["text"].as_str().unwrap().lines().next().unwrap().to_owned();
    assert!(
        first_line.starts_with("As Research Engineer at Analytical Engines Ltd"),
        "the template is sent: {first_line}"
    );

    // Malformed output (no question, a JSON blob) keeps the template.
    let (_, model) = serve(vec![reply("{\"question\": null}")]).await;
    let (service, user) = interview_with(Arc::new(model)).await;
    let q = service.start(&user, None).await.expect("start").question.expect("a question");
    assert_eq!(q.phrased_by, "template");
    assert!(q.text.starts_with("As Research Engineer at Analytical Engines Ltd"), "{}", q.text);

    // Throttled past the retries: the template, and the interview goes on.
    let (fake, model) = serve(vec![throttled(), throttled(), throttled()]).await;
    let (service, user) = interview_with(Arc::new(model)).await;
    let q = service.start(&user, None).await.expect("start despite throttling").question.expect("a question");
    assert_eq!(q.phrased_by, "template");
    assert_eq!(fake.requests.lock().unwrap().len(), 3, "retried before falling back");
}
