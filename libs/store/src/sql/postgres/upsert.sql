INSERT INTO resources (path, parent, kind, content_type, inline, blob_key, size, etag, modified_ms, created_ms, created_by)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10)
ON CONFLICT (path) DO UPDATE SET kind = excluded.kind, content_type = excluded.content_type,
inline = excluded.inline, blob_key = excluded.blob_key, size = excluded.size, etag = excluded.etag,
modified_ms = excluded.modified_ms
