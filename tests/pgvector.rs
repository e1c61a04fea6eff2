//! pgvector against a real PostgreSQL 16 + pgvector (started by .ci/run from the
//! `pgserver` wheel): reversible migrations, row-level security that holds even
//! for a query with no user filter, per-user search, and the same results as
//! the embedded exact index on the same data.

use domain::{DocumentId, UserId};
use embedded::{EmbeddedDb, RedbVectorStore};
use integration_tests::fixtures;
use integration_tests::pg::{connect, fresh_database};
use pgvector_store::{PgVectorStore, migrations};
use ports::{ChunkVector, FactVector, HitSource, VECTOR_DIMENSIONS, VectorStore};
use tokio_postgres::Client;

async fn migrated() -> (String, Client) {
    let url = fresh_database().await;
    let mut client = connect(&url).await;
    assert_eq!(migrations::up(&mut client).await.expect("migrate up"), vec![1, 2]);
    (url, client)
}

/// Deterministic pseudo-random unit-ish vectors (xorshift), no extra crate.
fn vector(seed: u64) -> Vec<f32> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..VECTOR_DIMENSIONS)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            ((x >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0) as f32
        })
        .collect()
}

fn chunks(user: &str, document: DocumentId, n: u64, seed: u64) -> Vec<ChunkVector> {
    (0..n)
        .map(|i| ChunkVector {
            document_id: document,
            chunk_id: format!("{user}-c{i}"),
            page: (i % 3) as u32 + 1,
            char_start: (i * 100) as u32,
            char_end: (i * 100 + 99) as u32,
            text: format!("{user} chunk {i}"),
            model: "test-model@1".into(),
            embedding: vector(seed + i),
        })
        .collect()
}

/// (table, RLS enabled, RLS forced) of the vector tables that exist.
async fn tables(c: &Client) -> Vec<(String, bool, bool)> {
    let rows = c
        .query(
            "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class
             WHERE relname IN ('chunks', 'fact_vectors') ORDER BY relname",
            &[],
        )
        .await
        .expect("tables");
    rows.iter().map(|r| (r.get(0), r.get(1), r.get(2))).collect()
}

/// Scoped to `user` by the store's own statement (or, with no user, only
/// switched to the application role): who the session is, what a query with
/// no user filter sees, and how many rows an unfiltered update touches.
async fn unfiltered_as(raw: &mut Client, user: Option<&str>) -> (String, i64, i64, u64) {
    let tx = raw.transaction().await.expect("tx");
    match user {
        Some(user) => tx.execute(pgvector_store::SCOPE_SQL, &[&user]).await.map(drop).expect("scope"),
        None => tx.batch_execute("SET LOCAL ROLE personalization_app").await.expect("role"),
    }
    let role: String = tx.query_one("SELECT current_user::text", &[]).await.expect("role").get(0);
    let chunks: i64 = tx.query_one("SELECT count(*) FROM chunks", &[]).await.expect("count").get(0);
    let facts: i64 = tx.query_one("SELECT count(*) FROM fact_vectors", &[]).await.expect("count").get(0);
    let touched = tx.execute("UPDATE chunks SET text = 'stolen'", &[]).await.expect("update");
    tx.rollback().await.expect("rollback");
    (role, chunks, facts, touched)
}

/// Storage of the `embedding` column of both tables (`m` main, `e` external).
async fn embedding_storage(c: &Client) -> Vec<String> {
    let rows = c
        .query(
            "SELECT attstorage::text FROM pg_attribute
             WHERE attrelid IN ('chunks'::regclass, 'fact_vectors'::regclass) AND attname = 'embedding'",
            &[],
        )
        .await
        .expect("storage");
    rows.iter().map(|r| r.get(0)).collect()
}

#[tokio::test]
async fn migrations_apply_and_roll_back() {
    let (_url, mut client) = migrated().await;
    assert_eq!(
        tables(&client).await,
        vec![("chunks".to_owned(), true, true), ("fact_vectors".to_owned(), true, true)],
        "both tables exist with row-level security enabled and forced"
    );
    assert_eq!(embedding_storage(&client).await, ["m", "m"], "vectors kept in the row");
    // Applying again is a no-op.
    assert!(migrations::up(&mut client).await.expect("again").is_empty());
    // One step down undoes 0002 only, then the rest.
    assert_eq!(migrations::down_to(&mut client, 1).await.expect("down to 1"), vec![2]);
    assert_eq!(embedding_storage(&client).await, ["e", "e"], "back to pgvector's default");
    assert_eq!(migrations::down_to(&mut client, 0).await.expect("down"), vec![1]);
    assert!(tables(&client).await.is_empty(), "down removed the tables");
    let versions = client.query("SELECT version FROM schema_migrations", &[]).await.expect("versions");
    assert!(versions.is_empty());
    assert_eq!(migrations::up(&mut client).await.expect("up again"), vec![1, 2]);
}

#[tokio::test]
async fn row_level_security_hides_other_users_rows_even_without_a_filter() {
    let (url, _owner) = migrated().await;
    let store = PgVectorStore::connect(&url, None).await.expect("store");
    let (alice, bob) = (UserId::parse("alice").expect("a"), UserId::parse("bob").expect("b"));
    store.upsert_chunks(&alice, &chunks("alice", DocumentId::new(), 5, 1)).await.expect("alice");
    store.upsert_chunks(&bob, &chunks("bob", DocumentId::new(), 3, 100)).await.expect("bob");
    store
        .upsert_facts(&bob, &[FactVector { fact_id: "f1".into(), model: "m".into(), embedding: vector(7) }])
        .await
        .expect("fact");

    let mut raw = connect(&url).await;
    // No user_id filter at all: only the policy stands in the way.
    // The owner connection is a superuser, which RLS would not restrain: the
    // store's scope must switch to the application role.
    let app = "personalization_app".to_owned();
    assert_eq!(unfiltered_as(&mut raw, Some("alice")).await, (app.clone(), 5, 0, 5));
    assert_eq!(unfiltered_as(&mut raw, Some("bob")).await, (app.clone(), 3, 1, 3));
    assert_eq!(unfiltered_as(&mut raw, None).await, (app, 0, 0, 0), "no user set: nothing visible");

    // Writing a row for someone else is refused by the policy's WITH CHECK.
    let tx = raw.transaction().await.expect("tx");
    tx.batch_execute("SET LOCAL ROLE personalization_app; SELECT set_config('app.user_id', 'bob', true)")
        .await
        .expect("scope");
    let forged = tx
        .execute(
            "INSERT INTO fact_vectors (user_id, fact_id, model, embedding) VALUES ('alice', 'x', 'm', $1::text::vector)",
            &[&format!("[{}]", vec!["0.5"; VECTOR_DIMENSIONS].join(","))],
        )
        .await;
    let error = forged.expect_err("a forged row must be refused");
    assert!(error.to_string().contains("row-level security") || format!("{error:?}").contains("row-level security"));
}

#[tokio::test]
async fn search_sees_only_the_callers_vectors_and_matches_the_embedded_index() {
    let (url, _owner) = migrated().await;
    let pg = PgVectorStore::connect(&url, None).await.expect("store");
    let dir = fixtures::temp_dir("vectors");
    let local = RedbVectorStore::new(EmbeddedDb::open(&dir).expect("db"));

    let users: Vec<UserId> = ["ann", "ben", "cat"].iter().map(|u| UserId::parse(u).expect("user")).collect();
    for (n, user) in users.iter().enumerate() {
        let doc = DocumentId::new();
        let data = chunks(user.as_str(), doc, 150, 1000 * n as u64);
        let facts: Vec<FactVector> = (0..20)
            .map(|i| FactVector {
                fact_id: format!("{user}-f{i}"),
                model: "test-model@1".into(),
                embedding: vector(50_000 + 1000 * n as u64 + i),
            })
            .collect();
        for store in [&pg as &dyn VectorStore, &local as &dyn VectorStore] {
            store.upsert_chunks(user, &data).await.expect("chunks");
            store.upsert_facts(user, &facts).await.expect("facts");
            // Upserting again replaces rather than duplicates.
            store.upsert_chunks(user, &data[..10]).await.expect("chunks again");
        }
    }

    for (n, user) in users.iter().enumerate() {
        for q in 0..15u64 {
            // Some queries are exactly another user's vectors: still never returned.
            let query = if q % 3 == 0 { vector(1000 * ((n as u64 + 1) % 3) + q) } else { vector(90_000 + q) };
            let from_pg = pg.search(user, &query, 10).await.expect("pg search");
            let from_local = local.search(user, &query, 10).await.expect("local search");
            assert_eq!(from_pg.len(), 10);
            for hit in &from_pg {
                let owner_prefix = format!("{user}-");
                match &hit.source {
                    HitSource::Chunk { chunk_id, .. } => assert!(chunk_id.starts_with(&owner_prefix), "{hit:?}"),
                    HitSource::Fact { fact_id } => assert!(fact_id.starts_with(&owner_prefix), "{hit:?}"),
                }
            }
            let keys = |hits: &[ports::SearchHit]| hits.iter().map(|h| h.key()).collect::<Vec<_>>();
            assert_eq!(keys(&from_pg), keys(&from_local), "pgvector and the embedded index disagree");
            for (a, b) in from_pg.iter().zip(&from_local) {
                assert!((a.score - b.score).abs() < 1e-4, "{} vs {}", a.score, b.score);
            }
        }
    }

    // A document's chunks and a user's everything can be erased.
    let ann = &users[0];
    let total = pg.search(ann, &vector(1), 1000).await.expect("all").len();
    assert_eq!(total, 170);
    pg.delete_user(ann).await.expect("delete user");
    local.delete_user(ann).await.expect("delete user");
    assert!(pg.search(ann, &vector(1), 10).await.expect("after").is_empty());
    assert!(local.search(ann, &vector(1), 10).await.expect("after").is_empty());
    assert_eq!(pg.search(&users[1], &vector(1), 1000).await.expect("ben").len(), 170, "others untouched");

    let wrong = pg.search(ann, &[0.0; 3], 5).await.expect_err("wrong dimensions");
    assert!(wrong.to_string().contains("384"));
    let _ = std::fs::remove_dir_all(&dir);
}
