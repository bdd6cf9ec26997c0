SELECT name FROM pods WHERE importing_ms < ? AND deleted_ms IS NULL ORDER BY importing_ms
