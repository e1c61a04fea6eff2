//! Builds the ontology artifact.
//! `build_ontology --wheels DIR [--onet DIR] --model DIR --out FILE [--limit N]`
//! (the set-up step `infra/scripts/build_ontology.sh` fetches the wheels and calls it).

use ontology::build::{build_artifact, parse_args};
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (inputs, model, out) = parse_args(std::env::args().skip(1))?;
    let model = model.ok_or("--model DIR is required")?;
    let started = Instant::now();
    // The artifact must come out byte for byte the same from every build: one
    // plan for every batch (a plan specialised for a shape may round a last
    // bit differently, and which calls get one depends on the threads' timing).
    let embedder = embedding::Embedder::load(&model)?.with_threads(2).with_specialised_plans(0);
    let summary = build_artifact(&inputs, &embedder, &out)?;
    for note in &summary.notes {
        eprintln!("build_ontology: {note}");
    }
    eprintln!("build_ontology: {summary}; {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}
