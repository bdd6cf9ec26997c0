UPDATE pods SET quota_bytes = ?2 WHERE name = ?1 AND deleted_ms IS NULL
