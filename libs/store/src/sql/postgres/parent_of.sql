SELECT parent FROM resources WHERE path = $1
