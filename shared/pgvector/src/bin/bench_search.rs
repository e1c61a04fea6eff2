//! Benchmark of per-user vector search in PostgreSQL + pgvector: an exact scan
//! of the user's rows through the schema's btree index on `user_id`, against
//! an HNSW index queried with the same `WHERE user_id = $1 ORDER BY embedding
//! <=> $2 LIMIT 10` (pgvector 0.6 has no iterative scan: the index yields
//! `ef_search` candidates over all users and the filter then drops the other
//! users' rows, so a query may get fewer than 10 rows; those count as lost
//! recall).
//!
//! It creates a database `bench_<random>` from the admin URL, applies the real
//! migrations, loads `users x per-user` synthetic chunks with binary COPY,
//! measures p50/p99 latency and recall@10 (against brute force in Rust) for
//! raw SQL as the owner and for `PgVectorStore::search` (the production path,
//! RLS-scoped), builds the HNSW index (timed), measures it, and drops the
//! database.
//!
//! Data: unit vectors of independent Gaussian coordinates (no cluster
//! structure, a hard case for approximate search) generated deterministically
//! from (user, item) with xorshift, so the ground truth can be regenerated
//! without keeping a million vectors in memory. Two query sets: "near" (a
//! stored vector of the user, perturbed to cosine ~0.89, like a query about
//! something the user wrote) and "random" (a random unit vector).
//!
//! ```text
//! bench_search [--url URL] [--users N] [--per-user M] [--queries Q]
//!              [--text-bytes B] [--layout clustered|interleaved]
//!              [--embedding-storage external|main|plain] [--ef-search 40,200]
//!              [--maintenance-work-mem 4GB] [--skip-hnsw]
//! ```

use domain::UserId;
use futures_util::{SinkExt, StreamExt};
use pgvector_store::PgVectorStore;
use ports::{HitSource, VECTOR_DIMENSIONS as DIM, VectorStore};
use std::collections::BTreeMap;
use std::io::Cursor;
use std::time::{Duration, Instant};
use tokio_postgres::{AsyncMessage, Client, NoTls, SimpleQueryMessage, Statement};

type Error = Box<dyn std::error::Error + Send + Sync>;
type Result<T, E = Error> = std::result::Result<T, E>;

/// Neighbours asked for and scored.
const K: usize = 10;
/// Chunks per synthetic document (a resume of a few pages gives a handful).
const CHUNKS_PER_DOC: u32 = 10;
/// Queries run before each measurement, unmeasured (connection, plan cache).
const WARMUP: usize = 20;
/// Name of the HNSW index the benchmark builds (never part of the migrations).
const HNSW_INDEX: &str = "chunks_embedding_hnsw";
/// The raw SQL both methods run; which index serves it is up to the planner.
const SEARCH_SQL: &str =
    "SELECT chunk_id FROM chunks WHERE user_id = $1 ORDER BY embedding <=> $2::text::vector LIMIT 10";

// ------------------------------------------------------------------ arguments

/// Physical order of the loaded rows.
#[derive(Clone, Copy, PartialEq)]
enum Layout {
    /// All of a user's rows together (best case for the exact scan's heap reads).
    Clustered,
    /// Round-robin by document: every user's first document, then every
    /// user's second, ... (each user's rows are spread over the whole table,
    /// as when many users upload over time).
    Interleaved,
}

struct Args {
    url: String,
    users: u32,
    per_user: u32,
    queries: usize,
    /// Length of each chunk's text; ~1,000 bytes is a 256-token chunk (the chunker's default).
    text_bytes: usize,
    layout: Layout,
    /// Storage of the embedding column when not what the migrations set
    /// (`main`, which keeps the vector in the row): `external`, pgvector's
    /// default, lets PostgreSQL move it out of line into TOAST when a row is
    /// over ~2 kB.
    embedding_storage: Option<String>,
    ef_search: Vec<u32>,
    maintenance_work_mem: String,
    skip_hnsw: bool,
}

const USAGE: &str = "usage: bench_search [--url URL (or env DATABASE_URL)] [--users N=1000] [--per-user M=1000]
       [--queries Q=500] [--text-bytes B=1000] [--layout clustered|interleaved]
       [--embedding-storage external|main|plain] [--ef-search 40,200] [--maintenance-work-mem 4GB] [--skip-hnsw]";

fn parse_args() -> Result<Args> {
    let mut args = Args {
        url: std::env::var("DATABASE_URL").unwrap_or_default(),
        users: 1000,
        per_user: 1000,
        queries: 500,
        text_bytes: 1000,
        layout: Layout::Clustered,
        embedding_storage: None,
        ef_search: vec![40, 200],
        maintenance_work_mem: "4GB".into(),
        skip_hnsw: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value\n{USAGE}"));
        match flag.as_str() {
            "--url" => args.url = value()?,
            "--users" => args.users = value()?.parse()?,
            "--per-user" => args.per_user = value()?.parse()?,
            "--queries" => args.queries = value()?.parse()?,
            "--text-bytes" => args.text_bytes = value()?.parse()?,
            "--layout" => {
                args.layout = match value()?.as_str() {
                    "clustered" => Layout::Clustered,
                    "interleaved" => Layout::Interleaved,
                    other => return Err(format!("unknown layout {other}\n{USAGE}").into()),
                }
            }
            "--embedding-storage" => {
                let storage = value()?;
                if !matches!(storage.as_str(), "main" | "plain" | "external" | "extended") {
                    return Err(format!("unknown storage {storage}\n{USAGE}").into());
                }
                args.embedding_storage = Some(storage);
            }
            "--ef-search" => {
                args.ef_search = value()?.split(',').map(str::parse).collect::<Result<_, _>>()?;
            }
            "--maintenance-work-mem" => args.maintenance_work_mem = value()?,
            "--skip-hnsw" => args.skip_hnsw = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other}\n{USAGE}").into()),
        }
    }
    if args.url.is_empty() {
        return Err(format!("no database: pass --url or set DATABASE_URL\n{USAGE}").into());
    }
    if args.users == 0 || args.per_user == 0 || args.queries == 0 {
        return Err("--users, --per-user and --queries must be positive".into());
    }
    // The memory setting goes into a SET statement: accept only a size like 4GB or 512MB.
    if !args.maintenance_work_mem.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err("--maintenance-work-mem must look like 4GB".into());
    }
    Ok(args)
}

// ---------------------------------------------------------- deterministic data

/// SplitMix64 finaliser: turns structured seeds into well-mixed ones.
fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Independent random streams, so e.g. the text never shifts the vectors.
#[derive(Clone, Copy)]
enum Stream {
    Vector = 1,
    Text = 2,
    Document = 3,
    NearQuery = 4,
    RandomQuery = 5,
    Warmup = 6,
}

/// Marsaglia's xorshift64 generator.
struct XorShift(u64);

impl XorShift {
    fn new(stream: Stream, a: u32, b: u32) -> Self {
        let seed = splitmix64(splitmix64(stream as u64) ^ ((u64::from(a) << 32) | u64::from(b)));
        Self(seed.max(1)) // the state must never be zero
    }

    fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// Uniform in [0, 1).
    fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn below(&mut self, n: u32) -> u32 {
        (self.next_u64() % u64::from(n)) as u32
    }

    /// Standard normal (Box-Muller).
    fn gaussian(&mut self) -> f64 {
        let u1 = 1.0 - self.next_f64(); // in (0, 1]: ln is finite
        let u2 = self.next_f64();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// A Gaussian vector: its direction is uniform on the sphere.
    fn gaussian_vector(&mut self) -> Vec<f64> {
        (0..DIM).map(|_| self.gaussian()).collect()
    }
}

fn normalised(v: &[f64]) -> Vec<f32> {
    let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
    v.iter().map(|x| (x / norm) as f32).collect()
}

/// The stored vector of `user`'s chunk `item`.
fn stored_vector(user: u32, item: u32) -> Vec<f32> {
    normalised(&XorShift::new(Stream::Vector, user, item).gaussian_vector())
}

fn user_id(user: u32) -> String {
    format!("user-{user:06}")
}

fn chunk_id(item: u32) -> String {
    format!("c{item:06}")
}

/// A v4-shaped UUID for the document holding `item`.
fn document_uuid(user: u32, item: u32) -> [u8; 16] {
    let mut rng = XorShift::new(Stream::Document, user, item / CHUNKS_PER_DOC);
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&rng.next_u64().to_be_bytes());
    bytes[8..].copy_from_slice(&rng.next_u64().to_be_bytes());
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    bytes
}

/// Resume-like filler text of exactly `len` bytes (compresses roughly as prose does).
fn chunk_text(user: u32, item: u32, len: usize) -> String {
    const WORDS: &[&str] = &[
        "led",
        "team",
        "of",
        "engineers",
        "designed",
        "built",
        "scalable",
        "services",
        "in",
        "Rust",
        "and",
        "Python",
        "reduced",
        "latency",
        "by",
        "percent",
        "managed",
        "budget",
        "stakeholders",
        "delivered",
        "project",
        "on",
        "time",
        "with",
        "customers",
        "data",
        "pipeline",
        "cloud",
        "AWS",
        "Kubernetes",
        "migrated",
        "legacy",
        "systems",
        "improved",
        "revenue",
        "the",
        "a",
        "for",
        "analysis",
        "reporting",
        "mentored",
        "junior",
        "developers",
        "architecture",
        "review",
        "testing",
        "automation",
        "deployment",
        "security",
        "compliance",
        "university",
        "degree",
        "computer",
        "science",
        "experience",
        "years",
        "senior",
        "manager",
        "product",
        "launch",
        "growth",
        "strategy",
        "research",
        "published",
    ];
    let mut rng = XorShift::new(Stream::Text, user, item);
    let mut text = String::with_capacity(len + 16);
    while text.len() < len {
        text.push_str(WORDS[rng.below(WORDS.len() as u32) as usize]);
        text.push(if rng.below(12) == 0 { '.' } else { ' ' });
    }
    text.truncate(len);
    text
}

/// pgvector's text form, as `PgVectorStore` sends it (`[0.1,0.2,...]`).
fn vector_literal(v: &[f32]) -> String {
    let items: Vec<String> = v.iter().map(f32::to_string).collect();
    format!("[{}]", items.join(","))
}

// -------------------------------------------------------------------- queries

#[derive(Clone, Copy, PartialEq)]
enum QueryKind {
    Near,
    Random,
}

impl QueryKind {
    fn label(self) -> &'static str {
        match self {
            QueryKind::Near => "near",
            QueryKind::Random => "random",
        }
    }
}

struct Query {
    user: u32,
    vector: Vec<f32>,
    literal: String,
    /// Items of the exact top K, nearest first (filled by `ground_truth`).
    truth: Vec<u32>,
}

/// `count` queries of one kind: a random user and either one of their stored
/// vectors plus noise of norm ~0.5 (cosine ~0.89 to it), or a random unit vector.
fn make_queries(kind: QueryKind, stream: Stream, count: usize, users: u32, per_user: u32) -> Vec<Query> {
    (0..count as u32)
        .map(|q| {
            let mut rng = XorShift::new(stream, q, 0);
            let user = rng.below(users);
            let vector = match kind {
                QueryKind::Random => normalised(&rng.gaussian_vector()),
                QueryKind::Near => {
                    let base = stored_vector(user, rng.below(per_user));
                    let noise = 0.5 / (DIM as f64).sqrt();
                    let v: Vec<f64> = base.iter().map(|&x| f64::from(x) + noise * rng.gaussian()).collect();
                    normalised(&v)
                }
            };
            let literal = vector_literal(&vector);
            Query { user, vector, literal, truth: Vec::new() }
        })
        .collect()
}

fn cosine_distance(a: &[f32], b: &[f32]) -> f64 {
    let (mut dot, mut na, mut nb) = (0f64, 0f64, 0f64);
    for (x, y) in a.iter().zip(b) {
        let (x, y) = (f64::from(*x), f64::from(*y));
        dot += x * y;
        na += x * x;
        nb += y * y;
    }
    1.0 - dot / (na.sqrt() * nb.sqrt())
}

/// Brute-force top K per query over the same user's vectors, each user's
/// vectors regenerated once for all of that user's queries.
fn ground_truth(sets: &mut [&mut Vec<Query>], per_user: u32) {
    let mut by_user: BTreeMap<u32, Vec<(usize, usize)>> = BTreeMap::new();
    for (s, set) in sets.iter().enumerate() {
        for (q, query) in set.iter().enumerate() {
            by_user.entry(query.user).or_default().push((s, q));
        }
    }
    for (user, members) in by_user {
        let vectors: Vec<Vec<f32>> = (0..per_user).map(|i| stored_vector(user, i)).collect();
        for (s, q) in members {
            let query = &mut sets[s][q];
            let mut scored: Vec<(f64, u32)> =
                vectors.iter().enumerate().map(|(i, v)| (cosine_distance(&query.vector, v), i as u32)).collect();
            scored.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            query.truth = scored.iter().take(K).map(|&(_, i)| i).collect();
        }
    }
}

// ---------------------------------------------------------------- measurement

/// How a query is run.
enum Method<'a> {
    /// `SEARCH_SQL` as the table owner (a superuser: no RLS), sent as an
    /// unnamed statement each time, so it is always planned with the query's
    /// values (the vector literal is parsed once).
    Sql(&'a Client),
    /// `SEARCH_SQL` as one named prepared statement: after five runs
    /// PostgreSQL may switch to a generic plan, where `$2::text::vector` is no
    /// longer a constant and is parsed again for every row it is compared with.
    Prepared(&'a Client, &'a Statement),
    /// The production path: `VectorStore::search` in an RLS-scoped transaction
    /// (named statements, the vector as a binary parameter).
    Store(&'a PgVectorStore),
}

/// Runs one query; returns the items found, nearest first.
async fn run_one(method: &Method<'_>, query: &Query) -> Result<Vec<u32>> {
    let user = user_id(query.user);
    let chunk_ids: Vec<String> = match method {
        Method::Sql(client) => {
            let rows = client.query(SEARCH_SQL, &[&user, &query.literal]).await?;
            rows.iter().map(|r| r.get(0)).collect()
        }
        Method::Prepared(client, statement) => {
            let rows = client.query(*statement, &[&user, &query.literal]).await?;
            rows.iter().map(|r| r.get(0)).collect()
        }
        Method::Store(store) => {
            let hits = store.search(&UserId::parse(&user)?, &query.vector, K).await?;
            hits.into_iter()
                .filter_map(|h| match h.source {
                    HitSource::Chunk { chunk_id, .. } => Some(chunk_id),
                    HitSource::Fact { .. } => None,
                })
                .collect()
        }
    };
    chunk_ids.iter().map(|c| Ok(c.trim_start_matches('c').parse()?)).collect()
}

/// Latency and recall of one method over one query set.
struct Outcome {
    p50: Duration,
    p99: Duration,
    mean: Duration,
    recall: f64,
    /// Queries that got fewer than K rows.
    short: usize,
    mean_rows: f64,
}

/// Nearest-rank percentile of sorted latencies.
fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

async fn measure(method: &Method<'_>, warmup: &[Query], queries: &[Query]) -> Result<Outcome> {
    for query in warmup {
        run_one(method, query).await?;
    }
    let mut latencies = Vec::with_capacity(queries.len());
    let (mut found, mut short, mut rows) = (0usize, 0usize, 0usize);
    for query in queries {
        let start = Instant::now();
        let items = run_one(method, query).await?;
        latencies.push(start.elapsed());
        found += items.iter().filter(|i| query.truth.contains(i)).count();
        short += usize::from(items.len() < K);
        rows += items.len();
    }
    let n = queries.len();
    let mean = latencies.iter().sum::<Duration>() / n as u32;
    latencies.sort();
    Ok(Outcome {
        p50: percentile(&latencies, 0.50),
        p99: percentile(&latencies, 0.99),
        mean,
        recall: found as f64 / (n * K) as f64,
        short,
        mean_rows: rows as f64 / n as f64,
    })
}

/// One row of the results table.
struct Measured {
    method: String,
    kind: QueryKind,
    outcome: Outcome,
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

fn print_row(m: &Measured) {
    let o = &m.outcome;
    println!(
        "  {:<46} {:<6} p50 {:>7} ms  p99 {:>7} ms  mean {:>7} ms  recall@10 {:.4}  rows/query {:>5.2}  short {}",
        m.method,
        m.kind.label(),
        ms(o.p50),
        ms(o.p99),
        ms(o.mean),
        o.recall,
        o.mean_rows,
        o.short
    );
}

// ------------------------------------------------------------------- database

/// Connects without TLS (a local server), printing the server's notices
/// (e.g. pgvector's "hnsw graph no longer fits into maintenance_work_mem").
async fn connect(url: &str) -> Result<Client> {
    let (client, mut connection) = tokio_postgres::connect(url, NoTls).await?;
    tokio::spawn(async move {
        let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(message) = messages.next().await {
            match message {
                Ok(AsyncMessage::Notice(n)) => eprintln!("  [server {}] {}", n.severity(), n.message()),
                Ok(_) => {}
                Err(e) => {
                    eprintln!("  [connection] {e}");
                    break;
                }
            }
        }
    });
    Ok(client)
}

/// `url` with its database replaced by `database` (URL form only).
fn with_database(url: &str, database: &str) -> Result<String> {
    let start = url.find("://").ok_or("the database URL must look like postgres://user@host:port/db")? + 3;
    let rest = &url[start..];
    let (path, params) = rest.split_at(rest.find('?').unwrap_or(rest.len()));
    let authority = &path[..path.find('/').unwrap_or(path.len())];
    Ok(format!("{}{authority}/{database}{params}", &url[..start]))
}

/// A database name unlikely to collide: time and process id, mixed.
fn random_database_name() -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
    format!("bench_{:012x}", splitmix64(nanos ^ u64::from(std::process::id())) >> 16)
}

/// Loads every chunk with `COPY ... FROM STDIN (FORMAT binary)`; returns the row count.
async fn load(client: &Client, args: &Args) -> Result<u64> {
    // Binary COPY framing: signature, flags and header-extension length, then
    // per row a field count and (length, bytes) per field, then -1.
    const FLUSH_AT: usize = 4 << 20;
    let sink = client
        .copy_in(
            "COPY chunks (user_id, doc_id, chunk_id, page, char_start, char_end, text, model, embedding)
             FROM STDIN (FORMAT binary)",
        )
        .await?;
    let mut sink = std::pin::pin!(sink);
    let mut buf: Vec<u8> = Vec::with_capacity(FLUSH_AT + 8192);
    buf.extend_from_slice(b"PGCOPY\n\xff\r\n\0");
    buf.extend_from_slice(&0i32.to_be_bytes());
    buf.extend_from_slice(&0i32.to_be_bytes());
    fn field(buf: &mut Vec<u8>, bytes: &[u8]) {
        buf.extend_from_slice(&(bytes.len() as i32).to_be_bytes());
        buf.extend_from_slice(bytes);
    }

    // Row order per the layout: (user, first item, end item) runs.
    let docs = args.per_user.div_ceil(CHUNKS_PER_DOC);
    let runs: Box<dyn Iterator<Item = (u32, u32, u32)>> = match args.layout {
        Layout::Clustered => Box::new((0..args.users).map(|u| (u, 0, args.per_user))),
        Layout::Interleaved => Box::new((0..docs).flat_map(move |d| {
            let (first, end) = (d * CHUNKS_PER_DOC, ((d + 1) * CHUNKS_PER_DOC).min(args.per_user));
            (0..args.users).map(move |u| (u, first, end))
        })),
    };
    let started = Instant::now();
    let total = u64::from(args.users) * u64::from(args.per_user);
    let mut sent = 0u64;
    for (user, first, end) in runs {
        let uid = user_id(user);
        for item in first..end {
            buf.extend_from_slice(&9i16.to_be_bytes());
            field(&mut buf, uid.as_bytes());
            field(&mut buf, &document_uuid(user, item));
            field(&mut buf, chunk_id(item).as_bytes());
            let start = item as i32 * args.text_bytes as i32;
            field(&mut buf, &(1 + (item / 4) as i32).to_be_bytes()); // page
            field(&mut buf, &start.to_be_bytes());
            field(&mut buf, &(start + args.text_bytes as i32).to_be_bytes());
            field(&mut buf, chunk_text(user, item, args.text_bytes).as_bytes());
            field(&mut buf, b"bench-synthetic");
            // pgvector's binary form: int16 dimensions, int16 unused (0), float4s.
            buf.extend_from_slice(&(4 + 4 * DIM as i32).to_be_bytes());
            buf.extend_from_slice(&(DIM as i16).to_be_bytes());
            buf.extend_from_slice(&0i16.to_be_bytes());
            for x in stored_vector(user, item) {
                buf.extend_from_slice(&x.to_be_bytes());
            }
            sent += 1;
            if buf.len() >= FLUSH_AT {
                sink.send(Cursor::new(std::mem::take(&mut buf))).await?;
                buf.reserve(FLUSH_AT + 8192);
            }
            if sent.is_multiple_of(100_000) {
                eprintln!("  loaded {sent}/{total} rows in {:.0} s", started.elapsed().as_secs_f64());
            }
        }
    }
    buf.extend_from_slice(&(-1i16).to_be_bytes());
    sink.send(Cursor::new(buf)).await?;
    Ok(sink.as_mut().finish().await?)
}

fn mib(bytes: i64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

/// Prints heap, TOAST and index sizes of `chunks`.
async fn print_sizes(client: &Client) -> Result<()> {
    let row = client
        .query_one(
            "SELECT pg_relation_size(c.oid), COALESCE(pg_total_relation_size(NULLIF(c.reltoastrelid, 0)), 0),
                    pg_table_size(c.oid), pg_indexes_size(c.oid), pg_total_relation_size(c.oid), c.reltuples::int8
             FROM pg_class c WHERE c.oid = 'chunks'::regclass",
            &[],
        )
        .await?;
    let (heap, toast, table, indexes, total, tuples): (i64, i64, i64, i64, i64, i64) =
        (row.get(0), row.get(1), row.get(2), row.get(3), row.get(4), row.get(5));
    println!(
        "  chunks: heap {}, TOAST {} (table incl. TOAST/FSM/VM {}), indexes {}, total {}; {} rows, {:.0} table bytes/row",
        mib(heap),
        mib(toast),
        mib(table),
        mib(indexes),
        mib(total),
        tuples,
        table as f64 / tuples.max(1) as f64
    );
    let indexes = client
        .query(
            "SELECT indexrelid::regclass::text, pg_relation_size(indexrelid)
             FROM pg_index WHERE indrelid = 'chunks'::regclass ORDER BY 1",
            &[],
        )
        .await?;
    for row in indexes {
        println!("    index {:<24} {}", row.get::<_, String>(0), mib(row.get(1)));
    }
    Ok(())
}

/// A plan line with each vector literal `'[...]'` shortened to `'[…]'`.
fn elide_vectors(line: &str) -> String {
    let mut out = String::with_capacity(line.len().min(256));
    let mut rest = line;
    while let Some(start) = rest.find("'[") {
        let Some(len) = rest[start..].find("]'") else { break };
        out.push_str(&rest[..start]);
        out.push_str("'[…]'");
        rest = &rest[start + len + 2..];
    }
    out.push_str(rest);
    out
}

/// Prints the plan of `SEARCH_SQL` for one query (with ANALYZE: run for real).
async fn explain(client: &Client, query: &Query, analyze: bool) -> Result<String> {
    let options = if analyze { "ANALYZE, BUFFERS, COSTS OFF" } else { "COSTS OFF" };
    let rows =
        client.query(&format!("EXPLAIN ({options}) {SEARCH_SQL}"), &[&user_id(query.user), &query.literal]).await?;
    let plan: Vec<String> = rows.iter().map(|r| elide_vectors(r.get(0))).collect();
    for line in &plan {
        println!("    | {line}");
    }
    Ok(plan.join("\n"))
}

/// Reports the index build's progress from a second connection every 30 s.
fn watch_build(url: String, started: Instant) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let Ok(client) = connect(&url).await else { return };
        loop {
            tokio::time::sleep(Duration::from_secs(30)).await;
            let rows = client
                .query(
                    "SELECT phase, tuples_done, tuples_total FROM pg_stat_progress_create_index
                     WHERE datname = current_database()",
                    &[],
                )
                .await;
            if let Ok(rows) = rows {
                for row in rows {
                    let (phase, done, total): (String, i64, i64) = (row.get(0), row.get(1), row.get(2));
                    eprintln!("  [{:>5.0} s] {phase}: {done}/{total} tuples", started.elapsed().as_secs_f64());
                }
            }
        }
    })
}

// ----------------------------------------------------------------------- main

#[tokio::main]
async fn main() -> Result<()> {
    let args = parse_args()?;
    let admin = connect(&args.url).await?;
    let database = random_database_name();
    admin.batch_execute(&format!("CREATE DATABASE {database}")).await?;
    println!("database {database}");
    let result = bench(&args, &with_database(&args.url, &database)?).await;
    // Always drop the database, even after a failure (FORCE closes our other connections).
    if let Err(e) = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)")).await {
        eprintln!("could not drop database {database}: {e}");
    } else {
        println!("dropped database {database}");
    }
    result
}

async fn bench(args: &Args, url: &str) -> Result<()> {
    let mut owner = connect(url).await?;
    let applied = pgvector_store::migrations::up(&mut owner).await?;
    if let Some(storage) = &args.embedding_storage {
        // Only in the benchmark's own database, before the load: the migrations are unchanged.
        owner.batch_execute(&format!("ALTER TABLE chunks ALTER COLUMN embedding SET STORAGE {storage}")).await?;
    }
    let server = owner
        .query_one("SELECT version(), extversion FROM pg_extension, version() WHERE extname = 'vector'", &[])
        .await?;
    let settings = owner
        .query_one("SELECT current_setting('shared_buffers'), current_setting('jit'), current_setting('work_mem')", &[])
        .await?;
    println!("server: {} / pgvector {}", server.get::<_, String>(0), server.get::<_, String>(1));
    println!(
        "settings: shared_buffers {}, jit {}, work_mem {}; migrations applied {applied:?}",
        settings.get::<_, String>(0),
        settings.get::<_, String>(1),
        settings.get::<_, String>(2)
    );
    let layout = if args.layout == Layout::Clustered { "clustered" } else { "interleaved" };
    let storage = args.embedding_storage.as_deref().unwrap_or("as migrated (main)");
    println!(
        "scale: {} users x {} vectors x {DIM} dims, {} queries per set, text {} bytes/chunk, layout {layout}, \
         embedding storage {storage}",
        args.users, args.per_user, args.queries, args.text_bytes
    );

    // Load.
    println!("\n== load");
    let started = Instant::now();
    let rows = load(&owner, args).await?;
    let load_time = started.elapsed();
    println!(
        "  COPY (binary) {rows} rows in {:.1} s ({:.0} rows/s)",
        load_time.as_secs_f64(),
        rows as f64 / load_time.as_secs_f64()
    );
    let started = Instant::now();
    owner.batch_execute("VACUUM ANALYZE chunks").await?;
    println!("  VACUUM ANALYZE in {:.1} s", started.elapsed().as_secs_f64());
    print_sizes(&owner).await?;

    // Queries and their exact answers.
    let mut near = make_queries(QueryKind::Near, Stream::NearQuery, args.queries, args.users, args.per_user);
    let mut random = make_queries(QueryKind::Random, Stream::RandomQuery, args.queries, args.users, args.per_user);
    let warmup = make_queries(QueryKind::Near, Stream::Warmup, WARMUP, args.users, args.per_user);
    let started = Instant::now();
    ground_truth(&mut [&mut near, &mut random], args.per_user);
    println!("  ground truth (brute force in Rust) in {:.1} s", started.elapsed().as_secs_f64());
    let sets = [(QueryKind::Near, &near), (QueryKind::Random, &random)];

    let store = PgVectorStore::connect(url, None).await?;
    let mut results = Vec::new();
    let mut record = |method: &str, kind: QueryKind, outcome: Outcome| {
        let m = Measured { method: method.to_owned(), kind, outcome };
        print_row(&m);
        results.push(m);
    };

    // (a) Exact scan through the btree index on user_id.
    println!("\n== exact: btree index on user_id, top-N sort");
    explain(&owner, &near[0], true).await?;
    for (kind, set) in sets {
        record("exact (owner SQL, btree user_id)", kind, measure(&Method::Sql(&owner), &warmup, set).await?);
    }
    for (kind, set) in sets {
        record("exact (PgVectorStore::search, RLS)", kind, measure(&Method::Store(&store), &warmup, set).await?);
    }
    // The same SQL as a named prepared statement (what a statement cache or
    // a pooler's prepared statements would do): shows the generic plan's cost.
    println!("\n  generic plan of the same SQL (what a reused prepared statement may switch to):");
    // Simple protocol: EXPLAIN (GENERIC_PLAN) takes the $n placeholders unbound.
    let generic = owner.simple_query(&format!("EXPLAIN (GENERIC_PLAN, COSTS OFF) {SEARCH_SQL}")).await?;
    for message in generic {
        if let SimpleQueryMessage::Row(row) = message {
            println!("    | {}", row.get(0).unwrap_or_default());
        }
    }
    let statement = owner.prepare(SEARCH_SQL).await?;
    for (kind, set) in sets {
        let method = Method::Prepared(&owner, &statement);
        record("exact (owner, named prepared statement)", kind, measure(&method, &warmup, set).await?);
    }

    if !args.skip_hnsw {
        // (b) HNSW over every user's vectors, filtered by user afterwards.
        println!("\n== HNSW build (m=16, ef_construction=64 defaults)");
        owner
            .batch_execute(&format!(
                "SET maintenance_work_mem = '{}'; SET max_parallel_maintenance_workers = 1",
                args.maintenance_work_mem
            ))
            .await?;
        let started = Instant::now();
        let watcher = watch_build(url.to_owned(), started);
        let built = owner
            .batch_execute(&format!("CREATE INDEX {HNSW_INDEX} ON chunks USING hnsw (embedding vector_cosine_ops)"))
            .await;
        watcher.abort();
        built?;
        println!("  built in {:.1} s", started.elapsed().as_secs_f64());
        owner
            .batch_execute("RESET maintenance_work_mem; RESET max_parallel_maintenance_workers; ANALYZE chunks")
            .await?;
        print_sizes(&owner).await?;

        // What the planner picks for the production query with both indexes present.
        println!("\n  planner's own choice with both indexes (no forcing):");
        let plan = explain(&owner, &near[0], false).await?;
        let chose = if plan.contains(HNSW_INDEX) { "HNSW" } else { "the btree (exact)" };
        println!("  -> the planner uses {chose} for the production query");
        for (kind, set) in sets {
            record(
                "planner's choice (PgVectorStore::search, RLS)",
                kind,
                measure(&Method::Store(&store), &warmup, set).await?,
            );
        }

        // Force the HNSW path: every btree plan needs a Sort for the ORDER BY,
        // the HNSW index scan returns rows already ordered.
        owner.batch_execute("SET enable_sort = off").await?;
        for ef in &args.ef_search {
            owner.batch_execute(&format!("SET hnsw.ef_search = {ef}")).await?;
            println!("\n== HNSW, ef_search = {ef} (enable_sort = off forces the index)");
            let plan = explain(&owner, &near[0], true).await?;
            if !plan.contains(HNSW_INDEX) {
                return Err("the HNSW index was not used despite enable_sort = off".into());
            }
            for (kind, set) in sets {
                let method = format!("HNSW ef_search={ef} (owner SQL)");
                record(&method, kind, measure(&Method::Sql(&owner), &warmup, set).await?);
            }
        }
        owner.batch_execute("RESET enable_sort; RESET hnsw.ef_search").await?;
    }

    println!("\n== summary (latency is client-side wall time per query, sequential, one connection)");
    for m in &results {
        print_row(m);
    }
    Ok(())
}
