-- Keep embeddings in the row. pgvector's type defaults to EXTERNAL storage, so
-- a chunk row over ~2 kB (1.5 kB of vector plus its text) had its vector moved
-- to TOAST, and a per-user search fetched 1,000 TOAST values to compute 1,000
-- distances. With MAIN, PostgreSQL compresses or moves the text out of line
-- first and the vector stays in the heap tuple (bench_search at 1,000 users x
-- 1,000 chunks: PgVectorStore::search p99 5.5 ms -> 3.3 ms). Only rows
-- written from now on are affected; rewrite older ones with VACUUM FULL.
ALTER TABLE chunks ALTER COLUMN embedding SET STORAGE MAIN;
ALTER TABLE fact_vectors ALTER COLUMN embedding SET STORAGE MAIN;
