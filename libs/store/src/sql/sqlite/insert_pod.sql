INSERT INTO pods (name, owner, access, created_ms, used_bytes) VALUES (?, ?, ?, ?, ?)
