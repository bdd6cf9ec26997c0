INSERT INTO outbox (event_id, topic, key, payload, created_ms, traceparent) VALUES ($1, $2, $3, $4, $5, $6)
