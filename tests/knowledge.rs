//! Facts end to end on the embedded adapters: résumés built here as PDF and
//! DOCX in different layouts and date formats, through the extract stage
//! into the knowledge graph, read and changed through the knowledge API.

use api::auth::{JwtConfig, KeySource, Secret, mint_hs256};
use api::{AppState, JwtVerifier};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use domain::{
    ContentType, DocumentClassified, DocumentId, DocumentKind, DocumentRecord, DocumentStatus, Envelope, EventType,
    Limits, PageText, UploadMethod, UserId,
};
use embedded::{EmbeddedDb, FsBlobStore, RedbQueue, RedbTableStore};
use extract::ExtractService;
use facts::lexicon::BuiltinLexicon;
use facts::model::Source;
use http_body_util::BodyExt;
use integration_tests::fixtures;
use ports::{NoOcr, Ports};
use serde_json::{Value, json};
use std::sync::Arc;
use store::{DocumentRepo, KnowledgeRepo, keys};
use tower::ServiceExt;

const SECRET: &[u8] = b"a-test-secret-that-is-at-least-32-bytes-long";

struct Harness {
    ports: Ports,
    extract: ExtractService,
    router: axum::Router,
    _dir: std::path::PathBuf,
}

fn harness() -> Harness {
    let dir = fixtures::temp_dir("knowledge");
    let db = EmbeddedDb::open(&dir).expect("db");
    let ports = Ports {
        blobs: Arc::new(FsBlobStore::new(&dir)),
        queue: Arc::new(RedbQueue::new(db.clone(), 4)),
        table: Arc::new(RedbTableStore::new(db)),
        ocr: Arc::new(NoOcr),
    };
    let config =
        JwtConfig { issuer: "t".into(), audience: "a".into(), keys: KeySource::Hs256(Secret::new(SECRET.to_vec())) };
    let state = AppState::new(ports.clone(), Arc::new(JwtVerifier::new(&config).expect("verifier")), Limits::default());
    let router = axum::Router::new().nest(api::API_PREFIX, api::knowledge_routes().with_state(state));
    Harness { extract: ExtractService::new(ports.clone(), BuiltinLexicon::shared(), 4), ports, router, _dir: dir }
}

/// Stores a document as classify leaves it (record, text blob) and runs the
/// extract stage on its event. Returns the document id, its pages and the event body.
async fn ingest(
    h: &Harness,
    user: &str,
    kind: DocumentKind,
    content_type: ContentType,
    bytes: &[u8],
) -> (DocumentId, Vec<PageText>, String) {
    let user = UserId::parse(user).expect("user");
    let pages = documents::extract_text(content_type, bytes).expect("text");
    let mut record =
        DocumentRecord::new(user.clone(), DocumentId::new(), "cv", bytes.len() as u64, UploadMethod::Direct);
    let id = record.document_id;
    record.content_type = Some(content_type);
    record.sha256 = Some(domain::sha256_hex(bytes));
    record.transition(DocumentStatus::TextExtracted, None);
    record.kind = kind;
    DocumentRepo::new(h.ports.table.clone()).save(&record).await.expect("record");
    let text_key = keys::text_object(&user, &id);
    let text = serde_json::to_vec(&pages).expect("json");
    h.ports.blobs.put(&text_key, text.into(), "application/json").await.expect("text");
    let event = Envelope::new(
        EventType::DocumentClassified,
        DocumentClassified::VERSION,
        user,
        &format!("{id}#classify"),
        DocumentClassified {
            document_id: id,
            kind,
            confidence: Some(0.9),
            content_type,
            status: DocumentStatus::TextExtracted,
            sha256: domain::sha256_hex(bytes),
            pages: pages.len() as u32,
            text_key,
        },
    );
    let body = serde_json::to_string(&event).expect("event");
    h.extract.handle(&body).await.expect("extract").expect("something extracted");
    (id, pages, body)
}

async fn call(h: &Harness, user: &str, method: &str, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    let mut request = Request::builder()
        .method(method)
        .uri(format!("/api/v1/personalization{path}"))
        .header("authorization", format!("Bearer {}", mint_hs256(SECRET, "t", "a", user, 600)));
    let body = match body {
        Some(json) => {
            request = request.header("content-type", "application/json");
            Body::from(json.to_string())
        }
        None => Body::empty(),
    };
    let response = h.router.clone().oneshot(request.body(body).expect("request")).await.expect("response");
    let status = response.status();
    let bytes = response.into_body().collect().await.expect("body").to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

fn facts_of_kind<'a>(view: &'a Value, kind: &str) -> Vec<&'a Value> {
    view["facts"][kind].as_array().map(|a| a.iter().collect()).unwrap_or_default()
}

fn job<'a>(view: &'a Value, organisation: &str) -> &'a Value {
    facts_of_kind(view, "job")
        .into_iter()
        .find(|j| j["value"]["organisation"] == organisation)
        .unwrap_or_else(|| panic!("no job at {organisation}: {:#}", view["facts"]["job"]))
}

/// Layout 1, a PDF: one line per role ("Title, Company, Place, dates"), dashes as bullets.
fn pdf_resume() -> Vec<u8> {
    fixtures::pdf(&[vec![
        "Maria Gonzalez".into(),
        "maria.gonzalez@example.org | +1 (415) 555-0199 | linkedin.com/in/mariagonzalez".into(),
        "PROFESSIONAL EXPERIENCE".into(),
        "Senior Data Engineer, Northwind Traders, Seattle, WA, Jan 2020 - Present".into(),
        "- Cut nightly batch runtime by 45% by moving ETL jobs to Spark".into(),
        "- Saved $120,000 a year in warehouse costs with Snowflake clustering".into(),
        "Data Analyst, Contoso Ltd, Remote, 03/2017 - 12/2019".into(),
        "- Built Tableau dashboards used by 300 sales staff".into(),
        "Research Intern, Fabrikam Labs, Summer 2016".into(),
        "EDUCATION".into(),
        "Master of Science in Data Science, University of Washington, 2015 - 2017".into(),
        "SKILLS".into(),
        "Languages: Python, SQL, Scala".into(),
        "Tools: Airflow, Docker, Kubernetes".into(),
        "CERTIFICATIONS".into(),
        "AWS Certified Data Analytics - Specialty, Amazon Web Services, 2021".into(),
    ]])
}

/// Layout 2, a DOCX: company line, then "Title | dates"; headings with colons; a table of skills.
fn docx_resume() -> Vec<u8> {
    fixtures::docx(
        &[
            "Kenji Watanabe",
            "kenji@example.jp",
            "Work History:",
            "Globex Corporation",
            "Staff Software Engineer | since 2021",
            "• Led 6 engineers to rebuild the billing platform in Go",
            "Initech",
            "Backend Developer | 2018-06 to 2021-02",
            "• Reduced API latency by 60% with Redis caching",
            "Education:",
            "BSc Computer Science, University of Tokyo, May 2018",
            "Technical Skills:",
        ],
        &[&["Go", "Rust", "PostgreSQL"], &["Redis", "gRPC", "Terraform"]],
    )
}

#[tokio::test]
async fn resumes_in_two_layouts_give_their_facts_field_by_field_with_exact_spans() {
    let h = harness();
    let (pdf_doc, pdf_pages, _) = ingest(&h, "maria", DocumentKind::Resume, ContentType::Pdf, &pdf_resume()).await;
    let (_, view) = call(&h, "maria", "GET", "/knowledge", None).await;

    let northwind = job(&view, "Northwind Traders");
    assert_eq!(northwind["value"]["title"], "Senior Data Engineer");
    assert_eq!(northwind["value"]["location"], "Seattle, WA");
    assert_eq!(
        (northwind["value"]["dates"]["start"].as_str(), northwind["value"]["dates"]["current"].as_bool()),
        (Some("2020-01"), Some(true))
    );
    let contoso = job(&view, "Contoso Ltd");
    assert_eq!(contoso["value"]["title"], "Data Analyst");
    assert_eq!(
        (contoso["value"]["dates"]["start"].as_str(), contoso["value"]["dates"]["end"].as_str()),
        (Some("2017-03"), Some("2019-12"))
    );
    let fabrikam = job(&view, "Fabrikam Labs");
    assert_eq!(
        (fabrikam["value"]["title"].as_str(), fabrikam["value"]["dates"]["start"].as_str()),
        (Some("Research Intern"), Some("2016-06"))
    );

    let achievements = facts_of_kind(&view, "achievement");
    let cut = achievements
        .iter()
        .find(|a| a["value"]["text"].as_str().unwrap().starts_with("Cut nightly"))
        .expect("45% achievement");
    assert_eq!(cut["value"]["metrics"][0]["kind"], "percent");
    assert_eq!(cut["value"]["metrics"][0]["value"], 45.0);
    assert_eq!(cut["value"]["job"], northwind["id"], "the achievement belongs to its job");
    let saved = achievements.iter().find(|a| a["value"]["text"].as_str().unwrap().starts_with("Saved")).expect("money");
    assert_eq!(
        (saved["value"]["metrics"][0]["value"].as_f64(), saved["value"]["metrics"][0]["currency"].as_str()),
        (Some(120_000.0), Some("USD"))
    );

    let education = facts_of_kind(&view, "education");
    assert_eq!(education.len(), 1);
    let e = &education[0]["value"];
    assert_eq!(
        (e["degree"].as_str(), e["field"].as_str(), e["institution"].as_str()),
        (Some("Master of Science"), Some("Data Science"), Some("University of Washington"))
    );
    assert_eq!((e["dates"]["start"].as_str(), e["dates"]["end"].as_str()), (Some("2015"), Some("2017")));

    let skills: Vec<&str> =
        facts_of_kind(&view, "skill").iter().map(|s| s["value"]["name"].as_str().unwrap()).collect();
    for expected in ["Python", "SQL", "Scala", "Airflow", "Docker", "Kubernetes", "Spark", "Snowflake", "Tableau"] {
        assert!(skills.contains(&expected), "{expected} missing from {skills:?}");
    }
    let certification = &facts_of_kind(&view, "certification")[0]["value"];
    assert_eq!(certification["name"], "AWS Certified Data Analytics - Specialty");
    let contacts: Vec<(&str, &str)> = facts_of_kind(&view, "contact")
        .iter()
        .map(|c| (c["value"]["kind"].as_str().unwrap(), c["value"]["value"].as_str().unwrap()))
        .collect();
    for expected in
        [("name", "Maria Gonzalez"), ("email", "maria.gonzalez@example.org"), ("link", "linkedin.com/in/mariagonzalez")]
    {
        assert!(contacts.contains(&expected), "{expected:?} missing from {contacts:?}");
    }
    // The Northwind job used Spark (named in its bullet): a derived edge.
    let spark = facts_of_kind(&view, "skill").into_iter().find(|s| s["value"]["name"] == "Spark").unwrap();
    assert!(
        view["edges"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["from"] == northwind["id"] && e["rel"] == "USED" && e["to"] == spark["id"])
    );

    // DOCX, other layout, other date forms.
    let (_, docx_pages, _) = ingest(&h, "kenji", DocumentKind::Resume, ContentType::Docx, &docx_resume()).await;
    let (_, view2) = call(&h, "kenji", "GET", "/knowledge", None).await;
    let globex = job(&view2, "Globex Corporation");
    assert_eq!(
        (
            globex["value"]["title"].as_str(),
            globex["value"]["dates"]["start"].as_str(),
            globex["value"]["dates"]["current"].as_bool()
        ),
        (Some("Staff Software Engineer"), Some("2021"), Some(true))
    );
    let initech = job(&view2, "Initech");
    assert_eq!(
        (
            initech["value"]["title"].as_str(),
            initech["value"]["dates"]["start"].as_str(),
            initech["value"]["dates"]["end"].as_str()
        ),
        (Some("Backend Developer"), Some("2018-06"), Some("2021-02"))
    );
    let e = &facts_of_kind(&view2, "education")[0]["value"];
    assert_eq!(
        (e["degree"].as_str(), e["institution"].as_str(), e["dates"]["end"].as_str()),
        (Some("BSc"), Some("University of Tokyo"), Some("2018-05"))
    );
    let skills: Vec<&str> =
        facts_of_kind(&view2, "skill").iter().map(|s| s["value"]["name"].as_str().unwrap()).collect();
    for expected in ["Go", "Rust", "PostgreSQL", "Redis", "gRPC", "Terraform"] {
        assert!(skills.contains(&expected), "{expected} missing from {skills:?}");
    }

    // Every source's span, cut from its page's text, is exactly its recorded text.
    for (view, pages) in [(&view, &pdf_pages), (&view2, &docx_pages)] {
        for fact in view["facts"].as_object().unwrap().values().flat_map(|v| v.as_array().unwrap()) {
            for source in fact["sources"].as_array().unwrap() {
                let source_value: Source = serde_json::from_value(source["source"].clone()).unwrap();
                let Source::Document { page, char_start, char_end, .. } = source_value else { panic!("{source}") };
                let text = &pages.iter().find(|p| p.page == page).unwrap().text;
                let cut: String =
                    text.chars().skip(char_start as usize).take((char_end - char_start) as usize).collect();
                assert_eq!(cut, source["text"].as_str().unwrap(), "{fact}");
            }
        }
    }
    assert!(pdf_doc != DocumentId::new());
}

#[tokio::test]
async fn duplicates_merge_a_cover_letter_adds_a_source_and_edits_survive_reingestion() {
    let h = harness();
    let resume = pdf_resume();
    let (_, _, body) = ingest(&h, "ana", DocumentKind::Resume, ContentType::Pdf, &resume).await;
    let (_, first) = call(&h, "ana", "GET", "/knowledge", None).await;
    let count =
        |v: &Value| v["facts"].as_object().unwrap().values().map(|l| l.as_array().unwrap().len()).sum::<usize>();
    let facts_before = count(&first);

    // A redelivered message is a no-op; the same file uploaded again adds no facts.
    assert!(h.extract.handle(&body).await.expect("redelivery").is_none());
    ingest(&h, "ana", DocumentKind::Resume, ContentType::Pdf, &resume).await;
    let (_, second) = call(&h, "ana", "GET", "/knowledge", None).await;
    assert_eq!(count(&second), facts_before, "the same résumé twice adds no facts");
    let record = DocumentRepo::new(h.ports.table.clone()).list(&UserId::parse("ana").unwrap()).await.unwrap();
    assert_eq!(record[1].dedup_rate, Some(1.0), "every fact of the copy was already known");

    // A cover letter about the Northwind job: one job, one more source.
    let letter = fixtures::pdf(&[vec![
        "Maria Gonzalez".into(),
        "Dear Hiring Team,".into(),
        "As a Senior Data Engineer at Northwind Traders since 2020, I cut batch costs by 30%.".into(),
        "I am excited by your mission to make data reliable.".into(),
        "Sincerely,".into(),
        "Maria Gonzalez".into(),
    ]]);
    ingest(&h, "ana", DocumentKind::CoverLetter, ContentType::Pdf, &letter).await;
    let (_, third) = call(&h, "ana", "GET", "/knowledge", None).await;
    let northwind: Vec<&Value> = facts_of_kind(&third, "job")
        .into_iter()
        .filter(|j| j["value"]["organisation"] == "Northwind Traders")
        .collect();
    assert_eq!(northwind.len(), 1, "one job, not two");
    let documents: std::collections::HashSet<&str> = northwind[0]["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["source"]["document_id"].as_str().unwrap())
        .collect();
    assert_eq!(documents.len(), 3, "two copies of the résumé and the letter");
    assert!(
        facts_of_kind(&third, "motivation").iter().any(|m| m["value"]["text"].as_str().unwrap().contains("excited"))
    );

    // The user edits the job and deletes a skill; re-ingesting keeps both.
    let id = northwind[0]["id"].as_str().unwrap().to_owned();
    let mut value = northwind[0]["value"].clone();
    value["title"] = json!("Lead Data Engineer");
    let (status, edited) =
        call(&h, "ana", "PUT", &format!("/knowledge/{id}"), Some(json!({ "value": value, "visibility": "private" })))
            .await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    assert_eq!(
        (edited["value"]["title"].as_str(), edited["user_edited"].as_bool(), edited["visibility"].as_str()),
        (Some("Lead Data Engineer"), Some(true), Some("private"))
    );
    let scala = facts_of_kind(&third, "skill").into_iter().find(|s| s["value"]["name"] == "Scala").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(call(&h, "ana", "DELETE", &format!("/knowledge/{scala}"), None).await.0, StatusCode::NO_CONTENT);
    ingest(&h, "ana", DocumentKind::Resume, ContentType::Pdf, &resume).await;
    let (_, fourth) = call(&h, "ana", "GET", "/knowledge", None).await;
    assert_eq!(job(&fourth, "Northwind Traders")["value"]["title"], "Lead Data Engineer");
    assert!(!facts_of_kind(&fourth, "skill").iter().any(|s| s["value"]["name"] == "Scala"), "deleted stays deleted");
    let sources = job(&fourth, "Northwind Traders")["sources"].as_array().unwrap().clone();
    assert!(sources.iter().any(|s| s["source"]["type"] == "user_edit"), "the edit is a source");

    // A bad edit is refused with its reason; nothing changes.
    let (status, problem) =
        call(&h, "ana", "PUT", &format!("/knowledge/{id}"), Some(json!({ "value": { "title": 5 } }))).await;
    assert_eq!((status, problem["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_fact")));

    // The audit trail has every kind of change; the export holds it, and the
    // shareable JSON Resume leaves the private job out.
    let (_, export) = call(&h, "ana", "GET", "/export", None).await;
    let actions: std::collections::HashSet<&str> =
        export["audit"].as_array().unwrap().iter().map(|a| a["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["extracted", "merged", "edited", "deleted"].into_iter().collect());
    assert!(
        export["facts"].as_array().unwrap().iter().any(|f| f["id"] == id.as_str()),
        "the full export includes private facts"
    );
    let (_, resume_json) = call(&h, "ana", "GET", "/export?format=json_resume", None).await;
    assert_eq!(resume_json["basics"]["name"], "Maria Gonzalez");
    let work = resume_json["work"].as_array().unwrap();
    assert!(work.iter().all(|w| w["name"] != "Northwind Traders"), "private facts are not shared");
    let iso = |s: &str| s.len() == 4 || (s.len() == 7 && &s[4..5] == "-");
    for entry in work.iter().chain(resume_json["education"].as_array().unwrap()) {
        for key in ["startDate", "endDate"] {
            if let Some(date) = entry[key].as_str() {
                assert!(iso(date), "{key} {date:?} is not an ISO 8601 date");
            }
        }
    }
    validate_json_resume(&resume_json);
    let repo = KnowledgeRepo::new(h.ports.table.clone());
    assert!(repo.audit(&UserId::parse("ana").unwrap()).await.unwrap().len() >= facts_before);
}

/// Validates against the official JSON Resume v1 schema (npm `resume-schema`,
/// fetched by `infra/scripts/json_resume_schema.sh`) with Python's `jsonschema`.
fn validate_json_resume(resume: &Value) {
    let schema = std::env::var("PERSONALIZATION_JSON_RESUME_SCHEMA").expect(
        "PERSONALIZATION_JSON_RESUME_SCHEMA must name the schema: eval \"$(infra/scripts/json_resume_schema.sh)\" (.ci/run does this)",
    );
    let file = fixtures::temp_dir("json-resume").join("resume.json");
    std::fs::write(&file, resume.to_string()).expect("write");
    // The test venv's python (on PATH in test.sh), which has jsonschema.
    let python = std::env::var("PERSONALIZATION_SCHEMA_PYTHON").unwrap_or_else(|_| "python3".into());
    let check = "import json, sys, jsonschema\n\
        schema = json.load(open(sys.argv[1])); doc = json.load(open(sys.argv[2]))\n\
        errors = [e.message for e in jsonschema.Draft4Validator(schema).iter_errors(doc)]\n\
        print('\\n'.join(errors)); sys.exit(1 if errors else 0)";
    let out = std::process::Command::new(python).args(["-c", check]).arg(&schema).arg(&file).output().expect("python");
    assert!(
        out.status.success(),
        "not a valid JSON Resume: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn another_user_gets_nothing_and_404_on_every_knowledge_endpoint() {
    let h = harness();
    ingest(&h, "alice", DocumentKind::Resume, ContentType::Pdf, &pdf_resume()).await;
    let (_, mine) = call(&h, "alice", "GET", "/knowledge", None).await;
    let id = facts_of_kind(&mine, "job")[0]["id"].as_str().unwrap().to_owned();

    let (status, theirs) = call(&h, "bob", "GET", "/knowledge", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(theirs["facts"].as_object().unwrap().is_empty() && theirs["edges"].as_array().unwrap().is_empty());
    let (status, problem) =
        call(&h, "bob", "PUT", &format!("/knowledge/{id}"), Some(json!({ "visibility": "private" }))).await;
    assert_eq!((status, problem["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")));
    assert_eq!(call(&h, "bob", "DELETE", &format!("/knowledge/{id}"), None).await.0, StatusCode::NOT_FOUND);
    let (_, export) = call(&h, "bob", "GET", "/export", None).await;
    assert!(export["facts"].as_array().unwrap().is_empty() && export["documents"].as_array().unwrap().is_empty());
    assert!(export["json_resume"]["basics"].as_object().unwrap().is_empty());
    // Without a token: 401.
    let response = h
        .router
        .clone()
        .oneshot(Request::get("/api/v1/personalization/knowledge").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    let (_, after) = call(&h, "alice", "GET", "/knowledge", None).await;
    assert_eq!(after, mine, "alice's knowledge is untouched");
}
