UPDATE pods SET used_bytes = used_bytes + $2 WHERE name = $1 RETURNING used_bytes, quota_bytes
