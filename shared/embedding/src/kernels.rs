//! Ops of our own in tract's MiniLM graph, where tract is slow on a CPU with
//! AVX and FMA but no AVX2 (its fast exp and softmax kernels need AVX2) and
//! with symbolic batch and sequence dims:
//! - before optimisation, [`fuse_layer_norms`] puts one [`LayerNorm`] in
//!   place of each nine-node layer norm the exporter writes, and
//!   [`fuse_attention`] one [`Attention`] in place of each attention (two
//!   batched products with a softmax between, which tract runs at about a
//!   third of its speed on the projections);
//! - after optimisation, [`replace_slow_ops`] puts [`FastAdd`] in place of the
//!   f32 adds (tract only takes its vectorised binary paths when it can prove
//!   a tensor holds at least 32 elements, which it cannot for `batch ×
//!   sequence × 384`, and its generic broadcasting add costs 5-13 ns per
//!   element) and [`LastAxisSoftmax`] in place of any softmax left.
//!
//! The element-wise ops compute in place in their first input when the plan
//! holds it alone. The loops are compiled a second time for AVX + FMA (or
//! written with its intrinsics) and picked at run time, with portable
//! fallbacks.

use tract_onnx::prelude::*;
use tract_onnx::tract_core::internal::*;
use tract_onnx::tract_core::ops::binary::TypedBinOp;
use tract_onnx::tract_core::ops::math::Add;
use tract_onnx::tract_core::ops::nn::{Softmax, SoftmaxKind};
use tract_onnx::tract_core::{args_2, as_op, op_as_typed_op, op_out_of_plan};

/// `a + b` for f32 tensors where `b` has `a`'s shape, or `a`'s shape with the
/// axis `broadcast` of length 1.
#[derive(Debug, Clone, Hash, PartialEq, Eq)]
pub struct FastAdd {
    broadcast: Option<usize>,
}

impl FastAdd {
    /// Adds two tensors of one shape (no broadcast).
    pub fn is_plain(&self) -> bool {
        self.broadcast.is_none()
    }
}

impl Op for FastAdd {
    fn name(&self) -> StaticName {
        "FastAdd".into()
    }
    op_as_typed_op!();
}

impl EvalOp for FastAdd {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let (a, b) = args_2!(inputs);
        let mut out = a.into_tensor();
        let shape: TVec<usize> = out.shape().into();
        let b_ram = b.try_as_plain_ram()?;
        let b = b_ram.as_slice::<f32>()?;
        {
            let mut out_ram = out.try_as_plain_ram_mut()?;
            let a = out_ram.as_slice_mut::<f32>()?;
            match self.broadcast {
                None => {
                    ensure!(a.len() == b.len(), "FastAdd: {} and {} elements", a.len(), b.len());
                    add_into(a, b);
                }
                Some(axis) => {
                    let mid = shape[axis];
                    let inner: usize = shape[axis + 1..].iter().product();
                    let outer: usize = shape[..axis].iter().product();
                    ensure!(
                        b.len() == outer * inner,
                        "FastAdd: {} elements to broadcast, {} expected",
                        b.len(),
                        outer * inner
                    );
                    if inner > 0 && mid > 0 {
                        for (block, b_row) in a.chunks_exact_mut(mid * inner).zip(b.chunks_exact(inner)) {
                            for row in block.chunks_exact_mut(inner) {
                                add_into(row, b_row);
                            }
                        }
                    }
                }
            }
        }
        Ok(tvec!(out.into_tvalue()))
    }
}

impl TypedOp for FastAdd {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        ensure!(inputs.len() == 2 && inputs.iter().all(|f| f.datum_type == f32::datum_type()));
        Ok(tvec!(f32::fact(inputs[0].shape.clone())))
    }
    as_op!();
}

fn add_into(a: &mut [f32], b: &[f32]) {
    for (x, y) in a.iter_mut().zip(b) {
        *x += *y;
    }
}

/// Softmax over the last axis of an f32 tensor.
#[derive(Debug, Clone, Hash, PartialEq, Eq)]
pub struct LastAxisSoftmax;

impl Op for LastAxisSoftmax {
    fn name(&self) -> StaticName {
        "LastAxisSoftmax".into()
    }
    op_as_typed_op!();
}

impl EvalOp for LastAxisSoftmax {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let input = inputs.into_iter().next().ok_or_else(|| format_err!("LastAxisSoftmax takes one input"))?;
        let mut out = input.into_tensor();
        let row = out.shape().last().copied().unwrap_or(1);
        {
            let mut ram = out.try_as_plain_ram_mut()?;
            softmax_rows(ram.as_slice_mut::<f32>()?, row);
        }
        Ok(tvec!(out.into_tvalue()))
    }
}

impl TypedOp for LastAxisSoftmax {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        ensure!(inputs.len() == 1 && inputs[0].datum_type == f32::datum_type());
        Ok(tvec!(f32::fact(inputs[0].shape.clone())))
    }
    as_op!();
}

/// Softmax of each `row`-long run of `data`, in place.
pub fn softmax_rows(data: &mut [f32], row: usize) {
    if row == 0 {
        return;
    }
    let mut scales = vec![0f32; data.len() / row];
    exp_rows(data, row, &mut scales);
    for (r, &scale) in data.chunks_exact_mut(row).zip(&scales) {
        for x in r {
            *x *= scale;
        }
    }
}

/// The unnormalised softmax of each `row`-long run of `data`, in place:
/// `e^(x - max)` of each, and `1 / Σ` of each run into `scales`, so that a
/// caller may scale fewer numbers than the run (attention scales its 32
/// outputs, not its 512 probabilities).
pub fn exp_rows(data: &mut [f32], row: usize, scales: &mut [f32]) {
    if row == 0 {
        return;
    }
    assert!(scales.len() >= data.len() / row, "exp_rows: {} scales for {} rows", scales.len(), data.len() / row);
    #[cfg(target_arch = "x86_64")]
    if avx_fma() {
        // SAFETY: the CPU has the features the function is compiled for.
        unsafe { exp_rows_avx(data, row, scales) };
        return;
    }
    exp_rows_portable(data, row, scales);
}

/// The same arithmetic as [`exp_rows_portable`], eight lanes at a time
/// with AVX and FMA (no AVX2: 2^k is made with float operations and one
/// conversion, which AVX has).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx,fma")]
unsafe fn exp_rows_avx(data: &mut [f32], row: usize, scales: &mut [f32]) {
    use std::arch::x86_64::*;
    let body = row - row % 8;
    for (r, scale) in data.chunks_exact_mut(row).zip(scales.iter_mut()) {
        let (head, tail) = r.split_at_mut(body);
        let p = head.as_mut_ptr();
        // SAFETY (all loads and stores): i + 8 <= body = head.len().
        let mut vmax = _mm256_set1_ps(f32::NEG_INFINITY);
        for i in (0..body).step_by(8) {
            vmax = _mm256_max_ps(vmax, unsafe { _mm256_loadu_ps(p.add(i)) });
        }
        let mut lanes = [0f32; 8];
        unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), vmax) };
        let max = lanes.iter().chain(tail.iter()).fold(f32::NEG_INFINITY, |m, &x| if x > m { x } else { m });
        let max = if max.is_finite() { max } else { 0.0 };
        let vm = _mm256_set1_ps(max);
        let mut vsum = _mm256_setzero_ps();
        for i in (0..body).step_by(8) {
            let e = exp8(_mm256_sub_ps(unsafe { _mm256_loadu_ps(p.add(i)) }, vm));
            vsum = _mm256_add_ps(vsum, e);
            unsafe { _mm256_storeu_ps(p.add(i), e) };
        }
        unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), vsum) };
        let mut sum: f32 = lanes.iter().sum();
        for x in tail.iter_mut() {
            *x = exp_nonpositive(*x - max);
            sum += *x;
        }
        *scale = 1.0 / sum;
    }
}

/// [`exp_nonpositive`] on eight lanes.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx,fma")]
#[inline]
fn exp8(x: std::arch::x86_64::__m256) -> std::arch::x86_64::__m256 {
    use std::arch::x86_64::*;
    // min and max answer their second operand when one is NaN: NaN becomes -87, as in the scalar form
    let c = _mm256_max_ps(_mm256_min_ps(_mm256_setzero_ps(), x), _mm256_set1_ps(-87.0));
    let k = _mm256_round_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(_mm256_mul_ps(
        c,
        _mm256_set1_ps(std::f32::consts::LOG2_E),
    ));
    let r = _mm256_fnmadd_ps(k, _mm256_set1_ps(LN2_HI), c);
    let r = _mm256_fnmadd_ps(k, _mm256_set1_ps(LN2_LO), r);
    let mut p = _mm256_set1_ps(1.0 / 720.0);
    for coefficient in [1.0 / 120.0, 1.0 / 24.0, 1.0 / 6.0, 0.5, 1.0, 1.0] {
        p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(coefficient));
    }
    // (k + 127) · 2^23 is exact in f32 and, as an integer, the bits of 2^k
    let bits = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_add_ps(k, _mm256_set1_ps(127.0)), _mm256_set1_ps(8_388_608.0)));
    let y = _mm256_mul_ps(p, _mm256_castsi256_ps(bits));
    _mm256_andnot_ps(_mm256_cmp_ps::<_CMP_LT_OQ>(x, _mm256_set1_ps(-87.0)), y)
}

/// erf by Abramowitz and Stegun's 7.1.26 (absolute error under 1.5e-7, and
/// f32 rounding: under 5e-7 measured):
/// `1 - t·(a1 + t·(a2 + … + t·a5))·e^(-x²)`, `t = 1/(1 + p|x|)`, odd in `x`.
const ERF_P: f32 = 0.327_591_1;
const ERF_A: [f32; 5] = [0.254_829_6, -0.284_496_74, 1.421_413_8, -1.453_152, 1.061_405_4];

pub(crate) fn erf_scalar(x: f32) -> f32 {
    let a = x.abs();
    let t = 1.0 / (1.0 + ERF_P * a);
    let poly = ERF_A.iter().rev().fold(0.0, |acc, &c| acc * t + c) * t;
    let y = 1.0 - poly * exp_nonpositive(-a * a);
    y.copysign(x)
}

/// GELU (x/2 · (1 + erf(x/√2))) on eight lanes, erf as in [`erf_scalar`].
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx,fma")]
#[inline]
pub(crate) fn gelu8(x: std::arch::x86_64::__m256) -> std::arch::x86_64::__m256 {
    use std::arch::x86_64::*;
    let z = _mm256_mul_ps(x, _mm256_set1_ps(std::f32::consts::FRAC_1_SQRT_2));
    let sign = _mm256_set1_ps(-0.0);
    let a = _mm256_andnot_ps(sign, z);
    let t = _mm256_div_ps(_mm256_set1_ps(1.0), _mm256_fmadd_ps(_mm256_set1_ps(ERF_P), a, _mm256_set1_ps(1.0)));
    let mut poly = _mm256_set1_ps(ERF_A[4]);
    for &c in ERF_A[..4].iter().rev() {
        poly = _mm256_fmadd_ps(poly, t, _mm256_set1_ps(c));
    }
    poly = _mm256_mul_ps(poly, t);
    let e = exp8(_mm256_sub_ps(_mm256_setzero_ps(), _mm256_mul_ps(a, a)));
    let erf_abs = _mm256_fnmadd_ps(poly, e, _mm256_set1_ps(1.0));
    let erf = _mm256_or_ps(erf_abs, _mm256_and_ps(sign, z));
    let half_x = _mm256_mul_ps(x, _mm256_set1_ps(0.5));
    _mm256_fmadd_ps(half_x, erf, half_x)
}

#[inline(always)]
fn exp_rows_portable(data: &mut [f32], row: usize, scales: &mut [f32]) {
    for (r, scale) in data.chunks_exact_mut(row).zip(scales.iter_mut()) {
        let max = lanes_max(r);
        let max = if max.is_finite() { max } else { 0.0 };
        for x in r.iter_mut() {
            *x = exp_nonpositive(*x - max);
        }
        *scale = 1.0 / lanes_sum(r);
    }
}

/// Reductions over eight independent lanes, so that the compiler may
/// vectorise them (a single running value fixes the order of operations).
const LANES: usize = 8;

#[inline(always)]
fn lanes_max(r: &[f32]) -> f32 {
    let mut acc = [f32::NEG_INFINITY; LANES];
    let mut chunks = r.chunks_exact(LANES);
    for c in &mut chunks {
        for (a, &x) in acc.iter_mut().zip(c) {
            *a = if x > *a { x } else { *a };
        }
    }
    let tail = chunks.remainder().iter().fold(f32::NEG_INFINITY, |m, &x| if x > m { x } else { m });
    acc.iter().fold(tail, |m, &x| if x > m { x } else { m })
}

#[inline(always)]
fn lanes_sum(r: &[f32]) -> f32 {
    let mut acc = [0.0f32; LANES];
    let mut chunks = r.chunks_exact(LANES);
    for c in &mut chunks {
        for (a, &x) in acc.iter_mut().zip(c) {
            *a += x;
        }
    }
    chunks.remainder().iter().sum::<f32>() + acc.iter().sum::<f32>()
}

/// ln 2 in two parts, the first with trailing zero bits, so that k · LN2_HI is exact.
const LN2_HI: f32 = 0.693_145_75;
const LN2_LO: f32 = 1.428_606_8e-6;

/// e^x for x ≤ 0 (the row maximum subtracted), relative error about 1e-7:
/// x = k ln 2 + r with |r| ≤ ln 2 / 2, e^r by its Taylor series to the 6th
/// power, 2^k put into the exponent bits. Below -87 the answer is 0 (it is
/// under 1e-38, and a softmax sum is at least 1).
#[inline(always)]
fn exp_nonpositive(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    // 1.5 × 2^23: adding and subtracting it rounds to the nearest integer.
    const ROUND: f32 = 12_582_912.0;
    // also maps NaN to -87 and anything positive to 0, so k stays in [-126, 0]
    let clamped = if x > -87.0 { if x < 0.0 { x } else { 0.0 } } else { -87.0 };
    let k = (clamped * LOG2E + ROUND) - ROUND;
    let r = (clamped - k * LN2_HI) - k * LN2_LO;
    let p = 1.0 + r * (1.0 + r * (0.5 + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0))))));
    let scale = f32::from_bits(((k as i32 + 127) as u32) << 23);
    if x < -87.0 { 0.0 } else { p * scale }
}

/// Layer normalisation over the last axis, with its scale and shift.
#[derive(Debug, Clone, Hash, PartialEq, Eq)]
pub struct LayerNorm {
    gamma: Arc<Tensor>,
    beta: Arc<Tensor>,
    /// f32 bits, so that the op can be hashed
    epsilon: u32,
}

impl Op for LayerNorm {
    fn name(&self) -> StaticName {
        "LayerNorm".into()
    }
    op_as_typed_op!();
}

impl EvalOp for LayerNorm {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let input = inputs.into_iter().next().ok_or_else(|| format_err!("LayerNorm takes one input"))?;
        let mut out = input.into_tensor();
        let gamma_ram = self.gamma.try_as_plain_ram()?;
        let beta_ram = self.beta.try_as_plain_ram()?;
        let (gamma, beta) = (gamma_ram.as_slice::<f32>()?, beta_ram.as_slice::<f32>()?);
        ensure!(
            out.shape().last() == Some(&gamma.len()),
            "LayerNorm: input {:?}, {} weights",
            out.shape(),
            gamma.len()
        );
        {
            let mut ram = out.try_as_plain_ram_mut()?;
            layer_norm_rows(ram.as_slice_mut::<f32>()?, gamma, beta, f32::from_bits(self.epsilon));
        }
        Ok(tvec!(out.into_tvalue()))
    }
}

impl TypedOp for LayerNorm {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        ensure!(inputs.len() == 1 && inputs[0].datum_type == f32::datum_type());
        Ok(tvec!(f32::fact(inputs[0].shape.clone())))
    }
    as_op!();
}

/// Normalises each `gamma.len()`-long row of `data` in place.
pub fn layer_norm_rows(data: &mut [f32], gamma: &[f32], beta: &[f32], epsilon: f32) {
    #[cfg(target_arch = "x86_64")]
    if avx_fma() {
        // SAFETY: the CPU has the features the function is compiled for.
        unsafe { layer_norm_rows_avx(data, gamma, beta, epsilon) };
        return;
    }
    layer_norm_rows_portable(data, gamma, beta, epsilon);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx,fma")]
unsafe fn layer_norm_rows_avx(data: &mut [f32], gamma: &[f32], beta: &[f32], epsilon: f32) {
    layer_norm_rows_portable(data, gamma, beta, epsilon);
}

#[inline(always)]
fn layer_norm_rows_portable(data: &mut [f32], gamma: &[f32], beta: &[f32], epsilon: f32) {
    let n = gamma.len();
    if n == 0 {
        return;
    }
    for row in data.chunks_exact_mut(n) {
        let mean = lanes_sum(row) / n as f32;
        for x in row.iter_mut() {
            *x -= mean;
        }
        let mut acc = [0.0f32; LANES];
        let mut chunks = row.chunks_exact(LANES);
        for c in &mut chunks {
            for (a, &x) in acc.iter_mut().zip(c) {
                *a += x * x;
            }
        }
        let squares = chunks.remainder().iter().map(|x| x * x).sum::<f32>() + acc.iter().sum::<f32>();
        let inv = 1.0 / (squares / n as f32 + epsilon).sqrt();
        for ((x, g), b) in row.iter_mut().zip(gamma).zip(beta) {
            *x = *x * inv * g + b;
        }
    }
}

/// Replaces, before optimisation, each layer normalisation the exporter
/// (`infra/scripts/export_minilm_onnx.py`) wrote as nine ONNX nodes
/// (`ln_mean` … `ln_gamma` and a last add: mean, centre, square, mean, add ε, square root,
/// divide, scale, shift) by one [`LayerNorm`]. Returns how many it replaced;
/// a chain that does not have exactly that shape is left as it is.
pub fn fuse_layer_norms(model: &mut TypedModel) -> TractResult<usize> {
    // the chain's last node is `ln_out_N`, or `last_hidden_state` for the last one
    rewrite_each(model, |model, node| {
        let Some((x, op)) = layer_norm_chain(model, node) else { return Ok(None) };
        TypedModelPatch::replace_single_op(model, node, &[x], op).map(Some)
    })
}

/// Applies the patch `rewrite` makes for a node, if any, to each node in
/// evaluation order, then drops what no longer leads to an output. Returns
/// how many patches were applied.
pub(crate) fn rewrite_each(
    model: &mut TypedModel,
    rewrite: impl Fn(&TypedModel, &TypedNode) -> TractResult<Option<TypedModelPatch>>,
) -> TractResult<usize> {
    let mut applied = 0;
    for id in model.eval_order()? {
        if let Some(patch) = rewrite(model, model.node(id))? {
            patch.apply(model)?;
            applied += 1;
        }
    }
    model.compact()?;
    Ok(applied)
}

/// The f32 constant at `outlet`, maybe behind the axes added to broadcast it.
pub(crate) fn f32_konst(model: &TypedModel, mut outlet: OutletId) -> Option<Arc<Tensor>> {
    loop {
        if let Some(t) = model.outlet_fact(outlet).ok()?.konst.clone() {
            return (t.datum_type() == f32::datum_type()).then_some(t);
        }
        let producer = model.node(outlet.node);
        producer.op_as::<AxisOp>()?;
        outlet = *producer.inputs.first()?;
    }
}

/// The input and the op of the chain ending at `out`, if `out` ends one.
fn layer_norm_chain(model: &TypedModel, out: &TypedNode) -> Option<(OutletId, LayerNorm)> {
    let is_add = out.op_as::<TypedBinOp>().is_some_and(|op| op.0.is::<Add>());
    if !is_add {
        return None;
    }
    let node = |outlet: OutletId, prefix: &str| {
        let n = model.node(outlet.node);
        n.name.starts_with(prefix).then_some(n)
    };
    let konst = |outlet: OutletId| f32_konst(model, outlet);
    let flat = |t: Arc<Tensor>| -> Option<Arc<Tensor>> {
        let len = t.len();
        Some(t.into_tensor().into_shape(&[len]).ok()?.into_arc_tensor())
    };
    let scaled = node(*out.inputs.first()?, "ln_gamma")?;
    let beta = flat(konst(*out.inputs.get(1)?)?)?;
    let normalised = node(*scaled.inputs.first()?, "ln_norm")?;
    let gamma = flat(konst(*scaled.inputs.get(1)?)?)?;
    let centred = node(*normalised.inputs.first()?, "ln_sub")?;
    let std = node(*normalised.inputs.get(1)?, "ln_std")?;
    let plus_eps = node(*std.inputs.first()?, "ln_veps")?;
    let epsilon = konst(*plus_eps.inputs.get(1)?)?;
    let epsilon = *epsilon.try_as_plain_ram().ok()?.as_slice::<f32>().ok()?.first()?;
    let x = *centred.inputs.first()?;
    // ReduceMean is a sum and a division in tract
    let mean = node(*centred.inputs.get(1)?, "ln_mean")?;
    let mean = node(*mean.inputs.first()?, "ln_mean")?;
    let width = model.outlet_fact(x).ok()?.shape.last()?.to_usize().ok()?;
    (mean.inputs.first() == Some(&x) && gamma.len() == width && beta.len() == width)
        .then(|| (x, LayerNorm { gamma, beta, epsilon: epsilon.to_bits() }))
}

/// Attention of every head at once: `softmax(q·kᵀ)·v` per batch item and
/// head, from `q`, `k` of shape `[batch, sequence, heads, key_dim]` and `v` of
/// `[batch, sequence, heads, value_dim]` to `[batch, sequence, heads,
/// value_dim]`. The scale and the mask are already in `q` and `k` (the
/// exporter folds `1/√32` into the query weights and the mask into a 33rd
/// key column). tract runs this as two batched matrix products with a
/// softmax and packing between them, at about a third of its speed on the
/// projections; here each head is done in one pass with its keys and values
/// in cache, the query rows split between the executor's threads.
#[derive(Debug, Clone, Hash, PartialEq, Eq)]
pub struct Attention;

impl Op for Attention {
    fn name(&self) -> StaticName {
        "Attention".into()
    }
    op_as_typed_op!();
}

impl EvalOp for Attention {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        ensure!(inputs.len() == 3, "Attention takes q, k and v");
        let (q, k, v) = (&inputs[0], &inputs[1], &inputs[2]);
        let &[batch, seq, heads, key_dim] = q.shape() else { bail!("Attention: q is {:?}", q.shape()) };
        let value_dim = *v.shape().last().unwrap_or(&0);
        ensure!(
            k.shape() == q.shape() && v.shape() == [batch, seq, heads, value_dim],
            "Attention: shapes {:?} {:?} {:?}",
            q.shape(),
            k.shape(),
            v.shape()
        );
        let dims = HeadDims { seq, heads, key_dim, value_dim };
        let (q_ram, k_ram, v_ram) = (q.try_as_plain_ram()?, k.try_as_plain_ram()?, v.try_as_plain_ram()?);
        let (q, k, v) = (q_ram.as_slice::<f32>()?, k_ram.as_slice::<f32>()?, v_ram.as_slice::<f32>()?);
        // the threads share the query rows, each doing every head of its rows,
        // which are one contiguous run of the output
        let row = heads * value_dim;
        // SAFETY: as in Linear, every element is written before anything reads
        // it: the shares cover every query row, and each row gets every head's values.
        let mut out = unsafe { Tensor::uninitialized::<f32>(&[batch, seq, heads, value_dim])? };
        if row > 0 && seq > 0 {
            let mut ram = out.try_as_plain_ram_mut()?;
            let out = ram.as_slice_mut::<f32>()?;
            let macs = batch * heads * seq * seq * (key_dim + value_dim);
            crate::linear::split_rows(out, row, batch * seq, 1, macs, |first, chunk| {
                let end = first + chunk.len() / row;
                let mut at = first;
                while at < end {
                    let item = at / seq;
                    let stop = end.min((item + 1) * seq);
                    let rows = &mut chunk[(at - first) * row..(stop - first) * row];
                    for head in 0..heads {
                        attend(q, k, v, dims, item, head, at - item * seq..stop - item * seq, rows);
                    }
                    at = stop;
                }
            });
        }
        Ok(tvec!(out.into_tvalue()))
    }
}

impl TypedOp for Attention {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        ensure!(inputs.len() == 3 && inputs.iter().all(|f| f.datum_type == f32::datum_type() && f.rank() == 4));
        let mut shape = inputs[0].shape.to_tvec();
        shape[3] = inputs[2].shape[3].clone();
        Ok(tvec!(f32::fact(shape)))
    }
    as_op!();
}

#[derive(Debug, Clone, Copy)]
struct HeadDims {
    seq: usize,
    heads: usize,
    key_dim: usize,
    value_dim: usize,
}

/// Queries per block of scores, and the padding of the key axis.
const QUERY_BLOCK: usize = 6;
const KEY_PAD: usize = 16;

/// One head of one item, for the queries in `queries`, into `out`: one row of
/// `heads × value_dim` per query, this head's `value_dim` of them.
#[allow(clippy::too_many_arguments)]
fn attend(
    q: &[f32],
    k: &[f32],
    v: &[f32],
    d: HeadDims,
    item: usize,
    head: usize,
    queries: std::ops::Range<usize>,
    out: &mut [f32],
) {
    let HeadDims { seq, heads, key_dim, value_dim } = d;
    let keys = seq.div_ceil(KEY_PAD) * KEY_PAD;
    // rows of scores a panel longer than the keys: rows 2 KB apart (512 keys)
    // fall in the same few L1 sets, and a block's six rows evicted each other
    let stride = keys + KEY_PAD;
    let count = queries.len();
    let padded = count.div_ceil(QUERY_BLOCK) * QUERY_BLOCK;
    debug_assert!(queries.end <= seq && out.len() == count * heads * value_dim);
    // this head's queries (rows), keys (transposed, in panels of 16 keys: `key_dim`
    // rows of 16 each, read in order) and values (rows)
    let mut qh = vec![0f32; padded * key_dim];
    let mut kt = vec![0f32; key_dim * keys];
    let mut vh = vec![0f32; keys * value_dim];
    let at = |i: usize, width: usize| ((item * seq + i) * heads + head) * width;
    for (i, query) in queries.clone().enumerate() {
        qh[i * key_dim..(i + 1) * key_dim].copy_from_slice(&q[at(query, key_dim)..at(query, key_dim) + key_dim]);
    }
    for i in 0..seq {
        for (c, &x) in k[at(i, key_dim)..at(i, key_dim) + key_dim].iter().enumerate() {
            kt[(i / KEY_PAD * key_dim + c) * KEY_PAD + i % KEY_PAD] = x;
        }
        vh[i * value_dim..(i + 1) * value_dim].copy_from_slice(&v[at(i, value_dim)..at(i, value_dim) + value_dim]);
    }
    let mut scores = vec![0f32; QUERY_BLOCK * stride];
    let mut scales = [0f32; QUERY_BLOCK];
    let mut context = vec![0f32; QUERY_BLOCK * value_dim];
    let avx = avx_fma();
    for block in (0..padded).step_by(QUERY_BLOCK) {
        let qb = &qh[block * key_dim..(block + QUERY_BLOCK) * key_dim];
        #[cfg(target_arch = "x86_64")]
        if avx {
            // SAFETY: the CPU has AVX and FMA; the slice lengths are checked inside.
            unsafe { scores_avx(qb, key_dim, &kt, stride, &mut scores) };
        } else {
            scores_portable(qb, key_dim, &kt, stride, &mut scores);
        }
        #[cfg(not(target_arch = "x86_64"))]
        scores_portable(qb, key_dim, &kt, stride, &mut scores);
        // the padding keys take no part
        for row in scores.chunks_exact_mut(stride) {
            row[seq..].fill(f32::NEG_INFINITY);
        }
        exp_rows(&mut scores, stride, &mut scales);
        #[cfg(target_arch = "x86_64")]
        if avx && value_dim == 32 {
            // SAFETY: as above.
            unsafe { context_avx(&scores, &scales, stride, seq, &vh, &mut context) };
        } else {
            context_portable(&scores, &scales, stride, seq, &vh, value_dim, &mut context);
        }
        #[cfg(not(target_arch = "x86_64"))]
        context_portable(&scores, &scales, stride, seq, &vh, value_dim, &mut context);
        for (r, ctx) in context.chunks_exact(value_dim).take(QUERY_BLOCK.min(count - block)).enumerate() {
            let o = ((block + r) * heads + head) * value_dim;
            out[o..o + value_dim].copy_from_slice(ctx);
        }
    }
}

pub(crate) fn avx_fma() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("avx") && std::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    false
}

/// `scores[r][j] = Σ_c qb[r][c] · k[j][c]` for the block's queries and the keys
/// in `kt`'s panels (16 keys, `key_dim` rows of 16 each), rows of `stride` scores
/// (the panels' keys and more).
fn scores_portable(qb: &[f32], key_dim: usize, kt: &[f32], stride: usize, scores: &mut [f32]) {
    for (r, row) in scores.chunks_exact_mut(stride).enumerate() {
        let q = &qb[r * key_dim..(r + 1) * key_dim];
        for (out, panel) in row.chunks_exact_mut(KEY_PAD).zip(kt.chunks_exact(key_dim * KEY_PAD)) {
            out.fill(0.0);
            for (&x, k) in q.iter().zip(panel.chunks_exact(KEY_PAD)) {
                for (s, &y) in out.iter_mut().zip(k) {
                    *s += x * y;
                }
            }
        }
    }
}

/// `context[r] = scales[r] · Σ_j p[r][j] · v[j]` over the `seq` real keys.
fn context_portable(
    p: &[f32],
    scales: &[f32],
    stride: usize,
    seq: usize,
    vh: &[f32],
    value_dim: usize,
    context: &mut [f32],
) {
    for ((r, out), &scale) in context.chunks_exact_mut(value_dim).enumerate().zip(scales) {
        out.fill(0.0);
        for j in 0..seq {
            let w = p[r * stride + j];
            for (o, &x) in out.iter_mut().zip(&vh[j * value_dim..(j + 1) * value_dim]) {
                *o += w * x;
            }
        }
        for o in out {
            *o *= scale;
        }
    }
}

/// [`scores_portable`]: six queries × sixteen keys in twelve registers.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx,fma")]
unsafe fn scores_avx(qb: &[f32], key_dim: usize, kt: &[f32], stride: usize, scores: &mut [f32]) {
    use std::arch::x86_64::*;
    let panels = kt.len() / (key_dim * KEY_PAD).max(1);
    assert!(KEY_PAD == 16 && panels * KEY_PAD <= stride && qb.len() >= QUERY_BLOCK * key_dim);
    assert!(scores.len() >= QUERY_BLOCK * stride);
    let (q, out) = (qb.as_ptr(), scores.as_mut_ptr());
    for (p, panel) in kt.chunks_exact(key_dim * KEY_PAD).enumerate() {
        let (k, j) = (panel.as_ptr(), p * KEY_PAD);
        let mut acc = [_mm256_setzero_ps(); 2 * QUERY_BLOCK];
        for c in 0..key_dim {
            // SAFETY: c < key_dim rows of 16 in the panel, and QUERY_BLOCK rows of key_dim in qb (asserted).
            unsafe {
                let k0 = _mm256_loadu_ps(k.add(c * KEY_PAD));
                let k1 = _mm256_loadu_ps(k.add(c * KEY_PAD + 8));
                for r in 0..QUERY_BLOCK {
                    let x = _mm256_broadcast_ss(&*q.add(r * key_dim + c));
                    acc[2 * r] = _mm256_fmadd_ps(x, k0, acc[2 * r]);
                    acc[2 * r + 1] = _mm256_fmadd_ps(x, k1, acc[2 * r + 1]);
                }
            }
        }
        for r in 0..QUERY_BLOCK {
            // SAFETY: r < QUERY_BLOCK and j + 16 <= stride.
            unsafe {
                _mm256_storeu_ps(out.add(r * stride + j), acc[2 * r]);
                _mm256_storeu_ps(out.add(r * stride + j + 8), acc[2 * r + 1]);
            }
        }
    }
}

/// [`context_portable`] for 32-wide values: three queries at a time in twelve registers.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx,fma")]
unsafe fn context_avx(
    p: &[f32],
    scales: &[f32; QUERY_BLOCK],
    stride: usize,
    seq: usize,
    vh: &[f32],
    context: &mut [f32],
) {
    use std::arch::x86_64::*;
    assert!(seq <= stride && p.len() >= QUERY_BLOCK * stride && vh.len() >= seq * 32);
    assert!(context.len() >= QUERY_BLOCK * 32);
    let (pp, v, out) = (p.as_ptr(), vh.as_ptr(), context.as_mut_ptr());
    for r in (0..QUERY_BLOCK).step_by(3) {
        let mut acc = [[_mm256_setzero_ps(); 4]; 3];
        for j in 0..seq {
            // SAFETY: j < seq bounds the value rows, r + 2 < QUERY_BLOCK the probabilities.
            unsafe {
                let w = [
                    _mm256_broadcast_ss(&*pp.add(r * stride + j)),
                    _mm256_broadcast_ss(&*pp.add((r + 1) * stride + j)),
                    _mm256_broadcast_ss(&*pp.add((r + 2) * stride + j)),
                ];
                for c in 0..4 {
                    let x = _mm256_loadu_ps(v.add(j * 32 + 8 * c));
                    for (row, &weight) in acc.iter_mut().zip(&w) {
                        row[c] = _mm256_fmadd_ps(weight, x, row[c]);
                    }
                }
            }
        }
        for (q, acc) in acc.iter().enumerate() {
            let scale = _mm256_set1_ps(scales[r + q]);
            for (c, acc) in acc.iter().enumerate() {
                // SAFETY: r + q < QUERY_BLOCK rows of 32.
                unsafe { _mm256_storeu_ps(out.add((r + q) * 32 + 8 * c), _mm256_mul_ps(*acc, scale)) };
            }
        }
    }
}

/// Replaces, before optimisation, each attention the exporter wrote (`q`, `k`
/// and `v` split into heads, two `MatMul`s with a `Softmax` between, the
/// heads moved back: nodes `qk_masked`, `attn_probs`, `ctx`, `ctx_t`) by one
/// [`Attention`] on the split projections. Returns how many it replaced.
pub fn fuse_attention(model: &mut TypedModel) -> TractResult<usize> {
    rewrite_each(model, |model, node| {
        let Some((inputs, output)) = attention_chain(model, node) else { return Ok(None) };
        let mut patch = TypedModelPatch::default();
        let taps = inputs.iter().map(|i| patch.tap_model(model, *i)).collect::<TractResult<TVec<_>>>()?;
        let wire = patch.wire_node(format!("{}.attention", node.name), Attention, &taps)?[0];
        patch.shunt_outside(model, output, wire)?;
        Ok(Some(patch))
    })
}

/// `[q, k, v]` (split into heads, before their axes move) and the outlet
/// whose value the chain ending at `node` (`ctx_t`) computes.
fn attention_chain(model: &TypedModel, node: &TypedNode) -> Option<([OutletId; 3], OutletId)> {
    let named = |outlet: OutletId, prefix: &str| {
        let n = model.node(outlet.node);
        n.name.starts_with(prefix).then_some(n)
    };
    if !node.name.starts_with("ctx_t") || node.op_as::<AxisOp>().is_none() {
        return None;
    }
    let ctx = named(*node.inputs.first()?, "ctx")?;
    let probs = named(*ctx.inputs.first()?, "attn_probs")?;
    let softmax = probs.op_as::<Softmax>()?;
    let v_heads = named(*ctx.inputs.get(1)?, "heads")?;
    let scores = named(*probs.inputs.first()?, "qk_masked")?;
    let q_heads = named(*scores.inputs.first()?, "heads")?;
    let k_heads = named(*scores.inputs.get(1)?, "heads")?;
    let inputs = [*q_heads.inputs.first()?, *k_heads.inputs.first()?, *v_heads.inputs.first()?];
    // each head split is one axis move away from its reshape (or the masked keys' add)
    named(inputs[0], "split_heads")?;
    named(inputs[1], "k_masked")?;
    named(inputs[2], "split_heads")?;
    let facts: Vec<&TypedFact> = inputs.iter().map(|i| model.outlet_fact(*i).ok()).collect::<Option<_>>()?;
    let out_fact = model.outlet_fact(node.id.into()).ok()?;
    let (q, k, v) = (facts[0], facts[1], facts[2]);
    let shapes_fit = q.rank() == 4
        && q.shape == k.shape
        && v.rank() == 4
        && v.shape[..3] == q.shape[..3]
        && out_fact.shape == v.shape
        && facts.iter().all(|f| f.datum_type == f32::datum_type())
        && *softmax.axes == [3]
        && softmax.kind == SoftmaxKind::Softmax;
    shapes_fit.then_some((inputs, node.id.into()))
}

/// Replaces, in an optimised model, the f32 adds and last-axis softmaxes
/// described above by [`FastAdd`] and [`LastAxisSoftmax`]. Returns how many
/// nodes were replaced.
pub fn replace_slow_ops(model: &mut TypedModel) -> TractResult<usize> {
    rewrite_each(model, |model, node| {
        let facts = model.node_input_facts(node.id)?;
        let op: Option<(Box<dyn TypedOp>, Vec<OutletId>)> = if let Some(bin) = node.op_as::<TypedBinOp>() {
            if bin.0.is::<Add>() && bin.1.is_none() && facts.len() == 2 {
                add_layout(facts[0], facts[1])
                    .map(|axis| (Box::new(FastAdd { broadcast: axis }) as Box<dyn TypedOp>, node.inputs.clone()))
                    .or_else(|| {
                        add_layout(facts[1], facts[0]).map(|axis| {
                            (
                                Box::new(FastAdd { broadcast: axis }) as Box<dyn TypedOp>,
                                vec![node.inputs[1], node.inputs[0]],
                            )
                        })
                    })
            } else {
                None
            }
        } else if let Some(softmax) = node.op_as::<Softmax>() {
            let rank = facts.first().map_or(0, |f| f.rank());
            (softmax.kind == SoftmaxKind::Softmax
                && softmax.quant_output_dt.is_none()
                && rank > 0
                && *softmax.axes == [rank - 1]
                && facts[0].datum_type == f32::datum_type())
            .then(|| (Box::new(LastAxisSoftmax) as Box<dyn TypedOp>, node.inputs.clone()))
        } else {
            None
        };
        op.map(|(op, inputs)| TypedModelPatch::replace_single_op(model, node, &inputs, op)).transpose()
    })
}

/// `Some(None)` when `b` has `a`'s shape, `Some(Some(axis))` when it has
/// `a`'s shape but 1 at `axis` alone, `None` otherwise (both f32).
#[allow(clippy::option_option)]
fn add_layout(a: &TypedFact, b: &TypedFact) -> Option<Option<usize>> {
    if a.datum_type != f32::datum_type() || b.datum_type != f32::datum_type() || a.rank() != b.rank() {
        return None;
    }
    let differing: Vec<usize> = (0..a.rank()).filter(|&i| a.shape[i] != b.shape[i]).collect();
    match differing.as_slice() {
        [] => Some(None),
        [axis] if b.shape[*axis] == TDim::Val(1) => Some(Some(*axis)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exponential_is_accurate_over_the_softmax_range() {
        let mut worst = 0.0f64;
        let mut x = -90.0f32;
        while x <= 0.0 {
            let want = f64::from(x).exp();
            let got = f64::from(exp_nonpositive(x));
            if want > 1e-30 {
                worst = worst.max(((got - want) / want).abs());
            } else {
                assert!(got < 1e-30, "e^{x} = {got}");
            }
            x += 0.001;
        }
        assert!(worst < 5e-7, "worst relative error {worst}");
    }

    #[test]
    fn erf_and_gelu_are_accurate() {
        // erf against its series (|x| < 2) and continued fraction (|x| >= 2), in f64
        fn erf64(x: f64) -> f64 {
            if x.abs() < 2.0 {
                let (mut term, mut sum, mut n) = (x, x, 0.0);
                while term.abs() > 1e-17 {
                    n += 1.0;
                    term *= -x * x / n;
                    sum += term / (2.0 * n + 1.0);
                }
                sum * 2.0 / std::f64::consts::PI.sqrt()
            } else {
                let a = x.abs();
                let mut f = 0.0;
                for k in (1..60).rev() {
                    f = f64::from(k) / 2.0 / (a + f);
                }
                let erfc = (-a * a).exp() / (a + f) / std::f64::consts::PI.sqrt();
                (1.0 - erfc).copysign(x)
            }
        }
        let (mut worst, mut at) = (0.0f64, 0.0);
        let mut x = -6.0f32;
        while x <= 6.0 {
            let error = (f64::from(erf_scalar(x)) - erf64(f64::from(x))).abs();
            if error > worst {
                (worst, at) = (error, x);
            }
            x += 0.0007;
        }
        // the formula's 1.5e-7, and f32 rounding of 1 - poly · e^(-x²)
        assert!(worst < 6e-7, "erf: worst absolute error {worst} at {at}");
        eprintln!("erf: worst absolute error {worst:.2e} at {at}");
        #[cfg(target_arch = "x86_64")]
        if avx_fma() {
            use std::arch::x86_64::*;
            let xs: Vec<f32> = (0..800).map(|i| (i as f32 - 400.0) * 0.021).collect();
            for lanes in xs.chunks_exact(8) {
                let mut got = [0f32; 8];
                // SAFETY: the CPU has AVX and FMA; both arrays hold 8 floats.
                unsafe { _mm256_storeu_ps(got.as_mut_ptr(), gelu8(_mm256_loadu_ps(lanes.as_ptr()))) };
                for (&g, &x) in got.iter().zip(lanes) {
                    let want = 0.5 * f64::from(x) * (1.0 + erf64(f64::from(x) / std::f64::consts::SQRT_2));
                    assert!((f64::from(g) - want).abs() < 1e-6, "gelu({x}) = {g}, not {want}");
                }
            }
        }
    }

    #[test]
    fn softmax_rows_match_the_textbook_formula() {
        let portable: fn(&mut [f32], usize) = |data, row| {
            let mut scales = vec![0f32; data.len() / row];
            exp_rows_portable(data, row, &mut scales);
            for (r, scale) in data.chunks_exact_mut(row).zip(scales) {
                r.iter_mut().for_each(|x| *x *= scale);
            }
        };
        // the AVX form where the CPU has it, the portable one in any case
        for softmax in [softmax_rows, portable] {
            check_softmax(softmax);
        }
    }

    fn check_softmax(softmax: fn(&mut [f32], usize)) {
        let rows = 7;
        for row in [1usize, 3, 8, 14, 33, 512] {
            let data: Vec<f32> = (0..rows * row).map(|i| ((i * 37 % 101) as f32 - 50.0) * 0.37).collect();
            let mut fast = data.clone();
            softmax(&mut fast, row);
            for (r, (got, input)) in fast.chunks(row).zip(data.chunks(row)).enumerate() {
                let max = input.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                let sum: f64 = input.iter().map(|&x| f64::from(x - max).exp()).sum();
                for (g, &x) in got.iter().zip(input) {
                    let want = f64::from(x - max).exp() / sum;
                    assert!((f64::from(*g) - want).abs() < 1e-6, "row {r} of {row}: {g} vs {want}");
                }
            }
        }
        // a fully masked row (every score -10000 more than none) is still uniform
        let mut masked = vec![-10000.0f32; 12];
        softmax(&mut masked, 12);
        assert!(masked.iter().all(|&p| (p - 1.0 / 12.0).abs() < 1e-7), "{masked:?}");
    }

    #[test]
    fn layer_norm_rows_match_the_textbook_formula() {
        let portable: fn(&mut [f32], &[f32], &[f32], f32) = |d, g, b, e| layer_norm_rows_portable(d, g, b, e);
        for norm in [layer_norm_rows, portable] {
            for width in [1usize, 5, 8, 384] {
                let gamma: Vec<f32> = (0..width).map(|i| 0.5 + i as f32 / width as f32).collect();
                let beta: Vec<f32> = (0..width).map(|i| (i % 7) as f32 * 0.1 - 0.3).collect();
                let data: Vec<f32> = (0..3 * width).map(|i| ((i * 53 % 97) as f32 - 40.0) * 0.21 + 3.0).collect();
                let mut got = data.clone();
                norm(&mut got, &gamma, &beta, 1e-12);
                for (out, input) in got.chunks(width).zip(data.chunks(width)) {
                    let n = width as f64;
                    let mean = input.iter().map(|&x| f64::from(x)).sum::<f64>() / n;
                    let var = input.iter().map(|&x| (f64::from(x) - mean).powi(2)).sum::<f64>() / n;
                    for (i, (o, &x)) in out.iter().zip(input).enumerate() {
                        let want =
                            (f64::from(x) - mean) / (var + 1e-12).sqrt() * f64::from(gamma[i]) + f64::from(beta[i]);
                        assert!((f64::from(*o) - want).abs() < 1e-4, "width {width}, {i}: {o} vs {want}");
                    }
                }
            }
        }
    }

    #[test]
    fn attention_matches_the_textbook_formula() -> TractResult<()> {
        let values = |n: usize, seed: usize| -> Vec<f32> {
            (0..n).map(|i| (((i * 7919 + seed * 104_729) % 2003) as f32 / 2003.0 - 0.5) * 2.0).collect()
        };
        // value width 32 takes the AVX path where there is one, 7 the portable one
        for (batch, seq, heads, key_dim, value_dim) in
            [(2, 1, 3, 33, 32), (1, 5, 2, 33, 32), (2, 17, 12, 33, 32), (1, 40, 2, 9, 7)]
        {
            let (q, k, v) = (
                values(batch * seq * heads * key_dim, 1),
                values(batch * seq * heads * key_dim, 2),
                values(batch * seq * heads * value_dim, 3),
            );
            let tensor = |data: &[f32], last: usize| {
                Tensor::from_shape(&[batch, seq, heads, last], data).map(IntoTValue::into_tvalue)
            };
            let out = Attention.eval(
                &EvalContext::out_of_plan(),
                tvec!(tensor(&q, key_dim)?, tensor(&k, key_dim)?, tensor(&v, value_dim)?),
            )?;
            let got = out[0].try_as_plain_ram()?.as_slice::<f32>()?.to_vec();
            for b in 0..batch {
                for h in 0..heads {
                    for i in 0..seq {
                        let at = |t: usize, width: usize| ((b * seq + t) * heads + h) * width;
                        let scores: Vec<f64> = (0..seq)
                            .map(|j| {
                                (0..key_dim)
                                    .map(|c| f64::from(q[at(i, key_dim) + c]) * f64::from(k[at(j, key_dim) + c]))
                                    .sum()
                            })
                            .collect();
                        let max = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                        let sum: f64 = scores.iter().map(|s| (s - max).exp()).sum();
                        for c in 0..value_dim {
                            let want: f64 = (0..seq)
                                .map(|j| (scores[j] - max).exp() / sum * f64::from(v[at(j, value_dim) + c]))
                                .sum();
                            let g = f64::from(got[at(i, value_dim) + c]);
                            assert!(
                                (g - want).abs() < 1e-5,
                                "{batch}x{seq}x{heads}, head {h}, query {i}, {c}: {g} vs {want}"
                            );
                        }
                    }
                }
            }
        }
        Ok(())
    }

    #[test]
    fn attention_on_three_threads_is_attention_on_one() -> TractResult<()> {
        // 2 × 70 query rows in three shares, one of which spans both items
        let (batch, seq, heads) = (2, 70, 12);
        let values = |n: usize, seed: usize| -> TractResult<TValue> {
            let data: Vec<f32> = (0..n).map(|i| ((i * 7919 + seed * 104_729) % 2003) as f32 / 2003.0 - 0.5).collect();
            let width = n / (batch * seq * heads);
            Ok(Tensor::from_shape(&[batch, seq, heads, width], &data)?.into_tvalue())
        };
        let n = batch * seq * heads;
        let inputs =
            || -> TractResult<TVec<TValue>> { Ok(tvec!(values(n * 33, 1)?, values(n * 33, 2)?, values(n * 32, 3)?)) };
        let one = Attention.eval(&EvalContext::out_of_plan(), inputs()?)?;
        let pool = tract_linalg::multithread::Executor::multithread(3);
        let three = tract_linalg::multithread::multithread_tract_scope(pool, || {
            Attention.eval(&EvalContext::out_of_plan(), inputs()?)
        })?;
        assert_eq!(one[0].try_as_plain_ram()?.as_slice::<f32>()?, three[0].try_as_plain_ram()?.as_slice::<f32>()?);
        Ok(())
    }

    #[test]
    fn add_layouts_are_recognised_only_when_safe() {
        let s = SymbolScope::default();
        let (b, n) = (s.sym("batch"), s.sym("sequence"));
        let fact = |dims: &[TDim]| f32::fact(dims);
        let full = fact(&[b.clone().into(), n.clone().into(), 12.into(), 33.into()]);
        let heads_one = fact(&[b.clone().into(), n.clone().into(), 1.into(), 33.into()]);
        let batch_one = fact(&[1.into(), n.clone().into(), 1.into(), 33.into()]);
        assert_eq!(add_layout(&full, &full), Some(None));
        assert_eq!(add_layout(&full, &heads_one), Some(Some(2)));
        assert_eq!(add_layout(&heads_one, &full), None);
        assert_eq!(add_layout(&full, &batch_one), None);
        assert_eq!(add_layout(&full, &i64::fact(full.shape.clone())), None);
    }

    #[test]
    fn fast_add_adds_and_broadcasts() -> TractResult<()> {
        let a = Tensor::from_shape(&[2, 3, 2], &(0..12).map(|i| i as f32).collect::<Vec<_>>())?;
        let b = Tensor::from_shape(&[2, 1, 2], &[100.0f32, 200.0, 300.0, 400.0])?;
        let out =
            FastAdd { broadcast: Some(1) }.eval(&EvalContext::out_of_plan(), tvec!(a.clone().into(), b.into()))?;
        let want = [100.0f32, 201.0, 102.0, 203.0, 104.0, 205.0, 306.0, 407.0, 308.0, 409.0, 310.0, 411.0];
        assert_eq!(out[0].try_as_plain_ram()?.as_slice::<f32>()?, want);
        let same = FastAdd { broadcast: None }.eval(&EvalContext::out_of_plan(), tvec!(a.clone().into(), a.into()))?;
        assert_eq!(same[0].try_as_plain_ram()?.as_slice::<f32>()?[11], 22.0);
        Ok(())
    }
}
