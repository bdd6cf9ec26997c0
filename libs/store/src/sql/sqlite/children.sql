SELECT path, kind, content_type, size, modified_ms FROM resources WHERE parent = ? ORDER BY path
