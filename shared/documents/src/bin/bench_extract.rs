//! Speed and fidelity of the PDF text extractor.
//!
//! ```text
//! cargo run --release -p documents --bin bench_extract -- [--reps N] [--py-reps N]
//!     [--generated N] [--pages N] [--no-python] [DIR...]
//! ```
//!
//! For every PDF in the given directories (default: `../shared/testdata/docs`
//! relative to the workspace root) plus `--generated` PDFs built here
//! (`--pages` pages of dense text each), it times `documents::pdf::extract_pages`
//! single-threaded (median of `--reps` runs after one warm-up), times
//! pdfplumber's `page.extract_text()` through `infra/scripts/bench_pdfplumber.py`
//! (interpreter from `PERSONALIZATION_PYTHON`, default `python3`), and measures
//! fidelity against `pdftotext FILE -`: the share of its words (whitespace
//! split, lower-cased, punctuation trimmed, as a multiset) found in our text.

use documents::pdf::extract_pages;
use lopdf::{Dictionary, Document, Object, Stream, dictionary};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

struct Options {
    dirs: Vec<PathBuf>,
    reps: usize,
    py_reps: usize,
    generated: usize,
    pages: usize,
    python: bool,
}

struct Row {
    path: PathBuf,
    generated: bool,
    pages: usize,
    ours_s: Option<f64>,
    error: Option<String>,
    text: String,
    plumber_s: Option<f64>,
    fidelity: Option<f64>,
    /// The same with every CJK character counted as a word.
    fidelity_cjk: Option<f64>,
}

fn main() {
    let options = match parse_args() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(2);
        }
    };
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");

    let mut files: Vec<(PathBuf, bool)> = Vec::new();
    for dir in &options.dirs {
        match std::fs::read_dir(dir) {
            Ok(entries) => {
                let mut found: Vec<PathBuf> = entries
                    .filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("pdf")))
                    .collect();
                found.sort();
                files.extend(found.into_iter().map(|p| (p, false)));
            }
            Err(error) => eprintln!("skipping {}: {error}", dir.display()),
        }
    }
    let scratch = std::env::temp_dir().join(format!("bench_extract_{}", std::process::id()));
    if options.generated > 0 {
        if let Err(error) = std::fs::create_dir_all(&scratch) {
            eprintln!("cannot create {}: {error}", scratch.display());
            std::process::exit(1);
        }
        for i in 0..options.generated {
            let path = scratch.join(format!("generated_{i:02}.pdf"));
            let bytes = generate_pdf(i as u64 + 1, options.pages);
            if let Err(error) = std::fs::write(&path, bytes) {
                eprintln!("cannot write {}: {error}", path.display());
                std::process::exit(1);
            }
            files.push((path, true));
        }
    }
    if files.is_empty() {
        eprintln!("no PDFs to measure");
        std::process::exit(1);
    }

    // Our extractor: one warm-up, then the median of `reps` runs.
    let mut rows: Vec<Row> = Vec::new();
    for (path, generated) in &files {
        let mut row = Row {
            path: path.clone(),
            generated: *generated,
            pages: 0,
            ours_s: None,
            error: None,
            text: String::new(),
            plumber_s: None,
            fidelity: None,
            fidelity_cjk: None,
        };
        match std::fs::read(path) {
            Ok(bytes) => match extract_pages(&bytes) {
                Ok(pages) => {
                    row.pages = pages.len();
                    row.text = pages.iter().map(|p| p.text.as_str()).collect::<Vec<_>>().join("\n");
                    let mut times = Vec::with_capacity(options.reps);
                    for _ in 0..options.reps {
                        let start = Instant::now();
                        let result = extract_pages(std::hint::black_box(&bytes));
                        times.push(start.elapsed().as_secs_f64());
                        std::hint::black_box(result.ok());
                    }
                    row.ours_s = median(&mut times);
                }
                Err(error) => row.error = Some(error.to_string()),
            },
            Err(error) => row.error = Some(error.to_string()),
        }
        rows.push(row);
    }

    if options.python {
        run_pdfplumber(&workspace, &options, &mut rows);
    }
    for row in &mut rows {
        if let Some(reference) = pdftotext(&row.path) {
            row.fidelity = Some(fidelity(&words(&reference, false), &words(&row.text, false)));
            row.fidelity_cjk = Some(fidelity(&words(&reference, true), &words(&row.text, true)));
        }
    }
    report(&rows, &options);
    if options.generated > 0 {
        let _ = std::fs::remove_dir_all(&scratch);
    }
}

fn parse_args() -> Result<Options, String> {
    let mut options = Options { dirs: Vec::new(), reps: 7, py_reps: 3, generated: 10, pages: 20, python: true };
    let mut args = std::env::args().skip(1);
    let number = |value: Option<String>, flag: &str| -> Result<usize, String> {
        value.and_then(|v| v.parse().ok()).ok_or_else(|| format!("{flag} needs a number"))
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--reps" => options.reps = number(args.next(), "--reps")?.max(1),
            "--py-reps" => options.py_reps = number(args.next(), "--py-reps")?.max(1),
            "--generated" => options.generated = number(args.next(), "--generated")?,
            "--pages" => options.pages = number(args.next(), "--pages")?.max(1),
            "--no-python" => options.python = false,
            "-h" | "--help" => {
                return Err(
                    "usage: bench_extract [--reps N] [--py-reps N] [--generated N] [--pages N] [--no-python] [DIR...]"
                        .into(),
                );
            }
            flag if flag.starts_with("--") => return Err(format!("unknown option {flag}")),
            dir => options.dirs.push(PathBuf::from(dir)),
        }
    }
    if options.dirs.is_empty() {
        options.dirs.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/docs"));
    }
    Ok(options)
}

fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    Some(if values.len().is_multiple_of(2) { (values[mid - 1] + values[mid]) / 2.0 } else { values[mid] })
}

fn run_pdfplumber(workspace: &Path, options: &Options, rows: &mut [Row]) {
    let python = std::env::var("PERSONALIZATION_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = workspace.join("infra/scripts/bench_pdfplumber.py");
    eprintln!("running pdfplumber ({python}) over {} files, {} runs each...", rows.len(), options.py_reps);
    let output = Command::new(&python)
        .arg(&script)
        .arg("--reps")
        .arg(options.py_reps.to_string())
        .args(rows.iter().map(|r| r.path.as_os_str()))
        .output();
    let output = match output {
        Ok(output) => output,
        Err(error) => {
            eprintln!("pdfplumber not run: {python}: {error}");
            return;
        }
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    // One JSON object per file, in argument order.
    for (row, line) in rows.iter_mut().zip(stdout.lines()) {
        row.plumber_s = json_number(line, "median_s");
    }
    if !output.status.success() {
        eprintln!("pdfplumber script failed: {}", String::from_utf8_lossy(&output.stderr).trim());
    }
}

/// The number after `"key":` in a flat JSON object line, if any.
fn json_number(line: &str, key: &str) -> Option<f64> {
    let pattern = format!("\"{key}\":");
    let rest = line[line.find(&pattern)? + pattern.len()..].trim_start();
    let end = rest.find([',', '}']).unwrap_or(rest.len());
    rest[..end].trim().parse().ok()
}

fn pdftotext(path: &Path) -> Option<String> {
    let output = Command::new("pdftotext").arg(path).arg("-").output().ok()?;
    output.status.success().then(|| String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Multiset of normalised words: lower-cased, punctuation trimmed at the
/// ends, ligatures and hyphen variants folded.
fn words(text: &str, split_cjk: bool) -> HashMap<String, usize> {
    let mut folded = String::with_capacity(text.len());
    for c in text.chars() {
        if split_cjk && is_cjk(c) {
            folded.push(' ');
            folded.push(c);
            folded.push(' ');
            continue;
        }
        match c {
            '\u{FB00}' => folded.push_str("ff"),
            '\u{FB01}' => folded.push_str("fi"),
            '\u{FB02}' => folded.push_str("fl"),
            '\u{FB03}' => folded.push_str("ffi"),
            '\u{FB04}' => folded.push_str("ffl"),
            '\u{0132}' => folded.push_str("IJ"),
            '\u{0133}' => folded.push_str("ij"),
            // Hyphen variants, and runs of them, count as one hyphen.
            '-' | '\u{00AD}' | '\u{2010}' | '\u{2011}' | '\u{2212}' => {
                if !folded.ends_with('-') {
                    folded.push('-');
                }
            }
            c => folded.push(c),
        }
    }
    let mut out = HashMap::new();
    for word in folded.split_whitespace() {
        let word = word.trim_matches(|c: char| c.is_ascii_punctuation() || "“”‘’«»–—•·…‹›".contains(c));
        if !word.is_empty() {
            *out.entry(word.to_lowercase()).or_insert(0) += 1;
        }
    }
    out
}

/// CJK ideographs and punctuation, which are written without spaces.
fn is_cjk(c: char) -> bool {
    matches!(c, '\u{3000}'..='\u{303F}' | '\u{3400}'..='\u{9FFF}' | '\u{F900}'..='\u{FAFF}' | '\u{FF00}'..='\u{FFEF}')
}

fn fidelity(reference: &HashMap<String, usize>, ours: &HashMap<String, usize>) -> f64 {
    let total: usize = reference.values().sum();
    if total == 0 {
        return 1.0;
    }
    let found: usize = reference.iter().map(|(w, n)| (*n).min(ours.get(w).copied().unwrap_or(0))).sum();
    found as f64 / total as f64
}

fn report(rows: &[Row], options: &Options) {
    let rate = |s: Option<f64>| s.filter(|s| *s > 0.0).map(|s| 1.0 / s);
    println!(
        "ours: median of {} runs (after 1 warm-up); pdfplumber: median of {} runs; fidelity: share of \
         `pdftotext FILE -` words found in ours (fid-cjk: each CJK character counted as a word)",
        options.reps, options.py_reps
    );
    println!(
        "{:<48} {:>5} {:>11} {:>11} {:>9} {:>8} {:>8}",
        "file", "pages", "ours doc/s", "plumb doc/s", "speedup", "fidelity", "fid-cjk"
    );
    for row in rows {
        let name = row.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let name = if row.generated { format!("[gen] {name}") } else { name };
        if let Some(error) = &row.error {
            println!("{name:<48} error: {error}");
            continue;
        }
        let fmt = |v: Option<f64>, precision: usize| v.map_or("n/a".to_string(), |v| format!("{v:.precision$}"));
        let speedup = match (row.ours_s, row.plumber_s) {
            (Some(ours), Some(plumber)) if ours > 0.0 => Some(plumber / ours),
            _ => None,
        };
        println!(
            "{name:<48} {:>5} {:>11} {:>11} {:>8}x {:>8} {:>8}",
            row.pages,
            fmt(rate(row.ours_s), 1),
            fmt(rate(row.plumber_s), 2),
            fmt(speedup, 1),
            fmt(row.fidelity, 3),
            fmt(row.fidelity_cjk, 3),
        );
    }
    for (label, generated) in [("testdata", false), ("generated", true)] {
        let group: Vec<&Row> = rows.iter().filter(|r| r.generated == generated && r.error.is_none()).collect();
        if group.is_empty() {
            continue;
        }
        let fidelities: Vec<f64> = group.iter().filter_map(|r| r.fidelity).collect();
        let mean_fidelity = (!fidelities.is_empty()).then(|| fidelities.iter().sum::<f64>() / fidelities.len() as f64);
        let min_fidelity = fidelities.iter().copied().fold(f64::INFINITY, f64::min);
        let cjk: Vec<f64> = group.iter().filter_map(|r| r.fidelity_cjk).collect();
        let mean_cjk = (!cjk.is_empty()).then(|| cjk.iter().sum::<f64>() / cjk.len() as f64);
        let ours_total: f64 = group.iter().filter_map(|r| r.ours_s).sum();
        let paired: Vec<(f64, f64)> = group.iter().filter_map(|r| Some((r.ours_s?, r.plumber_s?))).collect();
        let speedups: Vec<f64> = paired.iter().filter(|(o, _)| *o > 0.0).map(|(o, p)| p / o).collect();
        let geo = (!speedups.is_empty())
            .then(|| (speedups.iter().map(|s| s.ln()).sum::<f64>() / speedups.len() as f64).exp());
        let aggregate = {
            let (o, p) = paired.iter().fold((0.0, 0.0), |(a, b), (o, p)| (a + o, b + p));
            (o > 0.0).then(|| p / o)
        };
        let min_speedup = speedups.iter().copied().fold(f64::INFINITY, f64::min);
        let pages: usize = group.iter().map(|r| r.pages).sum();
        println!(
            "summary {label}: {} files, {pages} pages; ours {:.1} docs/s ({:.0} pages/s); speedup vs pdfplumber: \
             geometric mean {}x, total time {}x, min {}x; fidelity mean {}, min {} (fid-cjk mean {})",
            group.len(),
            group.len() as f64 / ours_total.max(f64::MIN_POSITIVE),
            pages as f64 / ours_total.max(f64::MIN_POSITIVE),
            geo.map_or("n/a".into(), |v| format!("{v:.1}")),
            aggregate.map_or("n/a".into(), |v| format!("{v:.1}")),
            if speedups.is_empty() { "n/a".into() } else { format!("{min_speedup:.1}") },
            mean_fidelity.map_or("n/a".into(), |v| format!("{v:.4}")),
            if fidelities.is_empty() { "n/a".into() } else { format!("{min_fidelity:.3}") },
            mean_cjk.map_or("n/a".into(), |v| format!("{v:.4}")),
        );
    }
}

/// A `pages`-page PDF of dense text: Helvetica, 56 lines a page, words apart
/// by space glyphs on even lines and by TJ offsets only on odd lines.
fn generate_pdf(seed: u64, pages: usize) -> Vec<u8> {
    const WORDS: &[&str] = &[
        "engineer",
        "platform",
        "latency",
        "designed",
        "pipeline",
        "customers",
        "reduced",
        "service",
        "Kubernetes",
        "Python",
        "Rust",
        "analytics",
        "delivered",
        "migration",
        "reliability",
        "throughput",
        "mentored",
        "team",
        "product",
        "roadmap",
        "scalable",
        "infrastructure",
        "observability",
        "database",
        "queries",
        "improved",
        "by",
        "percent",
        "across",
        "regions",
        "the",
        "and",
        "with",
        "for",
        "of",
        "to",
        "in",
        "a",
    ];
    let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    let mut next = move || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (state >> 33) as usize
    };
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let font = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica", "Encoding" => "WinAnsiEncoding",
    });
    let resources = doc.add_object(dictionary! { "Font" => dictionary! { "F1" => font } });
    let mut kids: Vec<Object> = Vec::new();
    for page in 0..pages {
        let mut content = format!("BT /F1 9 Tf 12 TL 54 750 Td (Page {} of the generated report) Tj T* ", page + 1);
        for line in 0..56 {
            let count = 10 + next() % 4;
            let line_words: Vec<&str> = (0..count).map(|_| WORDS[next() % WORDS.len()]).collect();
            if line % 2 == 0 {
                content.push_str(&format!("({}) Tj T*\n", line_words.join(" ")));
            } else {
                let items: Vec<String> = line_words.iter().map(|w| format!("({w})")).collect();
                content.push_str(&format!("[{}] TJ T*\n", items.join(" -278 ")));
            }
        }
        content.push_str("ET");
        let stream = Stream::new(Dictionary::new(), content.into_bytes());
        let content_id = doc.add_object(stream);
        let page_id = doc.add_object(dictionary! {
            "Type" => "Page", "Parent" => pages_id, "Contents" => content_id, "Resources" => resources,
            "MediaBox" => vec![0.into(), 0.into(), 612.into(), 792.into()],
        });
        kids.push(page_id.into());
    }
    let count = kids.len() as i64;
    doc.objects
        .insert(pages_id, Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => kids, "Count" => count }));
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    doc.compress();
    let mut out = Vec::new();
    if let Err(error) = doc.save_to(&mut out) {
        eprintln!("cannot build a generated PDF: {error}");
    }
    out
}
