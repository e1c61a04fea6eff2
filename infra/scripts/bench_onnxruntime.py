"""The Python side of the embedding benchmark: onnxruntime on the same ONNX file,
the same tokenizer.json and the same inputs as `bench_embed` (Rust, tract).

usage: bench_onnxruntime.py MODEL_DIR THREADS REPS
prints one JSON object: cold start and medians for a batch of 32 short
sentences and one 512-token chunk (interpreter from PERSONALIZATION_PYTHON,
venv from infra/requirements-bench.txt).
"""
import json
import statistics
import sys
import time

start = time.perf_counter()
import numpy as np  # noqa: E402
import onnxruntime as ort  # noqa: E402
from tokenizers import Tokenizer  # noqa: E402

model_dir, threads, reps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
options = ort.SessionOptions()
options.intra_op_num_threads = threads
options.inter_op_num_threads = 1
session = ort.InferenceSession(f"{model_dir}/model.onnx", options, providers=["CPUExecutionProvider"])
tokenizer = Tokenizer.from_file(f"{model_dir}/tokenizer.json")
output = "sentence_embedding" if any(o.name == "sentence_embedding" for o in session.get_outputs()) else None


def embed(texts, max_tokens):
    tokenizer.enable_truncation(max_tokens)
    tokenizer.enable_padding()
    enc = tokenizer.encode_batch(texts)
    ids = np.array([e.ids for e in enc], dtype=np.int64)
    mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
    feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
    names = [i.name for i in session.get_inputs()]
    return session.run([output] if output else None, {k: v for k, v in feeds.items() if k in names})[0]


embed(["warm-up sentence"], 256)
cold = time.perf_counter() - start

short = [f"Led a team of {i} engineers to ship the payments platform on time" for i in range(32)]
long = "Designed and operated distributed data pipelines processing billions of events per day. " * 40


def median(f):
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


m_short = median(lambda: embed(short, 256))
m_long = median(lambda: embed([long], 512))
print(json.dumps({
    "engine": f"onnxruntime {ort.__version__}",
    "threads": threads,
    "cold_start_ms": cold * 1e3,
    "short_batch_ms": m_short * 1e3,
    "sentences_per_s": 32 / m_short,
    "chunk_ms": m_long * 1e3,
    "chunks_per_s": 1 / m_long,
}))
