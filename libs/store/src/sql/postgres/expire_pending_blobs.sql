WITH expired AS (DELETE FROM pending_blobs WHERE created_ms < $1
RETURNING blob_key, created_ms)
INSERT INTO garbage_blobs (blob_key, since_ms)
SELECT blob_key, created_ms FROM expired ON CONFLICT DO NOTHING
