-- A deleted pod keeps its row, and so its name, until the purge has removed every row and
-- blob of it; deleted_ms says since when clients have been told it does not exist.
ALTER TABLE pods ADD COLUMN deleted_ms BIGINT;
-- The purge takes a deleted pod's rows in batches by path prefix. Pattern (byte-wise)
-- ordering lets it read them from an index whatever collation the database was made with.
CREATE INDEX resources_path_pattern ON resources (path text_pattern_ops);
