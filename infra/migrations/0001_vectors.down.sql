-- Reverses 0001_vectors.up.sql. The extension and the cluster-wide role
-- personalization_app stay: other databases of the cluster may use them, and
-- keeping them loses no data (the role owns nothing once the tables are gone).
DROP TABLE IF EXISTS fact_vectors;
DROP TABLE IF EXISTS chunks;
