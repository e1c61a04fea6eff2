//! `cargo run --release -p ontology --example query -- ARTIFACT MODEL_DIR [skills|occupations] QUERY [CONTEXT]`
use ontology::{Ontology, Query};
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let t = Instant::now();
    let onto = Ontology::open(std::path::Path::new(&args[0]))?;
    eprintln!("loaded {} concepts in {:.0} ms", onto.len(), t.elapsed().as_secs_f64() * 1e3);
    let embedder = embedding::Embedder::load(std::path::Path::new(&args[1]))?;
    let mut q = if args[2] == "occupations" { Query::occupations(&args[3], 8) } else { Query::skills(&args[3], 8) };
    q.context = args.get(4).map(String::as_str);
    let t = Instant::now();
    let hits = onto.search(&q, Some(&embedder))?;
    eprintln!("searched in {:.2} ms", t.elapsed().as_secs_f64() * 1e3);
    for h in hits {
        let c = onto.concept(h.concept);
        println!("{:.3} {:<12} {:<40} {:<28} matched {:?}", h.score, h.reason.as_str(), c.label, c.id, h.matched);
    }
    Ok(())
}
