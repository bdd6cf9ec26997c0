SELECT 1 FROM resources WHERE parent = ? LIMIT 1
