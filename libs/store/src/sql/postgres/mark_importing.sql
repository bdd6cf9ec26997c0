UPDATE pods SET importing_ms = $2 WHERE name = $1 AND deleted_ms IS NULL
