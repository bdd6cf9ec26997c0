INSERT INTO outbox (event_id, topic, key, payload, created_ms, traceparent) VALUES (?, ?, ?, ?, ?, ?)
