SELECT 1 FROM resources WHERE path = $1
