SELECT * FROM resources WHERE path IN (SELECT value FROM json_each(?))
