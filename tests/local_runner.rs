//! The embedded default through the real `personalize` binary (with the real
//! model): ingest extracts, classifies and embeds; search finds passages; a
//! runner killed mid-queue finishes the work on restart.

use integration_tests::fixtures;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

fn personalize() -> Command {
    let bin = fixtures::debug_bin("personalize");
    assert!(bin.exists(), "{} is missing: run `cargo build --workspace --bins` first", bin.display());
    let mut command = Command::new(bin);
    command.env_remove("PERSONALIZE_DATA_DIR").env("RUST_LOG", "warn");
    command
}

fn json_lines(stdout: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

fn documents(data: &Path) -> Vec<Value> {
    let out = personalize().arg("--data-dir").arg(data).args(["documents", "--json"]).output().expect("run");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    json_lines(&out.stdout)
}

#[test]
fn ingest_extracts_text_from_a_pdf_and_a_docx() {
    let dir = fixtures::temp_dir("runner-ingest");
    let data = dir.join("data");
    let inputs = dir.join("inputs");
    std::fs::create_dir_all(&inputs).expect("inputs");
    std::fs::write(inputs.join("cv.pdf"), fixtures::resume_pdf()).expect("write");
    std::fs::write(
        inputs.join("cv.docx"),
        fixtures::docx(
            &["Jane Q. Example", "Led a team of 6 engineers"],
            &[&["Rust", "5 years"], &["Python", "8 years"]],
        ),
    )
    .expect("write");
    std::fs::write(inputs.join("evil.pdf"), b"MZ\x90\x00this is not a pdf at all").expect("write");

    let out =
        personalize().arg("--data-dir").arg(&data).arg("ingest").arg(&inputs).arg("--json").output().expect("run");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let lines = json_lines(&out.stdout);
    assert_eq!(lines.len(), 3, "{lines:?}");
    let rejected: Vec<&Value> = lines.iter().filter(|l| l["status"] == "rejected").collect();
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0]["reason"]["code"], "unsupported_type");
    let docs: Vec<&Value> = lines.iter().filter(|l| l["status"] != "rejected").collect();
    assert_eq!(docs.len(), 2);
    for doc in &docs {
        assert_eq!(doc["status"], "text_extracted", "{doc}");
        assert_ne!(doc["kind"], "unclassified", "{doc}");
        assert!(doc["confidence"].as_f64().is_some_and(|c| c > 0.0 && c <= 1.0), "{doc}");
        assert!(doc["kind_scores"].as_object().is_some_and(|s| s.len() == 7), "{doc}");
        assert!(doc["chunks"].as_u64().is_some_and(|c| c >= 1), "embedded: {doc}");
        assert!(doc["document_id"].is_string() && doc["created_at"].is_string());
    }

    let docx = docs.iter().find(|d| d["content_type"] == "docx").expect("docx");
    let id = docx["document_id"].as_str().expect("id");
    let text = personalize().arg("--data-dir").arg(&data).args(["text", id]).output().expect("run");
    assert!(text.status.success());
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("Led a team of 6 engineers"), "{text}");
    assert!(text.contains("Rust\t5 years"), "{text}");

    let pdf = docs.iter().find(|d| d["content_type"] == "pdf").expect("pdf");
    assert_eq!(pdf["kind"], "resume", "{pdf}");
    let id = pdf["document_id"].as_str().expect("id");
    let text = personalize().arg("--data-dir").arg(&data).args(["text", id]).output().expect("run");
    assert!(String::from_utf8_lossy(&text.stdout).contains("Senior Software Engineer at Acme Corp"));

    // The facts each document states come with it; the merged profile and the
    // JSON Resume are there too.
    let facts = pdf["facts"].as_array().expect("facts in --json");
    let job = facts.iter().find(|f| f["kind"] == "job").expect("a job");
    assert_eq!(
        (job["value"]["title"].as_str(), job["value"]["organisation"].as_str()),
        (Some("Senior Software Engineer"), Some("Acme Corp"))
    );
    assert!(facts.iter().any(|f| f["kind"] == "achievement" && f["value"]["metrics"][0]["value"] == 35.0), "{facts:?}");
    let out = personalize().arg("--data-dir").arg(&data).args(["knowledge", "--json"]).output().expect("run");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let knowledge: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(knowledge["facts"]["job"].as_array().is_some_and(|j| !j.is_empty()), "{knowledge}");
    assert!(knowledge["completeness"]["score"].as_f64().is_some_and(|s| s > 0.0 && s <= 1.0));
    // Every skill fact went through the ontology: the known ones have a concept.
    let mappings = knowledge["skill_mappings"].as_array().expect("skill_mappings");
    let concept_of = |name: &str| {
        mappings.iter().find(|m| m["name"] == name).and_then(|m| m["concept_id"].as_str()).map(str::to_owned)
    };
    let postgres = concept_of("PostgreSQL").unwrap_or_else(|| panic!("PostgreSQL is mapped: {mappings:?}"));
    assert!(postgres.starts_with("esco:") || postgres.starts_with("onet:"), "{postgres}");
    if fixtures::onet_release() {
        assert_eq!(concept_of("Kubernetes").as_deref(), Some("onet:tech/kubernetes"), "{mappings:?}");
    }
    // A name the ontology does not know stays free text, flagged.
    let unknown = mappings.iter().find(|m| m["name"] == "Quorblaxing").expect("the unknown skill is listed");
    assert_eq!((unknown["unmapped"].as_bool(), unknown["concept_id"].is_null()), (Some(true), true), "{unknown}");
    let postgres_row = mappings.iter().find(|m| m["name"] == "PostgreSQL").expect("PostgreSQL row");
    assert_eq!(postgres_row["unmapped"], false, "{postgres_row}");
    let out = personalize().arg("--data-dir").arg(&data).args(["export", "--json-resume"]).output().expect("run");
    let resume: Value = serde_json::from_slice(&out.stdout).expect("json resume");
    assert_eq!(resume["basics"]["name"], "Jane Q. Example");
    assert_eq!(resume["work"][0]["name"], "Acme Corp");

    // Search answers from the right document, with page and span.
    let out = personalize()
        .arg("--data-dir")
        .arg(&data)
        .args(["search", "how much did she cut cloud costs?", "-k", "3", "--json"])
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let found: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(found["k"], 3);
    // Facts are searchable too; the best passage is the first chunk hit.
    let top = found["hits"].as_array().unwrap().iter().find(|h| h["source"] == "chunk").expect("a chunk hit");
    assert_eq!(top["document_id"], id, "{found}");
    assert_eq!(top["page"], 1);
    assert!(top["text"].as_str().is_some_and(|t| t.contains("35%")), "{found}");
    assert!(top["char_end"].as_u64() > top["char_start"].as_u64());
    let out = personalize().arg("--data-dir").arg(&data).args(["search", "x", "-k", "99"]).output().expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 to 50"), "{}", String::from_utf8_lossy(&out.stderr));

    // The interview, scripted through stdin: one JSON object per turn.
    let mut chat = personalize()
        .arg("--data-dir")
        .arg(&data)
        .args(["chat", "--json", "--budget", "3"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run chat");
    {
        use std::io::Write;
        let mut stdin = chat.stdin.take().expect("stdin");
        writeln!(stdin, "I moved our batch jobs to spot instances, which cut the monthly bill by $4,000.").unwrap();
        writeln!(stdin, "skip").unwrap();
        writeln!(stdin, "no").unwrap();
    }
    let out = chat.wait_with_output().expect("chat");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let turns = json_lines(&out.stdout);
    assert!(turns.len() >= 2, "{turns:?}");
    assert_eq!(turns[0]["turn"], 0);
    assert!(turns[0]["question"]["text"].is_string(), "{:?}", turns[0]);
    assert!(
        turns[1]["learned"].as_array().is_some_and(|l| l.iter().any(|f| f["kind"] == "achievement")),
        "the answer with a number became an achievement: {:?}",
        turns[1]
    );
    let last = turns.last().unwrap();
    assert_eq!(last["status"], "ended", "{last}");
    assert!(last["end_reason"].is_string(), "{last}");
    let knowledge: Value = serde_json::from_slice(
        &personalize().arg("--data-dir").arg(&data).args(["knowledge", "--json"]).output().expect("run").stdout,
    )
    .expect("json");
    assert!(knowledge.to_string().contains("\"type\":\"conversation\""), "conversation provenance in the profile");

    // The insights, as GET /insights returns them, with evidence.
    let out = personalize().arg("--data-dir").arg(&data).args(["insights", "--json"]).output().expect("run");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let insights: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(insights["version"].as_u64().is_some_and(|v| v >= 1), "{insights}");
    let recommendations = insights["insights"]["recommendations"].as_array().expect("recommendations");
    assert!(!recommendations.is_empty(), "{insights}");
    assert!(recommendations.iter().all(|r| r["evidence"]["fact_ids"].as_array().is_some_and(|f| !f.is_empty())));
    let out = personalize().arg("--data-dir").arg(&data).args(["insights"]).output().expect("run");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Recommendations:"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_runner_killed_mid_queue_finishes_the_work_on_restart() {
    let dir = fixtures::temp_dir("runner-crash");
    let data = dir.join("data");
    let inputs = dir.join("inputs");
    std::fs::create_dir_all(&inputs).expect("inputs");
    // More files than one worker step takes (8), so some are still queued when it dies.
    const FILES: usize = 12;
    const PAGES: usize = 2;
    for i in 0..FILES {
        std::fs::write(inputs.join(format!("doc{i:02}.pdf")), fixtures::long_pdf(PAGES, i)).expect("write");
    }

    let mut child = personalize()
        .arg("--data-dir")
        .arg(&data)
        .arg("ingest")
        .arg(&inputs)
        .arg("--json")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    // Kill it as soon as the first document is done: the rest are queued.
    let mut first = String::new();
    BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut first).expect("read");
    child.kill().expect("kill");
    child.wait().expect("wait");
    assert!(first.contains("text_extracted"), "{first}");

    let before = documents(&data);
    let done_before = before.iter().filter(|d| d["status"] == "text_extracted" && d["chunks"].is_u64()).count();
    assert_eq!(before.len(), FILES, "every upload was recorded before processing began");
    assert!(done_before < FILES, "the runner finished everything before it was killed; the test proves nothing");

    let out = personalize().arg("--data-dir").arg(&data).arg("ingest").output().expect("restart");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let after = documents(&data);
    assert_eq!(after.len(), FILES);
    for doc in &after {
        assert_eq!(doc["status"], "text_extracted", "{doc}");
        assert_eq!(doc["pages"], PAGES);
        assert!(doc["chunks"].as_u64().is_some_and(|c| c >= PAGES as u64), "{doc}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
