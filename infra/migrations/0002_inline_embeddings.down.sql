-- Reverses 0002_inline_embeddings.up.sql: back to pgvector's default storage.
ALTER TABLE chunks ALTER COLUMN embedding SET STORAGE EXTERNAL;
ALTER TABLE fact_vectors ALTER COLUMN embedding SET STORAGE EXTERNAL;
