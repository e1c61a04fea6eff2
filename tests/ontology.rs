//! The skill ontology on the real artifact (built by
//! `infra/scripts/build_ontology.sh` from the registry wheels, with O*NET from
//! `../shared/onet/` when present) and the real model: lookups by every
//! reason, ambiguous terms resolved by context, skills of a résumé mapped,
//! titles to O*NET-SOC codes, the reference-data API, and a deterministic build.

use api::auth::{JwtConfig, KeySource, Secret, mint_hs256};
use api::{JwtVerifier, OntologyState};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use domain::{DocumentId, DocumentKind};
use facts::extract::Doc;
use facts::lexicon::BuiltinLexicon;
use facts::model::FactValue;
use http_body_util::BodyExt;
use integration_tests::fixtures;
use ontology::model::Scheme;
use ontology::{MatchReason, Ontology, Query};
use serde_json::Value;
use std::sync::{Arc, OnceLock};
use tower::ServiceExt;

const SECRET: &[u8] = b"a-test-secret-that-is-at-least-32-bytes-long";
const PYTHON_ESCO: &str = "esco:skill/ccd0a1d9-afda-43d9-b901-96344886e14d";

fn shared() -> &'static (Arc<Ontology>, Arc<embedding::Embedder>) {
    static SHARED: OnceLock<(Arc<Ontology>, Arc<embedding::Embedder>)> = OnceLock::new();
    SHARED.get_or_init(|| {
        let onto = Ontology::open(&fixtures::ontology()).expect("the ontology artifact loads");
        let embedder = embedding::Embedder::load(&fixtures::model_dir()).expect("model");
        (Arc::new(onto), Arc::new(embedder))
    })
}

fn skills(q: &str, context: Option<&str>) -> Vec<(String, MatchReason, f32)> {
    let (onto, embedder) = shared();
    let mut query = Query::skills(q, 5);
    query.context = context;
    onto.search(&query, Some(embedder.as_ref()))
        .expect("search")
        .into_iter()
        .map(|h| (onto.concept(h.concept).id.clone(), h.reason, h.score))
        .collect()
}

fn ids(hits: &[(String, MatchReason, f32)]) -> Vec<&str> {
    hits.iter().map(|(id, _, _)| id.as_str()).collect()
}

#[test]
fn lookups_match_by_label_alias_spelling_and_meaning() {
    // An exact label.
    let hits = skills("machine learning", None);
    assert_eq!(hits[0].1, MatchReason::ExactLabel, "{hits:?}");
    assert_eq!(hits[0].2, 1.0);
    // An alias (ESCO's alternative label).
    let hits = skills("Python 3K", None);
    assert_eq!((hits[0].0.as_str(), hits[0].1), (PYTHON_ESCO, MatchReason::Alias), "{hits:?}");
    if fixtures::onet_release() {
        let hits = skills("Kubernetes", None);
        assert_eq!((hits[0].0.as_str(), hits[0].1), ("onet:tech/kubernetes", MatchReason::ExactLabel), "{hits:?}");
        // Case and punctuation do not matter.
        let hits = skills("nodejs", None);
        assert_eq!((hits[0].0.as_str(), hits[0].1), ("onet:tech/node-js", MatchReason::Normalised), "{hits:?}");
    }
    // A misspelling (one transposition).
    let hits = skills("Pyhton", None);
    assert!(ids(&hits).contains(&PYTHON_ESCO), "{hits:?}");
    assert!(hits.iter().all(|h| h.1 == MatchReason::Typo), "{hits:?}");
    // A synonym no name contains: found by meaning.
    let hits = skills("people management", None);
    let (onto, _) = shared();
    let labels: Vec<String> =
        hits.iter().map(|(id, _, _)| onto.concept(onto.find(id).unwrap()).label.clone()).collect();
    assert_eq!(hits[0].1, MatchReason::Semantic, "{hits:?}");
    assert!(labels.iter().any(|l| l.contains("personnel management") || l.contains("human resource")), "{labels:?}");
    // Nonsense finds nothing.
    assert!(skills("xqzvbnm qwrtpl", None).is_empty());
    assert!(skills("   ", None).is_empty());
}

#[test]
fn an_ambiguous_term_is_resolved_by_its_context() {
    if fixtures::onet_release() {
        let software = skills("Spring", Some("Built Java microservices with Spring Boot and Hibernate"));
        assert_eq!(software[0].0, "onet:tech/spring-framework", "{software:?}");
        let trucks = skills("Spring", Some("Replaced worn leaf springs and coil springs on truck suspensions"));
        assert_eq!(trucks[0].0, "esco:skill/c4dcfe3a-a8b0-4352-ba82-a5e345d88c08", "types of spring: {trucks:?}");
    }

    let servers = skills("Puppet", Some("Automated the configuration of 300 Linux servers with Puppet"));
    let (onto, _) = shared();
    let first = onto.concept(onto.find(&servers[0].0).unwrap());
    assert!(first.label.starts_with("Puppet"), "{servers:?}");
    let theatre = skills("Puppet", Some("Performed puppet shows for children at the city theatre"));
    let first = onto.concept(onto.find(&theatre[0].0).unwrap());
    assert!(first.label.contains("puppet"), "a puppetry skill, not the tool: {theatre:?}");
}

/// The facts of a one-page PDF résumé made of `lines`.
fn resume_facts(lines: Vec<String>) -> Vec<facts::extract::Found> {
    let pages = documents::extract_text(domain::ContentType::Pdf, &fixtures::pdf(&[lines])).expect("text");
    let doc = Doc::new(DocumentId::new(), &pages, "now");
    facts::extract_document(DocumentKind::Resume, &doc, BuiltinLexicon::get())
}

/// The reference-data routes with a test verifier.
fn reference_router(knowledge: Option<store::KnowledgeRepo>) -> axum::Router {
    let (onto, embedder) = shared();
    let config =
        JwtConfig { issuer: "t".into(), audience: "a".into(), keys: KeySource::Hs256(Secret::new(SECRET.to_vec())) };
    let state = OntologyState {
        verifier: Arc::new(JwtVerifier::new(&config).expect("verifier")),
        ontology: onto.clone(),
        embedder: embedder.clone(),
        knowledge,
    };
    axum::Router::new().nest(api::API_PREFIX, api::ontology_routes().with_state(state))
}

#[test]
fn the_skills_of_a_resume_map_to_their_concepts() {
    let (onto, embedder) = shared();
    let lines = vec![
        "Ana Silva".to_owned(),
        "ana@example.com".to_owned(),
        "EXPERIENCE".to_owned(),
        "Data Engineer, Acme Corp, Berlin, Germany, Jan 2020 - Present".to_owned(),
        "• Built Java microservices with Spring Boot for the billing team".to_owned(),
        "• Cut report time by 40% with SQL and Excel".to_owned(),
        "SKILLS".to_owned(),
        "Python, Kubernetes, Terraform, Excel, SQL, Zorblaxian".to_owned(),
    ];
    let found = resume_facts(lines);
    let mut mapped: Vec<(String, Option<String>)> = Vec::new();
    let mut partners: Vec<(String, Option<String>)> = Vec::new();
    for f in &found {
        if let FactValue::Skill(skill) = &f.fact.value {
            let context = Some(f.fact.provenance.text.as_str());
            let m = onto.map_skill(&skill.name, context, Some(embedder.as_ref())).expect("map");
            partners.push((skill.name.clone(), m.as_ref().and_then(|m| m.also).map(|c| onto.concept(c).id.clone())));
            mapped.push((skill.name.clone(), m.map(|m| onto.concept(m.concept).id.clone())));
        }
    }
    let concept = |name: &str| {
        mapped
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .unwrap_or_else(|| panic!("{name} was not extracted: {mapped:?}"))
            .1
            .clone()
    };
    // Python is one skill in both schemes: the concept and its partner.
    let python = concept("Python").expect("Python maps");
    let partner = partners.iter().find(|(n, _)| n == "Python").and_then(|(_, p)| p.clone());
    let both = [Some(python.clone()), partner];
    assert!(both.contains(&Some(PYTHON_ESCO.to_owned())), "{mapped:?} {partners:?}");
    // A name the ontology does not know stays free text.
    let (_, zorblaxian) = mapped.iter().find(|(n, _)| n == "Zorblaxian").expect("the unknown skill is extracted");
    assert_eq!(zorblaxian, &None, "never forced onto a concept");
    if !fixtures::onet_release() {
        return;
    }
    assert!(both.contains(&Some("onet:tech/python".to_owned())), "{mapped:?} {partners:?}");
    assert_eq!(concept("Kubernetes").as_deref(), Some("onet:tech/kubernetes"), "{mapped:?}");
    assert_eq!(concept("Excel").as_deref(), Some("onet:tech/microsoft-excel"), "{mapped:?}");
    assert_eq!(concept("Terraform").as_deref(), Some("onet:tech/ibm-terraform"), "{mapped:?}");
    let sql = concept("SQL").expect("SQL maps");
    assert!(sql.starts_with("onet:tech/structure") && sql.ends_with("query-language-sql"), "{sql}");
}

#[test]
fn job_titles_written_several_ways_map_to_their_onet_codes() {
    if !fixtures::onet_release() {
        return;
    }
    let (onto, embedder) = shared();
    let cases: &[(&[&str], &str)] = &[
        (&["Software Engineer", "software engineer", "Senior Software Engineer", "sofware engineer"], "15-1252.00"),
        (&["Registered Nurse", "RN", "registered nurses"], "29-1141.00"),
        (&["Data Scientist", "data scientst"], "15-2051.00"),
        (&["Accountant", "Staff Accountant"], "13-2011.00"),
        (&["Cashier"], "41-2011.00"),
        (&["HR Manager", "Human Resources Manager"], "11-3121.00"),
        (&["Web Developer"], "15-1254.00"),
    ];
    for (titles, code) in cases {
        for title in *titles {
            let mut q = Query::occupations(title, 3);
            q.scheme = Some(Scheme::Onet);
            let hits = onto.search(&q, Some(embedder.as_ref())).expect("search");
            let top = hits.first().map(|h| onto.concept(h.concept).id.clone());
            assert_eq!(top.as_deref(), Some(format!("onet:{code}").as_str()), "{title}: {hits:?}");
        }
    }
}

#[test]
fn the_onet_relations_and_the_crosswalk_are_there() {
    let (onto, _) = shared();
    assert!(onto.catalogue().sources.iter().any(|s| s.attribution.contains("CC BY 4.0")));
    if !fixtures::onet_release() {
        return;
    }
    let developers = onto.find("onet:15-1252.00").expect("software developers");
    assert!(!onto.related(developers).is_empty(), "related occupations");
    let python = onto.find("onet:tech/python").expect("python");
    assert!(onto.occupations_using(python).contains(&developers));
    let partners: Vec<String> = onto.crosswalk(python).iter().map(|(c, _, _)| onto.concept(*c).id.clone()).collect();
    assert!(partners.contains(&PYTHON_ESCO.to_owned()), "{partners:?}");
    // From software developers to data scientists, Python carries over; to
    // registered nurses, it does not.
    let scientists = onto.find("onet:15-2051.00").expect("data scientists");
    let nurses = onto.find("onet:29-1141.00").expect("registered nurses");
    assert!(onto.transferable_skills(developers, scientists).contains(&python));
    assert!(!onto.transferable_skills(developers, nurses).contains(&python));
    assert!(
        onto.transferable_skills(developers, scientists).len() > onto.transferable_skills(developers, nurses).len()
    );
}

async fn get(router: &axum::Router, path: &str, token: Option<&str>) -> (StatusCode, Value) {
    let mut request = Request::get(format!("/api/v1/personalization{path}"));
    if let Some(t) = token {
        request = request.header("authorization", format!("Bearer {t}"));
    }
    let response = router.clone().oneshot(request.body(Body::empty()).unwrap()).await.expect("response");
    let status = response.status();
    let bytes = response.into_body().collect().await.expect("body").to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_reference_data_api_answers_with_attribution_and_checks_its_input() {
    let router = reference_router(None);
    let token = mint_hs256(SECRET, "t", "a", "someone", 600);

    let (status, body) = get(&router, "/skills/search?q=pyhton&limit=3&scheme=esco", Some(&token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["results"][0]["id"], PYTHON_ESCO, "{body}");
    assert_eq!(body["results"][0]["reason"], "typo");
    assert_eq!(body["results"][0]["distance"], 1);
    assert!(body["attribution"].to_string().contains("ESCO"));
    let (_, body) = get(&router, "/skills/search?q=python&scheme=esco", Some(&token)).await;
    assert!(body["results"].as_array().unwrap().iter().all(|r| r["scheme"] == "esco"), "{body}");
    let (status, body) = get(&router, &format!("/skills/{PYTHON_ESCO}"), Some(&token)).await;
    assert_eq!((status, body["label"].as_str()), (StatusCode::OK, Some("Python (computer programming)")), "{body}");

    if fixtures::onet_release() {
        let (status, body) = get(&router, "/skills/onet:tech/python", Some(&token)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body["occupations"].to_string().contains("15-1252.00"), "{body}");
        assert!(body["crosswalk"].to_string().contains(PYTHON_ESCO), "{body}");
        let (status, body) = get(&router, "/skills/onet:15-1252.00", Some(&token)).await;
        assert_eq!(status, StatusCode::OK);
        assert!(!body["related"].as_array().unwrap().is_empty(), "an occupation has its related ones: {body}");
    }
    let (status, _) = get(&router, "/skills/esco:skill/not-a-concept", Some(&token)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (_, body) = get(&router, "/occupations/search?q=Registered%20Nurse&scheme=onet&limit=5", Some(&token)).await;
    assert_eq!(body["results"][0]["code"], "29-1141.00", "{body}");

    let (status, body) = get(&router, "/skills/search?q=x&limit=500", Some(&token)).await;
    assert_eq!(
        (status, body["code"].as_str(), body["limit"].as_u64()),
        (StatusCode::BAD_REQUEST, Some("invalid_limit"), Some(50))
    );
    let (status, body) = get(&router, "/skills/search?q=x&scheme=isco", Some(&token)).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_scheme")));
    let (status, _) = get(&router, "/skills/search?q=python", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "public data, still behind auth");
}

/// The set-up step from a clean folder, twice: byte-identical artifacts.
#[test]
fn the_build_is_deterministic_from_a_clean_cache() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let build = |label: &str| {
        let dir = fixtures::temp_dir(label);
        let out = std::process::Command::new("bash")
            .arg(root.join("infra/scripts/build_ontology.sh"))
            .env("PERSONALIZATION_ONTOLOGY_DIR", &dir)
            .env("PERSONALIZATION_ONTOLOGY_LIMIT", "150")
            .env("PERSONALIZATION_EMBEDDING_MODEL", fixtures::model_dir())
            // The runner's builder (already built), not `cargo run` inside `cargo test`.
            .env(
                "PERSONALIZATION_ONTOLOGY_BUILDER",
                format!("{} build-ontology", fixtures::debug_bin("personalize").display()),
            )
            .output()
            .expect("run build_ontology.sh");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let path =
            stdout.trim().strip_prefix("export PERSONALIZATION_ONTOLOGY=").expect("the artifact's path").to_owned();
        assert!(path.starts_with(dir.to_str().unwrap()), "{path}");
        std::fs::read(path).expect("artifact")
    };
    let (a, b) = (build("ontology-a"), build("ontology-b"));
    assert!(a.len() > 10_000);
    assert!(a == b, "two clean builds differ");
    let small = Ontology::from_bytes(&a).expect("the small artifact loads");
    assert!(small.len() >= 150);
}

/// A profile's titles and skills rank its occupations; another user's
/// profile is not seen.
#[tokio::test]
async fn my_occupations_come_from_my_titles_and_skills_only() {
    if !fixtures::onet_release() {
        return;
    }
    let dir = fixtures::temp_dir("occupations-mine");
    let db = embedded::EmbeddedDb::open(&dir).expect("db");
    let table: Arc<dyn ports::TableStore> = Arc::new(embedded::RedbTableStore::new(db));
    let repo = store::KnowledgeRepo::new(table);
    let lines = vec![
        "Ana Silva".to_owned(),
        "EXPERIENCE".to_owned(),
        "Senior Software Engineer, Acme Corp, Berlin, Germany, Jan 2021 - Present".to_owned(),
        "• Built Java services on Kubernetes".to_owned(),
        "Software Developer, Initech, Austin, TX, 2017 - 2020".to_owned(),
        "• Wrote Python tools for the data team".to_owned(),
        "SKILLS".to_owned(),
        "Python, Java, Kubernetes, Git".to_owned(),
    ];
    let found = resume_facts(lines);
    let mut knowledge = facts::knowledge::Knowledge::default();
    let matcher = facts::knowledge::RuleMatcher { today: facts::dates::YearMonth { year: 2026, month: Some(12) } };
    knowledge.merge(found, &matcher, "now");
    let ana = domain::UserId::parse("ana").unwrap();
    repo.save(&ana, &mut knowledge, &Default::default(), "now").await.expect("save");

    let router = reference_router(Some(repo));
    let (status, body) =
        get(&router, "/occupations/mine?limit=5", Some(&mint_hs256(SECRET, "t", "a", "ana", 600))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let first = &body["occupations"][0];
    assert_eq!(first["code"], "15-1252.00", "{body}");
    assert!(first["supporting_titles"].to_string().contains("Senior Software Engineer"), "{body}");
    assert!(first["supporting_skills"].to_string().contains("Python"), "{body}");
    assert!(body["attribution"].to_string().contains("O*NET"));
    let (status, body) = get(&router, "/occupations/mine", Some(&mint_hs256(SECRET, "t", "a", "bob", 600))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["occupations"], serde_json::json!([]), "bob sees nothing of ana's: {body}");
}
