//! Embedding benchmark, side by side in one run on the same inputs:
//! - throughput for a batch of 32 short sentences, for one 512-token chunk and
//!   for a batch of 16 of them (what the embed function hands the model), and
//!   for 50 texts of mixed lengths (the parity reference's: 2 to 256 tokens),
//!   per thread count, for tract (this crate), Python onnxruntime on the same
//!   ONNX file and tokenizer.json, and sentence-transformers on PyTorch with the
//!   original weights (the old design's stack);
//! - cold start: a new process from exec to its first embedding, model load
//!   included (what a new Lambda container pays before its first event).
//!
//! The Python engines run `infra/scripts/bench_python_embed.py` with the
//! interpreter in `PERSONALIZATION_PYTHON` (`eval "$(infra/scripts/bench_venv.sh)"`);
//! skipped when unset.
//! `cargo run --release -p embedding --bin bench_embed -- [MODEL_DIR] [--reps R] [--rounds N] [--threads 1,2] [--cold-runs N]`

use embedding::Embedder;
use std::process::Command;
use std::time::Instant;

type Error = Box<dyn std::error::Error>;

const PYTHON_ENGINES: [&str; 2] = ["onnxruntime", "sentence-transformers"];
const PYTHON_SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../infra/scripts/bench_python_embed.py");

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

struct Throughput {
    engine: String,
    threads: usize,
    short_ms: f64,
    chunk_ms: f64,
    chunk_batch_ms: f64,
    mixed_ms: f64,
}

/// The parity reference's 50 texts, 2 to 256 tokens.
fn mixed_texts() -> Result<Vec<String>, Error> {
    let reference: serde_json::Value =
        serde_json::from_str(include_str!("../../tests/data/reference_embeddings.json"))?;
    let items = reference["items"].as_array().ok_or("reference items")?;
    Ok(items.iter().filter_map(|i| i["text"].as_str().map(str::to_owned)).collect())
}

/// Each figure of an engine's rounds, the median of that figure over them.
fn median_row(runs: Vec<Throughput>) -> Throughput {
    let of = |f: fn(&Throughput) -> f64| median(runs.iter().map(f).collect());
    Throughput {
        engine: runs[0].engine.clone(),
        threads: runs[0].threads,
        short_ms: of(|r| r.short_ms),
        chunk_ms: of(|r| r.chunk_ms),
        chunk_batch_ms: of(|r| r.chunk_batch_ms),
        mixed_ms: of(|r| r.mixed_ms),
    }
}

/// Chunks per model call in the embed function.
const CHUNK_BATCH: usize = 16;

fn short_sentences() -> Vec<String> {
    (0..32).map(|i| format!("Led a team of {i} engineers to ship the payments platform on time")).collect()
}

fn long_text() -> String {
    "Designed and operated distributed data pipelines processing billions of events per day. ".repeat(40)
}

/// Median of `reps` timed runs after one untimed one, in ms.
fn time_ms(reps: usize, mut f: impl FnMut() -> Result<(), Error>) -> Result<f64, Error> {
    f()?;
    let mut times = Vec::with_capacity(reps);
    for _ in 0..reps {
        let t = Instant::now();
        f()?;
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    Ok(median(times))
}

fn tract(dir: &str, threads: usize, reps: usize) -> Result<Throughput, Error> {
    let embedder = Embedder::load(dir.as_ref())?.with_threads(threads);
    let short = short_sentences();
    let short: Vec<&str> = short.iter().map(String::as_str).collect();
    let short_ms = time_ms(reps, || embedder.embed(&short).map(drop).map_err(Into::into))?;
    let mixed = mixed_texts()?;
    let mixed: Vec<&str> = mixed.iter().map(String::as_str).collect();
    let mixed_ms = time_ms(reps, || embedder.embed(&mixed).map(drop).map_err(Into::into))?;
    let long = long_text();
    let embedder = embedder.with_max_tokens(512)?;
    assert!(embedder.count_tokens(&long)? > 512, "the long text must fill a 512-token chunk");
    let chunk_ms = time_ms(reps, || embedder.embed(&[long.as_str()]).map(drop).map_err(Into::into))?;
    let batch = vec![long.as_str(); CHUNK_BATCH];
    let chunk_batch_ms = time_ms(reps, || embedder.embed(&batch).map(drop).map_err(Into::into))?;
    Ok(Throughput { engine: "tract-onnx 0.23.9".into(), threads, short_ms, chunk_ms, chunk_batch_ms, mixed_ms })
}

fn python(python: &str, engine: &str, dir: &str, threads: usize, reps: usize) -> Result<Throughput, Error> {
    let out =
        Command::new(python).args([PYTHON_SCRIPT, engine, dir, &threads.to_string(), &reps.to_string()]).output()?;
    if !out.status.success() {
        return Err(format!("{PYTHON_SCRIPT} {engine}: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let num = |k: &str| v[k].as_f64().ok_or(format!("{engine}: no {k}"));
    Ok(Throughput {
        engine: v["engine"].as_str().unwrap_or(engine).to_owned(),
        threads,
        short_ms: num("short_batch_ms")?,
        chunk_ms: num("chunk_ms")?,
        chunk_batch_ms: num("chunk_batch_ms")?,
        mixed_ms: num("mixed_ms")?,
    })
}

/// Median wall time of `runs` fresh processes of `command`, each of which loads
/// a model, embeds one sentence and exits.
fn cold_start(runs: usize, mut command: impl FnMut() -> Command) -> Result<f64, Error> {
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        let out = command().output()?;
        if !out.status.success() {
            return Err(format!("cold start run failed: {}", String::from_utf8_lossy(&out.stderr)).into());
        }
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    Ok(median(times))
}

/// The child of a tract cold-start run: what the embed function does before
/// its first event (load, chunk-size limit), then one embedding.
fn first_embedding(dir: &str) -> Result<(), Error> {
    let embedder = Embedder::load(dir.as_ref())?.with_max_tokens(256)?;
    let v = embedder.embed(&["Led a team of 8 engineers"])?;
    println!("{}", v[0].len());
    Ok(())
}

fn main() -> Result<(), Error> {
    let mut dir = std::env::var("PERSONALIZATION_EMBEDDING_MODEL").ok();
    let mut reps = 7usize;
    let mut rounds = 3usize;
    let mut cold_runs = 5usize;
    let mut threads = vec![1usize, std::thread::available_parallelism().map_or(1, |n| n.get())];
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--reps" => reps = args.next().ok_or("--reps N")?.parse()?,
            "--rounds" => rounds = args.next().ok_or("--rounds N")?.parse()?,
            "--cold-runs" => cold_runs = args.next().ok_or("--cold-runs N")?.parse()?,
            "--threads" => {
                threads = args.next().ok_or("--threads 1,2")?.split(',').map(str::parse).collect::<Result<_, _>>()?
            }
            "--first-embedding" => return first_embedding(&args.next().ok_or("--first-embedding MODEL_DIR")?),
            other => dir = Some(other.to_owned()),
        }
    }
    threads.dedup();
    let dir = dir.ok_or("MODEL_DIR (or PERSONALIZATION_EMBEDDING_MODEL)")?;
    let python_bin = std::env::var("PERSONALIZATION_PYTHON").ok();
    if python_bin.is_none() {
        eprintln!("PERSONALIZATION_PYTHON is not set: the Python engines are skipped (infra/scripts/bench_venv.sh)");
    }

    // The engines take turns, `rounds` times over, and each figure is the
    // median of its rounds: this VM's speed drifts by 10-20 % over minutes,
    // which one pass per engine would put between the engines.
    let mut rows = Vec::new();
    for &t in &threads {
        let mut per_engine: Vec<Vec<Throughput>> = Vec::new();
        for _ in 0..rounds {
            let mut round = vec![tract(&dir, t, reps)?];
            if let Some(py) = &python_bin {
                for engine in PYTHON_ENGINES {
                    round.push(python(py, engine, &dir, t, reps)?);
                }
            }
            for (i, row) in round.into_iter().enumerate() {
                match per_engine.get_mut(i) {
                    Some(runs) => runs.push(row),
                    None => per_engine.push(vec![row]),
                }
            }
        }
        rows.extend(per_engine.into_iter().map(median_row));
    }
    println!(
        "{:<28} {:>7} {:>13} {:>11} {:>12} {:>9} {:>14} {:>9} {:>13}",
        "engine",
        "threads",
        "32 short: ms",
        "sentences/s",
        "1x512: ms",
        "chunks/s",
        "16x512: ms",
        "chunks/s",
        "50 mixed: ms"
    );
    for r in &rows {
        println!(
            "{:<28} {:>7} {:>13.1} {:>11.1} {:>12.1} {:>9.2} {:>14.1} {:>9.2} {:>13.1}",
            r.engine,
            r.threads,
            r.short_ms,
            32e3 / r.short_ms,
            r.chunk_ms,
            1e3 / r.chunk_ms,
            r.chunk_batch_ms,
            CHUNK_BATCH as f64 * 1e3 / r.chunk_batch_ms,
            r.mixed_ms
        );
    }
    println!(
        "(medians of {rounds} rounds, engines taking turns, each the median of {reps} after one warm-up; same inputs; onnxruntime on the same ONNX file and tokenizer.json;\n \
         50 mixed: tract groups by length, onnxruntime takes batches of 32 in order padded to the longest,\n \
         sentence-transformers sorts by length into batches of 32)"
    );

    let me = std::env::current_exe()?;
    let tract_cold = cold_start(cold_runs, || {
        let mut c = Command::new(&me);
        c.args(["--first-embedding", &dir]);
        c
    })?;
    println!("\ncold start, exec to first embedding (median of {cold_runs} processes):");
    println!("  {:<28} {tract_cold:>8.0} ms", "tract-onnx 0.23.9");
    if let Some(py) = &python_bin {
        let threads = threads.last().copied().unwrap_or(1).to_string();
        for engine in PYTHON_ENGINES {
            let ms = cold_start(cold_runs, || {
                let mut c = Command::new(py);
                c.args([PYTHON_SCRIPT, engine, &dir, &threads, "0", "--cold"]);
                c
            })?;
            println!("  {engine:<28} {ms:>8.0} ms");
        }
    }
    Ok(())
}
