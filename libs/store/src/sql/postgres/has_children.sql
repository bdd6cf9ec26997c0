SELECT 1 FROM resources WHERE parent = $1 LIMIT 1
