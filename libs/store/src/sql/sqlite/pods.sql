SELECT name, owner, access, created_ms, used_bytes, quota_bytes FROM pods ORDER BY name
