//! What the training scripts share: their arguments, reading a document's
//! text as an upload is read, and writing a model with its pinned hash.

use domain::{Limits, PageText};
use learn::{SoftmaxModel, Training};
use std::path::{Path, PathBuf};

/// `CORPUS --docs DIR [--model DIR] [--out DIR]`.
pub struct TrainArgs {
    pub corpus: PathBuf,
    pub docs: PathBuf,
    pub model: Option<String>,
    pub out: PathBuf,
}

/// Reads the arguments; `out` defaults to where the model ships from.
pub fn train_args(default_out: &str) -> Result<TrainArgs, String> {
    let mut it = std::env::args().skip(1);
    let (mut corpus, mut docs, mut model, mut out) = (None, None, None, PathBuf::from(default_out));
    while let Some(a) = it.next() {
        match a.as_str() {
            "--docs" => docs = it.next().map(PathBuf::from),
            "--model" => model = it.next(),
            "--out" => out = it.next().map(PathBuf::from).ok_or("--out needs a value")?,
            _ => corpus = Some(PathBuf::from(a)),
        }
    }
    let docs = docs
        .or_else(|| std::env::var_os("PERSONALIZATION_CORPUS_DOCS").map(PathBuf::from))
        .ok_or("--docs DIR: the real documents")?;
    let model = model.or_else(|| std::env::var("PERSONALIZATION_EMBEDDING_MODEL").ok());
    Ok(TrainArgs { corpus: corpus.unwrap_or_else(|| PathBuf::from("tests/corpus")), docs, model, out })
}

/// A file's pages as the upload path reads them (none for an image or a refusal).
pub fn pages_of(bytes: &[u8]) -> Vec<PageText> {
    match documents::inspect(bytes, &Limits::default()) {
        Ok(i) if !i.content_type.is_image() => documents::extract_text(i.content_type, bytes).unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// Writes `out/NAME.json` and `out/NAME.json.sha256` and says so.
pub fn write_model(model: &SoftmaxModel, out: &Path, name: &str) -> std::io::Result<()> {
    let (json, hash) = model.to_shipped_json();
    std::fs::create_dir_all(out)?;
    let file = out.join(format!("{name}.json"));
    std::fs::write(&file, &json)?;
    std::fs::write(out.join(format!("{name}.json.sha256")), format!("{hash}  {name}.json\n"))?;
    println!("wrote {} ({} bytes, sha256 {hash}): {}", file.display(), json.len(), model.trained_on);
    Ok(())
}

/// Samples grouped by document (a document's samples stay in one fold).
pub type Grouped = Vec<Vec<(Vec<f32>, usize)>>;

/// Which samples of a held-out document are scored.
#[derive(Clone, Copy, PartialEq)]
pub enum Scored {
    /// The first (the whole-document view, which classification sees).
    First,
    All,
}

/// The L2 weight of `grid` with the best `folds`-fold accuracy over
/// documents (folds interleaved by document order), and that accuracy.
pub fn select_l2(
    grouped: &Grouped,
    labels: &[String],
    grid: &[f32],
    epochs: usize,
    folds: usize,
    scored: Scored,
) -> (f64, Training) {
    let mut best = (f64::MIN, Training::default());
    for &l2 in grid {
        let t = Training { l2, epochs, ..Training::default() };
        let (mut right, mut total) = (0usize, 0usize);
        for fold in 0..folds {
            let train: Vec<(Vec<f32>, usize)> =
                grouped.iter().enumerate().filter(|(i, _)| i % folds != fold).flat_map(|(_, g)| g.clone()).collect();
            let m = SoftmaxModel::train(&train, labels, t, String::new());
            for (_, g) in grouped.iter().enumerate().filter(|(i, _)| i % folds == fold) {
                let held: &[(Vec<f32>, usize)] = if scored == Scored::First { &g[..g.len().min(1)] } else { g };
                for (x, y) in held {
                    let p = m.probabilities(x);
                    let got = p.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map_or(0, |(i, _)| i);
                    right += usize::from(got == *y);
                    total += 1;
                }
            }
        }
        let accuracy = right as f64 / total.max(1) as f64;
        println!("l2 {l2:<6} {folds}-fold accuracy on dev documents {right}/{total} = {accuracy:.3}");
        if accuracy > best.0 {
            best = (accuracy, t);
        }
    }
    best
}
