SELECT importing_ms FROM pods WHERE name = ? AND deleted_ms IS NULL
