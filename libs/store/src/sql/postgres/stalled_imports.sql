SELECT name FROM pods WHERE importing_ms < $1 AND deleted_ms IS NULL ORDER BY importing_ms
