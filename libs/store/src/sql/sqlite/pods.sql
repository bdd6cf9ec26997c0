SELECT name, owner, access, created_ms FROM pods ORDER BY name
