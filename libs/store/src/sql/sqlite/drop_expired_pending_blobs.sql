DELETE FROM pending_blobs WHERE created_ms < ?
