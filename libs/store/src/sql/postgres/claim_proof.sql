INSERT INTO dpop_proofs (id, expires_ms) VALUES ($1, $2) ON CONFLICT DO NOTHING
