//! The `VectorStore` on PostgreSQL + pgvector. Row-level security does the
//! tenant isolation: every operation runs in a transaction that switches to the
//! non-owner role `personalization_app` and sets `app.user_id` (SET LOCAL), so
//! even a query that forgot its `user_id` filter sees only the caller's rows.

pub mod migrations;

use async_trait::async_trait;
use bytes::{BufMut, BytesMut};
use domain::{DocumentId, UserId};
use futures_util::future::try_join_all;
use ports::{ChunkVector, FactVector, HitSource, SearchHit, VectorError, VectorStore, check_dimensions, rank_hits};
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::{Mutex, MutexGuard};
use tokio_postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use tokio_postgres::{Client, Statement, Transaction};

/// Role the tables' row-level security policies apply to.
pub const APP_ROLE: &str = "personalization_app";

/// pgvector adapter over one connection (Lambda runs one request at a time),
/// reconnected when the server or the network closed it (a frozen Lambda
/// container often wakes to a dead connection).
pub struct PgVectorStore {
    conn: Mutex<Conn>,
    /// How to reconnect; `None` for a store made from a caller's client.
    connect: Option<Connect>,
}

/// A connection and the statements prepared on it (named, so each later use
/// is one round trip; their vector parameters are binary `vector`s, so the
/// generic plan PostgreSQL may switch to costs the same as a custom one).
struct Conn {
    client: Client,
    statements: HashMap<&'static str, Statement>,
}

impl Conn {
    fn new(client: Client) -> Self {
        Self { client, statements: HashMap::new() }
    }

    /// The statements for `sqls`, prepared (pipelined) the first time they are asked for.
    async fn prepared<const N: usize>(&mut self, sqls: [&'static str; N]) -> Result<[Statement; N], VectorError> {
        let missing: Vec<&'static str> = sqls.iter().copied().filter(|q| !self.statements.contains_key(q)).collect();
        let prepared = try_join_all(missing.iter().map(|q| self.client.prepare(q))).await.map_err(classify)?;
        self.statements.extend(missing.into_iter().zip(prepared));
        Ok(sqls.map(|q| self.statements[q].clone()))
    }
}

/// Scopes the current transaction to a user: the non-owner role the RLS
/// policies apply to, and the user they compare rows with. `set_config(..., true)`
/// is `SET LOCAL`, so both end with the transaction.
pub const SCOPE_SQL: &str =
    "SELECT set_config('role', 'personalization_app', true), set_config('app.user_id', $1, true)";

/// A query embedding as pgvector's binary `vector`: dimensions (int16), an
/// unused int16, then big-endian float4s.
#[derive(Debug)]
struct PgVector<'a>(&'a [f32]);

impl ToSql for PgVector<'_> {
    fn to_sql(&self, _: &Type, out: &mut BytesMut) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        let dims = i16::try_from(self.0.len())?;
        out.reserve(4 + 4 * self.0.len());
        out.put_i16(dims);
        out.put_i16(0);
        for x in self.0 {
            out.put_f32(*x);
        }
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        ty.name() == "vector"
    }

    to_sql_checked!();
}

#[derive(Clone)]
struct Connect {
    url: String,
    tls: tokio_postgres_rustls::MakeRustlsConnect,
}

fn classify(error: tokio_postgres::Error) -> VectorError {
    // Connection-level failures and serialization conflicts are worth retrying;
    // errors the server reports about the statement are not.
    let transient = error.is_closed()
        || error.code().is_some_and(|c| {
            let c = c.code();
            c.starts_with("08") || c.starts_with("40") || c.starts_with("53") || c.starts_with("57P")
        })
        || error.code().is_none();
    if transient { VectorError::Transient(error.to_string()) } else { VectorError::Permanent(error.to_string()) }
}

impl PgVectorStore {
    /// Connects with TLS when the server offers it (`sslmode=prefer`, the
    /// default) or always (`sslmode=require`), verifying the server against the
    /// system's roots plus the PEM bundle in `ca_file` (e.g. the RDS bundle).
    pub async fn connect(url: &str, ca_file: Option<&std::path::Path>) -> Result<Self, VectorError> {
        let connect = Connect { url: url.to_owned(), tls: tls_connector(ca_file)? };
        let client = open(&connect).await?;
        Ok(Self { conn: Mutex::new(Conn::new(client)), connect: Some(connect) })
    }

    /// Wraps an existing client (tests, or a caller with its own connection set-up).
    pub fn from_client(client: Client) -> Self {
        Self { conn: Mutex::new(Conn::new(client)), connect: None }
    }

    /// Applies pending migrations (under an advisory lock, so concurrent cold starts are safe).
    pub async fn migrate(&self) -> Result<Vec<i32>, VectorError> {
        let mut conn = self.conn().await?;
        let applied = migrations::up(&mut conn.client).await.map_err(|e| VectorError::Permanent(e.to_string()))?;
        // Prepared statements may name what a migration changed.
        conn.statements.clear();
        Ok(applied)
    }

    /// The connection, reopened first if it was closed.
    async fn conn(&self) -> Result<MutexGuard<'_, Conn>, VectorError> {
        let mut conn = self.conn.lock().await;
        if conn.client.is_closed()
            && let Some(connect) = &self.connect
        {
            tracing::warn!("postgres connection was closed; reconnecting");
            *conn = Conn::new(open(connect).await?);
        }
        Ok(conn)
    }
}

async fn open(connect: &Connect) -> Result<Client, VectorError> {
    let (client, connection) = tokio_postgres::connect(&connect.url, connect.tls.clone()).await.map_err(classify)?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::error!(error = %e, "postgres connection ended");
        }
    });
    Ok(client)
}

fn tls_connector(ca_file: Option<&std::path::Path>) -> Result<tokio_postgres_rustls::MakeRustlsConnect, VectorError> {
    let mut roots = rustls::RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    roots.add_parsable_certificates(native.certs);
    if let Some(path) = ca_file {
        use rustls::pki_types::{CertificateDer, pem::PemObject};
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
            .and_then(|certs| certs.collect::<Result<_, _>>())
            .map_err(|e| VectorError::Permanent(format!("CA bundle {}: {e}", path.display())))?;
        let (added, _) = roots.add_parsable_certificates(certs);
        if added == 0 {
            return Err(VectorError::Permanent(format!("CA bundle {} holds no certificate", path.display())));
        }
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| VectorError::Permanent(format!("TLS set-up: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}

/// Starts a transaction scoped to `user` under the RLS role. `scope` is the
/// prepared [`SCOPE_SQL`].
async fn begin_scoped<'c>(
    client: &'c mut Client,
    scope: &Statement,
    user: &UserId,
) -> Result<Transaction<'c>, VectorError> {
    let tx = client.transaction().await.map_err(classify)?;
    tx.execute(scope, &[&user.as_str()]).await.map_err(classify)?;
    Ok(tx)
}

const UPSERT_CHUNK_SQL: &str =
    "INSERT INTO chunks (user_id, doc_id, chunk_id, page, char_start, char_end, text, model, embedding)
     VALUES ($1, $2::text::uuid, $3, $4, $5, $6, $7, $8, $9)
     ON CONFLICT (user_id, doc_id, chunk_id) DO UPDATE SET
       page = EXCLUDED.page, char_start = EXCLUDED.char_start, char_end = EXCLUDED.char_end,
       text = EXCLUDED.text, model = EXCLUDED.model, embedding = EXCLUDED.embedding";
const UPSERT_FACT_SQL: &str = "INSERT INTO fact_vectors (user_id, fact_id, model, embedding)
     VALUES ($1, $2, $3, $4)
     ON CONFLICT (user_id, fact_id) DO UPDATE SET
       model = EXCLUDED.model, embedding = EXCLUDED.embedding, updated_at = now()";
/// Exact scan of the user's rows (the `user_id` index; RLS hides the rest
/// anyway, the filter lets the planner use the index), distance computed once.
const SEARCH_CHUNKS_SQL: &str = "SELECT doc_id::text, chunk_id, page, char_start, char_end, text, distance FROM (
       SELECT doc_id, chunk_id, page, char_start, char_end, text, embedding <=> $2 AS distance
       FROM chunks WHERE user_id = $1 ORDER BY distance LIMIT $3) nearest";
const SEARCH_FACTS_SQL: &str = "SELECT fact_id, embedding <=> $2 AS distance
     FROM fact_vectors WHERE user_id = $1 ORDER BY distance LIMIT $3";

/// Cosine similarity from pgvector's cosine distance.
fn similarity(distance: f64) -> f32 {
    (1.0 - distance) as f32
}

#[async_trait]
impl VectorStore for PgVectorStore {
    async fn upsert_chunks(&self, user: &UserId, chunks: &[ChunkVector]) -> Result<(), VectorError> {
        for c in chunks {
            check_dimensions(&c.embedding)?;
        }
        let mut conn = self.conn().await?;
        let [scope, upsert] = conn.prepared([SCOPE_SQL, UPSERT_CHUNK_SQL]).await?;
        let tx = begin_scoped(&mut conn.client, &scope, user).await?;
        let user_id = user.as_str();
        let rows: Vec<_> = chunks
            .iter()
            .map(|c| {
                let (page, start, end) = (c.page as i32, c.char_start as i32, c.char_end as i32);
                (c.document_id.to_string(), page, start, end, PgVector(&c.embedding))
            })
            .collect();
        // Pipelined: every row is sent before the first answer is awaited.
        try_join_all(chunks.iter().zip(&rows).map(|(c, (doc, page, start, end, vector))| {
            let params: [&(dyn ToSql + Sync); 9] =
                [&user_id, doc, &c.chunk_id, page, start, end, &c.text, &c.model, vector];
            tx.execute_raw(&upsert, params)
        }))
        .await
        .map_err(classify)?;
        tx.commit().await.map_err(classify)
    }

    async fn upsert_facts(&self, user: &UserId, facts: &[FactVector]) -> Result<(), VectorError> {
        for f in facts {
            check_dimensions(&f.embedding)?;
        }
        let mut conn = self.conn().await?;
        let [scope, upsert] = conn.prepared([SCOPE_SQL, UPSERT_FACT_SQL]).await?;
        let tx = begin_scoped(&mut conn.client, &scope, user).await?;
        let user_id = user.as_str();
        let vectors: Vec<PgVector> = facts.iter().map(|f| PgVector(&f.embedding)).collect();
        try_join_all(facts.iter().zip(&vectors).map(|(f, vector)| {
            let params: [&(dyn ToSql + Sync); 4] = [&user_id, &f.fact_id, &f.model, vector];
            tx.execute_raw(&upsert, params)
        }))
        .await
        .map_err(classify)?;
        tx.commit().await.map_err(classify)
    }

    async fn delete_document(&self, user: &UserId, document: &DocumentId) -> Result<(), VectorError> {
        let mut conn = self.conn().await?;
        let [scope] = conn.prepared([SCOPE_SQL]).await?;
        let tx = begin_scoped(&mut conn.client, &scope, user).await?;
        let doc = document.to_string();
        tx.execute("DELETE FROM chunks WHERE user_id = $1 AND doc_id = $2::text::uuid", &[&user.as_str(), &doc])
            .await
            .map_err(classify)?;
        tx.commit().await.map_err(classify)
    }

    async fn delete_user(&self, user: &UserId) -> Result<(), VectorError> {
        let mut conn = self.conn().await?;
        let [scope] = conn.prepared([SCOPE_SQL]).await?;
        let tx = begin_scoped(&mut conn.client, &scope, user).await?;
        tx.execute("DELETE FROM chunks WHERE user_id = $1", &[&user.as_str()]).await.map_err(classify)?;
        tx.execute("DELETE FROM fact_vectors WHERE user_id = $1", &[&user.as_str()]).await.map_err(classify)?;
        tx.commit().await.map_err(classify)
    }

    async fn search(&self, user: &UserId, query: &[f32], k: usize) -> Result<Vec<SearchHit>, VectorError> {
        check_dimensions(query)?;
        let limit = i64::try_from(k.min(1000)).unwrap_or(1000);
        let mut conn = self.conn().await?;
        let [scope, search_chunks, search_facts] =
            conn.prepared([SCOPE_SQL, SEARCH_CHUNKS_SQL, SEARCH_FACTS_SQL]).await?;
        let tx = conn.client.transaction().await.map_err(classify)?;
        let (user_id, vector) = (user.as_str(), PgVector(query));
        let params: [&(dyn ToSql + Sync); 3] = [&user_id, &vector, &limit];
        let scope_params: [&(dyn ToSql + Sync); 1] = [&user_id];
        // One round trip for the three: the scope is sent first, and should it
        // fail the transaction is aborted, so the searches cannot run unscoped.
        let (_, chunks, facts) = tokio::try_join!(
            tx.execute(&scope, &scope_params),
            tx.query(&search_chunks, &params),
            tx.query(&search_facts, &params),
        )
        .map_err(classify)?;
        tx.commit().await.map_err(classify)?;
        let mut hits = Vec::with_capacity(chunks.len() + facts.len());
        for row in chunks {
            let doc: String = row.get(0);
            let document_id = DocumentId::parse(&doc).map_err(|e| VectorError::Permanent(e.to_string()))?;
            hits.push(SearchHit {
                score: similarity(row.get(6)),
                source: HitSource::Chunk {
                    document_id,
                    chunk_id: row.get(1),
                    page: row.get::<_, i32>(2).max(0) as u32,
                    char_start: row.get::<_, i32>(3).max(0) as u32,
                    char_end: row.get::<_, i32>(4).max(0) as u32,
                    text: row.get(5),
                },
            });
        }
        for row in facts {
            hits.push(SearchHit { score: similarity(row.get(1)), source: HitSource::Fact { fact_id: row.get(0) } });
        }
        rank_hits(&mut hits, k);
        Ok(hits)
    }
}
