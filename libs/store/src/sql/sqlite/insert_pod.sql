INSERT INTO pods (name, owner, access, created_ms) VALUES (?, ?, ?, ?)
