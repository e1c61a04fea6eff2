//! Per-user search in the embedded vector store at scale: `users` users with
//! `per_user` 384-d vectors each, written through the `VectorStore` trait into
//! a redb file in a temp dir, then random users searched for their top 10:
//! the first search of a user (index read from disk) and later ones (in memory).
//! `cargo run --release -p embedded --bin bench_vectors -- [USERS] [PER_USER] [QUERIES]`

use domain::{DocumentId, UserId};
use embedded::{EmbeddedDb, RedbVectorStore};
use ports::{ChunkVector, VECTOR_DIMENSIONS, VectorStore};
use std::time::Instant;

/// Deterministic unit vectors (xorshift), no extra crate.
fn vector(seed: u64) -> Vec<f32> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let v: Vec<f32> = (0..VECTOR_DIMENSIONS)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            ((x >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0) as f32
        })
        .collect();
    let norm = v.iter().map(|a| a * a).sum::<f32>().sqrt();
    v.into_iter().map(|a| a / norm).collect()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<u64>());
    let users = args.next().transpose()?.unwrap_or(1000);
    let per_user = args.next().transpose()?.unwrap_or(1000);
    let queries = args.next().transpose()?.unwrap_or(1000);
    let dir = std::env::temp_dir().join(format!("bench-vectors-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir)?;
    let user = |u: u64| UserId::parse(&format!("user-{u:05}"));

    let started = Instant::now();
    {
        let store = RedbVectorStore::new(EmbeddedDb::open(&dir)?);
        let document = DocumentId::new();
        for u in 0..users {
            let chunks: Vec<ChunkVector> = (0..per_user)
                .map(|i| ChunkVector {
                    document_id: document,
                    chunk_id: format!("c{i}"),
                    page: 1,
                    char_start: 0,
                    char_end: 100,
                    text: String::new(),
                    model: "bench".into(),
                    embedding: vector(u * per_user + i),
                })
                .collect();
            store.upsert_chunks(&user(u)?, &chunks).await?;
        }
    }
    let load = started.elapsed().as_secs_f64();
    let size = std::fs::read_dir(&dir)?.filter_map(|e| e.ok()?.metadata().ok()).map(|m| m.len()).sum::<u64>();
    println!("{users} users x {per_user} vectors written in {load:.1} s; data dir {} MB", size / 1_000_000);

    // Reopen: nothing cached, as after a restart.
    let store = RedbVectorStore::new(EmbeddedDb::open(&dir)?);
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let (mut cold, mut warm) = (Vec::new(), Vec::new());
    let mut seen = std::collections::HashSet::new();
    for q in 0..queries {
        let u = next() % users;
        let query = vector(1 << 40 | q);
        let t = Instant::now();
        let hits = store.search(&user(u)?, &query, 10).await?;
        let ms = t.elapsed().as_secs_f64() * 1e3;
        assert_eq!(hits.len(), 10.min(per_user as usize));
        if seen.insert(u) { cold.push(ms) } else { warm.push(ms) }
    }
    // Then every query again on users now in memory.
    for q in 0..queries {
        let u = *seen.iter().nth((next() % seen.len() as u64) as usize).unwrap_or(&0);
        let query = vector(1 << 41 | q);
        let t = Instant::now();
        store.search(&user(u)?, &query, 10).await?;
        warm.push(t.elapsed().as_secs_f64() * 1e3);
    }
    for (name, v) in [("first search of a user (from disk)", &mut cold), ("in-memory search", &mut warm)] {
        v.sort_by(f64::total_cmp);
        if !v.is_empty() {
            println!(
                "{name}: n={} p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
                v.len(),
                percentile(v, 0.5),
                percentile(v, 0.99),
                v[v.len() - 1]
            );
        }
    }
    drop(store);
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
