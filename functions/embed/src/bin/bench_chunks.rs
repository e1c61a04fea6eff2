//! Search quality by chunk size: indexes every text document of a folder (the
//! labelled `../shared/testdata/`) as one user's chunks at each (size, overlap),
//! then asks two kinds of questions and scores the ranking of the chunk that
//! holds the answer:
//! - skills: "experience with {skill}" for each skill a person listed in
//!   `gold/gold_facts.tsv`; relevant = a chunk of that person's document naming the skill;
//! - passages: every 4th line of 8+ words, with every third word dropped;
//!   relevant = a chunk of the same document containing the original line.
//!
//! Reports hit@1, hit@5 and MRR per setting. The model runs with a token limit
//! equal to the chunk size, so 512-token chunks are embedded whole.
//! `cargo run --release -p embed --bin bench_chunks -- ../shared/testdata [SIZE/OVERLAP ...]`

use domain::chunking::{ChunkConfig, TextChunk, chunk_pages};
use domain::{Limits, PageText};
use ports::{EmbedderTokens, TextEmbedder, cosine};
use std::path::{Path, PathBuf};

struct Doc {
    path: String,
    pages: Vec<PageText>,
}

struct Query {
    text: String,
    doc: usize,
    /// A chunk is relevant when it contains this (lower case).
    needle: String,
    kind: &'static str,
}

fn load_docs(root: &Path) -> Result<Vec<Doc>, Box<dyn std::error::Error>> {
    let manifest = std::fs::read_to_string(root.join("manifest.tsv"))?;
    let mut docs = Vec::new();
    for line in manifest.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let path = line.split('\t').next().unwrap_or_default().to_owned();
        let bytes = std::fs::read(root.join(&path))?;
        let Ok(inspection) = documents::inspect(&bytes, &Limits::default()) else { continue };
        if inspection.content_type.is_image() {
            continue;
        }
        let pages = documents::extract_text(inspection.content_type, &bytes)?;
        docs.push(Doc { path, pages });
    }
    Ok(docs)
}

fn queries(root: &Path, docs: &[Doc]) -> Vec<Query> {
    let mut out = Vec::new();
    if let Ok(gold) = std::fs::read_to_string(root.join("gold/gold_facts.tsv")) {
        for line in gold.lines().skip(1) {
            let cells: Vec<&str> = line.split('\t').collect();
            let (Some(path), Some(skills)) = (cells.first(), cells.get(3)) else { continue };
            let Some(doc) = docs.iter().position(|d| d.path == *path) else { continue };
            let text: String = docs[doc].pages.iter().map(|p| p.text.to_lowercase()).collect();
            for skill in skills.split(';').map(str::trim).filter(|s| !s.is_empty()) {
                if text.contains(&skill.to_lowercase()) {
                    out.push(Query {
                        text: format!("experience with {skill}"),
                        doc,
                        needle: skill.to_lowercase(),
                        kind: "skills",
                    });
                }
            }
        }
    }
    for (doc, d) in docs.iter().enumerate() {
        let lines: Vec<&str> = d.pages.iter().flat_map(|p| p.text.lines()).collect();
        for line in lines.iter().filter(|l| l.split_whitespace().count() >= 8).step_by(4) {
            let words: Vec<&str> = line.split_whitespace().collect();
            let text: Vec<&str> = words.iter().enumerate().filter(|(i, _)| i % 3 != 2).map(|(_, w)| *w).collect();
            // Match on the normalised line, since chunks are compared in the same form.
            out.push(Query { text: text.join(" "), doc, needle: words.join(" ").to_lowercase(), kind: "passages" });
        }
    }
    out
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let root = PathBuf::from(args.next().ok_or("usage: bench_chunks TESTDATA_DIR [SIZE/OVERLAP ...]")?);
    let mut settings: Vec<(usize, usize)> = args
        .map(|a| {
            let (s, o) = a.split_once('/').unwrap_or((&a, "50"));
            Ok::<_, std::num::ParseIntError>((s.parse()?, o.parse()?))
        })
        .collect::<Result<_, _>>()?;
    if settings.is_empty() {
        settings = vec![(128, 25), (256, 50), (512, 50)];
    }
    let model = std::env::var("PERSONALIZATION_EMBEDDING_MODEL")?;
    let docs = load_docs(&root)?;
    let queries = queries(&root, &docs);
    let base = embedding::Embedder::load(model.as_ref())?;
    let query_texts: Vec<&str> = queries.iter().map(|q| q.text.as_str()).collect();
    let query_vectors: Vec<Vec<f32>> =
        query_texts.chunks(32).map(|b| base.embed(b)).collect::<Result<Vec<_>, _>>()?.concat();
    println!("{} documents, {} queries", docs.len(), queries.len());
    println!(
        "{:>8} {:>8} {:>7} {:>9} | {:>10} {:>6} {:>6} {:>6}",
        "size", "overlap", "chunks", "embed s", "queries", "hit@1", "hit@5", "MRR"
    );
    for (size, overlap) in settings {
        let config = ChunkConfig::new(size, overlap)?;
        let embedder = embedding::Embedder::load(model.as_ref())?.with_max_tokens(size)?;
        let mut chunks: Vec<(usize, TextChunk)> = Vec::new();
        for (i, d) in docs.iter().enumerate() {
            let tokens = EmbedderTokens(&embedder as &dyn TextEmbedder);
            chunks.extend(chunk_pages(&d.pages, config, &tokens)?.into_iter().map(|c| (i, c)));
        }
        let normalised: Vec<String> =
            chunks.iter().map(|(_, c)| c.text.split_whitespace().collect::<Vec<_>>().join(" ")).collect();
        let started = std::time::Instant::now();
        let mut vectors = Vec::new();
        for batch in normalised.chunks(8) {
            let refs: Vec<&str> = batch.iter().map(String::as_str).collect();
            vectors.extend(embedder.embed(&refs)?);
        }
        let seconds = started.elapsed().as_secs_f64();
        let lower: Vec<String> = normalised.iter().map(|t| t.to_lowercase()).collect();
        for kind in ["skills", "passages", "all"] {
            let (mut n, mut hit1, mut hit5, mut rr) = (0usize, 0usize, 0usize, 0f64);
            for (q, qv) in queries.iter().zip(&query_vectors).filter(|(q, _)| kind == "all" || q.kind == kind) {
                let mut ranked: Vec<(f32, usize)> =
                    vectors.iter().enumerate().map(|(i, v)| (cosine(qv, v), i)).collect();
                ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
                let relevant = |i: usize| chunks[i].0 == q.doc && lower[i].contains(&q.needle);
                if !(0..chunks.len()).any(relevant) {
                    continue; // the answer was cut across chunks at this size
                }
                n += 1;
                if let Some(rank) = ranked.iter().position(|(_, i)| relevant(*i)) {
                    hit1 += usize::from(rank == 0);
                    hit5 += usize::from(rank < 5);
                    rr += 1.0 / (rank + 1) as f64;
                }
            }
            let d = n.max(1) as f64;
            println!(
                "{size:>8} {overlap:>8} {:>7} {seconds:>9.1} | {:>10} {:>6.3} {:>6.3} {:>6.3}",
                chunks.len(),
                format!("{kind} {n}"),
                hit1 as f64 / d,
                hit5 as f64 / d,
                rr / d
            );
        }
    }
    Ok(())
}
