#!/usr/bin/env bash
# Idempotent: the JSON Resume v1 schema from the npm package `resume-schema@1.0.1`
# (MIT), hash-checked, in ${PERSONALIZATION_CACHE:-~/.cache/personalization}/json-resume/schema.json.
# stdout: exactly one line `export PERSONALIZATION_JSON_RESUME_SCHEMA=<path>`.
set -euo pipefail
exec 3>&1 1>&2
cache="${PERSONALIZATION_CACHE:-$HOME/.cache/personalization}"
dir="$cache/json-resume"
tarball_sha256=32a7af7bd313802ca94184e0918b4f9d4a375bd5c278ecb85cd8d76da1a5b1b7
if [ ! -s "$dir/schema.json" ] || [ "$(cat "$dir/.sha256" 2>/dev/null)" != "$tarball_sha256" ]; then
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent resume-schema@1.0.1 >/dev/null)
  got=$(sha256sum "$tmp/resume-schema-1.0.1.tgz" | cut -d' ' -f1)
  if [ "$got" != "$tarball_sha256" ]; then
    echo "json_resume_schema: resume-schema-1.0.1.tgz has SHA-256 $got, expected $tarball_sha256" >&2
    exit 1
  fi
  tar -xzf "$tmp/resume-schema-1.0.1.tgz" -C "$tmp" package/schema.json
  mkdir -p "$dir"
  mv "$tmp/package/schema.json" "$dir/schema.json"
  echo "$tarball_sha256" > "$dir/.sha256"
fi
echo "export PERSONALIZATION_JSON_RESUME_SCHEMA=$dir/schema.json" >&3
