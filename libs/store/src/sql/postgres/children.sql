SELECT path, kind, content_type, size, modified_ms FROM resources WHERE parent = $1 ORDER BY path
