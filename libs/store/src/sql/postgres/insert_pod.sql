INSERT INTO pods (name, owner, access, created_ms, used_bytes) VALUES ($1, $2, $3, $4, $5)
