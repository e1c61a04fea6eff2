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
use domain::{DocumentKind, PageText};
use extract::corpus_eval::training::{Scored, TrainArgs, pages_of, select_l2, train_args, write_model};
use extract::corpus_eval::{CorpusEntry, Split, load_manifest, load_rendered};
use std::sync::Arc;

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
    let TrainArgs { corpus, docs, model, out } = train_args("functions/classify/model")?;
    let model = model.ok_or("--model DIR or PERSONALIZATION_EMBEDDING_MODEL")?;
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

    // Five folds over documents; the whole-document view is what classification sees.
    let labels: Vec<String> = KINDS.iter().map(|k| k.as_str().to_owned()).collect();
    let best =
        select_l2(&grouped, &labels, &[1e-3, 1e-2, 5e-2, 2e-1, 1.0], Training::default().epochs, 5, Scored::First);
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
    write_model(&m.model, &out, "kinds")?;
    Ok(())
}
