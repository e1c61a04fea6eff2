//! Extraction scored against a gold file, each document ingested on its own:
//! name exact, number of dated jobs exact, gold skills found.
//! `cargo run --release -p extract --bin eval_facts -- ../shared/testdata`
//! (reads `gold/gold_facts.tsv`; images are skipped: no OCR here).

use domain::{DocumentId, DocumentKind, Limits};
use extract::eval::{parse_gold, score};
use facts::extract::Doc;
use facts::lexicon::BuiltinLexicon;
use std::path::PathBuf;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(std::env::args().nth(1).ok_or("usage: eval_facts TESTDATA_DIR")?);
    let gold = parse_gold(&std::fs::read_to_string(root.join("gold/gold_facts.tsv"))?)?;
    let (mut names, mut names_ok, mut jobs, mut jobs_ok, mut skills, mut skills_ok, mut skipped) =
        (0, 0, 0, 0, 0, 0, 0);
    let started = Instant::now();
    let (mut extracting, mut extracted) = (std::time::Duration::ZERO, 0u32);
    for row in &gold {
        let bytes = std::fs::read(root.join(&row.path))?;
        let inspection = match documents::inspect(&bytes, &Limits::default()) {
            Ok(i) if !i.content_type.is_image() => i,
            _ => {
                skipped += 1;
                println!("skip  {} (image or refused)", row.path);
                continue;
            }
        };
        let pages = documents::extract_text(inspection.content_type, &bytes)?;
        let timer = Instant::now();
        let doc = Doc::new(DocumentId::new(), &pages, domain::now_rfc3339());
        let values: Vec<_> = facts::extract_document(DocumentKind::Resume, &doc, BuiltinLexicon::get())
            .into_iter()
            .map(|f| f.fact.value)
            .collect();
        extracting += timer.elapsed();
        extracted += 1;
        let s = score(row, &values, BuiltinLexicon::get());
        if let Some(ok) = s.name {
            names += 1;
            names_ok += usize::from(ok);
        }
        if let Some((got, want)) = s.jobs {
            jobs += 1;
            jobs_ok += usize::from(got == want);
        }
        skills += s.skills_total;
        skills_ok += s.skills_found;
        println!(
            "{:<48} name {:<5} {:<22} jobs {:<9} skills {}/{}{}",
            row.path,
            s.name.map_or("-".into(), |ok| if ok { "ok".to_owned() } else { "MISS".to_owned() }),
            format!("({})", s.extracted_name.unwrap_or_default()),
            s.jobs.map_or("-".into(), |(g, w)| format!("{g}/{w}{}", if g == w { "" } else { " MISS" })),
            s.skills_found,
            s.skills_total,
            if s.missing_skills.is_empty() { String::new() } else { format!(" missing {:?}", s.missing_skills) },
        );
    }
    let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    println!(
        "\nname exact {names_ok}/{names} = {:.3}; jobs exact {jobs_ok}/{jobs} = {:.3}; gold skills found {skills_ok}/{skills} = {:.3}; {skipped} skipped; {:.2} s in all",
        ratio(names_ok, names),
        ratio(jobs_ok, jobs),
        ratio(skills_ok, skills),
        started.elapsed().as_secs_f64()
    );
    // Fact extraction alone (text already extracted), one thread; the first
    // document also pays for compiling the patterns and building the lexicon.
    println!(
        "fact extraction: {extracted} documents in {:.1} ms, {:.0} documents/s on one thread",
        extracting.as_secs_f64() * 1e3,
        f64::from(extracted) / extracting.as_secs_f64().max(1e-9)
    );
    Ok(())
}
