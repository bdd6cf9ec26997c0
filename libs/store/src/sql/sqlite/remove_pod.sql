DELETE FROM pods WHERE name = ?
