//! PostgreSQL + pgvector for tests (started by `.ci/run`): one fresh database
//! per test, so tests never see each other's rows.

use tokio_postgres::{Client, NoTls};

/// The admin URL `.ci/run` exports.
pub fn admin_url() -> String {
    std::env::var("DATABASE_URL").expect(
        "DATABASE_URL must point at PostgreSQL with pgvector: run `eval \"$(infra/scripts/postgres.sh start)\"` \
         (.ci/run does this)",
    )
}

pub async fn connect(url: &str) -> Client {
    let (client, connection) = tokio_postgres::connect(url, NoTls).await.unwrap_or_else(|e| panic!("connect: {e}"));
    tokio::spawn(connection);
    client
}

/// A new empty database for one test; returns its URL.
pub async fn fresh_database() -> String {
    let admin = connect(&admin_url()).await;
    let name = format!("t_{}", uuid::Uuid::new_v4().simple());
    admin.batch_execute(&format!("CREATE DATABASE {name}")).await.expect("create database");
    let base = admin_url();
    let (prefix, _) = base.rsplit_once('/').expect("database url has a path");
    format!("{prefix}/{name}")
}
