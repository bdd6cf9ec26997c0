SELECT * FROM resources WHERE path = ?
