//! The `VectorStore` on PostgreSQL + pgvector. Row-level security does the
//! tenant isolation: every operation runs in a transaction that switches to the
//! non-owner role `personalization_app` and sets `app.user_id` (SET LOCAL), so
//! even a query that forgot its `user_id` filter sees only the caller's rows.

pub mod migrations;

use async_trait::async_trait;
use domain::{DocumentId, UserId};
use ports::{ChunkVector, FactVector, HitSource, SearchHit, VectorError, VectorStore, check_dimensions, rank_hits};
use std::sync::Arc;
use tokio::sync::{Mutex, MutexGuard};
use tokio_postgres::{Client, Transaction};

/// Role the tables' row-level security policies apply to.
pub const APP_ROLE: &str = "personalization_app";

/// pgvector adapter over one connection (Lambda runs one request at a time),
/// reconnected when the server or the network closed it (a frozen Lambda
/// container often wakes to a dead connection).
pub struct PgVectorStore {
    client: Mutex<Client>,
    /// How to reconnect; `None` for a store made from a caller's client.
    connect: Option<Connect>,
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

/// pgvector's text form: `[0.1,0.2,...]`.
fn vector_literal(v: &[f32]) -> String {
    let mut s = String::with_capacity(v.len() * 10 + 2);
    s.push('[');
    for (i, x) in v.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&x.to_string());
    }
    s.push(']');
    s
}

impl PgVectorStore {
    /// Connects with TLS when the server offers it (`sslmode=prefer`, the
    /// default) or always (`sslmode=require`), verifying the server against the
    /// system's roots plus the PEM bundle in `ca_file` (e.g. the RDS bundle).
    pub async fn connect(url: &str, ca_file: Option<&std::path::Path>) -> Result<Self, VectorError> {
        let connect = Connect { url: url.to_owned(), tls: tls_connector(ca_file)? };
        let client = open(&connect).await?;
        Ok(Self { client: Mutex::new(client), connect: Some(connect) })
    }

    /// Wraps an existing client (tests, or a caller with its own connection set-up).
    pub fn from_client(client: Client) -> Self {
        Self { client: Mutex::new(client), connect: None }
    }

    /// Applies pending migrations (under an advisory lock, so concurrent cold starts are safe).
    pub async fn migrate(&self) -> Result<Vec<i32>, VectorError> {
        let mut client = self.client().await?;
        migrations::up(&mut client).await.map_err(|e| VectorError::Permanent(e.to_string()))
    }

    /// The connection, reopened first if it was closed.
    async fn client(&self) -> Result<MutexGuard<'_, Client>, VectorError> {
        let mut client = self.client.lock().await;
        if client.is_closed()
            && let Some(connect) = &self.connect
        {
            tracing::warn!("postgres connection was closed; reconnecting");
            *client = open(connect).await?;
        }
        Ok(client)
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

/// Starts a transaction scoped to `user` under the RLS role.
async fn begin_scoped<'c>(client: &'c mut Client, user: &UserId) -> Result<Transaction<'c>, VectorError> {
    let tx = client.transaction().await.map_err(classify)?;
    tx.batch_execute(&format!("SET LOCAL ROLE {APP_ROLE}")).await.map_err(classify)?;
    tx.execute("SELECT set_config('app.user_id', $1, true)", &[&user.as_str()]).await.map_err(classify)?;
    Ok(tx)
}

#[async_trait]
impl VectorStore for PgVectorStore {
    async fn upsert_chunks(&self, user: &UserId, chunks: &[ChunkVector]) -> Result<(), VectorError> {
        for c in chunks {
            check_dimensions(&c.embedding)?;
        }
        let mut client = self.client().await?;
        let tx = begin_scoped(&mut client, user).await?;
        let statement = tx
            .prepare(
                "INSERT INTO chunks (user_id, doc_id, chunk_id, page, char_start, char_end, text, model, embedding)
                 VALUES ($1, $2::text::uuid, $3, $4, $5, $6, $7, $8, $9::text::vector)
                 ON CONFLICT (user_id, doc_id, chunk_id) DO UPDATE SET
                   page = EXCLUDED.page, char_start = EXCLUDED.char_start, char_end = EXCLUDED.char_end,
                   text = EXCLUDED.text, model = EXCLUDED.model, embedding = EXCLUDED.embedding",
            )
            .await
            .map_err(classify)?;
        for c in chunks {
            let doc = c.document_id.to_string();
            let (page, start, end) = (c.page as i32, c.char_start as i32, c.char_end as i32);
            let vector = vector_literal(&c.embedding);
            tx.execute(
                &statement,
                &[&user.as_str(), &doc, &c.chunk_id, &page, &start, &end, &c.text, &c.model, &vector],
            )
            .await
            .map_err(classify)?;
        }
        tx.commit().await.map_err(classify)
    }

    async fn upsert_facts(&self, user: &UserId, facts: &[FactVector]) -> Result<(), VectorError> {
        for f in facts {
            check_dimensions(&f.embedding)?;
        }
        let mut client = self.client().await?;
        let tx = begin_scoped(&mut client, user).await?;
        let statement = tx
            .prepare(
                "INSERT INTO fact_vectors (user_id, fact_id, model, embedding)
                 VALUES ($1, $2, $3, $4::text::vector)
                 ON CONFLICT (user_id, fact_id) DO UPDATE SET
                   model = EXCLUDED.model, embedding = EXCLUDED.embedding, updated_at = now()",
            )
            .await
            .map_err(classify)?;
        for f in facts {
            let vector = vector_literal(&f.embedding);
            tx.execute(&statement, &[&user.as_str(), &f.fact_id, &f.model, &vector]).await.map_err(classify)?;
        }
        tx.commit().await.map_err(classify)
    }

    async fn delete_document(&self, user: &UserId, document: &DocumentId) -> Result<(), VectorError> {
        let mut client = self.client().await?;
        let tx = begin_scoped(&mut client, user).await?;
        let doc = document.to_string();
        tx.execute("DELETE FROM chunks WHERE user_id = $1 AND doc_id = $2::text::uuid", &[&user.as_str(), &doc])
            .await
            .map_err(classify)?;
        tx.commit().await.map_err(classify)
    }

    async fn delete_user(&self, user: &UserId) -> Result<(), VectorError> {
        let mut client = self.client().await?;
        let tx = begin_scoped(&mut client, user).await?;
        tx.execute("DELETE FROM chunks WHERE user_id = $1", &[&user.as_str()]).await.map_err(classify)?;
        tx.execute("DELETE FROM fact_vectors WHERE user_id = $1", &[&user.as_str()]).await.map_err(classify)?;
        tx.commit().await.map_err(classify)
    }

    async fn search(&self, user: &UserId, query: &[f32], k: usize) -> Result<Vec<SearchHit>, VectorError> {
        check_dimensions(query)?;
        let literal = vector_literal(query);
        let limit = i64::try_from(k.min(1000)).unwrap_or(1000);
        let mut client = self.client().await?;
        let tx = begin_scoped(&mut client, user).await?;
        // Exact scan of the user's rows (user_id index); RLS hides the rest
        // anyway, the filter lets the planner use the index.
        let chunks = tx
            .query(
                "SELECT doc_id::text, chunk_id, page, char_start, char_end, text,
                        (1 - (embedding <=> $2::text::vector))::float4 AS score
                 FROM chunks WHERE user_id = $1
                 ORDER BY embedding <=> $2::text::vector LIMIT $3",
                &[&user.as_str(), &literal, &limit],
            )
            .await
            .map_err(classify)?;
        let facts = tx
            .query(
                "SELECT fact_id, (1 - (embedding <=> $2::text::vector))::float4 AS score
                 FROM fact_vectors WHERE user_id = $1
                 ORDER BY embedding <=> $2::text::vector LIMIT $3",
                &[&user.as_str(), &literal, &limit],
            )
            .await
            .map_err(classify)?;
        tx.commit().await.map_err(classify)?;
        let mut hits = Vec::with_capacity(chunks.len() + facts.len());
        for row in chunks {
            let doc: String = row.get(0);
            let document_id = DocumentId::parse(&doc).map_err(|e| VectorError::Permanent(e.to_string()))?;
            hits.push(SearchHit {
                score: row.get(6),
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
            hits.push(SearchHit { score: row.get(1), source: HitSource::Fact { fact_id: row.get(0) } });
        }
        rank_hits(&mut hits, k);
        Ok(hits)
    }
}
