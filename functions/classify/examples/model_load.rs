//! Time to load and check the two shipped learned models (first use in a
//! process): `cargo run --release -p classify --example model_load`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let t = std::time::Instant::now();
    let kinds = classify::KindModel::shipped()?;
    let kinds_ms = t.elapsed().as_secs_f64() * 1e3;
    let t = std::time::Instant::now();
    let headers = facts::job_header::model().ok_or("job header model")?;
    let headers_ms = t.elapsed().as_secs_f64() * 1e3;
    println!(
        "kind model: {} features x {} kinds, loaded and hash-checked in {kinds_ms:.2} ms",
        kinds.dimensions(),
        kinds.kinds.len()
    );
    println!(
        "job header model: {} features x {} labels, loaded and hash-checked in {headers_ms:.2} ms",
        headers.dimensions(),
        headers.labels.len()
    );
    Ok(())
}
