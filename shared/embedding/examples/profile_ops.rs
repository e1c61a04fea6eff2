//! Where tract spends its time on one input shape: total per op kind (or per
//! node with `BY_NODE=1`), summed over `REPS` runs after a warm-up, single
//! threaded unless `THREADS=n`. The graph is the embedder's (our kernels in
//! it) unless `TRACT_ONLY=1` (tract's ops alone), `NO_ATTENTION=1` or `TRACT_MATMUL=1`
//! (tract's products for the projections);
//! `CONCRETE=1` optimises for the fixed shape instead of symbolic
//! `batch`/`sequence` dims (`CONCRETE=sequence`: the length only); `DUMP=` and
//! `DUMP_TYPED=` print the nodes whose names contain a pattern. Found, for
//! example, that the textbook attention mask (a broadcast Add over
//! `[b,12,s,s]`) took a quarter of a 512-token run, and later that tract's
//! generic adds and its attention products were a fifth and a third of it.
//! `cargo run --release -p embedding --example profile_ops -- MODEL_DIR BATCH LEN`

use std::collections::HashMap;
use std::time::Instant;
use tract_onnx::prelude::*;
use tract_onnx::tract_core::plan::{SimpleState, eval};

fn main() -> TractResult<()> {
    // THREADS=n: the matrix products (and our attention) on n threads
    let threads: usize = std::env::var("THREADS").ok().and_then(|t| t.parse().ok()).unwrap_or(1);
    if threads > 1 {
        tract_linalg::multithread::set_default_executor(tract_linalg::multithread::Executor::multithread(threads));
    }
    let args: Vec<String> = std::env::args().collect();
    let [_, dir, batch, len] = args.as_slice() else {
        return Err(TractError::msg("usage: profile_ops MODEL_DIR BATCH LEN"));
    };
    let (batch, len): (usize, usize) = (batch.parse()?, len.parse()?);
    let by_node = std::env::var("BY_NODE").is_ok();
    let reps: usize = std::env::var("REPS").ok().and_then(|r| r.parse().ok()).unwrap_or(5);

    let mut model = tract_onnx::onnx().model_for_path(std::path::Path::new(dir).join("model.onnx"))?;
    let pooled =
        model.find_outlet_label("sentence_embedding").ok_or_else(|| TractError::msg("no sentence_embedding output"))?;
    model.select_output_outlets(&[pooled])?;
    let mut typed = model.into_typed()?;
    // DUMP_TYPED=pattern: the typed (not yet decluttered) nodes whose names contain it, with their inputs
    if let Ok(pat) = std::env::var("DUMP_TYPED") {
        for node in typed.nodes().iter().filter(|n| n.name.contains(pat.as_str())) {
            let inputs: Vec<String> = node
                .inputs
                .iter()
                .map(|i| {
                    let n = typed.node(i.node);
                    let konst = typed.outlet_fact(*i).is_ok_and(|f| f.konst.is_some());
                    format!("{}:{} konst={konst}", n.op().name(), n.name)
                })
                .collect();
            println!("{} {} <- {inputs:?}", node.op().name(), node.name);
        }
    }
    if std::env::var("TRACT_ONLY").is_err() {
        let n = embedding::kernels::fuse_layer_norms(&mut typed)?;
        println!("{n} layer norms fused");
        if std::env::var("NO_ATTENTION").is_err() {
            let n = embedding::kernels::fuse_attention(&mut typed)?;
            println!("{n} attentions fused");
        }
        if std::env::var("TRACT_MATMUL").is_err() {
            let n = embedding::linear::fuse_linears(&mut typed)?;
            println!("{n} projections fused");
        }
    }
    // CONCRETE=1: optimise for this shape; CONCRETE=sequence: for this length, any batch
    if let Ok(which) = std::env::var("CONCRETE") {
        let mut values = HashMap::new();
        values.insert(typed.symbols.sym("sequence"), TDim::from(len));
        if which != "sequence" {
            values.insert(typed.symbols.sym("batch"), TDim::from(batch));
        }
        typed = typed.set_symbols(&values)?;
    }
    let mut optimized = typed.into_optimized()?;
    if std::env::var("TRACT_ONLY").is_err() {
        let n = embedding::kernels::replace_slow_ops(&mut optimized)?;
        println!("{n} nodes replaced by our kernels");
        let n = embedding::linear::fuse_epilogues(&mut optimized)?;
        println!("{n} GELUs and residual adds folded into projections");
    }
    if let Ok(pat) = std::env::var("DUMP") {
        for node in optimized.nodes() {
            if node.name.contains(pat.as_str()) {
                let facts: Vec<String> =
                    optimized.node_input_facts(node.id)?.iter().map(|f| format!("{f:?}")).collect();
                println!("{} {} {facts:?}", node.op().name(), node.name);
            }
        }
    }
    let plan = optimized.into_runnable()?;
    let ids: Vec<i64> = (0..batch * len).map(|i| 1000 + (i % 5000) as i64).collect();
    let tensor = |v: &[i64]| Tensor::from_shape(&[batch, len], v).map(IntoTValue::into_tvalue);

    let mut totals: HashMap<String, (f64, usize)> = HashMap::new();
    let mut best = f64::MAX;
    for rep in 0..=reps {
        let mut state = SimpleState::new(&plan)?;
        let inputs = tvec!(tensor(&ids)?, tensor(&vec![1; batch * len])?, tensor(&vec![0; batch * len])?);
        let start = Instant::now();
        state.run_plan_with_eval(inputs, |ctx, st, node, input| {
            let key = if by_node {
                let shapes: Vec<&[usize]> = input.iter().map(|i| i.shape()).collect();
                format!("{} {} {shapes:?}", node.op().name(), node.name)
            } else {
                node.op().name().to_string()
            };
            let t0 = Instant::now();
            let out = eval(ctx, st, node, input);
            if rep > 0 {
                let e = totals.entry(key).or_default();
                e.0 += t0.elapsed().as_secs_f64() * 1e3;
                e.1 += 1;
            }
            out
        })?;
        if rep > 0 {
            best = best.min(start.elapsed().as_secs_f64() * 1e3);
        }
    }
    println!("best of {reps}: {best:.1} ms");
    let mut rows: Vec<_> = totals.into_iter().collect();
    rows.sort_by(|a, b| b.1.0.total_cmp(&a.1.0));
    for (name, (ms, n)) in rows.iter().take(if by_node { usize::MAX } else { 25 }) {
        println!("{:>9.2} ms/run {:>5} nodes  {name}", ms / reps as f64, n / reps);
    }
    Ok(())
}
