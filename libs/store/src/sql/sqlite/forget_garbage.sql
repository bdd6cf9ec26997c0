DELETE FROM garbage_blobs WHERE blob_key = ?
