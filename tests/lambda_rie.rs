//! The built `upload`, `classify`, `extract`, `embed`, `converse` and `insight` bootstraps under the Lambda runtime
//! interface emulator that aws-sam-cli ships (what `sam local invoke` runs in
//! its container), fed the files in `events/`, against moto.

use api::auth::mint_hs256;
use domain::{DocumentId, DocumentStatus, UserId};
use integration_tests::{fixtures, moto, pg};
use serde_json::Value;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use store::DocumentRepo;

const SECRET: &str = "rie-test-secret-that-is-at-least-32-bytes-long";

fn rie() -> PathBuf {
    let path = std::env::var("PERSONALIZATION_RIE").expect(
        "PERSONALIZATION_RIE must point at aws-lambda-rie-x86_64 from aws-sam-cli \
         (samcli/local/rapid/); .ci/run sets it",
    );
    PathBuf::from(path)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

/// An emulator running one function; killed on drop.
struct Emulator {
    child: Child,
    port: u16,
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(function: &str, env: &[(&str, String)]) -> Emulator {
    let bootstrap = fixtures::debug_bin(function);
    assert!(bootstrap.exists(), "{} is missing: run `cargo build --workspace --bins` first", bootstrap.display());
    let port = free_port();
    let api_port = free_port();
    let mut command = Command::new(rie());
    command
        .arg("--runtime-interface-emulator-address")
        .arg(format!("127.0.0.1:{port}"))
        .arg("--runtime-api-address")
        .arg(format!("127.0.0.1:{api_port}"))
        .arg(&bootstrap)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (k, v) in env {
        command.env(k, v);
    }
    let child = command.spawn().expect("start the runtime interface emulator");
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "the emulator did not listen on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
    Emulator { child, port }
}

/// Invokes the function with an event file, placeholders replaced.
async fn invoke(emulator: &Emulator, event: &str, replacements: &[(&str, &str)]) -> Value {
    let mut body = std::fs::read_to_string(fixtures::event_path(event)).expect("event file");
    for (from, to) in replacements {
        body = body.replace(from, to);
    }
    let port = emulator.port;
    // The emulator speaks plain HTTP/1.1; a blocking client is enough.
    tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
        stream.set_read_timeout(Some(Duration::from_secs(60))).expect("timeout");
        let request = format!(
            "POST /2015-03-31/functions/function/invocations HTTP/1.1\r\nHost: 127.0.0.1\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(request.as_bytes()).expect("write");
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("read");
        let (head, payload) = response.split_once("\r\n\r\n").expect("http response");
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        let payload = if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
            dechunk(payload)
        } else {
            payload.to_owned()
        };
        serde_json::from_str(&payload).unwrap_or_else(|e| panic!("not JSON ({e}): {payload}"))
    })
    .await
    .expect("invoke")
}

fn dechunk(body: &str) -> String {
    let mut out = String::new();
    let mut rest = body;
    while let Some((size, tail)) = rest.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&tail[..n]);
        rest = &tail[n + 2..];
    }
    out
}

#[tokio::test]
async fn upload_classify_embed_and_search_bootstraps_answer_the_sample_events() {
    let config = moto::sdk_config().await;
    let s3 = moto::s3_client(&config);
    let sqs = aws_sdk_sqs::Client::new(&config);
    let dynamo = aws_sdk_dynamodb::Client::new(&config);
    let bucket = moto::unique("rie-docs");
    let table = moto::unique("rie-table");
    moto::create_bucket(&s3, &bucket).await;
    moto::create_table(&dynamo, &table).await;
    let (_classify_url, classify_dlq) = moto::create_queue_with_dlq(&sqs, &moto::unique("rie-classify"), 4).await;
    let (extract_url, extract_dlq) = moto::create_queue_with_dlq(&sqs, &moto::unique("rie-extract"), 4).await;
    let (embed_url, embed_dlq) = moto::create_queue_with_dlq(&sqs, &moto::unique("rie-embed"), 4).await;
    let (insight_url, _) = moto::create_queue_with_dlq(&sqs, &moto::unique("rie-insight"), 4).await;
    let model = fixtures::model_dir().display().to_string();

    let aws_env = |extra: Vec<(&'static str, String)>| {
        let mut env: Vec<(&str, String)> = vec![
            ("TABLE_NAME", table.clone()),
            ("BUCKET_NAME", bucket.clone()),
            ("AWS_ENDPOINT_URL", moto::endpoint_url()),
            ("AWS_ACCESS_KEY_ID", "test".into()),
            ("AWS_SECRET_ACCESS_KEY", "test".into()),
            ("AWS_REGION", "us-east-1".into()),
        ];
        env.extend(extra);
        env
    };

    let upload = start(
        "upload",
        &aws_env(vec![
            ("JWT_ISSUER", "rie-test".into()),
            ("JWT_AUDIENCE", "personalization".into()),
            ("JWT_HS256_SECRET", SECRET.into()),
            ("EXTRACT_QUEUE_URL", extract_url.clone()),
        ]),
    );
    let user = "rie-user";
    let token = mint_hs256(SECRET.as_bytes(), "rie-test", "personalization", user, 600);
    let auth = [("{{TOKEN}}", token.as_str()), ("{{USER}}", user)];

    let created = invoke(&upload, "upload/post-upload-txt.json", &auth).await;
    assert_eq!(created["statusCode"], 201, "{created}");
    let body: Value = serde_json::from_str(created["body"].as_str().expect("body")).expect("json body");
    assert_eq!(body["status"], "uploaded");
    assert_eq!(body["content_type"], "txt");
    let doc = body["document_id"].as_str().expect("id").to_owned();

    let refused = invoke(&upload, "upload/post-upload-exe.json", &auth).await;
    assert_eq!(refused["statusCode"], 415, "{refused}");
    let problem: Value = serde_json::from_str(refused["body"].as_str().expect("body")).expect("json body");
    assert_eq!(problem["code"], "unsupported_type");
    let headers = refused["headers"].as_object().expect("headers");
    assert_eq!(headers.get("content-type").and_then(Value::as_str), Some("application/problem+json"));

    let listed = invoke(&upload, "upload/get-documents.json", &auth).await;
    assert_eq!(listed["statusCode"], 200, "{listed}");
    let list: Value = serde_json::from_str(listed["body"].as_str().expect("body")).expect("json");
    assert_eq!(list["documents"].as_array().map(Vec::len), Some(1), "{list}");

    let unauthorized =
        invoke(&upload, "upload/get-documents.json", &[("{{TOKEN}}", "not-a-token"), ("{{USER}}", user)]).await;
    assert_eq!(unauthorized["statusCode"], 401);

    let classify = start(
        "classify",
        &aws_env(vec![
            ("EXTRACT_QUEUE_URL", extract_url.clone()),
            ("EMBED_QUEUE_URL", embed_url.clone()),
            ("CLASSIFY_DLQ_URL", classify_dlq.clone()),
            ("PERSONALIZATION_EMBEDDING_MODEL", model.clone()),
            ("MAX_RECEIVE_COUNT", "4".into()),
            ("OCR_ENGINE", "none".into()),
        ]),
    );
    let replacements = [("{{BUCKET}}", bucket.as_str()), ("{{USER}}", user), ("{{DOC}}", doc.as_str())];
    let response = invoke(&classify, "classify/sqs-s3-notification.json", &replacements).await;
    assert_eq!(response["batchItemFailures"], Value::Array(vec![]), "{response}");

    let table_store = Arc::new(aws_adapters::DynamoTableStore::new(&config, table.clone()));
    let record = DocumentRepo::new(table_store)
        .get(&UserId::parse(user).expect("user"), &DocumentId::parse(&doc).expect("doc"))
        .await
        .expect("get")
        .expect("record");
    assert_eq!(record.status, DocumentStatus::TextExtracted, "{:?}", record.reason);
    assert_eq!(record.kind, domain::DocumentKind::Resume, "{:?}", record.kind_scores);
    assert!(record.confidence.is_some_and(|c| c >= 0.5));

    let response = invoke(&classify, "classify/sqs-poison.json", &[]).await;
    assert_eq!(response["batchItemFailures"], Value::Array(vec![]), "{response}");
    let dead = sqs.receive_message().queue_url(&classify_dlq).wait_time_seconds(2).send().await.expect("receive");
    let bodies: Vec<&str> = dead.messages().iter().filter_map(|m| m.body()).collect();
    assert_eq!(bodies, vec!["not json"]);

    let test_event = invoke(&classify, "classify/sqs-s3-test-event.json", &[("{{BUCKET}}", bucket.as_str())]).await;
    assert_eq!(test_event["batchItemFailures"], Value::Array(vec![]), "{test_event}");
    let extracted = sqs.receive_message().queue_url(&extract_url).wait_time_seconds(1).send().await.expect("receive");
    assert_eq!(extracted.messages().len(), 1, "exactly one classified event");

    // extract, with the sample event: facts into the table, fact.extracted to embed.
    let sha = record.sha256.clone().expect("content hash");
    let replacements = [("{{USER}}", user), ("{{DOC}}", doc.as_str()), ("{{SHA}}", sha.as_str())];
    let extract = start(
        "extract",
        &aws_env(vec![("EMBED_QUEUE_URL", embed_url.clone()), ("EXTRACT_DLQ_URL", extract_dlq.clone())]),
    );
    let response = invoke(&extract, "extract/sqs-document-classified.json", &replacements).await;
    assert_eq!(response["batchItemFailures"], Value::Array(vec![]), "{response}");
    let table_store = Arc::new(aws_adapters::DynamoTableStore::new(&config, table.clone()));
    let knowledge =
        store::KnowledgeRepo::new(table_store).load(&UserId::parse(user).expect("user")).await.expect("load");
    assert!(knowledge.live().any(|f| f.kind() == facts::model::FactKind::Skill), "{:?}", knowledge.facts);
    let again = invoke(&extract, "extract/sqs-document-classified.json", &replacements).await;
    assert_eq!(again["batchItemFailures"], Value::Array(vec![]), "{again}");
    let queued = sqs
        .receive_message()
        .queue_url(&embed_url)
        .max_number_of_messages(10)
        .wait_time_seconds(1)
        .send()
        .await
        .expect("receive");
    let kinds: Vec<String> = queued
        .messages()
        .iter()
        .filter_map(|m| serde_json::from_str::<Value>(m.body().unwrap_or_default()).ok())
        .map(|b| b["type"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(kinds.iter().filter(|k| *k == "personalization.fact.extracted").count(), 1, "{kinds:?}");
    drop(extract);

    // The knowledge API (the same binary), through the HTTP API event.
    let knowledge_api = start(
        "extract",
        &aws_env(vec![
            ("EXTRACT_HANDLER", "api".into()),
            ("JWT_ISSUER", "rie-test".into()),
            ("JWT_AUDIENCE", "personalization".into()),
            ("JWT_HS256_SECRET", SECRET.into()),
            ("PERSONALIZATION_ONTOLOGY", fixtures::ontology().display().to_string()),
            ("PERSONALIZATION_EMBEDDING_MODEL", model.clone()),
        ]),
    );
    // The reference data, from the same function: a misspelt skill, a
    // concept with the occupations that use it, a title.
    let found = invoke(&knowledge_api, "extract/get-skills-search.json", &auth).await;
    assert_eq!(found["statusCode"], 200, "{found}");
    let body: Value = serde_json::from_str(found["body"].as_str().expect("body")).expect("json body");
    assert!(body["results"][0]["label"].as_str().is_some_and(|l| l.starts_with("Python")), "{body}");
    assert_eq!(body["results"][0]["reason"], "typo", "{body}");
    assert!(body["attribution"].to_string().contains("O*NET"), "{body}");
    let concept = invoke(&knowledge_api, "extract/get-skill.json", &auth).await;
    assert_eq!(concept["statusCode"], 200, "{concept}");
    let body: Value = serde_json::from_str(concept["body"].as_str().expect("body")).expect("json body");
    assert_eq!(body["id"], "esco:skill/ccd0a1d9-afda-43d9-b901-96344886e14d", "{body}");
    if fixtures::onet_release() {
        assert!(body["occupations"].to_string().contains("15-1252.00"), "software developers use Python: {body}");
    }
    let titles = invoke(&knowledge_api, "extract/get-occupations-search.json", &auth).await;
    let body: Value = serde_json::from_str(titles["body"].as_str().expect("body")).expect("json body");
    let codes: Vec<&str> =
        body["results"].as_array().expect("results").iter().filter_map(|r| r["code"].as_str()).collect();
    assert!(codes.contains(&"29-1141.00"), "{body}");
    let mine = invoke(&knowledge_api, "extract/get-occupations-mine.json", &auth).await;
    assert_eq!(mine["statusCode"], 200, "{mine}");
    let anonymous =
        invoke(&knowledge_api, "extract/get-skills-search.json", &[("{{TOKEN}}", "not-a-token"), ("{{USER}}", "x")])
            .await;
    assert_eq!(anonymous["statusCode"], 401, "reference data still needs a token: {anonymous}");

    let got = invoke(&knowledge_api, "extract/get-knowledge.json", &auth).await;
    assert_eq!(got["statusCode"], 200, "{got}");
    let body: Value = serde_json::from_str(got["body"].as_str().expect("body")).expect("json body");
    assert!(!body["facts"]["skill"].as_array().expect("skills").is_empty(), "{body}");
    let stranger = mint_hs256(SECRET.as_bytes(), "rie-test", "personalization", "rie-stranger", 600);
    let theirs = invoke(
        &knowledge_api,
        "extract/get-knowledge.json",
        &[("{{TOKEN}}", stranger.as_str()), ("{{USER}}", "rie-stranger")],
    )
    .await;
    let body: Value = serde_json::from_str(theirs["body"].as_str().expect("body")).expect("json body");
    assert_eq!(body["facts"], serde_json::json!({}), "another user sees no facts: {body}");
    drop(knowledge_api);

    // embed, on PostgreSQL + pgvector, with the sample event.
    let database = pg::fresh_database().await;
    let embed = start(
        "embed",
        &aws_env(vec![
            ("INSIGHT_QUEUE_URL", insight_url.clone()),
            ("EMBED_DLQ_URL", embed_dlq.clone()),
            ("DATABASE_URL", database.clone()),
            ("PERSONALIZATION_EMBEDDING_MODEL", model.clone()),
        ]),
    );
    let response = invoke(&embed, "embed/sqs-document-classified.json", &replacements).await;
    assert_eq!(response["batchItemFailures"], Value::Array(vec![]), "{response}");
    let table_store = Arc::new(aws_adapters::DynamoTableStore::new(&config, table.clone()));
    let record = DocumentRepo::new(table_store)
        .get(&UserId::parse(user).expect("user"), &DocumentId::parse(&doc).expect("doc"))
        .await
        .expect("get")
        .expect("record");
    assert!(record.chunks.is_some_and(|c| c >= 1), "{record:?}");
    let updated = sqs.receive_message().queue_url(&insight_url).wait_time_seconds(1).send().await.expect("receive");
    let bodies: Vec<Value> =
        updated.messages().iter().filter_map(|m| serde_json::from_str(m.body().unwrap_or_default()).ok()).collect();
    assert_eq!(bodies.len(), 1);
    assert_eq!(bodies[0]["type"], "personalization.knowledge.updated");
    assert_eq!(bodies[0]["data"]["document_id"], doc.as_str());
    let again = invoke(&embed, "embed/sqs-document-classified.json", &replacements).await;
    assert_eq!(again["batchItemFailures"], Value::Array(vec![]), "{again}");
    drop(embed);

    // The search API (the same binary), through the HTTP API event.
    let search = start(
        "embed",
        &aws_env(vec![
            ("EMBED_HANDLER", "search".into()),
            ("JWT_ISSUER", "rie-test".into()),
            ("JWT_AUDIENCE", "personalization".into()),
            ("JWT_HS256_SECRET", SECRET.into()),
            ("DATABASE_URL", database.clone()),
            ("DATABASE_MIGRATE", "false".into()),
            ("PERSONALIZATION_EMBEDDING_MODEL", model.clone()),
        ]),
    );
    let query = [("{{TOKEN}}", token.as_str()), ("{{USER}}", user), ("{{QUERY}}", "which%20programming%20languages")];
    let found = invoke(&search, "embed/get-search.json", &query).await;
    assert_eq!(found["statusCode"], 200, "{found}");
    let body: Value = serde_json::from_str(found["body"].as_str().expect("body")).expect("json body");
    let hits = body["hits"].as_array().expect("hits");
    assert!(!hits.is_empty() && hits.len() <= 3, "{body}");
    assert_eq!(hits[0]["document_id"], doc.as_str());
    assert_eq!(hits[0]["page"], 1);
    let stranger = mint_hs256(SECRET.as_bytes(), "rie-test", "personalization", "rie-stranger", 600);
    let query = [("{{TOKEN}}", stranger.as_str()), ("{{USER}}", "rie-stranger"), ("{{QUERY}}", "programming")];
    let none = invoke(&search, "embed/get-search.json", &query).await;
    let body: Value = serde_json::from_str(none["body"].as_str().expect("body")).expect("json body");
    assert_eq!(body["hits"], Value::Array(vec![]), "another user finds nothing: {body}");
    drop(search);

    // converse, on the facts extract wrote: a session started and one turn answered.
    let jwt = || {
        vec![
            ("JWT_ISSUER", "rie-test".to_owned()),
            ("JWT_AUDIENCE", "personalization".to_owned()),
            ("JWT_HS256_SECRET", SECRET.to_owned()),
        ]
    };
    let mut converse_env = jwt();
    converse_env.extend([("EMBED_QUEUE_URL", embed_url.clone()), ("INSIGHT_QUEUE_URL", insight_url.clone())]);
    let converse = start("converse", &aws_env(converse_env));
    let started = invoke(&converse, "converse/post-conversation-start.json", &auth).await;
    assert_eq!(started["statusCode"], 201, "{started}");
    let body: Value = serde_json::from_str(started["body"].as_str().expect("body")).expect("json body");
    assert!(body["question"]["text"].is_string(), "{body}");
    let session = body["session_id"].as_str().expect("session").to_owned();
    let turn = [("{{TOKEN}}", token.as_str()), ("{{USER}}", user), ("{{SESSION}}", session.as_str())];
    let answered = invoke(&converse, "converse/post-conversation-turn.json", &turn).await;
    assert_eq!(answered["statusCode"], 200, "{answered}");
    let body: Value = serde_json::from_str(answered["body"].as_str().expect("body")).expect("json body");
    assert!(body["learned"].as_array().is_some_and(|l| l.iter().any(|f| f["kind"] == "achievement")), "{body}");
    let theirs = [("{{TOKEN}}", stranger.as_str()), ("{{USER}}", "rie-stranger"), ("{{SESSION}}", session.as_str())];
    let refused = invoke(&converse, "converse/post-conversation-turn.json", &theirs).await;
    assert_eq!(refused["statusCode"], 404, "another user cannot answer the session: {refused}");
    drop(converse);

    // insight: the queue event, the schedule and the API.
    let (notifications, _) = moto::create_queue_with_dlq(&sqs, &moto::unique("rie-notify"), 4).await;
    let (_, insight_dlq) = moto::create_queue_with_dlq(&sqs, &moto::unique("rie-insight2"), 4).await;
    let insight_env = |mode: &str| {
        let mut env = jwt();
        env.extend([
            ("INSIGHT_HANDLER", mode.to_owned()),
            ("NOTIFICATIONS_QUEUE_URL", notifications.clone()),
            ("INSIGHT_DLQ_URL", insight_dlq.clone()),
            ("PERSONALIZATION_ONTOLOGY", fixtures::ontology().display().to_string()),
            ("PERSONALIZATION_EMBEDDING_MODEL", model.clone()),
        ]);
        aws_env(env)
    };
    let consumer = start("insight", &insight_env("sqs"));
    let response = invoke(&consumer, "insight/sqs-knowledge-updated.json", &[("{{USER}}", user)]).await;
    assert_eq!(response["batchItemFailures"], Value::Array(vec![]), "{response}");
    drop(consumer);
    let generated = sqs.receive_message().queue_url(&notifications).wait_time_seconds(1).send().await.expect("receive");
    assert!(
        generated.messages().iter().any(|m| m.body().unwrap_or_default().contains("personalization.insight.generated")),
        "{generated:?}"
    );
    let schedule = start("insight", &insight_env("schedule"));
    let report = invoke(&schedule, "insight/schedule.json", &[]).await;
    assert_eq!((report["users_checked"].as_u64(), report["regenerated"].as_u64()), (Some(1), Some(0)), "{report}");
    drop(schedule);
    let insights_api = start("insight", &insight_env("api"));
    let got = invoke(&insights_api, "insight/get-insights.json", &auth).await;
    assert_eq!(got["statusCode"], 200, "{got}");
    let body: Value = serde_json::from_str(got["body"].as_str().expect("body")).expect("json body");
    assert_eq!(body["version"], 1, "{body}");
    assert!(body["insights"]["recommendations"].as_array().is_some_and(|r| !r.is_empty()), "{body}");
}
