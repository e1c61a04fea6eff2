//! Prints the facts the rules find in files.
//! `cargo run --release -p facts --example facts_dump -- FILE...`
use facts::extract::Doc;
use facts::lexicon::BuiltinLexicon;
use facts::resume::extract_resume;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    for path in std::env::args().skip(1) {
        let bytes = std::fs::read(&path)?;
        let Ok(inspection) = documents::inspect(&bytes, &domain::Limits::default()) else {
            println!("==== {path}: refused");
            continue;
        };
        let pages = documents::extract_text(inspection.content_type, &bytes)?;
        let doc = Doc::new(domain::DocumentId::new(), &pages, "now");
        println!("==== {path}");
        for found in extract_resume(&doc, BuiltinLexicon::get()) {
            let parent = found.parent.map(|p| format!(" ^{p}")).unwrap_or_default();
            println!("  {:<14} {}{parent}", found.fact.value.kind().as_str(), found.fact.value.summary());
        }
    }
    Ok(())
}
