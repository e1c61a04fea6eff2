#!/usr/bin/env bash
# Builds the "rendered set" used to evaluate the résumé parser: every JSON Resume in
# tests/corpus/rendered/resumes/ (the gold) rendered through every theme listed in
# tests/corpus/rendered/themes.tsv to tests/corpus/rendered/pdf/<theme>/<resume>.pdf.
# 1. installs each pinned theme from npm into its own folder under
#    ${PERSONALIZATION_CACHE:-~/.cache/personalization}/themes/<package>@<version> (skipped when present);
# 2. runs render_themes.mjs: theme.render() -> HTML -> headless Chromium print-to-pdf,
#    then checks the text layer (pdftotext) holds the person's name, and prints a summary.
# Re-runnable: PDFs are overwritten, their timestamps pinned; pdf/ folders of themes no
# longer in themes.tsv are removed. THEMES=even,flat renders only those themes.
# resumes/sample.json is package/sample.resume.json of npm resume-schema@1.0.0, verbatim;
# the other resumes are invented. Needs node 20, npm, chromium and poppler-utils.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
set_dir="$root/tests/corpus/rendered"
cache="${PERSONALIZATION_CACHE:-$HOME/.cache/personalization}/themes"
for cmd in node npm "${CHROMIUM:-chromium}" pdftotext pdfinfo; do
  command -v "$cmd" >/dev/null || { echo "render_themes: $cmd not found" >&2; exit 1; }
done

themes=()
while IFS=$'\t' read -r theme pkg version _; do
  themes+=("$theme")
  dir="$cache/$pkg@$version"
  [ -f "$dir/.installed" ] && continue
  echo "installing $pkg@$version"
  rm -rf "$dir" && mkdir -p "$dir" && echo '{"private": true}' > "$dir/package.json"
  if npm install --prefix "$dir" --no-audit --no-fund --ignore-scripts --loglevel=error "$pkg@$version"; then
    touch "$dir/.installed"
  else
    echo "render_themes: install of $pkg@$version failed" >&2
  fi
done < <(tail -n +2 "$set_dir/themes.tsv")

if [ -z "${THEMES:-}" ] && [ -d "$set_dir/pdf" ]; then
  for d in "$set_dir"/pdf/*/; do
    [[ " ${themes[*]} " == *" $(basename "$d") "* ]] || { echo "removing stale $d"; rm -rf "$d"; }
  done
fi

start=$SECONDS
status=0
node "$root/infra/scripts/render_themes.mjs" "$set_dir/themes.tsv" "$set_dir/resumes" "$set_dir/pdf" "$cache" || status=$?
echo "rendered in $((SECONDS - start)) s; pdf/ is $(du -sh "$set_dir/pdf" | cut -f1)"
exit $status
