UPDATE pods SET deleted_ms = $2 WHERE name = $1
