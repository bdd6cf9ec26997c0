INSERT OR IGNORE INTO dpop_proofs (id, expires_ms) VALUES (?, ?)
