-- Vectors of chunks and facts, isolated per user by row-level security.
-- The application connects as (or SET ROLE to) personalization_app, which does
-- not own the tables, and sets `app.user_id` per transaction (SET LOCAL);
-- with the setting absent, no row is visible or writable.
CREATE EXTENSION IF NOT EXISTS vector;

-- The role is cluster-wide (shared by every database of the cluster), so it
-- is created once and tolerated when another migration run created it first.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'personalization_app') THEN
        CREATE ROLE personalization_app NOLOGIN;
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;
END
$$;

CREATE TABLE chunks (
    user_id    text        NOT NULL,
    doc_id     uuid        NOT NULL,
    chunk_id   text        NOT NULL,
    page       integer     NOT NULL,
    char_start integer     NOT NULL,
    char_end   integer     NOT NULL,
    text       text        NOT NULL,
    model      text        NOT NULL,
    embedding  vector(384) NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, doc_id, chunk_id),
    CHECK (char_start >= 0 AND char_end >= char_start)
);
CREATE INDEX chunks_user_idx ON chunks (user_id);

CREATE TABLE fact_vectors (
    user_id    text        NOT NULL,
    fact_id    text        NOT NULL,
    model      text        NOT NULL,
    embedding  vector(384) NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, fact_id)
);

ALTER TABLE chunks ENABLE ROW LEVEL SECURITY;
ALTER TABLE chunks FORCE ROW LEVEL SECURITY;
CREATE POLICY chunks_own_rows ON chunks
    USING (user_id = current_setting('app.user_id', true))
    WITH CHECK (user_id = current_setting('app.user_id', true));

ALTER TABLE fact_vectors ENABLE ROW LEVEL SECURITY;
ALTER TABLE fact_vectors FORCE ROW LEVEL SECURITY;
CREATE POLICY fact_vectors_own_rows ON fact_vectors
    USING (user_id = current_setting('app.user_id', true))
    WITH CHECK (user_id = current_setting('app.user_id', true));

GRANT SELECT, INSERT, UPDATE, DELETE ON chunks, fact_vectors TO personalization_app;
