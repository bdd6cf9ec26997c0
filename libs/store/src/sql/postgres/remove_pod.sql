DELETE FROM pods WHERE name = $1
