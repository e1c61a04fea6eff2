//! Reversible schema migrations from `infra/migrations/` (compiled in, so a
//! Lambda needs no files), tracked in `schema_migrations`.

use tokio_postgres::Client;

/// One migration: its version, name and both directions.
pub struct Migration {
    pub version: i32,
    pub name: &'static str,
    pub up: &'static str,
    pub down: &'static str,
}

/// Every migration, oldest first.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "vectors",
        up: include_str!("../../../infra/migrations/0001_vectors.up.sql"),
        down: include_str!("../../../infra/migrations/0001_vectors.down.sql"),
    },
    Migration {
        version: 2,
        name: "inline_embeddings",
        up: include_str!("../../../infra/migrations/0002_inline_embeddings.up.sql"),
        down: include_str!("../../../infra/migrations/0002_inline_embeddings.down.sql"),
    },
];

/// A migration that failed, with its version.
#[derive(Debug, thiserror::Error)]
#[error("migration {version} ({name}) failed: {source}")]
pub struct MigrationError {
    pub version: i32,
    pub name: &'static str,
    #[source]
    pub source: tokio_postgres::Error,
}

fn failed(m: &Migration) -> impl FnOnce(tokio_postgres::Error) -> MigrationError + '_ {
    move |source| MigrationError { version: m.version, name: m.name, source }
}

/// Serialises concurrent migration runs on one database.
const LOCK_KEY: i64 = 0x7065_7273_6f6e; // "person"

async fn applied(client: &Client) -> Result<Vec<i32>, tokio_postgres::Error> {
    client
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                 version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())",
        )
        .await?;
    let rows = client.query("SELECT version FROM schema_migrations ORDER BY version", &[]).await?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

/// Applies every pending migration, each in its own transaction. Returns the versions applied.
pub async fn up(client: &mut Client) -> Result<Vec<i32>, MigrationError> {
    let first = &MIGRATIONS[0];
    client.execute("SELECT pg_advisory_lock($1)", &[&LOCK_KEY]).await.map_err(failed(first))?;
    let result = async {
        let done = applied(client).await.map_err(failed(first))?;
        let mut ran = Vec::new();
        for m in MIGRATIONS.iter().filter(|m| !done.contains(&m.version)) {
            let tx = client.transaction().await.map_err(failed(m))?;
            tx.batch_execute(m.up).await.map_err(failed(m))?;
            tx.execute("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", &[&m.version, &m.name])
                .await
                .map_err(failed(m))?;
            tx.commit().await.map_err(failed(m))?;
            ran.push(m.version);
        }
        Ok(ran)
    }
    .await;
    let _ = client.execute("SELECT pg_advisory_unlock($1)", &[&LOCK_KEY]).await;
    result
}

/// Rolls back applied migrations newer than `target` (0 = all), newest first.
/// Returns the versions rolled back.
pub async fn down_to(client: &mut Client, target: i32) -> Result<Vec<i32>, MigrationError> {
    let first = &MIGRATIONS[0];
    client.execute("SELECT pg_advisory_lock($1)", &[&LOCK_KEY]).await.map_err(failed(first))?;
    let result = async {
        let done = applied(client).await.map_err(failed(first))?;
        let mut ran = Vec::new();
        for m in MIGRATIONS.iter().rev().filter(|m| m.version > target && done.contains(&m.version)) {
            let tx = client.transaction().await.map_err(failed(m))?;
            tx.batch_execute(m.down).await.map_err(failed(m))?;
            tx.execute("DELETE FROM schema_migrations WHERE version = $1", &[&m.version]).await.map_err(failed(m))?;
            tx.commit().await.map_err(failed(m))?;
            ran.push(m.version);
        }
        Ok(ran)
    }
    .await;
    let _ = client.execute("SELECT pg_advisory_unlock($1)", &[&LOCK_KEY]).await;
    result
}
