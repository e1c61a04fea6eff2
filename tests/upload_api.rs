//! The upload API on the embedded adapters: every bad input gets its specific
//! problem and leaves nothing stored; users never see each other's documents.

use api::auth::{JwtConfig, KeySource, Secret, mint_hs256};
use api::{AppState, JwtVerifier};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use domain::{Limits, UserId};
use embedded::{EmbeddedDb, FsBlobStore, RedbQueue, RedbTableStore};
use http_body_util::BodyExt;
use integration_tests::fixtures;
use ports::{NoOcr, Ports};
use serde_json::Value;
use std::sync::Arc;
use tower::ServiceExt;

const SECRET: &[u8] = b"a-test-secret-that-is-at-least-32-bytes-long";
const ISSUER: &str = "personalize-test";
const AUDIENCE: &str = "personalization";

struct Harness {
    router: axum::Router,
    ports: Ports,
    _dir: std::path::PathBuf,
}

fn harness() -> Harness {
    let dir = fixtures::temp_dir("upload-api");
    let db = EmbeddedDb::open(&dir).expect("db");
    let ports = Ports {
        blobs: Arc::new(FsBlobStore::new(&dir)),
        queue: Arc::new(RedbQueue::new(db.clone(), 4)),
        table: Arc::new(RedbTableStore::new(db)),
        ocr: Arc::new(NoOcr),
    };
    let config = JwtConfig {
        issuer: ISSUER.into(),
        audience: AUDIENCE.into(),
        keys: KeySource::Hs256(Secret::new(SECRET.to_vec())),
    };
    let verifier = Arc::new(JwtVerifier::new(&config).expect("verifier"));
    let router = upload::router(AppState::new(ports.clone(), verifier, Limits::default()));
    Harness { router, ports, _dir: dir }
}

fn token(user: &str) -> String {
    mint_hs256(SECRET, ISSUER, AUDIENCE, user, 600)
}

async fn send(router: &axum::Router, request: Request<Body>) -> (StatusCode, String, Value) {
    let response = router.clone().oneshot(request).await.expect("response");
    let status = response.status();
    let content_type =
        response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let bytes = response.into_body().collect().await.expect("body").to_bytes();
    let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, content_type, json)
}

async fn upload(router: &axum::Router, user: &str, filename: &str, bytes: &[u8]) -> (StatusCode, String, Value) {
    let (content_type, body) = fixtures::multipart(filename, bytes);
    let request = Request::post("/api/v1/personalization/upload")
        .header("authorization", format!("Bearer {}", token(user)))
        .header("content-type", content_type)
        .body(Body::from(body))
        .expect("request");
    send(router, request).await
}

async fn get(router: &axum::Router, user: &str, path: &str) -> (StatusCode, String, Value) {
    let request = Request::get(format!("/api/v1/personalization{path}"))
        .header("authorization", format!("Bearer {}", token(user)))
        .body(Body::empty())
        .expect("request");
    send(router, request).await
}

/// Nothing for `user` in the table or in storage.
async fn assert_nothing_stored(h: &Harness, user: &str) {
    let (status, _, list) = get(&h.router, user, "/documents").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["documents"].as_array().map(Vec::len), Some(0), "documents: {list}");
    assert!(h.ports.blobs.list("raw/").await.expect("list").is_empty(), "objects were left behind");
    let quota = store::QuotaRepo::new(h.ports.table.clone());
    assert_eq!(quota.used(&UserId::parse(user).expect("user")).await.expect("quota"), 0);
}

#[tokio::test]
async fn every_bad_input_gets_its_specific_problem_and_leaves_nothing() {
    let h = harness();
    let mut truncated = fixtures::resume_pdf();
    truncated.truncate(truncated.len() / 2);
    let mut exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff".to_vec();
    exe.extend(std::iter::repeat_n(0x4du8, 2000));
    let docm = fixtures::docx_with(&["Quarterly report"], &[], &[("word/vbaProject.bin", b"\xd0\xcf\x11\xe0macro")]);
    let mut junk: Vec<u8> = (0..4096u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
    junk[10] = 0;
    let invalid_utf8 = b"Experience\n\xc3\x28 caf\xe9 at Acme\n".to_vec();
    let eleven_mb = vec![b'a'; 11_000_000];

    let cases: Vec<(&str, Vec<u8>, StatusCode, &str)> = vec![
        ("setup.pdf", exe, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_type"),
        ("empty.pdf", Vec::new(), StatusCode::UNPROCESSABLE_ENTITY, "file_empty"),
        ("cut.pdf", truncated, StatusCode::UNPROCESSABLE_ENTITY, "pdf_truncated"),
        ("script.pdf", fixtures::javascript_pdf(), StatusCode::UNPROCESSABLE_ENTITY, "pdf_javascript"),
        ("macro.docm", docm, StatusCode::UNPROCESSABLE_ENTITY, "docx_macro_enabled"),
        ("bomb.docx", fixtures::docx_bomb(300), StatusCode::UNPROCESSABLE_ENTITY, "docx_zip_bomb"),
        ("notes.txt", junk, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_type"),
        ("latin1.txt", invalid_utf8, StatusCode::UNPROCESSABLE_ENTITY, "text_invalid_encoding"),
        ("big.txt", eleven_mb, StatusCode::PAYLOAD_TOO_LARGE, "file_too_large"),
    ];
    for (name, bytes, status, code) in cases {
        let (got, content_type, problem) = upload(&h.router, "alice", name, &bytes).await;
        assert_eq!(got, status, "{name}: {problem}");
        assert_eq!(content_type, "application/problem+json", "{name}");
        assert_eq!(problem["code"], code, "{name}: {problem}");
        assert!(problem["type"].as_str().unwrap_or_default().ends_with(&code.replace('_', "-")), "{name}");
        assert!(!problem["detail"].as_str().unwrap_or_default().is_empty(), "{name}");
        if code == "file_too_large" {
            assert_eq!(problem["limit"], 10_000_000, "{problem}");
            assert!(problem["detail"].as_str().unwrap_or_default().contains("10000000"), "{problem}");
        }
        assert_nothing_stored(&h, "alice").await;
    }
}

#[tokio::test]
async fn the_51st_megabyte_is_refused_by_the_quota() {
    let h = harness();
    // Five files of 9.9 MB fit (49.5 MB); a sixth of 1 MB would pass 50 MB.
    let file = |i: u8| {
        let mut text = format!("Resume part {i}\n").into_bytes();
        text.resize(9_900_000, b'x');
        text
    };
    for i in 0..5 {
        let (status, _, body) = upload(&h.router, "bob", &format!("part{i}.txt"), &file(i)).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let mut last = b"One more page\n".to_vec();
    last.resize(1_000_000, b'y');
    let (status, _, problem) = upload(&h.router, "bob", "extra.txt", &last).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{problem}");
    assert_eq!(problem["code"], "quota_exceeded");
    assert_eq!(problem["limit"], 50_000_000);
    let (_, _, list) = get(&h.router, "bob", "/documents").await;
    assert_eq!(list["documents"].as_array().map(Vec::len), Some(5));
    assert_eq!(h.ports.blobs.list("raw/bob/").await.expect("list").len(), 5);
    let quota = store::QuotaRepo::new(h.ports.table.clone());
    assert_eq!(quota.used(&UserId::parse("bob").expect("user")).await.expect("quota"), 49_500_000);
}

#[tokio::test]
async fn users_never_see_each_others_documents() {
    let h = harness();
    let (status, _, created) = upload(&h.router, "alice", "cv.pdf", &fixtures::resume_pdf()).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["status"], "uploaded");
    assert_eq!(created["content_type"], "pdf");
    assert_eq!(created["kind"], "unclassified");
    let id = created["document_id"].as_str().expect("id").to_owned();

    let (status, _, own) = get(&h.router, "alice", &format!("/documents/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(own["filename"], "cv.pdf");

    for path in [format!("/documents/{id}"), format!("/documents/{id}/text")] {
        let (status, _, problem) = get(&h.router, "mallory", &path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {problem}");
        assert_eq!(problem["code"], "not_found");
    }
    let (_, _, list) = get(&h.router, "mallory", "/documents").await;
    assert_eq!(list["documents"].as_array().map(Vec::len), Some(0));
    let (_, _, list) = get(&h.router, "alice", "/documents").await;
    assert_eq!(list["documents"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn requests_without_a_valid_token_are_refused() {
    let h = harness();
    let no_token = Request::get("/api/v1/personalization/documents").body(Body::empty()).expect("request");
    let (status, content_type, _) = send(&h.router, no_token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(content_type, "application/problem+json");
    let forged = mint_hs256(b"another-secret-that-is-also-32-bytes-long!!", ISSUER, AUDIENCE, "alice", 600);
    let request = Request::get("/api/v1/personalization/documents")
        .header("authorization", format!("Bearer {forged}"))
        .body(Body::empty())
        .expect("request");
    assert_eq!(send(&h.router, request).await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn presigned_uploads_are_refused_clearly_without_s3() {
    let h = harness();
    let request = Request::post("/api/v1/personalization/upload/presign")
        .header("authorization", format!("Bearer {}", token("alice")))
        .header("content-type", "application/json")
        .body(Body::from(r#"{"filename":"cv.pdf","size_bytes":20000000}"#))
        .expect("request");
    let (status, _, problem) = send(&h.router, request).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{problem}");
    assert_eq!(problem["code"], "file_too_large");
    let request = Request::post("/api/v1/personalization/upload/presign")
        .header("authorization", format!("Bearer {}", token("alice")))
        .header("content-type", "application/json")
        .body(Body::from(r#"{"filename":"cv.pdf","size_bytes":20000}"#))
        .expect("request");
    let (status, _, problem) = send(&h.router, request).await;
    assert_eq!(status, StatusCode::NOT_IMPLEMENTED, "{problem}");
    assert_nothing_stored(&h, "alice").await;
}
