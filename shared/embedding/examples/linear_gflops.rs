//! The projections' GEMM alone ([`embedding::linear::PackedWeights`]), on the
//! model's three shapes for one 512-token input, one thread: best of `REPS`
//! calls, in GFLOP/s. `PERSONALIZATION_LINEAR_KERNEL` picks the tile kernel,
//! so that kernels are compared in separate processes, turn about.
//! `cargo run --release -p embedding --example linear_gflops`

use std::time::Instant;

fn main() {
    let reps: usize = std::env::var("REPS").ok().and_then(|r| r.parse().ok()).unwrap_or(20);
    let values = |n: usize, seed: usize| -> Vec<f32> {
        (0..n).map(|i| (((i * 7919 + seed * 104_729) % 2003) as f32 / 2003.0 - 0.5) * 2.0).collect()
    };
    let mut line = String::new();
    for (rows, k, n) in [(512, 384, 384), (512, 384, 1536), (512, 1536, 384)] {
        let packed = embedding::linear::PackedWeights::new(&values(k * n, 1), k, n, &values(n, 2));
        let x = values(rows * k, 3);
        let mut out = vec![0f32; rows * n];
        packed.apply(&x, &mut out);
        let best = (0..reps)
            .map(|_| {
                let start = Instant::now();
                packed.apply(&x, &mut out);
                start.elapsed().as_secs_f64()
            })
            .fold(f64::INFINITY, f64::min);
        let gflops = 2.0 * (rows * k * n) as f64 / best / 1e9;
        line += &format!("  {rows}×{k}·{k}×{n}: {:.3} ms {gflops:.1} GFLOP/s", best * 1e3);
        std::hint::black_box(&out);
    }
    println!("{}{line}", std::env::var("PERSONALIZATION_LINEAR_KERNEL").unwrap_or_else(|_| "default".into()));
}
