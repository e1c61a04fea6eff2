//! The pipeline on the corpus of real documents and on the rendered JSON
//! Resume set, as a user meets it: text, kind, then facts by that kind.
//! Prints kind accuracy with its confusion matrix, per-field precision, recall
//! and F1 on résumés, per split (dev, test) and per theme, documents without
//! facts, and documents per second; with `--guard FILE`, fails when a measure
//! falls below its floor.
//!
//! `cargo run --release -p extract --bin eval_corpus -- tests/corpus [--docs DIR] [--model DIR]
//!  [--guard tests/corpus/guard.tsv] [--show dev|test|none] [--zero-shot]`
//! (`--zero-shot`: the kind from the descriptions and cues alone, without the learned model)
//!
//! The real documents are read from `--docs` (else `PERSONALIZATION_CORPUS_DOCS`, else
//! `../shared/corpus`); when absent, only the rendered set is measured. Per-document lines
//! are printed for the dev split only unless `--show test`: the test split's errors are not
//! for tuning.

use classify::KindClassifier;
use domain::{DocumentId, DocumentKind};
use extract::corpus_eval::report::{Confusion, Totals};
use extract::corpus_eval::{CorpusEntry, Split, load_manifest, load_rendered, score_resume};
use facts::extract::Doc;
use facts::lexicon::BuiltinLexicon;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Args {
    corpus: PathBuf,
    docs: Option<PathBuf>,
    model: String,
    guard: Option<PathBuf>,
    show: Option<Split>,
    zero_shot: bool,
}

fn args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let mut corpus = None;
    let (mut docs, mut model, mut guard, mut show, mut zero_shot) = (None, None, None, Some(Split::Dev), false);
    while let Some(a) = it.next() {
        let mut value = || it.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--docs" => docs = Some(PathBuf::from(value()?)),
            "--model" => model = Some(value()?),
            "--guard" => guard = Some(PathBuf::from(value()?)),
            "--zero-shot" => zero_shot = true,
            "--show" => {
                show = match value()?.as_str() {
                    "none" => None,
                    s => Some(Split::parse(s)?),
                }
            }
            _ if corpus.is_none() && !a.starts_with("--") => corpus = Some(PathBuf::from(a)),
            _ => return Err(format!("unknown argument {a}")),
        }
    }
    let corpus = corpus.unwrap_or_else(|| PathBuf::from("tests/corpus"));
    let docs = docs
        .or_else(|| std::env::var_os("PERSONALIZATION_CORPUS_DOCS").map(PathBuf::from))
        .or_else(|| Some(PathBuf::from("../shared/corpus")))
        .filter(|d| d.is_dir());
    let model = model
        .or_else(|| std::env::var("PERSONALIZATION_EMBEDDING_MODEL").ok())
        .ok_or("no model: pass --model DIR or set PERSONALIZATION_EMBEDDING_MODEL")?;
    Ok(Args { corpus, docs, model, guard, show, zero_shot })
}

/// Everything measured, by scope name (`real_dev`, `rendered_test`, `theme:<name>`, ...).
#[derive(Default)]
struct Results {
    totals: BTreeMap<String, Totals>,
    kinds: BTreeMap<String, Confusion>,
    extracting: Duration,
    extracted: usize,
    classifying: Duration,
    missing: Vec<String>,
}

fn run(entry: &CorpusEntry, classifier: &KindClassifier, results: &mut Results, show: bool) -> Result<(), String> {
    let Ok(bytes) = std::fs::read(&entry.file) else {
        results.missing.push(entry.id.clone());
        return Ok(());
    };
    let source = if entry.rendered { "rendered" } else { "real" };
    let split = entry.split.as_str();
    let pages = extract::corpus_eval::training::pages_of(&bytes);
    let timer = Instant::now();
    let judgement = classifier.classify(&pages).map_err(|e| format!("{}: {e}", entry.id))?;
    results.classifying += timer.elapsed();
    results.kinds.entry(format!("{source}_{split}")).or_default().add(entry.kind, judgement.kind);
    let resume_score = judgement.scores.get(&DocumentKind::Resume).copied();
    let timer = Instant::now();
    let doc = Doc::new(DocumentId::new(), &pages, domain::now_rfc3339());
    let found = facts::extract_scored(judgement.kind, resume_score, &doc, BuiltinLexicon::get());
    results.extracting += timer.elapsed();
    results.extracted += 1;
    let kind_note = if judgement.kind == entry.kind {
        String::new()
    } else {
        format!(" KIND {} (resume {:.2})", judgement.kind.as_str(), resume_score.unwrap_or(0.0))
    };
    let Some(gold) = &entry.gold else {
        if show && !kind_note.is_empty() {
            println!("{split} {:<40} {}{kind_note}", entry.id, entry.kind.as_str());
        }
        return Ok(());
    };
    let values: Vec<_> = found.into_iter().map(|f| f.fact.value).collect();
    let score = score_resume(gold, &values, BuiltinLexicon::get());
    let mut scopes = vec![format!("{source}_{split}")];
    if entry.rendered {
        scopes.push(format!("theme:{}", entry.group));
    } else {
        scopes.push(format!("{split} lang:{}", entry.lang));
        scopes.push(format!("{split} layout:{}", entry.group));
    }
    for scope in scopes {
        results.totals.entry(scope).or_default().add(&score, values.len());
    }
    if show {
        println!(
            "{split} {:<40} name {} ({}) jobs {}/{} right {} skills {}/{}{kind_note}",
            entry.id,
            match score.name {
                Some(true) => "ok",
                Some(false) => "MISS",
                None => "-",
            },
            score.extracted_name.as_deref().unwrap_or(""),
            score.jobs_extracted,
            gold.jobs.len(),
            score.job.right,
            score.skills.right,
            score.skills.gold,
        );
        if std::env::var_os("EVAL_DETAIL").is_some() {
            for j in &score.missed_jobs {
                println!("      missed  {j}");
            }
            for j in &score.extra_jobs {
                println!("      got     {j}");
            }
            if !score.missing_skills.is_empty() {
                println!("      skills missing {:?}", score.missing_skills);
            }
        }
    }
    Ok(())
}

/// `scope measure min` lines; returns the failures.
fn check_guard(path: &PathBuf, results: &Results) -> Result<Vec<String>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut failures = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#')) {
        let cells: Vec<&str> = line.split_whitespace().collect();
        let [scope, measure, floor] = cells[..] else { return Err(format!("bad guard line {line:?}")) };
        let floor: f64 = floor.parse().map_err(|_| format!("bad floor in {line:?}"))?;
        let value = if measure == "kind_accuracy" {
            results.kinds.get(scope).map(Confusion::accuracy)
        } else if measure == "max_no_facts" {
            results.totals.get(scope).map(|t| -(t.no_facts as f64))
        } else {
            results.totals.get(scope).and_then(|t| t.measure(measure))
        };
        match value {
            // Absent scopes (the real documents not on this machine) are skipped.
            None => println!("guard: {scope} {measure}: not measured here, skipped"),
            Some(v) if measure == "max_no_facts" && -v > floor => {
                failures.push(format!("{scope} no_facts {} > {floor}", -v))
            }
            Some(v) if measure != "max_no_facts" && v < floor => {
                failures.push(format!("{scope} {measure} {v:.3} < {floor}"))
            }
            Some(v) => println!("guard: {scope} {measure} {:.3} holds (floor {floor})", v.abs()),
        }
    }
    Ok(failures)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = args()?;
    let mut entries = load_rendered(&args.corpus)?;
    match &args.docs {
        Some(docs) => entries.extend(load_manifest(&args.corpus, docs)?),
        None => println!(
            "real documents: no folder found (--docs, PERSONALIZATION_CORPUS_DOCS, ../shared/corpus); rendered set only"
        ),
    }
    let embedder = Arc::new(embedding::Embedder::load(args.model.as_ref())?);
    let classifier =
        if args.zero_shot { KindClassifier::zero_shot_only(embedder)? } else { KindClassifier::new(embedder)? };
    let started = Instant::now();
    let mut results = Results::default();
    for entry in &entries {
        run(entry, &classifier, &mut results, args.show == Some(entry.split))?;
    }
    println!();
    if !results.missing.is_empty() {
        println!("{} files missing: {}\n", results.missing.len(), results.missing.join(", "));
    }
    for (scope, confusion) in &results.kinds {
        println!("{}", confusion.render(scope));
    }
    for scope in ["real_dev", "real_test", "rendered_dev", "rendered_test"] {
        if let Some(t) = results.totals.get(scope) {
            println!("{}", t.render(scope));
        }
    }
    // Test themes only when the test split is shown (its errors are not for tuning).
    let theme_split: BTreeMap<&str, Split> =
        entries.iter().filter(|e| e.rendered).map(|e| (e.group.as_str(), e.split)).collect();
    let shown = |theme: &str| args.show == Some(Split::Test) || theme_split.get(theme) == Some(&Split::Dev);
    println!("per theme (rendered; test themes with --show test): job F1, name exact, skills recall");
    for (scope, t) in results.totals.iter().filter(|(s, _)| s.starts_with("theme:") && shown(&s[6..])) {
        println!(
            "  {:<28} {:<4} job F1 {:.3}  name {:.3}  skills {:.3}",
            &scope[6..],
            theme_split.get(&scope[6..]).map_or("", |s| s.as_str()),
            t.job.f1(),
            t.measure("name_exact").unwrap_or(0.0),
            t.skills.recall()
        );
    }
    println!("\nper language and layout (real résumés): résumés, name exact, jobs exact, job F1");
    for (scope, t) in results.totals.iter().filter(|(s, _)| s.contains(" lang:") || s.contains(" layout:")) {
        println!(
            "  {:<28} {:>3}  {:.2}  {:.2}  {:.2}",
            scope,
            t.resumes,
            t.measure("name_exact").unwrap_or(0.0),
            t.measure("job_count_exact").unwrap_or(0.0),
            t.job.f1()
        );
    }
    println!(
        "\n{} documents in {:.1} s; classification {:.0} ms in all; fact extraction {:.1} ms in all, {:.0} documents/s on one thread",
        results.extracted,
        started.elapsed().as_secs_f64(),
        results.classifying.as_secs_f64() * 1e3,
        results.extracting.as_secs_f64() * 1e3,
        results.extracted as f64 / results.extracting.as_secs_f64().max(1e-9)
    );
    if let Some(guard) = &args.guard {
        let failures = check_guard(guard, &results)?;
        if !failures.is_empty() {
            for f in &failures {
                eprintln!("guard FAILED: {f}");
            }
            std::process::exit(1);
        }
        println!("guard: every floor holds");
    }
    Ok(())
}
