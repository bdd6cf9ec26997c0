INSERT OR IGNORE INTO garbage_blobs (blob_key, since_ms) VALUES (?, ?)
