//! Tokenisation's share of an embedding call: 32 short sentences tokenised
//! alone against the whole `embed` call.
//! `cargo run --release -p embedding --example tokenize_cost -- MODEL_DIR`
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args().nth(1).ok_or("MODEL_DIR")?;
    let embedder = embedding::Embedder::load(dir.as_ref())?.with_threads(1);
    let texts: Vec<String> =
        (0..32).map(|i| format!("Led a team of {i} engineers to ship the payments platform on time")).collect();
    let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
    let best = |f: &mut dyn FnMut()| {
        (0..10)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed().as_secs_f64() * 1e3
            })
            .fold(f64::MAX, f64::min)
    };
    let tokens = best(&mut || {
        for t in &texts {
            embedder.count_tokens(t).ok();
        }
    });
    let whole = best(&mut || {
        embedder.embed(&texts).ok();
    });
    println!("tokenising 32: {tokens:.2} ms; embed 32: {whole:.2} ms");
    Ok(())
}
