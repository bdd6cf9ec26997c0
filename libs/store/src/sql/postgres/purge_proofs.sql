DELETE FROM dpop_proofs WHERE expires_ms < $1
