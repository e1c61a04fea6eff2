// Renders every JSON Resume document in RESUMES_DIR through every theme listed in
// THEMES_TSV (themes already installed by render_themes.sh under THEMES_DIR) to
// OUT_DIR/<theme>/<resume>.pdf: theme.render(resume) -> HTML in a temp dir ->
// headless Chromium --print-to-pdf (network blocked, so no web fonts or CDN CSS load).
// Old-schema field aliases are added first (see withLegacyAliases).
// Then checks that pdftotext finds the person's name, and prints a summary.
// Usage: node render_themes.mjs THEMES_TSV RESUMES_DIR OUT_DIR THEMES_DIR
// Exit code 1 if any render or name check failed.
import { pathToFileURL } from 'node:url';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const [tsv, resumesDir, outDir, themesDir] = process.argv.slice(2).map((p) => path.resolve(p));
const chromium = process.env.CHROMIUM || '/usr/bin/chromium';
const only = process.env.THEMES ? process.env.THEMES.split(',') : null; // e.g. THEMES=even,flat

const [header, ...rows] = fs.readFileSync(tsv, 'utf8').trim().split('\n').map((l) => l.split('\t'));
const themes = rows.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i]])))
  .filter((t) => !only || only.includes(t.theme));
const resumes = fs.readdirSync(resumesDir).filter((f) => f.endsWith('.json')).sort()
  .map((f) => ({ id: f.slice(0, -5), data: JSON.parse(fs.readFileSync(path.join(resumesDir, f), 'utf8')) }));
// A fixed HTML folder: Chromium resolves relative links against it into the PDF.
const tmp = path.join(os.tmpdir(), 'render-themes');
fs.rmSync(tmp, { recursive: true, force: true });
fs.mkdirSync(tmp);

// Freeze the clock themes see, so "Present"-based durations ("3 years 4 months") and
// the output stay the same from one run (and year) to the next.
const NOW = Date.parse(process.env.RENDER_NOW || '2025-07-01T12:00:00Z');
globalThis.Date = class extends Date {
  constructor(...a) { super(...(a.length ? a : [NOW])); }
  static now() { return NOW; }
};
// ... and seed Math.random (the github theme picks random label colours).
function seedRandom(seed = 42) {
  Math.random = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

// Case, spaces and hyphens ignored: themes upper-case names, and pdftotext joins a
// name wrapped at its hyphen ("Ramaswamy-\nColter" -> "RamaswamyColter").
const squash = (s) => s.normalize('NFC').toLowerCase().replace(/[\s\-\u2010]+/g, '');
const withTimeout = (p, ms, what) => Promise.race([p,
  new Promise((_, rej) => setTimeout(() => rej(new Error(`${what} timed out`)), ms).unref())]);

async function loadRender(t) {
  // import() through a stub in the theme's folder resolves the package like an app would,
  // for ESM and CommonJS themes alike. Themes run with cwd = their package folder.
  const dir = path.join(themesDir, `${t.package}@${t.version}`);
  const stub = path.join(dir, 'load-theme.mjs');
  fs.writeFileSync(stub, `export * as theme from '${t.package}';\n`);
  const { theme } = await import(pathToFileURL(stub).href);
  process.chdir(path.join(dir, 'node_modules', t.package));
  const mod = [theme, theme.default, theme.default?.default].find((m) => typeof m?.render === 'function');
  if (!mod) throw new Error('no render() export');
  return (resume) => mod.render(resume);
}

function printPdf(htmlFile, pdfFile) {
  const profile = fs.mkdtempSync(path.join(tmp, 'profile-'));
  const r = spawnSync(chromium, ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
    '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--host-resolver-rules=MAP * ~NOTFOUND', '--virtual-time-budget=5000', `--user-data-dir=${profile}`,
    '--no-pdf-header-footer', `--print-to-pdf=${pdfFile}`, `file://${htmlFile}`],
  { timeout: 120_000, encoding: 'utf8' });
  fs.rmSync(profile, { recursive: true, force: true });
  if (r.status !== 0 || !fs.existsSync(pdfFile)) throw new Error(`chromium failed: ${r.error || r.stderr.slice(-300)}`);
  // Pin the timestamps (same length, so the xref offsets stay valid).
  const buf = fs.readFileSync(pdfFile, 'latin1')
    .replace(/\/(CreationDate|ModDate) \(D:\d{14}[^)]*\)/g, (m, k) => `/${k} (D:20000101000000+00'00')`);
  fs.writeFileSync(pdfFile, buf, 'latin1');
}

// Most themes predate schema v1.0.0 and read its old field names (work[].company, not
// work[].name: without this the employer vanishes from 20 of the themes). Add those
// aliases to a copy of the resume so every theme shows the same facts as the gold.
function withLegacyAliases(resume) {
  const r = structuredClone(resume);
  const alias = (obj, oldKey, newKey) => { if (obj && obj[newKey] != null && obj[oldKey] == null) obj[oldKey] = obj[newKey]; };
  alias(r.basics, 'website', 'url');
  alias(r.basics, 'picture', 'image');
  for (const w of r.work || []) { alias(w, 'company', 'name'); alias(w, 'website', 'url'); }
  for (const v of r.volunteer || []) alias(v, 'website', 'url');
  for (const e of r.education || []) alias(e, 'gpa', 'score');
  for (const p of r.publications || []) alias(p, 'website', 'url');
  for (const l of r.languages || []) alias(l, 'name', 'language');
  return r;
}

const t0 = performance.now();
const summary = [];
for (const t of themes) {
  const row = { theme: t.theme, ok: 0, pages: [], errors: [] };
  summary.push(row);
  let render;
  try { render = await loadRender(t); } catch (e) { row.errors.push(`load: ${e.message.split('\n')[0]}`); continue; }
  fs.rmSync(path.join(outDir, t.theme), { recursive: true, force: true }); // no stale PDFs
  fs.mkdirSync(path.join(outDir, t.theme), { recursive: true });
  for (const r of resumes) {
    const pdf = path.join(outDir, t.theme, `${r.id}.pdf`);
    try {
      seedRandom();
      const html = await withTimeout(Promise.resolve(render(withLegacyAliases(r.data))), 60_000, 'render');
      if (typeof html !== 'string' || html.length < 100) throw new Error('render() returned no HTML');
      const htmlFile = path.join(tmp, `${t.theme}--${r.id}.html`);
      fs.writeFileSync(htmlFile, html);
      printPdf(htmlFile, pdf);
      const text = execFileSync('pdftotext', ['-enc', 'UTF-8', pdf, '-'], { encoding: 'utf8' });
      if (!squash(text).includes(squash(r.data.basics.name))) throw new Error('name not in text layer');
      row.pages.push(Number(/Pages:\s+(\d+)/.exec(execFileSync('pdfinfo', [pdf], { encoding: 'utf8' }))[1]));
      row.ok++;
    } catch (e) {
      row.errors.push(`${r.id}: ${e.message.split('\n')[0]}`);
    }
  }
}
fs.rmSync(tmp, { recursive: true, force: true });

console.log(`\n${'theme'.padEnd(18)} ok  pages  errors`);
for (const s of summary) {
  console.log(`${s.theme.padEnd(18)} ${s.ok}/${resumes.length} ${s.pages.join(',').padEnd(10)} ${s.errors.join('; ')}`);
}
const bad = summary.filter((s) => s.ok < resumes.length);
console.log(`\n${summary.length} themes x ${resumes.length} resumes, ${bad.length} themes with failures, ` +
  `${((performance.now() - t0) / 1000).toFixed(0)} s`);
process.exit(bad.length ? 1 : 0);
