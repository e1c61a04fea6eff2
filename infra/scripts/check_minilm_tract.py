#!/usr/bin/env python3
"""Load OUT_DIR/model.onnx with tract (PyPI `tract`, the Python bindings of the
same engine tract-onnx uses) and compare with onnxruntime; times tract.

Usage:  python check_minilm_tract.py OUT_DIR
Needs: numpy, onnxruntime, tokenizers, tract (pip install tract==0.23.9).
"""
import sys
import time

import numpy as np
import onnxruntime as ort
import tract
from tokenizers import Tokenizer

out_dir = sys.argv[1]
path = f"{out_dir}/model.onnx"
tok = Tokenizer.from_file(f"{out_dir}/tokenizer.json")
tok.enable_truncation(max_length=256)
tok.enable_padding(pad_id=0, pad_token="[PAD]")
S = ["This is an example sentence", "Each sentence is converted.", "", "Café déjà vu — 東京",
     "Led a team of five to migrate a monolith to AWS Lambda, cutting costs by 40%."]
enc = tok.encode_batch(S)
ids, mask, tt = (np.array([getattr(e, a) for e in enc], dtype=np.int64) for a in ("ids", "attention_mask", "type_ids"))

t = time.time()
model = tract.onnx().load(path).into_model()  # batch/sequence stay symbolic
print("tract", tract.version(), "inputs", [str(f) for f in model.input_facts()],
      "outputs", [(model.output_name(i), str(f)) for i, f in enumerate(model.output_facts())])
run = model.into_runnable()
print(f"load+optimise {time.time() - t:.1f}s")
outs = [o.to_numpy() for o in run.run([ids, mask, tt])]
so = ort.SessionOptions()
so.intra_op_num_threads = 2
ref = ort.InferenceSession(path, so).run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": tt})
m = mask.astype(bool)
print("last_hidden_state tract vs ort, real tokens max|diff|:", float(np.abs(outs[0] - ref[0])[m].max()))
print("sentence_embedding tract vs ort max|diff|:", float(np.abs(outs[1] - ref[1]).max()))
solo = run.run([ids[:1, :7], mask[:1, :7], tt[:1, :7]])[1].to_numpy()
print("same runnable, other shape, max|diff|:", float(np.abs(solo[0] - outs[1][0]).max()))
for name, (b, s) in {"batch 32 x 27": (32, 27), "1 x 512": (1, 512)}.items():
    x = np.random.default_rng(0).integers(1000, 20000, (b, s)).astype(np.int64)
    feeds = [x, np.ones_like(x), np.zeros_like(x)]
    run.run(feeds)
    t = time.perf_counter()
    for _ in range(3):
        run.run(feeds)
    print(f"tract {name}: {(time.perf_counter() - t) / 3 * 1000:.0f} ms")
