//! Embedding benchmark: cold start (load + first embedding) and throughput for
//! a batch of 32 short sentences and for one 512-token chunk, with tract on 1
//! and N threads, and Python onnxruntime on the same ONNX file, tokenizer and
//! inputs in the same run (`infra/scripts/bench_onnxruntime.py`, interpreter
//! from `PERSONALIZATION_PYTHON`; skipped when unset).
//! `cargo run --release -p embedding --bin bench_embed -- [MODEL_DIR] [--reps R] [--threads 1,2]`

use embedding::Embedder;
use std::time::Instant;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

struct Figures {
    engine: String,
    threads: usize,
    cold_ms: f64,
    short_ms: f64,
    chunk_ms: f64,
}

fn short_sentences() -> Vec<String> {
    (0..32).map(|i| format!("Led a team of {i} engineers to ship the payments platform on time")).collect()
}

fn long_text() -> String {
    "Designed and operated distributed data pipelines processing billions of events per day. ".repeat(40)
}

fn tract(dir: &str, threads: usize, reps: usize) -> Result<Figures, Box<dyn std::error::Error>> {
    let start = Instant::now();
    let embedder = Embedder::load(dir.as_ref())?.with_threads(threads);
    embedder.embed(&["warm-up sentence"])?;
    let cold_ms = start.elapsed().as_secs_f64() * 1e3;
    let short = short_sentences();
    let short: Vec<&str> = short.iter().map(String::as_str).collect();
    let mut times = Vec::new();
    for _ in 0..reps {
        let t = Instant::now();
        embedder.embed(&short)?;
        times.push(t.elapsed().as_secs_f64());
    }
    let short_ms = median(times) * 1e3;
    let long = long_text();
    let embedder = embedder.with_max_tokens(512)?;
    assert!(embedder.count_tokens(&long)? > 512, "the long text must fill a 512-token chunk");
    let mut times = Vec::new();
    for _ in 0..reps {
        let t = Instant::now();
        embedder.embed(&[long.as_str()])?;
        times.push(t.elapsed().as_secs_f64());
    }
    Ok(Figures { engine: "tract-onnx 0.23.9".into(), threads, cold_ms, short_ms, chunk_ms: median(times) * 1e3 })
}

fn onnxruntime(python: &str, dir: &str, threads: usize, reps: usize) -> Result<Figures, Box<dyn std::error::Error>> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../infra/scripts/bench_onnxruntime.py");
    let out =
        std::process::Command::new(python).args([script, dir, &threads.to_string(), &reps.to_string()]).output()?;
    if !out.status.success() {
        return Err(format!("{script}: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let num = |k: &str| v[k].as_f64().ok_or(format!("no {k}"));
    Ok(Figures {
        engine: v["engine"].as_str().unwrap_or("onnxruntime").to_owned(),
        threads,
        cold_ms: num("cold_start_ms")?,
        short_ms: num("short_batch_ms")?,
        chunk_ms: num("chunk_ms")?,
    })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut dir = std::env::var("PERSONALIZATION_EMBEDDING_MODEL").ok();
    let mut reps = 7usize;
    let mut threads = vec![1usize, std::thread::available_parallelism().map_or(1, |n| n.get())];
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--reps" => reps = args.next().ok_or("--reps N")?.parse()?,
            "--threads" => {
                threads = args.next().ok_or("--threads 1,2")?.split(',').map(str::parse).collect::<Result<_, _>>()?
            }
            other => dir = Some(other.to_owned()),
        }
    }
    threads.dedup();
    let dir = dir.ok_or("MODEL_DIR (or PERSONALIZATION_EMBEDDING_MODEL)")?;
    let python = std::env::var("PERSONALIZATION_PYTHON").ok();
    let mut rows = Vec::new();
    for &t in &threads {
        rows.push(tract(&dir, t, reps)?);
        if let Some(python) = &python {
            rows.push(onnxruntime(python, &dir, t, reps)?);
        }
    }
    if python.is_none() {
        eprintln!("PERSONALIZATION_PYTHON is not set: onnxruntime skipped");
    }
    println!(
        "{:<22} {:>7} {:>13} {:>16} {:>13} {:>14} {:>12}",
        "engine", "threads", "cold start ms", "32 short: ms", "sentences/s", "512-tok: ms", "chunks/s"
    );
    for r in &rows {
        println!(
            "{:<22} {:>7} {:>13.0} {:>16.1} {:>13.1} {:>14.1} {:>12.2}",
            r.engine,
            r.threads,
            r.cold_ms,
            r.short_ms,
            32e3 / r.short_ms,
            r.chunk_ms,
            1e3 / r.chunk_ms
        );
    }
    println!("(medians of {reps}; same ONNX file, tokenizer.json and inputs)");
    Ok(())
}
