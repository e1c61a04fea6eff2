//! Reads a text file as a résumé and prints its lines' sections and the facts:
//! `cargo run --release -p facts --example read_text -- FILE`.

use domain::{DocumentId, DocumentKind, PageText};
use facts::extract::Doc;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: read_text FILE")?;
    let pages = [PageText { page: 1, text: std::fs::read_to_string(path)? }];
    let doc = Doc::new(DocumentId::new(), &pages, "now");
    for b in &doc.blocks {
        for i in b.lines.clone() {
            println!("{:?} {} {}", b.section, if doc.lines[i].bullet { "•" } else { " " }, doc.lines[i].text);
        }
    }
    for f in facts::extract_document(DocumentKind::Resume, &doc, facts::lexicon::BuiltinLexicon::get()) {
        println!("{:?}", f.fact.value);
    }
    Ok(())
}
