SELECT parent FROM resources WHERE path = ?
