INSERT INTO pods (name, owner, access, created_ms) VALUES ($1, $2, $3, $4)
