SELECT importing_ms FROM pods WHERE name = $1 AND deleted_ms IS NULL
