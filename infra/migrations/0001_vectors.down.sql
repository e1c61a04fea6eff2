-- Reverses 0001_vectors.up.sql. The extension is left installed: other
-- databases of the cluster may use it, and keeping it loses no data.
DROP TABLE IF EXISTS fact_vectors;
DROP TABLE IF EXISTS chunks;
DROP ROLE IF EXISTS personalization_app;
