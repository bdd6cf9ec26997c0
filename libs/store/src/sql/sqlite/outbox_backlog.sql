SELECT count(*), min(created_ms) FROM
(SELECT created_ms FROM outbox WHERE sent_ms IS NULL ORDER BY id LIMIT ?) unsent
