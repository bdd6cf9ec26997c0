SELECT name, owner, access, created_ms, used_bytes, quota_bytes FROM pods WHERE deleted_ms IS NULL AND importing_ms IS NULL ORDER BY name
