SELECT id, event_id, topic, key, payload, traceparent FROM outbox WHERE sent_ms IS NULL ORDER BY id LIMIT ?
