DELETE FROM pending_blobs WHERE blob_key = ?
