//! Every call's time, sorted, of `Embedder::embed` on one 512-token chunk: the
//! spread a median hides (on this VM two-thread calls range over 1.5× in a minute).
//! `cargo run --release -p embedding --example call_times -- MODEL_DIR THREADS REPS`
use std::time::Instant;
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let threads: usize = args.get(2).map_or(Ok(2), |a| a.parse())?;
    let reps: usize = args.get(3).map_or(Ok(30), |a| a.parse())?;
    let embedder = embedding::Embedder::load(args[1].as_ref())?.with_threads(threads).with_max_tokens(512)?;
    let long = "Designed and operated distributed data pipelines processing billions of events per day. ".repeat(40);
    embedder.embed(&[long.as_str()])?;
    let mut times: Vec<f64> = (0..reps)
        .map(|_| {
            let t = Instant::now();
            embedder.embed(&[long.as_str()]).map(drop).unwrap();
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    println!("{}", times.iter().map(|t| format!("{t:.1}")).collect::<Vec<_>>().join(" "));
    Ok(())
}
