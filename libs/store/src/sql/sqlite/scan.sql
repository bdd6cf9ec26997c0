SELECT * FROM resources WHERE path > ? AND path < ? ORDER BY path LIMIT ?
