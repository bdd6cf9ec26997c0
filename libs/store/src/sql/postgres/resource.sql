SELECT * FROM resources WHERE path = $1
