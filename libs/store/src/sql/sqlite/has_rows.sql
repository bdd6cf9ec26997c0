SELECT 1 FROM resources WHERE path >= ?1 AND path < ?2 LIMIT 1
