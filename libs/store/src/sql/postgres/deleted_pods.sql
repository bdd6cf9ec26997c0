SELECT name FROM pods WHERE deleted_ms IS NOT NULL ORDER BY deleted_ms
