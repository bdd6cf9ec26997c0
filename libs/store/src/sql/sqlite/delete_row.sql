DELETE FROM resources WHERE path = ?
