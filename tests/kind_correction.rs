//! The user corrects a document's kind (`PUT /documents/{id}`, `personalize
//! documents --set-kind`): on the embedded adapters, a résumé built here is
//! uploaded, classified and extracted, then read again as the kind the user
//! names (and through the real `personalize` binary, with the real model). What only the old reading gave is retracted
//! (audited, `kind_changed`); facts other documents or the user's edit
//! support stay; the same kind twice changes nothing; another user cannot
//! touch the document.

use api::auth::{JwtConfig, KeySource, Secret, mint_hs256};
use api::{AppState, JwtVerifier};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use classify::Classifier;
use domain::{DocumentId, DocumentKind, Limits, UserId};
use embedded::{EmbeddedDb, FsBlobStore, RedbQueue, RedbTableStore};
use extract::ExtractService;
use facts::lexicon::BuiltinLexicon;
use http_body_util::BodyExt;
use integration_tests::fixtures;
use ports::{NoOcr, Ports, Queue, QueueConsumer, QueueName};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::process::Command;
use std::sync::Arc;
use store::{DocumentRepo, keys};
use tower::ServiceExt;

const SECRET: &[u8] = b"a-test-secret-that-is-at-least-32-bytes-long";
const KINDS: [&str; 7] =
    ["resume", "cover_letter", "job_description", "certificate", "transcript", "reference_letter", "other"];

struct Harness {
    queue: Arc<RedbQueue>,
    documents: DocumentRepo,
    classifier: Classifier,
    extract: ExtractService,
    router: axum::Router,
}

/// Upload, classify and extract wired as the embedded runner wires them
/// (classify hands on to extract only: nothing here searches). Classify runs
/// without its kind model: the model's verdict is fixed by [`classified_as`].
fn harness() -> Harness {
    let dir = fixtures::temp_dir("kind-correction");
    let db = EmbeddedDb::open(&dir).expect("db");
    let queue = Arc::new(RedbQueue::new(db.clone(), 4));
    let ports = Ports {
        blobs: Arc::new(FsBlobStore::new(&dir)),
        queue: queue.clone(),
        table: Arc::new(RedbTableStore::new(db)),
        ocr: Arc::new(NoOcr),
    };
    let config =
        JwtConfig { issuer: "t".into(), audience: "a".into(), keys: KeySource::Hs256(Secret::new(SECRET.to_vec())) };
    let state = AppState::new(ports.clone(), Arc::new(JwtVerifier::new(&config).expect("verifier")), Limits::default());
    let router = upload::router(state.clone())
        .merge(axum::Router::new().nest(api::API_PREFIX, api::knowledge_routes().with_state(state)));
    Harness {
        queue,
        classifier: Classifier::new(ports.clone(), Limits::default(), 4).with_next_stages(vec![QueueName::Extract]),
        extract: ExtractService::new(ports.clone(), BuiltinLexicon::shared(), 4),
        documents: DocumentRepo::new(ports.table.clone()),
        router,
    }
}

async fn send(
    h: &Harness,
    user: &str,
    method: &str,
    path: &str,
    content_type: &str,
    body: Vec<u8>,
) -> (StatusCode, Value) {
    let request = Request::builder()
        .method(method)
        .uri(format!("/api/v1/personalization{path}"))
        .header("authorization", format!("Bearer {}", mint_hs256(SECRET, "t", "a", user, 600)))
        .header("content-type", content_type)
        .body(Body::from(body))
        .expect("request");
    let response = h.router.clone().oneshot(request).await.expect("response");
    let status = response.status();
    let problem = response.headers().get("content-type").is_some_and(|v| v == "application/problem+json");
    let bytes = response.into_body().collect().await.expect("body").to_bytes();
    let value: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    if status.is_client_error() && status != StatusCode::UNAUTHORIZED {
        assert!(problem, "a {status} is problem+json: {value}");
    }
    (status, value)
}

async fn get(h: &Harness, user: &str, path: &str) -> (StatusCode, Value) {
    send(h, user, "GET", path, "application/json", Vec::new()).await
}

async fn set_kind(h: &Harness, user: &str, id: &str, body: Value) -> (StatusCode, Value) {
    send(h, user, "PUT", &format!("/documents/{id}"), "application/json", body.to_string().into_bytes()).await
}

/// Receives and runs every message on the extract queue; returns their bodies.
async fn drain_extract(h: &Harness) -> Vec<String> {
    let mut bodies = Vec::new();
    loop {
        let messages = h.queue.receive(QueueName::Extract, 8, 60).await.expect("receive");
        if messages.is_empty() {
            return bodies;
        }
        for message in messages {
            assert!(h.extract.process_message(&message.body, message.receive_count).await, "extract failed");
            h.queue.ack(QueueName::Extract, &message.receipt).await.expect("ack");
            bodies.push(message.body);
        }
    }
}

async fn pending_extract(h: &Harness) -> usize {
    h.queue.depth(QueueName::Extract).await.expect("depth")
}

/// Uploads a file through `POST /upload`, classifies it, and runs extract on
/// what classify sent, the document named `kind` with confidence 0.9 as the
/// kind model would name it (its verdicts are its own tests' business).
/// Returns the document id and classify's event.
async fn upload_and_extract(
    h: &Harness,
    user: &str,
    filename: &str,
    bytes: &[u8],
    kind: DocumentKind,
) -> (String, String) {
    let (content_type, body) = fixtures::multipart(filename, bytes);
    let (status, doc) = send(h, user, "POST", "/upload", &content_type, body).await;
    assert_eq!(status, StatusCode::CREATED, "{doc}");
    let id = doc["document_id"].as_str().expect("id").to_owned();
    let (user_id, doc_id) = (UserId::parse(user).unwrap(), DocumentId::parse(&id).unwrap());
    let notification =
        classify::notification::object_created("local", &keys::raw_object(&user_id, &doc_id), bytes.len() as u64);
    assert!(matches!(h.classifier.process_message(&notification, 1).await, classify::MessageOutcome::Ack));
    let sent = h.queue.receive(QueueName::Extract, 8, 60).await.expect("receive");
    assert_eq!(sent.len(), 1, "classify hands the document to extract once");
    h.queue.ack(QueueName::Extract, &sent[0].receipt).await.expect("ack");
    let event = classified_as(h, &user_id, &doc_id, &sent[0].body, kind).await;
    h.queue.send(QueueName::Extract, &event, &[]).await.expect("send");
    assert_eq!(drain_extract(h).await.len(), 1);
    (id, event)
}

/// The record and the event as classify leaves them when its model names `kind`.
async fn classified_as(h: &Harness, user: &UserId, id: &DocumentId, event: &str, kind: DocumentKind) -> String {
    let mut record = h.documents.get(user, id).await.expect("get").expect("record");
    record.kind = kind;
    record.confidence = Some(0.9);
    let others = (1.0 - 0.9) / 6.0;
    record.kind_scores =
        Some(DocumentKind::SETTABLE.into_iter().map(|k| (k, if k == kind { 0.9 } else { others })).collect());
    h.documents.save(&record).await.expect("save");
    let mut event: Value = serde_json::from_str(event).expect("event");
    event["data"]["kind"] = json!(kind);
    event["data"]["confidence"] = json!(0.9);
    event.to_string()
}

fn resume_pdf() -> Vec<u8> {
    fixtures::pdf(&[vec![
        "Maria Gonzalez".into(),
        "maria.gonzalez@example.org | +1 (415) 555-0199".into(),
        "PROFESSIONAL EXPERIENCE".into(),
        "Senior Data Engineer, Northwind Traders, Seattle, WA, Jan 2020 - Present".into(),
        "- Cut nightly batch runtime by 45% by moving ETL jobs to Spark".into(),
        "Data Analyst, Contoso Ltd, Remote, 03/2017 - 12/2019".into(),
        "- Built Tableau dashboards used by 300 sales staff".into(),
        "EDUCATION".into(),
        "Master of Science in Data Science, University of Washington, 2015 - 2017".into(),
        "SKILLS".into(),
        "Languages: Python, SQL, Scala".into(),
        "Tools: Airflow, Docker, Kubernetes".into(),
        "CERTIFICATIONS".into(),
        "AWS Certified Data Analytics - Specialty, Amazon Web Services, 2021".into(),
    ]])
}

/// A letter that states the Northwind job too.
fn letter_pdf() -> Vec<u8> {
    fixtures::pdf(&[vec![
        "Maria Gonzalez".into(),
        "Dear Hiring Team,".into(),
        "As a Senior Data Engineer at Northwind Traders since 2020, I cut batch costs by 30%.".into(),
        "I am excited by your mission to make data reliable.".into(),
        "Sincerely,".into(),
        "Maria Gonzalez".into(),
    ]])
}

fn all_facts(view: &Value) -> Vec<&Value> {
    view["facts"].as_object().expect("facts").values().flat_map(|l| l.as_array().expect("list")).collect()
}

fn fact_ids(view: &Value) -> BTreeSet<String> {
    all_facts(view).iter().map(|f| f["id"].as_str().expect("id").to_owned()).collect()
}

fn find<'a>(view: &'a Value, kind: &str, test: impl Fn(&Value) -> bool) -> Option<&'a Value> {
    view["facts"][kind].as_array().and_then(|list| list.iter().find(|f| test(&f["value"])))
}

fn documents_of(fact: &Value) -> BTreeSet<String> {
    fact["sources"]
        .as_array()
        .expect("sources")
        .iter()
        .filter_map(|s| s["source"]["document_id"].as_str().map(str::to_owned))
        .collect()
}

async fn audit(h: &Harness, user: &str) -> Vec<Value> {
    let (status, export) = get(h, user, "/export").await;
    assert_eq!(status, StatusCode::OK);
    export["audit"].as_array().expect("audit").clone()
}

#[tokio::test]
async fn a_resume_corrected_to_a_cover_letter_loses_its_resume_only_facts_and_gets_them_back_as_a_resume() {
    let h = harness();
    let (cv, classified) = upload_and_extract(&h, "ana", "cv.pdf", &resume_pdf(), DocumentKind::Resume).await;
    let (_, original) = get(&h, "ana", &format!("/documents/{cv}")).await;
    assert_eq!(
        (original["kind"].as_str(), original["kind_source"].as_str()),
        (Some("resume"), Some("classifier")),
        "{original}"
    );
    let (letter, _) = upload_and_extract(&h, "ana", "letter.pdf", &letter_pdf(), DocumentKind::CoverLetter).await;

    // The user renames a skill only the résumé lists: their edit outlives any reading.
    let (_, view) = get(&h, "ana", "/knowledge").await;
    let airflow = find(&view, "skill", |v| v["name"] == "Airflow").expect("Airflow")["id"].as_str().unwrap().to_owned();
    let edit = json!({ "value": { "name": "Apache Airflow", "source": "listed" } });
    let (status, edited) =
        send(&h, "ana", "PUT", &format!("/knowledge/{airflow}"), "application/json", edit.to_string().into()).await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    let (_, as_resume) = get(&h, "ana", "/knowledge").await;
    let education = find(&as_resume, "education", |v| v["institution"] == "University of Washington")
        .expect("the résumé's education")["id"]
        .clone();
    let scala = find(&as_resume, "skill", |v| v["name"] == "Scala").expect("Scala")["id"].clone();
    let contoso = find(&as_resume, "job", |v| v["organisation"] == "Contoso Ltd").expect("Contoso")["id"].clone();
    let certification = as_resume["facts"]["certification"][0]["id"].clone();
    assert!(certification.is_string(), "{as_resume}");
    let northwind = find(&as_resume, "job", |v| v["organisation"] == "Northwind Traders").expect("Northwind");
    let northwind_id = northwind["id"].clone();
    assert_eq!(documents_of(northwind), [cv.clone(), letter.clone()].into_iter().collect(), "{northwind}");
    let audit_before = audit(&h, "ana").await.len();

    // The correction: the document as GET shows it, with the user's kind and the classifier's scores kept.
    let (status, corrected) = set_kind(&h, "ana", &cv, json!({ "kind": "cover_letter" })).await;
    assert_eq!(status, StatusCode::OK, "{corrected}");
    assert_eq!(
        (corrected["kind"].as_str(), corrected["kind_source"].as_str(), corrected["confidence"].as_f64()),
        (Some("cover_letter"), Some("user"), Some(1.0))
    );
    assert_eq!(corrected["kind_scores"], original["kind_scores"], "the classifier's scores stay visible");
    assert_eq!(corrected["kind_scores"].as_object().map(|s| s.len()), Some(7));
    assert_eq!(
        (corrected["document_id"].as_str(), corrected["status"].as_str()),
        (Some(cv.as_str()), Some("text_extracted"))
    );
    let (_, shown) = get(&h, "ana", &format!("/documents/{cv}")).await;
    assert_eq!(shown, corrected, "PUT answers what GET shows");
    assert_eq!(pending_extract(&h).await, 1, "one re-extraction queued");
    let reread = drain_extract(&h).await;

    let (_, as_letter) = get(&h, "ana", "/knowledge").await;
    let ids = fact_ids(&as_letter);
    for (what, id) in
        [("education", &education), ("Scala", &scala), ("Contoso job", &contoso), ("certification", &certification)]
    {
        assert!(!ids.contains(id.as_str().unwrap()), "the résumé alone gave the {what}: retracted");
    }
    assert!(find(&as_letter, "contact", |v| v["kind"] == "email").is_none(), "the email was the résumé's alone");
    // The letter states the Northwind job too: it stays, on the letter.
    let northwind = find(&as_letter, "job", |v| v["organisation"] == "Northwind Traders").expect("Northwind stays");
    assert_eq!(northwind["id"], northwind_id);
    assert!(documents_of(northwind).contains(&letter), "{northwind}");
    // The user's edit stays, on the edit alone.
    let renamed = find(&as_letter, "skill", |v| v["name"] == "Apache Airflow").expect("the edited skill stays");
    assert_eq!(renamed["user_edited"], true);
    let kinds: Vec<&str> =
        renamed["sources"].as_array().unwrap().iter().map(|s| s["source"]["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["user_edit"]);
    // Each withdrawal and retraction is audited with its reason and where it was read.
    let entries = audit(&h, "ana").await;
    let new: Vec<&Value> = entries[audit_before..].iter().collect();
    let retracted: BTreeSet<&str> =
        new.iter().filter(|e| e["action"] == "retracted").map(|e| e["fact_id"].as_str().unwrap()).collect();
    for id in [&education, &scala, &contoso, &certification] {
        assert!(retracted.contains(id.as_str().unwrap()), "{id} retracted: {new:#?}");
    }
    assert!(new.iter().any(|e| e["action"] == "withdrawn" && e["fact_id"] == airflow.as_str()), "{new:#?}");
    for entry in new.iter().filter(|e| e["action"] == "retracted" || e["action"] == "withdrawn") {
        assert_eq!(entry["reason"], "kind_changed", "{entry}");
        assert_eq!(entry["source"]["document_id"], cv.as_str(), "{entry}");
    }
    // The document counts the facts it supports now.
    let (_, after) = get(&h, "ana", &format!("/documents/{cv}")).await;
    let supported = all_facts(&as_letter).into_iter().filter(|f| documents_of(f).contains(&cv)).count();
    assert_eq!(after["facts"].as_u64(), Some(supported as u64));

    // The same kind again changes nothing: same answer, nothing queued, same facts, no audit entry.
    let audit_letter = entries.len();
    let (status, again) = set_kind(&h, "ana", &cv, json!({ "kind": "cover_letter" })).await;
    assert_eq!((status, &again), (StatusCode::OK, &after));
    assert_eq!(pending_extract(&h).await, 0);
    // Redelivered, the correction's event and classify's (now stale) one change nothing either.
    assert_eq!(h.extract.handle(&reread[0]).await.expect("redelivery"), None);
    assert_eq!(h.extract.handle(&classified).await.expect("stale event"), None);
    assert_eq!(get(&h, "ana", "/knowledge").await.1, as_letter);
    assert_eq!(audit(&h, "ana").await.len(), audit_letter);

    // Back to a résumé: its facts return under the same ids, the user's edit kept.
    let (status, back) = set_kind(&h, "ana", &cv, json!({ "kind": "resume" })).await;
    assert_eq!(
        (status, back["kind"].as_str(), back["kind_source"].as_str()),
        (StatusCode::OK, Some("resume"), Some("user"))
    );
    assert_eq!(drain_extract(&h).await.len(), 1);
    let (_, restored) = get(&h, "ana", "/knowledge").await;
    assert_eq!(fact_ids(&restored), fact_ids(&as_resume));
    assert_eq!(find(&restored, "skill", |v| v["name"] == "Apache Airflow").expect("edit")["user_edited"], true);
    let education = find(&restored, "education", |v| v["institution"] == "University of Washington").expect("back");
    assert_eq!(documents_of(education), [cv.clone()].into_iter().collect());
    let entries = audit(&h, "ana").await;
    assert!(
        entries[audit_letter..].iter().any(|e| e["action"] == "extracted" && e["fact_id"] == scala),
        "the restored facts are audited as extracted"
    );
}

#[tokio::test]
async fn another_users_correction_is_not_found_and_changes_nothing() {
    let h = harness();
    let (cv, _) = upload_and_extract(&h, "ana", "cv.pdf", &resume_pdf(), DocumentKind::Resume).await;
    let (_, document) = get(&h, "ana", &format!("/documents/{cv}")).await;
    let (_, knowledge) = get(&h, "ana", "/knowledge").await;

    let (status, problem) = set_kind(&h, "bob", &cv, json!({ "kind": "cover_letter" })).await;
    assert_eq!((status, problem["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")));
    // Exactly what GET answers for another user's document, and for an id that is none.
    let (status, shown) = get(&h, "bob", &format!("/documents/{cv}")).await;
    assert_eq!((status, &shown), (StatusCode::NOT_FOUND, &problem));
    let (status, unknown) = set_kind(&h, "ana", "not-a-document", json!({ "kind": "resume" })).await;
    assert_eq!((status, &unknown), (StatusCode::NOT_FOUND, &problem));
    let (status, _) = set_kind(&h, "ana", &DocumentId::new().to_string(), json!({ "kind": "resume" })).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    assert_eq!(get(&h, "ana", &format!("/documents/{cv}")).await.1, document);
    assert_eq!(get(&h, "ana", "/knowledge").await.1, knowledge);
    assert_eq!(pending_extract(&h).await, 0, "nothing was queued");
    let (_, theirs) = get(&h, "bob", "/knowledge").await;
    assert!(all_facts(&theirs).is_empty());

    // Without a token: 401.
    let request = Request::builder()
        .method("PUT")
        .uri(format!("/api/v1/personalization/documents/{cv}"))
        .header("content-type", "application/json")
        .body(Body::from(json!({ "kind": "resume" }).to_string()))
        .unwrap();
    assert_eq!(h.router.clone().oneshot(request).await.unwrap().status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_unknown_kind_or_a_bad_body_is_refused_naming_the_kinds_and_text_must_exist_first() {
    let h = harness();
    let (cv, _) = upload_and_extract(&h, "ana", "cv.pdf", &resume_pdf(), DocumentKind::Resume).await;
    let (_, document) = get(&h, "ana", &format!("/documents/{cv}")).await;
    let names_every_kind = |problem: &Value| {
        let detail = problem["detail"].as_str().unwrap_or_default();
        KINDS.iter().all(|k| detail.contains(k))
    };

    for (body, code) in [
        (json!({ "kind": "resumé" }), "invalid_kind"),
        (json!({ "kind": "unclassified" }), "invalid_kind"),
        (json!({ "kind": "Resume" }), "invalid_kind"),
        (json!({ "kind": 5 }), "invalid_body"),
        (json!({}), "invalid_body"),
    ] {
        let (status, problem) = set_kind(&h, "ana", &cv, body.clone()).await;
        assert_eq!((status, problem["code"].as_str()), (StatusCode::BAD_REQUEST, Some(code)), "{body}: {problem}");
        assert!(names_every_kind(&problem), "{body}: {problem}");
    }
    let (status, problem) =
        send(&h, "ana", "PUT", &format!("/documents/{cv}"), "application/json", b"kind=resume".to_vec()).await;
    assert_eq!((status, problem["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_body")));
    assert!(names_every_kind(&problem), "{problem}");
    assert_eq!(get(&h, "ana", &format!("/documents/{cv}")).await.1, document, "nothing changed");
    assert_eq!(pending_extract(&h).await, 0);

    // A document whose text is not extracted yet has no reading to correct.
    let (content_type, body) = fixtures::multipart("later.pdf", &resume_pdf());
    let (_, waiting) = send(&h, "ana", "POST", "/upload", &content_type, body).await;
    let id = waiting["document_id"].as_str().unwrap();
    let (status, problem) = set_kind(&h, "ana", id, json!({ "kind": "resume" })).await;
    assert_eq!((status, problem["code"].as_str()), (StatusCode::CONFLICT, Some("text_not_available")), "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("uploaded"), "{problem}");
    let (_, unchanged) = get(&h, "ana", &format!("/documents/{id}")).await;
    assert_eq!(
        (unchanged["kind"].as_str(), unchanged["kind_source"].as_str()),
        (Some("unclassified"), Some("classifier"))
    );
}

#[tokio::test]
async fn a_stage_writing_a_copy_read_before_the_correction_keeps_the_users_kind() {
    let h = harness();
    let (cv, _) = upload_and_extract(&h, "ana", "cv.pdf", &resume_pdf(), DocumentKind::Resume).await;
    let (user, id) = (UserId::parse("ana").unwrap(), DocumentId::parse(&cv).unwrap());
    // Embed (say) reads the row, the user corrects the kind, embed writes its count.
    let mut stale = h.documents.get(&user, &id).await.unwrap().unwrap();
    let (status, _) = set_kind(&h, "ana", &cv, json!({ "kind": "cover_letter" })).await;
    assert_eq!(status, StatusCode::OK);
    stale.chunks = Some(3);
    h.documents.save(&stale).await.unwrap();
    let row = h.documents.get(&user, &id).await.unwrap().unwrap();
    assert_eq!((row.kind, row.kind_source, row.chunks), (DocumentKind::CoverLetter, domain::KindSource::User, Some(3)));
    // So the correction's own event still finds the kind it carries.
    assert_eq!(drain_extract(&h).await.len(), 1);
    let (_, knowledge) = get(&h, "ana", "/knowledge").await;
    assert!(find(&knowledge, "education", |v| v["institution"] == "University of Washington").is_none());
}

// ---------------------------------------------------------------- the CLI

fn personalize(data: &std::path::Path) -> Command {
    let bin = fixtures::debug_bin("personalize");
    assert!(bin.exists(), "{} is missing: run `cargo build --workspace --bins` first", bin.display());
    let mut command = Command::new(bin);
    command.env_remove("PERSONALIZE_DATA_DIR").env_remove("PERSONALIZE_USER").env("RUST_LOG", "warn");
    command.arg("--data-dir").arg(data);
    command
}

fn run_json(command: &mut Command) -> Vec<Value> {
    let out = command.output().expect("run");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

#[test]
fn the_cli_sets_a_kind_as_the_api_does() {
    let dir = fixtures::temp_dir("kind-cli");
    let data = dir.join("data");
    std::fs::write(dir.join("cv.pdf"), resume_pdf()).expect("write");
    let ingested = run_json(personalize(&data).arg("ingest").arg(dir.join("cv.pdf")).arg("--json"));
    assert_eq!(ingested.len(), 1);
    let id = ingested[0]["document_id"].as_str().expect("id").to_owned();
    let has_education =
        |knowledge: &Value| find(knowledge, "education", |v| v["institution"] == "University of Washington").is_some();
    // Read as a résumé first, whatever the classifier named it.
    let first = run_json(personalize(&data).args(["documents", "--set-kind", &id, "resume", "--json"]));
    assert_eq!((first[0]["kind"].as_str(), first[0]["kind_source"].as_str()), (Some("resume"), Some("user")));
    assert!(has_education(&run_json(personalize(&data).args(["knowledge", "--json"]))[0]));

    let set = run_json(personalize(&data).args(["documents", "--set-kind", &id, "cover_letter", "--json"]));
    assert_eq!(set.len(), 1, "prints the document");
    let doc = &set[0];
    assert_eq!(
        (doc["document_id"].as_str(), doc["kind"].as_str(), doc["kind_source"].as_str()),
        (Some(id.as_str()), Some("cover_letter"), Some("user"))
    );
    // (`ingest --json` prints them through a JSON value, as f64: compare numbers.)
    let scores = |doc: &Value| -> Vec<(String, f32)> {
        doc["kind_scores"]
            .as_object()
            .expect("kind_scores")
            .iter()
            .map(|(k, v)| (k.clone(), v.as_f64().unwrap() as f32))
            .collect()
    };
    assert_eq!(scores(doc), scores(&ingested[0]), "the classifier's scores stay");
    // The same JSON as GET /documents/{id} (the shape `documents --json` lists).
    let listed = run_json(personalize(&data).args(["documents", "--json"]));
    assert_eq!(&listed[0], doc);
    // Re-extracted before it returns: the résumé-only education is retracted, audited.
    let knowledge = &run_json(personalize(&data).args(["knowledge", "--json"]))[0];
    assert!(!has_education(knowledge), "{knowledge}");
    let export = |data: &std::path::Path| -> Value {
        let out = personalize(data).arg("export").output().expect("run");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).expect("export")
    };
    let audit = export(&data)["audit"].as_array().expect("audit").clone();
    assert!(audit.iter().any(|e| e["action"] == "retracted" && e["reason"] == "kind_changed"), "{audit:#?}");

    // Again: the same document, nothing re-read, no audit entry.
    let again = run_json(personalize(&data).args(["documents", "--set-kind", &id, "cover_letter", "--json"]));
    assert_eq!(&again[0], doc);
    assert_eq!(export(&data)["audit"].as_array().map(Vec::len), Some(audit.len()));
    // Text mode says who named the kind.
    let out = personalize(&data).args(["documents", "--set-kind", &id, "cover_letter"]).output().expect("run");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("cover_letter (set by the user)"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // Refusals name the reason.
    let out = personalize(&data).args(["documents", "--set-kind", &id, "memo"]).output().expect("run");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(KINDS.iter().all(|k| stderr.contains(k)), "{stderr}");
    let stranger = DocumentId::new().to_string();
    let out = personalize(&data).args(["documents", "--set-kind", &stranger, "resume"]).output().expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not_found"), "{}", String::from_utf8_lossy(&out.stderr));

    // Back to a résumé: the education returns.
    let back = run_json(personalize(&data).args(["documents", "--set-kind", &id, "resume", "--json"]));
    assert_eq!((back[0]["kind"].as_str(), back[0]["kind_source"].as_str()), (Some("resume"), Some("user")));
    assert!(has_education(&run_json(personalize(&data).args(["knowledge", "--json"]))[0]));
}
