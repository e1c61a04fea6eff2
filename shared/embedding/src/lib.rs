//! Sentence embeddings with all-MiniLM-L6-v2 on tract-onnx: WordPiece
//! tokenisation from the model's own `tokenizer.json`, the ONNX graph's mean
//! pooling and L2 normalisation, 384 dimensions. The model directory is made
//! by `infra/scripts/setup_model.sh`; load it once per process.

pub mod kernels;
pub mod linear;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use tokenizers::{Encoding, Tokenizer, TruncationParams};
use tract_linalg::multithread::{Executor, multithread_tract_scope};
use tract_onnx::prelude::*;

/// Dimensions of every embedding.
pub const DIMENSIONS: usize = 384;
/// Tokens per input by default, special tokens included (sentence-transformers' `max_seq_length`).
pub const MAX_TOKENS: usize = 256;
/// Longest input the model accepts (its position table).
pub const MODEL_MAX_TOKENS: usize = 512;
/// Tokens (batch × padded length) per model call: inputs are sorted by length
/// and grouped up to this, so short texts are not padded to a long one's
/// length. Larger calls are slower per input (measured single-threaded, ms per
/// input: 512 tokens 240 at 1-2 per call, 303 at 8; 256 tokens 90 at 4-8,
/// 104 at 16; 16 tokens 5.0 at 16-32, 5.9 at 128).
const TOKENS_PER_CALL: usize = 2048;
/// Inputs per model call at most.
const MAX_BATCH: usize = 32;

/// Why the model could not be loaded or run.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    #[error("model directory {dir}: {reason}")]
    Model { dir: PathBuf, reason: String },
    #[error("tokenizer: {0}")]
    Tokenizer(String),
    #[error("inference: {0}")]
    Inference(String),
}

/// Plans optimised for one (batch, length) kept at most, by default. Each
/// holds its own packed weights (about 45 MB, `examples/plan_cost.rs`).
pub const SPECIALISED_PLANS: usize = 4;
/// Calls with one shape before a plan is optimised for it: a shape seen once
/// is not worth the 25-70 ms an optimisation takes.
const SPECIALISE_AFTER: u32 = 2;

/// all-MiniLM-L6-v2, loaded and optimised once.
pub struct Embedder {
    /// The plan for any shape (symbolic batch and sequence length).
    model: Arc<TypedRunnableModel>,
    /// The graph with our kernels in, before optimisation, to specialise.
    graph: Arc<TypedModel>,
    /// The batch and sequence symbols of `graph`'s inputs.
    dims: Option<(Symbol, Symbol)>,
    plans: Mutex<PlanCache>,
    max_plans: usize,
    tokenizer: Tokenizer,
    /// The same tokenizer with no truncation and no padding, for counting and chunking.
    plain: Tokenizer,
    max_tokens: usize,
    version: String,
    executor: Executor,
    threads: usize,
    kernels: OwnKernels,
}

/// How many nodes of the optimised graph run our own kernels ([`kernels`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OwnKernels {
    /// Layer normalisations fused from their nine ONNX nodes (13 in MiniLM).
    pub layer_norms: usize,
    /// Attentions (both products and the softmax of every head) fused (6).
    pub attentions: usize,
    /// Projections (`x·W + b`) run by [`linear::Linear`] (36).
    pub linears: usize,
    /// f32 adds (and any softmax outside an attention) taken off tract's generic paths.
    pub adds_and_softmaxes: usize,
    /// GELUs (6) and residual adds (12) done by the projection before them.
    pub epilogues: usize,
}

/// Plans optimised for one shape, for the shapes the embedder is called with
/// again and again (the embed function's full batches of 256-token chunks, a
/// benchmark's batches): tract picks one kernel per product, fuses the bias
/// and residual adds into it, and runs 5-10 % faster than on the symbolic plan.
#[derive(Default)]
struct PlanCache {
    plans: Vec<((usize, usize), Arc<TypedRunnableModel>)>,
    /// Calls per shape, halved every 1,024 calls.
    seen: HashMap<(usize, usize), u32>,
    calls: u64,
}

impl std::fmt::Debug for Embedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Embedder").field("version", &self.version).finish_non_exhaustive()
    }
}

impl Embedder {
    /// Loads `dir/model.onnx` and `dir/tokenizer.json` (see `infra/scripts/setup_model.sh`).
    pub fn load(dir: &Path) -> Result<Self, EmbedError> {
        let fail = |reason: String| EmbedError::Model { dir: dir.to_path_buf(), reason };
        let manifest_bytes = std::fs::read(dir.join("manifest.json"))
            .map_err(|e| fail(format!("manifest.json: {e} (run infra/scripts/setup_model.sh)")))?;
        let manifest: serde_json::Value =
            serde_json::from_slice(&manifest_bytes).map_err(|e| fail(format!("manifest.json: {e}")))?;
        let model_sha = manifest
            .pointer("/files/model.onnx/sha256")
            .or_else(|| manifest.pointer("/outputs/model.onnx/sha256"))
            .and_then(|v| v.as_str())
            .unwrap_or("unknown");
        let version = format!("all-MiniLM-L6-v2@{}", &model_sha[..model_sha.len().min(12)]);

        let mut tokenizer =
            Tokenizer::from_file(dir.join("tokenizer.json")).map_err(|e| fail(format!("tokenizer.json: {e}")))?;
        let mut plain = tokenizer.clone();
        plain.with_truncation(None).map_err(|e| EmbedError::Tokenizer(e.to_string()))?;
        plain.with_padding(None);
        tokenizer
            .with_truncation(Some(TruncationParams { max_length: MAX_TOKENS, ..Default::default() }))
            .map_err(|e| EmbedError::Tokenizer(e.to_string()))?;
        // Padding is done per length group in `embed`, not by the tokenizer.
        tokenizer.with_padding(None);

        let model = tract_onnx::onnx()
            .model_for_path(dir.join("model.onnx"))
            .and_then(|mut m| {
                // Keep only the pooled, normalised output (the second one).
                let pooled = match m.find_outlet_label("sentence_embedding") {
                    Some(outlet) => outlet,
                    None => {
                        *m.output_outlets()?.get(1).ok_or_else(|| TractError::msg("no sentence_embedding output"))?
                    }
                };
                m.select_output_outlets(&[pooled])?;
                let mut graph = m.into_typed()?;
                let layer_norms = kernels::fuse_layer_norms(&mut graph)?;
                let attentions = kernels::fuse_attention(&mut graph)?;
                let linears = if std::env::var_os("PERSONALIZATION_TRACT_MATMUL").is_some() {
                    0
                } else {
                    linear::fuse_linears(&mut graph)?
                };
                let (model, (adds_and_softmaxes, epilogues)) = optimise(graph.clone())?;
                Ok((model, graph, OwnKernels { layer_norms, attentions, linears, adds_and_softmaxes, epilogues }))
            })
            .map_err(|e| fail(format!("model.onnx: {e}")))?;
        let (model, graph, kernels) = model;
        let dims = graph.input_fact(0).ok().and_then(|fact| match fact.shape.dims() {
            [TDim::Sym(batch), TDim::Sym(sequence)] => Some((batch.clone(), sequence.clone())),
            _ => None,
        });
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(8);
        Ok(Self {
            model,
            graph: Arc::new(graph),
            dims,
            plans: Mutex::new(PlanCache::default()),
            max_plans: SPECIALISED_PLANS,
            tokenizer,
            plain,
            max_tokens: MAX_TOKENS,
            version,
            executor: executor(threads),
            threads,
            kernels,
        })
    }

    /// Truncates inputs at `max_tokens` (at most [`MODEL_MAX_TOKENS`]) instead of [`MAX_TOKENS`].
    pub fn with_max_tokens(mut self, max_tokens: usize) -> Result<Self, EmbedError> {
        let max_length = max_tokens.clamp(2, MODEL_MAX_TOKENS);
        self.tokenizer
            .with_truncation(Some(TruncationParams { max_length, ..Default::default() }))
            .map_err(|e| EmbedError::Tokenizer(e.to_string()))?;
        self.max_tokens = max_length;
        Ok(self)
    }

    /// Runs the model on `threads` threads (default: the machine's cores, at most 8).
    pub fn with_threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self.executor = executor(self.threads);
        self
    }

    /// Keeps at most `plans` plans optimised for one shape (0: none, the
    /// symbolic plan only).
    pub fn with_specialised_plans(mut self, plans: usize) -> Self {
        self.max_plans = plans;
        self.plans = Mutex::new(PlanCache::default());
        self
    }

    /// The plans optimised for one shape held now.
    pub fn specialised_plans(&self) -> usize {
        self.plans.lock().map_or(0, |cache| cache.plans.len())
    }

    /// The plan for `batch` inputs of `length` tokens: one optimised for that
    /// shape if the shape is among the most asked for, the symbolic one
    /// otherwise or if specialising fails. A shape gets a plan from its
    /// second call while there is room; when there is none, only by being
    /// asked for twice as often as the least asked-for shape with a plan
    /// (counts halve every 1,024 calls), so that a mix of more shapes than
    /// plans keeps its plans instead of optimising one at every call.
    fn plan(&self, batch: usize, length: usize) -> Arc<TypedRunnableModel> {
        let Some((batch_dim, length_dim)) = &self.dims else { return self.model.clone() };
        if self.max_plans == 0 {
            return self.model.clone();
        }
        let Ok(mut cache) = self.plans.lock() else { return self.model.clone() };
        let key = (batch, length);
        cache.calls += 1;
        if cache.calls % 1024 == 0 {
            cache.seen.retain(|_, n| {
                *n /= 2;
                *n > 0
            });
        }
        let count = {
            let n = cache.seen.entry(key).or_default();
            *n += 1;
            *n
        };
        if let Some((_, plan)) = cache.plans.iter().find(|(k, _)| *k == key) {
            return plan.clone();
        }
        if count < SPECIALISE_AFTER {
            return self.model.clone();
        }
        let victim = if cache.plans.len() < self.max_plans {
            None
        } else {
            let seen = &cache.seen;
            let (at, least) = cache
                .plans
                .iter()
                .enumerate()
                .map(|(at, (k, _))| (at, seen.get(k).copied().unwrap_or(0)))
                .min_by_key(|&(_, n)| n)
                .unwrap_or((0, 0));
            if count < 2 * least.max(1) {
                return self.model.clone();
            }
            Some(at)
        };
        let values = HashMap::from([(batch_dim.clone(), TDim::from(batch)), (length_dim.clone(), TDim::from(length))]);
        match self.graph.set_symbols(&values).and_then(optimise) {
            Ok((plan, _)) => {
                if let Some(at) = victim {
                    cache.plans.swap_remove(at);
                }
                cache.plans.push((key, plan.clone()));
                plan
            }
            Err(e) => {
                tracing::warn!(batch, length, error = %e, "embedding: no plan for this shape; the symbolic one runs");
                cache.seen.remove(&key);
                self.model.clone()
            }
        }
    }

    /// The nodes that run our kernels instead of tract's.
    pub fn own_kernels(&self) -> OwnKernels {
        self.kernels
    }

    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Tokens an input may have before truncation, special tokens included.
    pub fn max_tokens(&self) -> usize {
        self.max_tokens
    }

    /// Byte spans of the tokens of `text` in `text`, special tokens excluded.
    pub fn token_spans(&self, text: &str) -> Result<Vec<(usize, usize)>, EmbedError> {
        let encoding = self.plain.encode(text, false).map_err(|e| EmbedError::Tokenizer(e.to_string()))?;
        Ok(encoding.get_offsets().to_vec())
    }

    /// Model name and weights version, for cache keys and stored vectors.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Tokens `text` takes, special tokens included, before truncation.
    pub fn count_tokens(&self, text: &str) -> Result<usize, EmbedError> {
        let encoding = self.plain.encode(text, true).map_err(|e| EmbedError::Tokenizer(e.to_string()))?;
        Ok(encoding.len())
    }

    /// One unit-length 384-d vector per text, in order. Texts longer than the
    /// token limit ([`MAX_TOKENS`] unless changed) are truncated, as
    /// sentence-transformers does. Inputs are grouped by length so that
    /// padding stays small.
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let encodings =
            self.tokenizer.encode_batch(texts.to_vec(), true).map_err(|e| EmbedError::Tokenizer(e.to_string()))?;
        let mut order: Vec<usize> = (0..encodings.len()).collect();
        order.sort_by_key(|&i| encodings[i].len());
        let mut vectors: Vec<Vec<f32>> = vec![Vec::new(); encodings.len()];
        let mut start = 0;
        while start < order.len() {
            // Sorted ascending, so the group's last input is its longest.
            let mut end = start + 1;
            while end < order.len()
                && end - start < MAX_BATCH
                && (end - start + 1) * encodings[order[end]].len() <= TOKENS_PER_CALL
            {
                end += 1;
            }
            let group: Vec<&Encoding> = order[start..end].iter().map(|&i| &encodings[i]).collect();
            for (&i, vector) in order[start..end].iter().zip(self.run_group(&group)?) {
                vectors[i] = vector;
            }
            start = end;
        }
        Ok(vectors)
    }

    /// Several inputs: one single-threaded call per thread on a share of them
    /// (measured: two threads on halves of a batch run 1.7-1.9 times as fast as
    /// one, while tract's multithreaded matrix products reach 1.2-1.5). One
    /// input: one call whose matrix products use every thread.
    fn run_group(&self, group: &[&Encoding]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let parts = self.threads.min(group.len());
        if parts <= 1 {
            return self.run(group, &self.executor);
        }
        let share = group.len().div_ceil(parts);
        std::thread::scope(|scope| {
            let handles: Vec<_> =
                group.chunks(share).map(|part| scope.spawn(move || self.run(part, &Executor::SingleThread))).collect();
            let mut out = Vec::with_capacity(group.len());
            for handle in handles {
                let vectors =
                    handle.join().map_err(|_| EmbedError::Inference("an embedding thread panicked".into()))??;
                out.extend(vectors);
            }
            Ok(out)
        })
    }

    /// One model call on inputs padded to the longest of them.
    fn run(&self, encodings: &[&Encoding], executor: &Executor) -> Result<Vec<Vec<f32>>, EmbedError> {
        let batch = encodings.len();
        let length = encodings.iter().map(|e| e.len()).max().unwrap_or(0).max(1);
        let mut ids = Vec::with_capacity(batch * length);
        let mut mask = Vec::with_capacity(batch * length);
        for encoding in encodings {
            ids.extend(encoding.get_ids().iter().map(|&i| i64::from(i)));
            mask.extend(encoding.get_attention_mask().iter().map(|&m| i64::from(m)));
            for _ in encoding.len()..length {
                ids.push(0);
                mask.push(0);
            }
        }
        let shape = [batch, length];
        let tensor = |data: Vec<i64>| -> Result<Tensor, EmbedError> {
            Tensor::from_shape(&shape, &data).map_err(|e| EmbedError::Inference(e.to_string()))
        };
        let inputs = tvec!(tensor(ids)?.into(), tensor(mask)?.into(), tensor(vec![0i64; batch * length])?.into());
        let plan = self.plan(batch, length);
        let outputs = multithread_tract_scope(executor.clone(), || plan.run(inputs))
            .map_err(|e| EmbedError::Inference(e.to_string()))?;
        let view = outputs[0].to_plain_array_view::<f32>().map_err(|e| EmbedError::Inference(e.to_string()))?;
        if view.shape() != [batch, DIMENSIONS] {
            return Err(EmbedError::Inference(format!("unexpected output shape {:?}", view.shape())));
        }
        Ok(view.outer_iter().map(|row| row.iter().copied().collect()).collect())
    }
}

/// Optimises `graph`, swaps in our element-wise kernels and folds GELUs and
/// residual adds into the projections; the numbers swapped and folded.
fn optimise(graph: TypedModel) -> TractResult<(Arc<TypedRunnableModel>, (usize, usize))> {
    let mut model = graph.into_optimized()?;
    let replaced = kernels::replace_slow_ops(&mut model)?;
    let folded = linear::fuse_epilogues(&mut model)?;
    Ok((model.into_runnable()?, (replaced, folded)))
}

fn executor(threads: usize) -> Executor {
    if threads <= 1 { Executor::SingleThread } else { Executor::multithread_with_name(threads, "embedding") }
}

impl ports::TextEmbedder for Embedder {
    fn model_version(&self) -> &str {
        &self.version
    }

    fn max_tokens(&self) -> usize {
        self.max_tokens
    }

    fn token_spans(&self, text: &str) -> Result<Vec<(usize, usize)>, ports::EmbedderError> {
        Embedder::token_spans(self, text).map_err(|e| ports::EmbedderError::Failed(e.to_string()))
    }

    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, ports::EmbedderError> {
        Embedder::embed(self, texts).map_err(|e| ports::EmbedderError::Failed(e.to_string()))
    }
}
