SELECT name, owner, access, created_ms FROM pods WHERE name = ?
