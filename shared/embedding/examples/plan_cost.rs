//! What a concretely shaped plan costs: build time and resident memory for
//! each new (batch, length), after the symbolic one.
//! `cargo run --release -p embedding --example plan_cost -- MODEL_DIR`
use std::time::Instant;
use tract_onnx::prelude::*;

fn rss_mb() -> f64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: f64 = statm.split_whitespace().nth(1).and_then(|p| p.parse().ok()).unwrap_or(0.0);
    pages * 4096.0 / 1e6
}

fn main() -> TractResult<()> {
    let dir = std::env::args().nth(1).ok_or_else(|| TractError::msg("MODEL_DIR"))?;
    let mut model = tract_onnx::onnx().model_for_path(std::path::Path::new(&dir).join("model.onnx"))?;
    let pooled = model.find_outlet_label("sentence_embedding").ok_or_else(|| TractError::msg("no output"))?;
    model.select_output_outlets(&[pooled])?;
    let t = Instant::now();
    let mut typed = model.into_typed()?;
    embedding::kernels::fuse_layer_norms(&mut typed)?;
    embedding::kernels::fuse_attention(&mut typed)?;
    let typed = typed.into_decluttered()?;
    println!("typed + decluttered: {:.0} ms, rss {:.0} MB", t.elapsed().as_secs_f64() * 1e3, rss_mb());
    let mut plans = Vec::new();
    for (b, l) in [(16, 16), (16, 24), (8, 64), (1, 512), (32, 16), (4, 256)] {
        let t = Instant::now();
        let values: std::collections::HashMap<Symbol, TDim> =
            [(typed.symbols.sym("batch"), TDim::from(b)), (typed.symbols.sym("sequence"), TDim::from(l))].into();
        let mut m = typed.set_symbols(&values)?.into_optimized()?;
        embedding::kernels::replace_slow_ops(&mut m)?;
        plans.push(m.into_runnable()?);
        println!("plan {b}x{l}: {:.0} ms, rss {:.0} MB", t.elapsed().as_secs_f64() * 1e3, rss_mb());
    }
    Ok(())
}
