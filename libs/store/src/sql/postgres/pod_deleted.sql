SELECT deleted_ms FROM pods WHERE name = $1
