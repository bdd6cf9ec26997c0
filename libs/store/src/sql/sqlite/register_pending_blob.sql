INSERT INTO pending_blobs (blob_key, created_ms) VALUES (?, ?)
