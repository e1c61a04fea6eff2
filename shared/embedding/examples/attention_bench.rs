//! Times the fused attention op alone on one shape.
//! `cargo run --release -p embedding --example attention_bench -- BATCH LEN`
use std::time::Instant;
use tract_onnx::prelude::*;
use tract_onnx::tract_core::internal::*;

fn main() -> TractResult<()> {
    let args: Vec<usize> = std::env::args().skip(1).map(|a| a.parse().unwrap_or(1)).collect();
    let (b, s) = (args.first().copied().unwrap_or(1), args.get(1).copied().unwrap_or(512));
    let t = |dk: usize, seed: usize| -> TractResult<TValue> {
        let n = b * s * 12 * dk;
        let data: Vec<f32> = (0..n).map(|i| (((i * 7919 + seed) % 1000) as f32 / 1000.0 - 0.5) * 0.3).collect();
        Ok(Tensor::from_shape(&[b, s, 12, dk], &data)?.into_tvalue())
    };
    let (q, k, v) = (t(33, 1)?, t(33, 2)?, t(32, 3)?);
    let op = embedding::kernels::Attention;
    let mut best = f64::MAX;
    for _ in 0..10 {
        let start = Instant::now();
        op.eval(&EvalContext::out_of_plan(), tvec!(q.clone(), k.clone(), v.clone()))?;
        best = best.min(start.elapsed().as_secs_f64() * 1e3);
    }
    let mut rows: Vec<f32> = (0..b * 12 * s * s).map(|i| ((i * 7919 % 1000) as f32 / 1000.0 - 0.5) * 8.0).collect();
    let mut soft = f64::MAX;
    for _ in 0..10 {
        let start = Instant::now();
        embedding::kernels::softmax_rows(&mut rows, s);
        soft = soft.min(start.elapsed().as_secs_f64() * 1e3);
    }
    println!("softmax of the scores alone: {soft:.2} ms");
    let macs = (b * 12 * s * s * 65) as f64;
    println!("{b}x{s}: best {best:.2} ms, {:.1} GMAC/s", macs / best / 1e6);
    Ok(())
}
