INSERT OR IGNORE INTO garbage_blobs (blob_key, since_ms)
SELECT blob_key, created_ms FROM pending_blobs WHERE created_ms < ?
