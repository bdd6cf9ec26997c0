INSERT INTO garbage_blobs (blob_key, since_ms) VALUES ($1, $2) ON CONFLICT DO NOTHING
