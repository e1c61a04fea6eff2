//! Extraction scored on a generated corpus of résumés with known facts:
//! precision, recall and F1 per field, the job F1 per layout, and documents
//! per second through fact extraction on one thread.
//! `cargo run --release -p extract --bin eval_generated -- [N=200] [SEED=7] [SHOW=index]`
//! (with SHOW, prints that sample's text, its truth and the facts found).

use domain::{ContentType, DocumentId, DocumentKind};
use extract::corpus::{Counts, Layout, corpus, score};
use facts::extract::Doc;
use facts::lexicon::BuiltinLexicon;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(200);
    let seed: u64 = args.next().map(|a| a.parse()).transpose()?.unwrap_or(7);
    let show: Option<usize> = args.next().map(|a| a.parse()).transpose()?;
    let samples = corpus(n, seed);
    let mut totals: BTreeMap<&'static str, Counts> = BTreeMap::new();
    let mut per_layout: BTreeMap<Layout, Counts> = BTreeMap::new();
    let mut extracting = Duration::ZERO;
    let (mut pdfs, mut docxs) = (0, 0);
    for (index, sample) in samples.iter().enumerate() {
        let content_type = if sample.docx { ContentType::Docx } else { ContentType::Pdf };
        if sample.docx {
            docxs += 1
        } else {
            pdfs += 1
        }
        let pages = documents::extract_text(content_type, &sample.bytes)?;
        let timer = Instant::now();
        let doc = Doc::new(DocumentId::new(), &pages, "now");
        let facts: Vec<_> = facts::extract_document(DocumentKind::Resume, &doc, BuiltinLexicon::get())
            .into_iter()
            .map(|f| f.fact.value)
            .collect();
        extracting += timer.elapsed();
        if show == Some(index) {
            for page in &pages {
                println!("--- text ({})\n{}", sample.layout.name(), page.text);
            }
            println!("--- truth\n{:#?}\n--- facts", sample.truth);
            for f in &facts {
                println!("{f:?}");
            }
            for (field, counts) in score(&sample.truth, &facts) {
                println!("{field}: {counts:?}");
            }
            return Ok(());
        }
        for (field, counts) in score(&sample.truth, &facts) {
            totals.entry(field).or_default().add(counts);
            if field.starts_with("job (") {
                per_layout.entry(sample.layout).or_default().add(counts);
            }
        }
    }
    println!("{n} generated résumés ({pdfs} PDF, {docxs} DOCX), seed {seed}\n");
    println!("{:<28} {:>9} {:>9} {:>9}   (tp/fp/fn)", "field", "precision", "recall", "F1");
    for (field, c) in &totals {
        println!(
            "{field:<28} {:>9.3} {:>9.3} {:>9.3}   ({}/{}/{})",
            c.precision(),
            c.recall(),
            c.f1(),
            c.tp,
            c.fp,
            c.fn_
        );
    }
    println!("\njob F1 by layout:");
    for (layout, c) in &per_layout {
        println!("  {:<18} {:.3}   ({}/{}/{})", layout.name(), c.f1(), c.tp, c.fp, c.fn_);
    }
    println!(
        "\nfact extraction: {n} documents in {:.1} ms, {:.0} documents/s on one thread (text extraction not included)",
        extracting.as_secs_f64() * 1e3,
        n as f64 / extracting.as_secs_f64().max(1e-9)
    );
    Ok(())
}
