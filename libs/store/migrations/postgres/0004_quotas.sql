-- Bytes each pod holds (the sum of its rows' sizes, kept exact by every write in the same
-- transaction) and its own quota (NULL: the server's default quota, if any).
ALTER TABLE pods ADD COLUMN used_bytes BIGINT NOT NULL DEFAULT 0;
ALTER TABLE pods ADD COLUMN quota_bytes BIGINT;
-- Pod names are [a-z0-9-]: no LIKE wildcard can appear in the pattern.
UPDATE pods SET used_bytes = (
    SELECT COALESCE(SUM(size), 0)::BIGINT FROM resources WHERE path LIKE '/' || pods.name || '/%'
);
