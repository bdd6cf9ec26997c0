SELECT * FROM resources WHERE path ~>~ $1 AND path ~<~ $2 ORDER BY path USING ~<~ LIMIT $3
