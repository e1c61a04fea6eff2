//! Trains the learned document-kind model on the dev split of the corpus and
//! writes it where the classify crate ships it from
//! (`functions/classify/model/kinds.json` and its `.sha256`).
//!
//! `cargo run --release -p extract --bin train_kinds -- tests/corpus --docs DIR [--model DIR]
//!  [--out functions/classify/model]`
//!
//! Samples: every real dev document (three views: whole, first page, from a
//! quarter in, so a model does not lean on the opening alone), one rendered
//! dev résumé per theme, and a few generated résumés. The L2 weight is chosen by
//! five-fold cross-validation over documents (views of a document stay in one
//! fold). The test split is never read.

use classify::features::KINDS;
use classify::learned::Training;
use classify::{KindClassifier, KindModel};
use domain::{DocumentKind, Limits, PageText};
use extract::corpus_eval::{CorpusEntry, Split, load_manifest, load_rendered};
use std::path::PathBuf;
use std::sync::Arc;

fn pages_of(bytes: &[u8]) -> Vec<PageText> {
    match documents::inspect(bytes, &Limits::default()) {
        Ok(i) if !i.content_type.is_image() => documents::extract_text(i.content_type, bytes).unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// The whole text, the first page, and the text from a quarter of its lines on.
fn views(pages: &[PageText]) -> Vec<Vec<PageText>> {
    let mut out = vec![pages.to_vec()];
    if pages.len() > 1 {
        out.push(pages[..1].to_vec());
    }
    let text: Vec<&str> = pages.iter().flat_map(|p| p.text.lines()).collect();
    if text.len() >= 12 {
        let rest = text[text.len() / 4..].join("\n");
        out.push(vec![PageText { page: 1, text: rest }]);
    }
    out
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut it = std::env::args().skip(1);
    let (mut corpus, mut docs, mut model, mut out) = (None, None, None, PathBuf::from("functions/classify/model"));
    while let Some(a) = it.next() {
        match a.as_str() {
            "--docs" => docs = it.next().map(PathBuf::from),
            "--model" => model = it.next(),
            "--out" => out = it.next().map(PathBuf::from).ok_or("--out needs a value")?,
            _ => corpus = Some(PathBuf::from(a)),
        }
    }
    let corpus = corpus.unwrap_or_else(|| PathBuf::from("tests/corpus"));
    let docs = docs
        .or_else(|| std::env::var_os("PERSONALIZATION_CORPUS_DOCS").map(PathBuf::from))
        .ok_or("--docs DIR: the real documents")?;
    let model = model
        .or_else(|| std::env::var("PERSONALIZATION_EMBEDDING_MODEL").ok())
        .ok_or("--model DIR or PERSONALIZATION_EMBEDDING_MODEL")?;
    let embedder = Arc::new(embedding::Embedder::load(model.as_ref())?);
    let classifier = KindClassifier::zero_shot_only(embedder)?;

    let mut documents: Vec<(String, DocumentKind, Vec<PageText>)> = Vec::new();
    let real: Vec<CorpusEntry> = load_manifest(&corpus, &docs)?.into_iter().filter(|e| e.split == Split::Dev).collect();
    for e in &real {
        let bytes = std::fs::read(&e.file).map_err(|err| format!("{}: {err}", e.file.display()))?;
        documents.push((e.id.clone(), e.kind, pages_of(&bytes)));
    }
    let rendered: Vec<CorpusEntry> = load_rendered(&corpus)?.into_iter().filter(|e| e.split == Split::Dev).collect();
    let mut themes: Vec<&str> = rendered.iter().map(|e| e.group.as_str()).collect();
    themes.dedup();
    for (i, theme) in themes.iter().enumerate() {
        let of_theme: Vec<&CorpusEntry> = rendered.iter().filter(|e| e.group == *theme).collect();
        if let Some(e) = of_theme.get(i % of_theme.len().max(1))
            && let Ok(bytes) = std::fs::read(&e.file)
        {
            documents.push((e.id.clone(), DocumentKind::Resume, pages_of(&bytes)));
        }
    }
    for (i, sample) in extract::corpus::corpus(8, 11).into_iter().enumerate() {
        documents.push((format!("generated/{i}"), DocumentKind::Resume, pages_of(&sample.bytes)));
    }

    // Features of every view, grouped by document.
    let mut grouped: Vec<Vec<(Vec<f32>, usize)>> = Vec::new();
    for (id, kind, pages) in &documents {
        let y = KINDS.iter().position(|k| k == kind).ok_or(format!("{id}: kind {kind:?} is not learned"))?;
        let mut samples = Vec::new();
        for view in views(pages) {
            if let Some(x) = classifier.features(&view)? {
                samples.push((x, y));
            }
        }
        if samples.is_empty() {
            println!("skip {id}: no text");
        }
        grouped.push(samples);
    }
    let counts: Vec<String> = KINDS
        .iter()
        .enumerate()
        .map(|(i, k)| format!("{k:?} {}", documents.iter().filter(|d| d.1 == KINDS[i]).count()))
        .collect();
    println!(
        "{} documents ({}), {} samples",
        documents.len(),
        counts.join(", "),
        grouped.iter().map(Vec::len).sum::<usize>()
    );

    // Five folds over documents, in a fixed interleaved order.
    let mut best = (f64::MIN, Training::default());
    for l2 in [1e-3f32, 1e-2, 5e-2, 2e-1, 1.0] {
        let t = Training { l2, ..Training::default() };
        let (mut right, mut total) = (0usize, 0usize);
        for fold in 0..5 {
            let train: Vec<(Vec<f32>, usize)> =
                grouped.iter().enumerate().filter(|(i, _)| i % 5 != fold).flat_map(|(_, g)| g.clone()).collect();
            let m = KindModel::train(&train, t, String::new());
            for (_, g) in grouped.iter().enumerate().filter(|(i, _)| i % 5 == fold) {
                // The whole-document view is what classification sees.
                if let Some((x, y)) = g.first() {
                    let p = m.probabilities(x);
                    let got = p.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map_or(0, |(i, _)| i);
                    right += usize::from(got == *y);
                    total += 1;
                }
            }
        }
        let accuracy = right as f64 / total.max(1) as f64;
        println!("l2 {l2:<6} five-fold accuracy on dev documents {right}/{total} = {accuracy:.3}");
        if accuracy > best.0 {
            best = (accuracy, t);
        }
    }
    let all: Vec<(Vec<f32>, usize)> = grouped.into_iter().flatten().collect();
    let trained_on = format!(
        "{} dev documents, {} samples, l2 {}, {} epochs; five-fold dev accuracy {:.3}",
        documents.len(),
        all.len(),
        best.1.l2,
        best.1.epochs,
        best.0
    );
    let m = KindModel::train(&all, best.1, trained_on.clone());
    let (json, hash) = m.model.to_shipped_json();
    std::fs::create_dir_all(&out)?;
    std::fs::write(out.join("kinds.json"), &json)?;
    std::fs::write(out.join("kinds.json.sha256"), format!("{hash}  kinds.json\n"))?;
    println!("wrote {} ({} bytes, sha256 {hash}): {trained_on}", out.join("kinds.json").display(), json.len());
    Ok(())
}
