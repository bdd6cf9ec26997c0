SELECT blob_key FROM garbage_blobs g WHERE since_ms < ?
AND NOT EXISTS (SELECT 1 FROM resources r WHERE r.blob_key = g.blob_key) LIMIT ?
