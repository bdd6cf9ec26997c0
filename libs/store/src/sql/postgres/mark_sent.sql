UPDATE outbox SET sent_ms = $1 WHERE id = ANY($2)
