//! Figures for the ontology: artifact size and load time, `/skills/search`
//! latency over 1,000 varied queries (warm), title → O*NET accuracy on a
//! title list, and skill-mapping precision on the gold skills when the
//! shared test data is present.
//! `bench_ontology ARTIFACT MODEL_DIR [TITLES_TSV] [TESTDATA_DIR]`

use ontology::model::{ConceptKind, Scheme};
use ontology::{Ontology, Query};
use std::path::Path;
use std::time::Instant;

/// Counts the model calls a lookup makes.
struct Counting<'a> {
    inner: &'a dyn ports::TextEmbedder,
    calls: std::sync::atomic::AtomicUsize,
}

impl ports::TextEmbedder for Counting<'_> {
    fn model_version(&self) -> &str {
        self.inner.model_version()
    }
    fn max_tokens(&self) -> usize {
        self.inner.max_tokens()
    }
    fn token_spans(&self, text: &str) -> Result<Vec<(usize, usize)>, ports::EmbedderError> {
        self.inner.token_spans(text)
    }
    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, ports::EmbedderError> {
        self.calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.inner.embed(texts)
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: bench_ontology ARTIFACT MODEL_DIR [TITLES_TSV] [TESTDATA_DIR]";
    let artifact = Path::new(args.first().ok_or(usage)?);
    let model = Path::new(args.get(1).ok_or(usage)?);
    let size = std::fs::metadata(artifact)?.len();
    let mut loads = Vec::new();
    let mut onto = None;
    for _ in 0..5 {
        let t = Instant::now();
        onto = Some(Ontology::open(artifact)?);
        loads.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let onto = onto.ok_or("no load")?;
    loads.sort_by(f64::total_cmp);
    println!(
        "artifact {:.1} MB, {} concepts; load (read + indexes) median {:.0} ms, max {:.0} ms over 5",
        size as f64 / 1e6,
        onto.len(),
        loads[2],
        loads[4]
    );
    let embedder = embedding::Embedder::load(model)?;

    // 1,000 varied queries: labels, aliases, lower-cased, misspelt, gazetteer
    // names, multi-word descriptions of skills, nonsense.
    let c = onto.catalogue();
    let skills: Vec<&ontology::model::Concept> =
        c.concepts.iter().filter(|x| x.kind != ConceptKind::Occupation).collect();
    let mut queries: Vec<String> = Vec::new();
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    };
    for i in 0..1000 {
        let concept = skills[next(skills.len())];
        let q = match i % 10 {
            0..=2 => concept.label.clone(),
            3 => concept.aliases.first().cloned().unwrap_or_else(|| concept.label.clone()),
            4 => concept.label.to_lowercase(),
            5 => {
                // one letter dropped
                let chars: Vec<char> = concept.label.chars().collect();
                let at = next(chars.len().max(1));
                chars.iter().enumerate().filter(|(k, _)| *k != at).map(|(_, ch)| *ch).collect()
            }
            6 | 7 => c.gazetteer[next(c.gazetteer.len())].clone(),
            8 => ["people management", "talking to customers", "fixing cars", "writing reports", "cloud computing"]
                [next(5)]
            .to_owned(),
            _ => format!("zq{}xv", next(100_000)),
        };
        queries.push(q);
    }
    // Warm-up.
    for q in queries.iter().take(20) {
        onto.search(&Query::skills(q, 10), Some(&embedder))?;
    }
    let counting = Counting { inner: &embedder, calls: Default::default() };
    let mut times = Vec::new();
    let mut semantic = 0;
    let mut empty = 0;
    let mut by_kind = [0usize; 10];
    for (i, q) in queries.iter().enumerate() {
        let before = counting.calls.load(std::sync::atomic::Ordering::Relaxed);
        let t = Instant::now();
        let hits = onto.search(&Query::skills(q, 10), Some(&counting))?;
        if counting.calls.load(std::sync::atomic::Ordering::Relaxed) > before {
            by_kind[i % 10] += 1;
        }
        times.push(t.elapsed().as_secs_f64() * 1e3);
        semantic += usize::from(hits.iter().any(|h| h.reason == ontology::MatchReason::Semantic));
        empty += usize::from(hits.is_empty());
    }
    let mut sorted = times.clone();
    sorted.sort_by(f64::total_cmp);
    println!(
        "skills search, 1,000 varied queries, warm, one thread: p50 {:.3} ms, p90 {:.3} ms, p99 {:.3} ms, max {:.3} ms ({} answered semantically, {} with no hit, {} needed the model)",
        percentile(&sorted, 0.5),
        percentile(&sorted, 0.9),
        percentile(&sorted, 0.99),
        sorted[sorted.len() - 1],
        semantic,
        empty,
        counting.calls.load(std::sync::atomic::Ordering::Relaxed)
    );

    println!(
        "  model calls by query kind: labels {}, aliases {}, lower-cased {}, misspelt {}, gazetteer names {}, descriptions {}, nonsense {}",
        by_kind[0] + by_kind[1] + by_kind[2],
        by_kind[3],
        by_kind[4],
        by_kind[5],
        by_kind[6] + by_kind[7],
        by_kind[8],
        by_kind[9]
    );
    // Where a semantic answer's time goes: the query's embedding, the scan.
    let probe: Vec<&str> = ["people management", "talking to customers", "fixing cars", "writing reports"].to_vec();
    let t = Instant::now();
    let mut vectors = Vec::new();
    for _ in 0..25 {
        for q in &probe {
            vectors.push(ports::TextEmbedder::embed(&embedder, &[q])?.remove(0));
        }
    }
    let embed_ms = t.elapsed().as_secs_f64() * 1e3 / 100.0;
    let t = Instant::now();
    for v in &vectors {
        std::hint::black_box(onto.nearest(v, 40, |_| true));
    }
    let scan_ms = t.elapsed().as_secs_f64() * 1e3 / 100.0;
    println!(
        "a semantic answer: query embedding {embed_ms:.2} ms, scan of {} vectors {scan_ms:.2} ms (means of 100)",
        onto.len()
    );

    if let Some(titles) = args.get(2) {
        let text = std::fs::read_to_string(titles)?;
        let (mut top1, mut top3, mut n) = (0, 0, 0);
        let mut misses = Vec::new();
        for line in text.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
            let Some((title, code)) = line.split_once('\t') else { continue };
            let mut q = Query::occupations(title, 3);
            q.scheme = Some(Scheme::Onet);
            let hits = onto.search(&q, Some(&embedder))?;
            let codes: Vec<&str> =
                hits.iter().map(|h| onto.concept(h.concept).id.trim_start_matches("onet:")).collect();
            n += 1;
            top1 += usize::from(codes.first() == Some(&code.trim()));
            top3 += usize::from(codes.contains(&code.trim()));
            if codes.first() != Some(&code.trim()) {
                misses.push(format!("{title} → {:?} (expected {code})", codes));
            }
        }
        println!(
            "titles → O*NET-SOC: top-1 {top1}/{n} = {:.3}, top-3 {top3}/{n} = {:.3}",
            top1 as f64 / n as f64,
            top3 as f64 / n as f64
        );
        for m in misses {
            println!("  miss: {m}");
        }
    }

    if let Some(dir) = args.get(3) {
        let gold = Path::new(dir).join("gold/gold_facts.tsv");
        match std::fs::read_to_string(&gold) {
            Err(_) => println!("skill mapping: {} not found, skipped", gold.display()),
            Ok(text) => {
                let mut header: Vec<&str> = Vec::new();
                let mut mapped = Vec::new();
                let mut unmapped = Vec::new();
                for line in text.lines() {
                    let cols: Vec<&str> = line.split('\t').collect();
                    if header.is_empty() {
                        header = cols;
                        continue;
                    }
                    let Some(i) = header.iter().position(|h| *h == "gold_skills") else { continue };
                    for skill in cols.get(i).copied().unwrap_or("").split(';').map(str::trim).filter(|s| !s.is_empty())
                    {
                        match onto.map_skill(skill, None, Some(&embedder))? {
                            Some(m) => mapped.push((skill.to_owned(), onto.concept(m.concept).id.clone(), m)),
                            None => unmapped.push(skill.to_owned()),
                        }
                    }
                }
                println!(
                    "skill mapping on the gold skills: {} mapped, {} left free text",
                    mapped.len(),
                    unmapped.len()
                );
                for (skill, id, m) in &mapped {
                    let label = &onto.concept(m.concept).label;
                    println!("  {skill:<24} → {id:<48} {label} ({:.2}, {})", m.score, m.reason.as_str());
                }
                println!("  unmapped: {}", unmapped.join(", "));
            }
        }
    }
    Ok(())
}
