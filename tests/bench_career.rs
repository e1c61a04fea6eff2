//! Figures for the interview and the insights on the embedded default:
//! conversation turn latency (p50/p99) with template wording and with the
//! Bedrock adapter against a local fake Converse server, insight generation
//! time for a profile of about 50 facts (with the ontology when
//! `PERSONALIZATION_ONTOLOGY` is set), and the transcript of one interview.
//! `cargo run --release -p integration-tests --bin bench_career`

use axum::routing::post;
use converse::ConversationService;
use domain::{DocumentId, DocumentKind, UserId};
use embedded::{EmbeddedDb, RedbQueue, RedbTableStore};
use facts::extract::Doc;
use facts::knowledge::RuleMatcher;
use facts::lexicon::BuiltinLexicon;
use integration_tests::fixtures;
use ports::{LanguageModel, TableStore};
use serde_json::json;
use std::sync::Arc;
use std::time::Instant;
use store::KnowledgeRepo;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// A résumé of about 50 facts: five jobs with bullets, skills, education.
fn resume() -> Vec<String> {
    let mut lines = vec!["Robin Vale".to_owned(), "robin@example.com".to_owned(), "EXPERIENCE".to_owned()];
    let jobs = [
        ("Engineering Manager", "Globex", "Mar 2022 - Present"),
        ("Senior Software Engineer", "Initech", "Jan 2019 - Feb 2022"),
        ("Software Engineer", "Hooli", "Jun 2016 - Dec 2018"),
        ("Junior Developer", "Vandelay", "Sep 2014 - May 2016"),
        ("Intern", "Acme Corp", "Jun 2013 - Aug 2013"),
    ];
    let bullets = [
        "Led a team of 6 engineers that rebuilt the billing platform",
        "Mentored new hires through their first quarter",
        "Reduced cloud costs by 30% by moving batch jobs to spot instances",
        "Built the internal deployment tool in Go and Kubernetes",
        "Worked with product managers to plan the roadmap",
        "Improved API latency",
        "Designed the event pipeline on Kafka for order tracking",
        "Ran the on-call rotation and wrote the incident runbooks",
    ];
    for (i, (title, org, dates)) in jobs.iter().enumerate() {
        lines.push(format!("{title}, {org}, {dates}"));
        for b in bullets.iter().skip(i).take(8 - i) {
            lines.push(format!("- {b} at {org}"));
        }
    }
    lines.extend(["EDUCATION".to_owned(), "BSc Computer Science, University of Leeds".to_owned()]);
    lines.push("CERTIFICATIONS".to_owned());
    lines.push("AWS Certified Solutions Architect - Associate, Amazon Web Services, 2021".to_owned());
    lines.push("Certified Kubernetes Administrator, The Linux Foundation, 2020".to_owned());
    lines.push("SKILLS".to_owned());
    lines.push("Rust, Go, Python, SQL, PostgreSQL, Kubernetes, Terraform, AWS, Docker, Kafka, React, Git".to_owned());
    lines.push("Java, TypeScript, Redis, GraphQL, Linux, Prometheus, Grafana, Spark, Airflow, Ansible, Scala, Jenkins, Elasticsearch, MongoDB, Flask, Django".to_owned());
    lines
}

async fn seed(table: Arc<dyn TableStore>, user: &UserId) -> usize {
    let pages = documents::extract_text(domain::ContentType::Pdf, &fixtures::pdf(&[resume()])).expect("text");
    let doc = Doc::new(DocumentId::new(), &pages, "2026-12-01T00:00:00Z");
    let found = facts::extract_document(DocumentKind::Resume, &doc, BuiltinLexicon::get());
    let repo = KnowledgeRepo::new(table);
    let mut k = repo.load(user).await.unwrap();
    let before = k.edges.clone();
    let now = domain::now_rfc3339();
    k.merge(found, &RuleMatcher { today: facts::dates::YearMonth::new(2026, Some(12)).unwrap() }, &now);
    repo.save(user, &mut k, &before, &now).await.unwrap();
    repo.load(user).await.unwrap().live().count()
}

const ANSWERS: &[&str] = &[
    "I led the migration of our payments service to Kubernetes, which cut deploy time by 80% and let us ship daily.",
    "We reduced support tickets by 25% after I rewrote the onboarding flow with the design team.",
    "I used Terraform to codify 40 AWS accounts, so new environments take one hour instead of a week.",
    "Between jobs I took a course in machine learning and built a small recommender in Python.",
    "It saved about $120k a year in licence fees.",
    "skip",
];

/// What a cooperative user would answer to a question of this kind.
fn answer_for(q: &career::questioner::Question) -> String {
    use career::gaps::GapKind;
    match q.gap {
        GapKind::JobWithoutAchievements => "I owned the migration of our payments service to Kubernetes; deploys went \
            from two hours to 15 minutes and we started shipping daily."
            .to_owned(),
        GapKind::UnquantifiedAchievement => {
            "It cut the p95 latency from 800 ms to 200 ms, about 75% faster, for 2 million daily requests.".to_owned()
        }
        GapKind::UnexplainedDateGap => "I travelled for a few months, then taught myself machine learning and built a \
            small recommender in Python."
            .to_owned(),
        GapKind::SkillNotEvidenced | GapKind::TargetSkillUnevidenced => format!(
            "At Globex I used {} to rebuild the reporting service with two other engineers, which cut its cost by 40%.",
            q.subject
        ),
        GapKind::EducationWithoutDates => "I studied there from 2010 to 2013.".to_owned(),
    }
}

/// Runs `sessions` interviews; returns each turn's latency in ms.
async fn interviews(service: &ConversationService, user: &UserId, sessions: usize) -> Vec<f64> {
    let mut times = Vec::new();
    for s in 0..sessions {
        let t = Instant::now();
        let mut view = service.start(user, Some(6)).await.unwrap();
        times.push(t.elapsed().as_secs_f64() * 1e3);
        let mut n = 0;
        while view.question.is_some() {
            let answer = ANSWERS[(s + n) % ANSWERS.len()];
            let t = Instant::now();
            view = service.turn(user, &view.session_id, answer, None).await.unwrap();
            times.push(t.elapsed().as_secs_f64() * 1e3);
            n += 1;
        }
    }
    times
}

fn report(label: &str, mut times: Vec<f64>) {
    times.sort_by(f64::total_cmp);
    println!(
        "{label}: {} requests (starts and turns), p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        times.len(),
        percentile(&times, 0.5),
        percentile(&times, 0.99),
        times[times.len() - 1]
    );
}

/// A fake Converse endpoint that rewords every question warmly.
async fn fake_bedrock() -> String {
    async fn converse(body: String) -> axum::Json<serde_json::Value> {
        let request: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
        let text = request["messages"][0]["content"][0]["text"].as_str().unwrap_or("").lines().next().unwrap_or("");
        axum::Json(json!({
            "output": { "message": { "role": "assistant", "content": [ { "text": format!("Thanks! {text}") } ] } },
            "stopReason": "end_turn",
            "usage": { "inputTokens": 80, "outputTokens": 40, "totalTokens": 120 },
            "metrics": { "latencyMs": 1 }
        }))
    }
    let app = axum::Router::new().route("/model/{model}/converse", post(converse));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

#[tokio::main]
async fn main() {
    let dir = fixtures::temp_dir("bench-career");
    let db = EmbeddedDb::open(&dir).expect("db");
    let table: Arc<dyn TableStore> = Arc::new(RedbTableStore::new(db.clone()));
    let queue = Arc::new(RedbQueue::new(db, 4));
    let user = UserId::parse("bench").unwrap();
    let facts = seed(table.clone(), &user).await;
    println!("profile: {facts} live facts");

    // One transcript, then the latency runs (each on a fresh copy of the profile's gaps:
    // sessions of one user share covered topics, so later ones ask other things).
    let service = ConversationService::new(table.clone(), queue.clone(), BuiltinLexicon::shared());
    let transcript_user = UserId::parse("transcript").unwrap();
    seed(table.clone(), &transcript_user).await;
    let mut view = service.start(&transcript_user, Some(6)).await.unwrap();
    println!("\n--- transcript (session {}) ---", view.session_id);
    let mut n = 0;
    while let Some(q) = view.question.clone() {
        println!("Q{}: {}\n    (gap: {}, value {:.3})", n + 1, q.text, q.reason, q.value);
        let answer = if n >= 4 { ["skip", "meh"][(n - 4).min(1)].to_owned() } else { answer_for(&q) };
        let answer = answer.as_str();
        println!("A{}: {answer}", n + 1);
        view = service.turn(&transcript_user, &view.session_id, answer, None).await.unwrap();
        for l in &view.learned {
            println!("    learned {}: {}", l.kind.as_str(), l.summary);
        }
        for p in &view.patterns {
            println!("    pattern {}: \"{}\"", p.kind.as_str(), p.quote);
        }
        if let Some(notice) = &view.notice {
            println!("    ({notice})");
        }
        n += 1;
    }
    println!("ended: {}", view.end_reason.clone().unwrap_or_default());
    println!("--- end of transcript ---\n");

    let mut users = Vec::new();
    for i in 0..20 {
        let u = UserId::parse(&format!("templ{i}")).unwrap();
        seed(table.clone(), &u).await;
        users.push(u);
    }
    let mut times = Vec::new();
    for u in &users {
        times.extend(interviews(&service, u, 1).await);
    }
    report("conversation, embedded default (template wording)", times);

    let url = fake_bedrock().await;
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(url)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_credential_types::Credentials::new("test", "test", None, None, "fake"))
        .load()
        .await;
    let model: Arc<dyn LanguageModel> =
        Arc::new(aws_adapters::BedrockLanguageModel::new(&config, "anthropic.claude-test-v1:0"));
    let bedrock =
        ConversationService::new(table.clone(), queue.clone(), BuiltinLexicon::shared()).with_language_model(model);
    let mut times = Vec::new();
    for i in 0..20 {
        let u = UserId::parse(&format!("llm{i}")).unwrap();
        seed(table.clone(), &u).await;
        times.extend(interviews(&bedrock, &u, 1).await);
    }
    report("conversation, Bedrock adapter against a local fake Converse server", times);

    // Insight generation for the ~50-fact profile, forced, 10 runs each.
    let mut service = insight::InsightService::new(table.clone(), queue.clone(), 4);
    let mut label = "without the ontology (no career paths)";
    for round in 0..2 {
        let mut times = Vec::new();
        for _ in 0..10 {
            let t = Instant::now();
            service.generate(&user, "bench", true).await.unwrap();
            times.push(t.elapsed().as_secs_f64() * 1e3);
        }
        times.sort_by(f64::total_cmp);
        let latest = service.repo().latest(&user).await.unwrap().unwrap();
        println!(
            "insight generation, {facts}-fact profile, {label}: median {:.1} ms, max {:.1} ms over 10 ({} insights: {} strengths, {} paths, {} recommendations)",
            times[4],
            times[9],
            latest.insights.count(),
            latest.insights.strengths.len(),
            latest.insights.paths.len(),
            latest.insights.recommendations.len()
        );
        if round == 1 {
            break;
        }
        let Ok(artifact) = std::env::var("PERSONALIZATION_ONTOLOGY") else {
            println!("PERSONALIZATION_ONTOLOGY not set: the run with the ontology is skipped");
            break;
        };
        let onto = Arc::new(ontology::Ontology::open(artifact.as_ref()).unwrap());
        let embedder: Arc<dyn ports::TextEmbedder> =
            Arc::new(embedding::Embedder::load(&fixtures::model_dir()).unwrap());
        service = insight::InsightService::new(table.clone(), queue.clone(), 4).with_ontology(onto, embedder);
        label = "with the ontology (career paths)";
    }
}
