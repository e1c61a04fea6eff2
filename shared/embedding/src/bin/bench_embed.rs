//! Embedding benchmark: cold start (load + first embedding) and throughput for
//! batches of 32 short sentences and for 512-token chunks.
//! `cargo run --release -p embedding --bin bench_embed -- MODEL_DIR [REPS]`

use embedding::Embedder;
use std::time::Instant;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = args.next().or_else(|| std::env::var("PERSONALIZATION_EMBEDDING_MODEL").ok()).ok_or("MODEL_DIR")?;
    let reps: usize = args.next().map(|r| r.parse()).transpose()?.unwrap_or(7);

    let start = Instant::now();
    let embedder = Embedder::load(dir.as_ref())?;
    let loaded = start.elapsed();
    embedder.embed(&["warm-up sentence"])?;
    println!(
        "cold start: load {:.0} ms, first embedding at {:.0} ms",
        loaded.as_secs_f64() * 1e3,
        start.elapsed().as_secs_f64() * 1e3
    );

    let short: Vec<String> =
        (0..32).map(|i| format!("Led a team of {i} engineers to ship the payments platform on time")).collect();
    let short: Vec<&str> = short.iter().map(String::as_str).collect();
    let times: Vec<f64> = (0..reps)
        .map(|_| {
            let t = Instant::now();
            embedder.embed(&short).map(|_| t.elapsed().as_secs_f64())
        })
        .collect::<Result<_, _>>()?;
    let m = median(times);
    println!("batch of 32 short sentences: {:.1} ms, {:.1} sentences/s (median of {reps})", m * 1e3, 32.0 / m);

    let long = "Designed and operated distributed data pipelines processing billions of events per day. ".repeat(40);
    let embedder = embedder.with_max_tokens(512)?;
    let times: Vec<f64> = (0..reps)
        .map(|_| {
            let t = Instant::now();
            embedder.embed(&[long.as_str()]).map(|_| t.elapsed().as_secs_f64())
        })
        .collect::<Result<_, _>>()?;
    let m = median(times);
    println!("one 512-token chunk: {:.1} ms, {:.2} chunks/s (median of {reps})", m * 1e3, 1.0 / m);
    Ok(())
}
