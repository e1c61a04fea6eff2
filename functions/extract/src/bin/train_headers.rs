//! Trains the job-header labeller (`facts::job_header`) on the dev split:
//! every dated line of an experience section whose dates match a gold job
//! gives its window's segments as samples, labelled title or organisation
//! when they agree with that job's, location when they read as a place, else
//! other. Real dev résumés, the rendered dev themes and generated résumés.
//! Writes `shared/facts/model/job_header.json` and its `.sha256`.
//!
//! `cargo run --release -p extract --bin train_headers -- tests/corpus --docs DIR [--out shared/facts/model]`

use domain::{DocumentId, PageText};
use extract::corpus_eval::matching::similar;
use extract::corpus_eval::training::{Scored, TrainArgs, pages_of, select_l2, train_args, write_model};
use extract::corpus_eval::{GoldJob, Split, load_manifest, load_rendered};
use facts::dates::YearMonth;
use facts::extract::Doc;
use facts::job_header::{self, FEATURES, LABELS, LOCATION, ORGANISATION, TITLE};
use learn::SoftmaxModel;

fn gold_date(s: Option<&str>) -> Option<YearMonth> {
    let s = s?;
    let mut parts = s.split('-');
    YearMonth::new(parts.next()?.parse().ok()?, parts.next().and_then(|m| m.parse().ok()))
}

/// The gold job whose dates are the window's.
fn job_of<'a>(gold: &'a [GoldJob], w: &job_header::Window) -> Option<&'a GoldJob> {
    let candidates: Vec<&GoldJob> = gold
        .iter()
        .filter(|g| {
            let start = gold_date(g.start.as_deref());
            let start_ok = start.is_some_and(|s| w.dates.start.is_some_and(|d| d.year == s.year));
            let end_ok = match g.end.as_deref() {
                Some("present") => w.dates.current,
                other => {
                    let e = gold_date(other);
                    !w.dates.current && (e.map(|e| e.year) == w.dates.end.map(|d| d.year) || e.is_none())
                }
            };
            start_ok && end_ok
        })
        .collect();
    match candidates.len() {
        0 => None,
        1 => Some(candidates[0]),
        // Same dates twice: the one a segment names.
        _ => candidates
            .into_iter()
            .find(|g| w.segments.iter().any(|s| g.title.as_deref().is_some_and(|t| similar(&s.text, t)))),
    }
}

fn samples_of(pages: &[PageText], gold: &[GoldJob]) -> Vec<(Vec<f32>, usize)> {
    let doc = Doc::new(DocumentId::new(), pages, "train");
    let mut out = Vec::new();
    for w in job_header::windows(&doc) {
        let Some(job) = job_of(gold, &w) else { continue };
        for s in &w.segments {
            let is_title = job.title.as_deref().is_some_and(|t| similar(&s.text, t));
            let is_org = job.organisation.as_deref().is_some_and(|o| similar(&s.text, o));
            let label = match (is_title, is_org) {
                (true, true) => continue,
                (true, false) => TITLE,
                (false, true) => ORGANISATION,
                _ if job_header::is_place(&s.text) => LOCATION,
                _ => LABELS.len() - 1,
            };
            out.push((job_header::features(s), label));
        }
    }
    out
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let TrainArgs { corpus, docs, out, .. } = train_args("shared/facts/model")?;
    let mut entries = load_rendered(&corpus)?;
    entries.extend(load_manifest(&corpus, &docs)?);
    let mut grouped: Vec<Vec<(Vec<f32>, usize)>> = Vec::new();
    for e in entries.iter().filter(|e| e.split == Split::Dev) {
        let Some(gold) = &e.gold else { continue };
        let Ok(bytes) = std::fs::read(&e.file) else { continue };
        grouped.push(samples_of(&pages_of(&bytes), &gold.jobs));
    }
    for sample in extract::corpus::corpus(60, 23) {
        let gold: Vec<GoldJob> = sample
            .truth
            .jobs
            .iter()
            .map(|j| GoldJob {
                title: Some(j.title.clone()),
                organisation: Some(j.organisation.clone()),
                start: Some(j.start.to_string()),
                end: Some(j.end.map_or_else(|| "present".to_owned(), |e| e.to_string())),
            })
            .collect();
        grouped.push(samples_of(&pages_of(&sample.bytes), &gold));
    }
    grouped.retain(|g| !g.is_empty());
    let total: usize = grouped.iter().map(Vec::len).sum();
    let mut per_label = [0usize; LABELS.len()];
    for (_, y) in grouped.iter().flatten() {
        per_label[*y] += 1;
    }
    println!("{} documents, {total} segments {:?}", grouped.len(), LABELS.iter().zip(per_label).collect::<Vec<_>>());
    let labels: Vec<String> = LABELS.iter().map(|l| (*l).to_owned()).collect();
    let best = select_l2(&grouped, &labels, &[1e-3, 1e-2, 1e-1], 150, 4, Scored::All);
    let all: Vec<(Vec<f32>, usize)> = grouped.into_iter().flatten().collect();
    let trained_on = format!(
        "{total} segments of dev documents, l2 {}, {} epochs; four-fold segment accuracy {:.3}",
        best.1.l2, best.1.epochs, best.0
    );
    let m = SoftmaxModel::train(&all, &labels, best.1, trained_on.clone());
    assert_eq!(m.dimensions(), FEATURES);
    write_model(&m, &out, "job_header")?;
    Ok(())
}
