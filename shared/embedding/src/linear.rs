//! The model's projections, `x·W + b` with constant `W` and `b`, as one op of
//! our own ([`Linear`]) instead of tract's matrix product and bias add.
//!
//! `W` is packed once, at load, into panels of 16 columns (each panel `k`
//! rows of 16 contiguous floats, the last one zero-padded). A call walks the
//! rows a tile at a time and, for each tile, every panel of a group that fits
//! in the core's L2 cache, so the tile's rows stay in L1 while the panels
//! stream from L2. A tile is 6 rows × 16 columns in twelve AVX registers, or
//! 12 rows × two panels (32 columns) in 24 AVX-512 registers where the CPU
//! has AVX-512F, each accumulating over the whole of `k`. Row tiles are shared between the
//! executor's threads, so one lone input uses every thread. The GELU or the
//! residual add that follows a projection is done on each tile as it is
//! stored ([`fuse_epilogues`]).

use std::sync::Arc;
use tract_onnx::prelude::*;
use tract_onnx::tract_core::internal::*;
use tract_onnx::tract_core::ops::binary::TypedBinOp;
use tract_onnx::tract_core::ops::einsum::EinSum;
use tract_onnx::tract_core::ops::math::Add;
use tract_onnx::tract_core::{as_op, op_as_typed_op, op_out_of_plan};

/// Rows per tile with AVX (twelve 256-bit accumulators).
const MR: usize = 6;
/// Rows per tile with AVX-512 (twelve 512-bit accumulators a panel); also the row
/// granularity at which threads split the work, a multiple of both.
const MR_512: usize = 12;
/// Columns per panel (and per tile).
const NR: usize = 16;
/// The most panels a kernel does at once.
const PANELS: usize = 4;
/// Bytes of `W` panels one row tile walks before the next tile starts (a
/// share of a 512 KB L2), rounded up to a whole step of the kernel's panels.
const L2_PANELS_BYTES: usize = 192 * 1024;

/// `W` (`k × n`) and `b` (`n`), packed for the kernel.
#[derive(Debug)]
pub struct PackedWeights {
    k: usize,
    n: usize,
    /// `n.div_ceil(16)` panels, each `k` rows of 16.
    panels: Vec<f32>,
    /// `b`, zero-padded to the panels' width.
    bias: Vec<f32>,
}

impl PackedWeights {
    /// Packs row-major `w` (`k × n`) and `bias` (`n`).
    pub fn new(w: &[f32], k: usize, n: usize, bias: &[f32]) -> Self {
        assert_eq!(w.len(), k * n, "weights are not {k} × {n}");
        assert_eq!(bias.len(), n, "bias is not {n} long");
        let count = n.div_ceil(NR);
        let mut panels = vec![0f32; count * k * NR];
        for (p, panel) in panels.chunks_exact_mut(k * NR).enumerate() {
            let cols = NR.min(n - p * NR);
            for (row, out) in panel.chunks_exact_mut(NR).enumerate() {
                out[..cols].copy_from_slice(&w[row * n + p * NR..row * n + p * NR + cols]);
            }
        }
        let mut padded = vec![0f32; count * NR];
        padded[..n].copy_from_slice(bias);
        Self { k, n, panels, bias: padded }
    }

    pub fn k(&self) -> usize {
        self.k
    }

    pub fn n(&self) -> usize {
        self.n
    }

    /// `out = x·W + b` for the rows of `x` (`rows × k`) into `out` (`rows × n`).
    pub fn apply(&self, x: &[f32], out: &mut [f32]) {
        self.apply_then(x, out, Epilogue::default());
    }

    /// [`Self::apply`], then GELU and the add of `residual` (`rows × n`) as `then` says.
    pub fn apply_then(&self, x: &[f32], out: &mut [f32], then: Epilogue<'_>) {
        let (k, n) = (self.k, self.n);
        if n == 0 {
            return;
        }
        let rows = out.len() / n;
        assert!(x.len() == rows * k && out.len() == rows * n, "linear: {} inputs, {} outputs", x.len(), out.len());
        assert!(then.residual.is_none_or(|r| r.len() == out.len()), "linear: residual of another shape");
        let count = n.div_ceil(NR);
        let kernel = Kernel::detect();
        let (mr, step) = (kernel.rows(), kernel.panels());
        // a whole number of the kernel's panel steps, at least one
        let group = (L2_PANELS_BYTES / (k.max(1) * NR * 4)).max(1).next_multiple_of(step).min(count);
        let mut tiles = [[[0f32; NR]; MR_512]; PANELS];
        for first in (0..count).step_by(group) {
            let end = (first + group).min(count);
            for r0 in (0..rows).step_by(mr) {
                let live = mr.min(rows - r0);
                // rows past the end repeat the tile's first one; their results are dropped
                let row_at: [usize; MR_512] = std::array::from_fn(|r| (r0 + if r < live { r } else { 0 }) * k);
                let mut p = first;
                while p < end {
                    let done = kernel.tile(x, &row_at, k, &self.panels[p * k * NR..end * k * NR], &mut tiles);
                    for (q, tile) in tiles.iter_mut().take(done).enumerate() {
                        let col = (p + q) * NR;
                        let cols = NR.min(n - col);
                        let bias = &self.bias[col..col + NR];
                        for (r, acc) in tile.iter_mut().take(live).enumerate() {
                            let at = (r0 + r) * n + col;
                            let residual = then.residual.map(|res| &res[at..at + cols]);
                            kernel.finish(acc, bias, then.gelu, residual, &mut out[at..at + cols]);
                        }
                    }
                    p += done;
                }
            }
        }
    }
}

/// One tile of sums: rows × the 16 columns of one panel.
type Tile = [[f32; NR]; MR_512];

/// The tile kernel this CPU runs, probed once per call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kernel {
    Portable,
    #[cfg(target_arch = "x86_64")]
    Avx,
    /// Twelve rows × one panel.
    #[cfg(target_arch = "x86_64")]
    Avx512x1,
    /// Twelve rows × two panels.
    #[cfg(target_arch = "x86_64")]
    Avx512,
    /// Six rows × four panels.
    #[cfg(target_arch = "x86_64")]
    Avx512x4,
}

impl Kernel {
    /// The widest kernel this CPU runs, or the one `PERSONALIZATION_LINEAR_KERNEL`
    /// names ([`Self::name`], to compare them on one machine); probed once.
    fn detect() -> Self {
        static KERNEL: std::sync::OnceLock<Kernel> = std::sync::OnceLock::new();
        *KERNEL.get_or_init(|| {
            let asked = std::env::var("PERSONALIZATION_LINEAR_KERNEL").unwrap_or_default();
            Kernel::widest().into_iter().find(|k| asked.is_empty() || k.name() == asked).unwrap_or(Kernel::Portable)
        })
    }

    /// The kernels this CPU runs, widest first.
    fn widest() -> Vec<Self> {
        let mut kernels = vec![Kernel::Portable];
        #[cfg(target_arch = "x86_64")]
        if crate::kernels::avx_fma() {
            kernels.insert(0, Kernel::Avx);
            if std::arch::is_x86_feature_detected!("avx512f") {
                kernels.splice(0..0, [Kernel::Avx512, Kernel::Avx512x4, Kernel::Avx512x1]);
            }
        }
        kernels
    }

    fn name(self) -> &'static str {
        match self {
            Kernel::Portable => "portable",
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx => "avx",
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512 => "avx512",
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512x4 => "avx512x4",
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512x1 => "avx512x1",
        }
    }

    /// Rows of `x` per tile.
    fn rows(self) -> usize {
        match self {
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512 | Kernel::Avx512x1 => MR_512,
            _ => MR,
        }
    }

    /// Panels per tile: the AVX-512 kernels do two or four at once, so that
    /// each broadcast of `x` feeds as many FMAs.
    fn panels(self) -> usize {
        match self {
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512 => 2,
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512x4 => 4,
            _ => 1,
        }
    }

    /// The first [`Self::rows`] rows of the tiles of the first [`Self::panels`]
    /// panels of `panels` (of one if it holds fewer), from the rows of `x` at
    /// `row_at`; returns how many panels it did.
    fn tile(self, x: &[f32], row_at: &[usize; MR_512], k: usize, panels: &[f32], tiles: &mut [Tile; PANELS]) -> usize {
        let whole = panels.len() / (k * NR).max(1);
        assert!(whole > 0, "linear: no whole panel in {} floats", panels.len());
        let done = if whole >= self.panels() { self.panels() } else { 1 };
        let six: &[usize; MR] = row_at[..MR].try_into().expect("twelve rows hold six");
        // SAFETY (the unsafe arms): detect() saw AVX and FMA, or AVX-512F; the kernels check their bounds.
        match (self, done) {
            (Kernel::Portable, _) => tile_portable(x, six, k, panels, &mut tiles[0]),
            #[cfg(target_arch = "x86_64")]
            (Kernel::Avx, _) => unsafe { tile_avx(x, six, k, panels, &mut tiles[0]) },
            #[cfg(target_arch = "x86_64")]
            (Kernel::Avx512, 2) => unsafe { tile_avx512::<MR_512, 2>(x, row_at, k, panels, tiles) },
            #[cfg(target_arch = "x86_64")]
            (Kernel::Avx512x4, 4) => unsafe { tile_avx512::<MR, 4>(x, row_at, k, panels, tiles) },
            #[cfg(target_arch = "x86_64")]
            (Kernel::Avx512x4, _) => unsafe { tile_avx512::<MR, 1>(x, row_at, k, panels, tiles) },
            #[cfg(target_arch = "x86_64")]
            (Kernel::Avx512 | Kernel::Avx512x1, _) => unsafe { tile_avx512::<MR_512, 1>(x, row_at, k, panels, tiles) },
        }
        done
    }

    fn finish(self, acc: &mut [f32; NR], bias: &[f32], gelu: bool, residual: Option<&[f32]>, out: &mut [f32]) {
        #[cfg(target_arch = "x86_64")]
        if self != Kernel::Portable {
            // SAFETY: detect() saw AVX and FMA.
            return unsafe { finish_avx(acc, bias, gelu, residual, out) };
        }
        finish_portable(acc, bias, gelu, residual, out)
    }
}

/// What [`PackedWeights::apply_then`] does to `x·W + b` before storing it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Epilogue<'a> {
    /// GELU (the exact one, with erf), as BERT's intermediate layers have.
    pub gelu: bool,
    /// Added last, element by element (a residual connection).
    pub residual: Option<&'a [f32]>,
}

/// One row of a tile (16 sums) plus its bias, through the epilogue, into `out` (up to 16 floats).
fn finish_portable(acc: &mut [f32], bias: &[f32], gelu: bool, residual: Option<&[f32]>, out: &mut [f32]) {
    for (a, b) in acc.iter_mut().zip(bias) {
        *a += b;
        if gelu {
            *a = gelu_scalar(*a);
        }
    }
    out.copy_from_slice(&acc[..out.len()]);
    if let Some(residual) = residual {
        for (o, r) in out.iter_mut().zip(residual) {
            *o += r;
        }
    }
}

/// [`finish_portable`] on two AVX vectors.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx,fma")]
unsafe fn finish_avx(acc: &mut [f32], bias: &[f32], gelu: bool, residual: Option<&[f32]>, out: &mut [f32]) {
    use std::arch::x86_64::*;
    assert!(acc.len() >= NR && bias.len() >= NR && out.len() <= NR);
    if out.len() < NR {
        return finish_portable(acc, bias, gelu, residual, out);
    }
    // SAFETY: every slice holds 16 floats (asserted, out.len() == 16 here).
    unsafe {
        for half in 0..2 {
            let mut v = _mm256_add_ps(
                _mm256_loadu_ps(acc.as_ptr().add(8 * half)),
                _mm256_loadu_ps(bias.as_ptr().add(8 * half)),
            );
            if gelu {
                v = crate::kernels::gelu8(v);
            }
            if let Some(residual) = residual {
                v = _mm256_add_ps(v, _mm256_loadu_ps(residual.as_ptr().add(8 * half)));
            }
            _mm256_storeu_ps(out.as_mut_ptr().add(8 * half), v);
        }
    }
}

/// GELU(x) = x/2 · (1 + erf(x/√2)), with [`crate::kernels::erf_scalar`].
fn gelu_scalar(x: f32) -> f32 {
    0.5 * x * (1.0 + crate::kernels::erf_scalar(x * std::f32::consts::FRAC_1_SQRT_2))
}

/// `tile[r][j] = Σ_c x[row_at[r] + c] · panel[c][j]` for the first six rows.
fn tile_portable(x: &[f32], row_at: &[usize; MR], k: usize, panel: &[f32], tile: &mut Tile) {
    for (acc, &at) in tile.iter_mut().zip(row_at) {
        acc.fill(0.0);
        for (&a, b) in x[at..at + k].iter().zip(panel.chunks_exact(NR)) {
            for (o, &w) in acc.iter_mut().zip(b) {
                *o += a * w;
            }
        }
    }
}

/// [`tile_portable`] in twelve registers: two panel loads and six broadcasts
/// per step of `k`, twelve FMAs.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx,fma")]
unsafe fn tile_avx(x: &[f32], row_at: &[usize; MR], k: usize, panel: &[f32], tile: &mut Tile) {
    use std::arch::x86_64::*;
    assert!(panel.len() >= k * NR && row_at.iter().all(|&at| at + k <= x.len()));
    let rows: [*const f32; MR] = std::array::from_fn(|r| x[row_at[r]..].as_ptr());
    let w = panel.as_ptr();
    let mut acc = [_mm256_setzero_ps(); 2 * MR];
    for c in 0..k {
        // SAFETY: c < k, and every row has k floats from its start (asserted).
        unsafe {
            let w0 = _mm256_loadu_ps(w.add(c * NR));
            let w1 = _mm256_loadu_ps(w.add(c * NR + 8));
            for r in 0..MR {
                let a = _mm256_broadcast_ss(&*rows[r].add(c));
                acc[2 * r] = _mm256_fmadd_ps(a, w0, acc[2 * r]);
                acc[2 * r + 1] = _mm256_fmadd_ps(a, w1, acc[2 * r + 1]);
            }
        }
    }
    for (r, out) in tile.iter_mut().take(MR).enumerate() {
        // SAFETY: two vectors of 8 fill a row of 16.
        unsafe {
            _mm256_storeu_ps(out.as_mut_ptr(), acc[2 * r]);
            _mm256_storeu_ps(out.as_mut_ptr().add(8), acc[2 * r + 1]);
        }
    }
}

/// `R` rows × `P` panels (`16·P` columns) of tiles in `R·P` AVX-512
/// registers: `P` panel loads and `R` broadcasts per step of `k`, `R·P` FMAs.
/// With one panel (twelve rows) the loads bound it; two panels halve the loads
/// per FMA, four (six rows) cut them to 10 per 24.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn tile_avx512<const R: usize, const P: usize>(
    x: &[f32],
    row_at: &[usize; MR_512],
    k: usize,
    panels: &[f32],
    tiles: &mut [Tile; PANELS],
) {
    use std::arch::x86_64::*;
    assert!(R <= MR_512 && P <= PANELS && panels.len() >= P * k * NR);
    assert!(row_at[..R].iter().all(|&at| at + k <= x.len()));
    let mut rows = [x.as_ptr(); R];
    for (row, &at) in rows.iter_mut().zip(row_at) {
        *row = x[at..].as_ptr();
    }
    let mut w = [panels.as_ptr(); P];
    for (p, w) in w.iter_mut().enumerate() {
        *w = panels[p * k * NR..].as_ptr();
    }
    let mut acc = [[_mm512_setzero_ps(); P]; R];
    let mut b = [_mm512_setzero_ps(); P];
    for c in 0..k {
        // SAFETY: c < k, every panel holds k rows of 16, and every row of x has k floats (asserted).
        unsafe {
            for (b, w) in b.iter_mut().zip(&w) {
                *b = _mm512_loadu_ps(w.add(c * NR));
            }
            for (acc, row) in acc.iter_mut().zip(&rows) {
                let a = _mm512_set1_ps(*row.add(c));
                for (acc, b) in acc.iter_mut().zip(&b) {
                    *acc = _mm512_fmadd_ps(a, *b, *acc);
                }
            }
        }
    }
    for (r, acc) in acc.iter().enumerate() {
        for (tile, v) in tiles.iter_mut().zip(acc) {
            // SAFETY: one vector of 16 fills a row of a tile.
            unsafe { _mm512_storeu_ps(tile[r].as_mut_ptr(), *v) };
        }
    }
}

/// `x·W + b` over the last axis of `x`, with `W` and `b` packed
/// ([`PackedWeights`]), then GELU if `gelu`, then plus a second input of the
/// output's shape if there is one; row tiles split evenly between the executor's
/// threads.
#[derive(Debug, Clone)]
pub struct Linear {
    pub weights: Arc<PackedWeights>,
    pub gelu: bool,
}

impl PartialEq for Linear {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.weights, &other.weights) && self.gelu == other.gelu
    }
}

impl Eq for Linear {}

impl Op for Linear {
    fn name(&self) -> StaticName {
        "Linear".into()
    }
    op_as_typed_op!();
}

impl EvalOp for Linear {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        ensure!(matches!(inputs.len(), 1 | 2), "Linear takes x and maybe a residual");
        let x = &inputs[0];
        let (k, n) = (self.weights.k, self.weights.n);
        ensure!(x.shape().last() == Some(&k), "Linear: input {:?}, weights {k} × {n}", x.shape());
        let mut shape: TVec<usize> = x.shape().into();
        if let Some(last) = shape.last_mut() {
            *last = n;
        }
        let rows = x.len() / k.max(1);
        let x_ram = x.try_as_plain_ram()?;
        let x = x_ram.as_slice::<f32>()?;
        let residual_ram = inputs.get(1).map(|r| r.try_as_plain_ram()).transpose()?;
        let residual = residual_ram.as_ref().map(|r| r.as_slice::<f32>()).transpose()?;
        ensure!(residual.is_none_or(|r| r.len() == rows * n), "Linear: residual of {:?}", inputs[1].shape());
        // SAFETY: tract's contract for an uninitialised tensor (its own ops use
        // it the same way): every element is written before anything reads it.
        // apply_then stores every column of every row it is given, and the
        // shares cover all the rows. (A tensor from a Vec is a copy: tract
        // wants its own aligned storage; that copy was 2-3 % of a run.)
        let mut out = unsafe { Tensor::uninitialized::<f32>(&shape)? };
        if rows > 0 && n > 0 {
            let mut ram = out.try_as_plain_ram_mut()?;
            let out = ram.as_slice_mut::<f32>()?;
            split_rows(out, n, rows, MR_512, rows * k * n, |r0, chunk| {
                let r1 = r0 + chunk.len() / n;
                let then = Epilogue { gelu: self.gelu, residual: residual.map(|r| &r[r0 * n..r1 * n]) };
                self.weights.apply_then(&x[r0 * k..r1 * k], chunk, then);
            });
        }
        Ok(tvec!(out.into_tvalue()))
    }
}

/// Multiply-adds below which a projection runs on the calling thread: waking
/// the pool costs more than it saves.
const THREADING_MACS: usize = 1 << 21;

/// Runs `f(first_unit, chunk)` over `out`, `units` runs of `unit` floats, cut
/// into one contiguous share per thread of the executor's pool: whole `grain`s
/// of units (but for the end), the shares differing by at most one grain.
/// (tract's `par_chunks_mut` cuts 4 chunks a thread of equal size rounded up:
/// 43 row tiles became seven chunks of 6 and one of 1, and two threads split
/// them 24 to 19.)
pub(crate) fn split_rows(
    out: &mut [f32],
    unit: usize,
    units: usize,
    grain: usize,
    macs: usize,
    f: impl Fn(usize, &mut [f32]) + Sync,
) {
    debug_assert_eq!(out.len(), unit * units, "split_rows: {} floats are not {units} × {unit}", out.len());
    let grains = units.div_ceil(grain.max(1));
    let pool = match tract_linalg::multithread::current_tract_executor() {
        tract_linalg::multithread::Executor::MultiThread(pool) if pool.current_num_threads() > 1 => pool,
        _ => return f(0, out),
    };
    let threads = pool.current_num_threads().min(grains);
    if threads < 2 || macs < THREADING_MACS {
        return f(0, out);
    }
    pool.scope(|scope| {
        let f = &f;
        let mut rest = out;
        let mut first = 0;
        for t in 0..threads {
            let end = (grains * (t + 1) / threads * grain).min(units);
            let (chunk, tail) = rest.split_at_mut((end - first) * unit);
            rest = tail;
            let at = first;
            if t + 1 == threads {
                f(at, chunk);
            } else {
                scope.spawn(move |_| f(at, chunk));
            }
            first = end;
        }
    });
}

impl TypedOp for Linear {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        ensure!(
            matches!(inputs.len(), 1 | 2)
                && inputs.iter().all(|f| f.datum_type == f32::datum_type())
                && inputs[0].rank() >= 1
        );
        let mut shape = inputs[0].shape.to_tvec();
        if let Some(last) = shape.last_mut() {
            *last = self.weights.n.into();
        }
        ensure!(inputs.get(1).is_none_or(|r| r.shape.to_tvec() == shape), "Linear: residual of another shape");
        Ok(tvec!(f32::fact(shape)))
    }
    as_op!();
}

/// Replaces, before optimisation, each projection the exporter wrote
/// (`lin`: an add of a constant bias to `mm`, a `MatMul` by a constant
/// `k × n` matrix, of an f32 input whose last axis is `k`) by one [`Linear`].
/// Returns how many it replaced.
pub fn fuse_linears(model: &mut TypedModel) -> TractResult<usize> {
    crate::kernels::rewrite_each(model, |model, node| {
        let Some((x, op)) = linear_chain(model, node) else { return Ok(None) };
        TypedModelPatch::replace_single_op(model, node, &[x], op).map(Some)
    })
}

fn linear_chain(model: &TypedModel, node: &TypedNode) -> Option<(OutletId, Linear)> {
    if !node.name.starts_with("lin") || !node.op_as::<TypedBinOp>().is_some_and(|op| op.0.is::<Add>()) {
        return None;
    }
    let konst = |outlet: OutletId| crate::kernels::f32_konst(model, outlet);
    let (product, bias) = match (konst(node.inputs[0]), konst(*node.inputs.get(1)?)) {
        (None, Some(bias)) => (model.node(node.inputs[0].node), bias),
        (Some(bias), None) => (model.node(node.inputs[1].node), bias),
        _ => return None,
    };
    if !product.name.starts_with("mm") || product.op_as::<EinSum>().is_none() || product.inputs.len() != 2 {
        return None;
    }
    let x = product.inputs[0];
    let w = konst(product.inputs[1])?;
    let x_fact = model.outlet_fact(x).ok()?;
    let (&[k, n], f32_all) = (w.shape(), [w.datum_type(), bias.datum_type(), x_fact.datum_type]) else {
        return None;
    };
    let out_fact = model.outlet_fact(node.id.into()).ok()?;
    let mut want = x_fact.shape.to_tvec();
    *want.last_mut()? = n.into();
    let fits = f32_all.iter().all(|&dt| dt == f32::datum_type())
        && x_fact.shape.last()?.to_usize().ok()? == k
        && bias.len() == n
        && out_fact.shape.to_tvec() == want;
    if !fits {
        return None;
    }
    let w_ram = w.try_as_plain_ram().ok()?;
    let b_ram = bias.try_as_plain_ram().ok()?;
    let weights = PackedWeights::new(w_ram.as_slice::<f32>().ok()?, k, n, b_ram.as_slice::<f32>().ok()?);
    Some((x, Linear { weights: Arc::new(weights), gelu: false }))
}

/// Folds, in an optimised model, into each [`Linear`] the GELU that alone
/// reads its output, or else the add of another tensor of its output's shape
/// ([`crate::kernels::FastAdd`] without broadcast) that alone reads it.
/// Returns how many were folded.
pub fn fuse_epilogues(model: &mut TypedModel) -> TractResult<usize> {
    use tract_onnx::tract_core::ops::element_wise::ElementWiseOp;
    use tract_onnx::tract_core::ops::nn::GeluExact;
    crate::kernels::rewrite_each(model, |model, node| {
        // a Linear with no epilogue yet, read by one node alone, which is not an output
        let Some(linear) = node.op_as::<Linear>() else { return Ok(None) };
        let outlet = OutletId::new(node.id, 0);
        if linear.gelu
            || node.inputs.len() != 1
            || node.outputs[0].successors.len() != 1
            || model.outputs.contains(&outlet)
        {
            return Ok(None);
        }
        let next = model.node(node.outputs[0].successors[0].node);
        let gelu = next.op_as::<ElementWiseOp>().is_some_and(|op| op.0.is::<GeluExact>());
        let (op, inputs) = if gelu {
            (Linear { gelu: true, ..linear.clone() }, node.inputs.clone())
        } else if next.op_as::<crate::kernels::FastAdd>().is_some_and(|add| add.is_plain()) && next.inputs.len() == 2 {
            let other = if next.inputs[0] == outlet { next.inputs[1] } else { next.inputs[0] };
            if other == outlet {
                return Ok(None);
            }
            (linear.clone(), vec![node.inputs[0], other])
        } else {
            return Ok(None);
        };
        let mut patch = TypedModelPatch::default();
        let taps = inputs.iter().map(|i| patch.tap_model(model, *i)).collect::<TractResult<TVec<_>>>()?;
        let wire = patch.wire_node(&node.name, op, &taps)?[0];
        patch.shunt_outside(model, next.id.into(), wire)?;
        Ok(Some(patch))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(n: usize, seed: usize) -> Vec<f32> {
        (0..n).map(|i| (((i * 7919 + seed * 104_729) % 2003) as f32 / 2003.0 - 0.5) * 2.0).collect()
    }

    #[test]
    fn linear_matches_the_textbook_product_at_every_edge() -> TractResult<()> {
        // rows and columns that fill whole tiles and panels, and ones that do not
        for (rows, k, n) in [(1, 1, 1), (6, 16, 16), (7, 33, 17), (13, 384, 396), (512, 40, 50), (2, 1536, 12)] {
            let (x, w, b) = (values(rows * k, 1), values(k * n, 2), values(n, 3));
            let packed = PackedWeights::new(&w, k, n, &b);
            let mut got = vec![f32::NAN; rows * n];
            packed.apply(&x, &mut got);
            let mut portable = vec![f32::NAN; rows * n];
            for (r, out) in portable.chunks_exact_mut(n).enumerate() {
                for (j, o) in out.iter_mut().enumerate() {
                    *o = (0..k).map(|c| x[r * k + c] * w[c * n + j]).sum::<f32>() + b[j];
                }
            }
            for (i, (g, want)) in got.iter().zip(&portable).enumerate() {
                let tolerance = 1e-5 * (k as f32).sqrt().max(1.0);
                assert!((g - want).abs() < tolerance, "{rows}×{k}·{k}×{n}, element {i}: {g} vs {want}");
            }
            // every kernel this CPU has gives the same sums, on every row and panel of its tiles
            let row_at: [usize; MR_512] = std::array::from_fn(|r| r.min(rows - 1) * k);
            let panels = &packed.panels[..packed.panels.len().min(PANELS * k * NR)];
            let want: Vec<Tile> = panels
                .chunks_exact(k * NR)
                .map(|panel| {
                    std::array::from_fn(|r| {
                        std::array::from_fn(|j| (0..k).map(|c| x[row_at[r] + c] * panel[c * NR + j]).sum())
                    })
                })
                .collect();
            for kernel in Kernel::widest() {
                let mut got = [[[f32::NAN; NR]; MR_512]; PANELS];
                let done = kernel.tile(&x, &row_at, k, panels, &mut got);
                let whole = if want.len() >= kernel.panels() { kernel.panels() } else { 1 };
                assert_eq!(done, whole, "{kernel:?} did {done} panels of {}", want.len());
                for (q, (want, got)) in want.iter().zip(&got).take(done).enumerate() {
                    for (r, (p, g)) in want.iter().zip(got).take(kernel.rows()).enumerate() {
                        for (p, g) in p.iter().zip(g) {
                            assert!((p - g).abs() < 1e-4, "{rows}×{k}, {kernel:?} panel {q} row {r}: {p} vs {g}");
                        }
                    }
                }
            }
            // the op gives the same, through tract
            let op = Linear { weights: Arc::new(packed), gelu: false };
            let out =
                op.eval(&EvalContext::out_of_plan(), tvec!(Tensor::from_shape(&[1, rows, k], &x)?.into_tvalue()))?;
            assert_eq!(out[0].shape(), [1, rows, n]);
            assert_eq!(out[0].try_as_plain_ram()?.as_slice::<f32>()?, got.as_slice());
        }
        Ok(())
    }

    #[test]
    fn the_epilogue_applies_gelu_then_the_residual() {
        let (rows, k, n) = (9, 20, 37);
        let (x, w, b, res) = (values(rows * k, 4), values(k * n, 5), values(n, 6), values(rows * n, 7));
        let packed = PackedWeights::new(&w, k, n, &b);
        let mut plain = vec![0f32; rows * n];
        packed.apply(&x, &mut plain);
        for (gelu, residual) in [(true, None), (false, Some(res.as_slice())), (true, Some(res.as_slice()))] {
            let mut got = vec![0f32; rows * n];
            packed.apply_then(&x, &mut got, Epilogue { gelu, residual });
            for i in 0..rows * n {
                let mut want = f64::from(plain[i]);
                if gelu {
                    want = 0.5
                        * want
                        * (1.0 + f64::from(crate::kernels::erf_scalar((want / std::f64::consts::SQRT_2) as f32)));
                }
                if let Some(r) = residual {
                    want += f64::from(r[i]);
                }
                assert!(
                    (f64::from(got[i]) - want).abs() < 1e-5,
                    "gelu {gelu}, residual {}: {i}: {} vs {want}",
                    residual.is_some(),
                    got[i]
                );
            }
        }
    }

    #[test]
    fn threads_take_near_equal_shares_and_give_the_one_thread_answer() -> TractResult<()> {
        use tract_linalg::multithread::{Executor, multithread_tract_scope};
        let pool = Executor::multithread(3);
        // (first unit, units) of each share of 43 units of 2 floats, each unit done once
        let shares_of = |grain: usize| {
            let mut out = vec![0f32; 43 * 2];
            let shares = std::sync::Mutex::new(Vec::new());
            multithread_tract_scope(pool.clone(), || {
                split_rows(&mut out, 2, 43, grain, usize::MAX, |first, chunk| {
                    chunk.iter_mut().for_each(|x| *x += 1.0);
                    shares.lock().unwrap().push((first, chunk.len() / 2));
                })
            });
            assert!(out.iter().all(|&x| x == 1.0), "grain {grain}: a unit was missed or done twice: {out:?}");
            let mut shares = shares.into_inner().unwrap();
            shares.sort();
            shares
        };
        // 14 or 15 units a thread; in whole grains of 4 (11, the last short), 3, 4 and 4 of them
        assert_eq!(shares_of(1), [(0, 14), (14, 14), (28, 15)]);
        assert_eq!(shares_of(4), [(0, 12), (12, 16), (28, 15)]);
        let mut out = vec![0f32; 43 * 2];
        // too little work stays on the calling thread, in one piece
        let calls = std::sync::atomic::AtomicUsize::new(0);
        multithread_tract_scope(pool.clone(), || {
            split_rows(&mut out, 2, 43, 1, THREADING_MACS - 1, |_, _| {
                calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            })
        });
        assert_eq!(calls.into_inner(), 1);
        // a projection with a residual on three threads is the one-thread projection
        let (rows, k, n) = (517, 384, 200);
        let op = Linear { weights: Arc::new(PackedWeights::new(&values(k * n, 8), k, n, &values(n, 9))), gelu: true };
        let inputs = || -> TractResult<TVec<TValue>> {
            Ok(tvec!(
                Tensor::from_shape(&[rows, k], &values(rows * k, 10))?.into_tvalue(),
                Tensor::from_shape(&[rows, n], &values(rows * n, 11))?.into_tvalue()
            ))
        };
        let one = op.eval(&EvalContext::out_of_plan(), inputs()?)?;
        let three = multithread_tract_scope(pool, || op.eval(&EvalContext::out_of_plan(), inputs()?))?;
        assert_eq!(one[0].try_as_plain_ram()?.as_slice::<f32>()?, three[0].try_as_plain_ram()?.as_slice::<f32>()?);
        Ok(())
    }
}
