//! Classification accuracy on a labelled folder (`manifest.tsv` with `path` and
//! `kind` columns, as in `../shared/testdata/`). Images are skipped: they have
//! no text without OCR.
//! `cargo run --release -p classify --bin eval_kinds -- ../shared/testdata [MODEL_DIR]`

use classify::KindClassifier;
use domain::{DocumentKind, Limits};
use std::path::PathBuf;
use std::sync::Arc;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let root = PathBuf::from(args.next().ok_or("usage: eval_kinds TESTDATA_DIR [MODEL_DIR]")?);
    let model = args.next().or_else(|| std::env::var("PERSONALIZATION_EMBEDDING_MODEL").ok()).ok_or("MODEL_DIR")?;
    let manifest = std::fs::read_to_string(root.join("manifest.tsv"))?;
    let mut lines = manifest.lines();
    let header: Vec<&str> = lines.next().ok_or("empty manifest")?.split('\t').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).ok_or(format!("no {name} column"));
    let (path_col, kind_col) = (col("path")?, col("kind")?);

    let embedder = Arc::new(embedding::Embedder::load(model.as_ref())?);
    let classifier = KindClassifier::new(embedder)?;
    let (mut right, mut total, mut skipped) = (0, 0, 0);
    for line in lines.filter(|l| !l.trim().is_empty()) {
        let cells: Vec<&str> = line.split('\t').collect();
        let (path, expected) = (cells[path_col], cells[kind_col]);
        let expected: DocumentKind = serde_json::from_value(serde_json::Value::String(expected.into()))?;
        let bytes = std::fs::read(root.join(path))?;
        let inspection = match documents::inspect(&bytes, &Limits::default()) {
            Ok(i) if !i.content_type.is_image() => i,
            _ => {
                skipped += 1;
                println!("skip  {path} (image or refused)");
                continue;
            }
        };
        let pages = documents::extract_text(inspection.content_type, &bytes)?;
        let judgement = classifier.classify(&pages)?;
        total += 1;
        let ok = judgement.kind == expected;
        right += usize::from(ok);
        let scores: Vec<String> = judgement
            .scores
            .iter()
            .filter(|(_, p)| **p >= 0.01)
            .map(|(k, p)| {
                format!(
                    "{}={p:.2}",
                    serde_json::to_value(k).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default()
                )
            })
            .collect();
        if !ok && std::env::var_os("EVAL_SHOW_TEXT").is_some() {
            let text: String = pages.iter().map(|p| p.text.as_str()).collect::<Vec<_>>().join("\n");
            println!("----\n{}\n----", text.chars().take(700).collect::<String>());
        }
        println!(
            "{}  {path}: expected {expected:?}, got {:?} ({:.2}, sim {:.2}) [{}]",
            if ok { "ok  " } else { "MISS" },
            judgement.kind,
            judgement.confidence,
            judgement.best_similarity,
            scores.join(" ")
        );
    }
    println!("accuracy {right}/{total} = {:.3} ({skipped} skipped)", right as f64 / total.max(1) as f64);
    Ok(())
}
