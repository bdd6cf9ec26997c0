DELETE FROM resources WHERE path = $1
