SELECT * FROM resources WHERE path = ANY($1)
