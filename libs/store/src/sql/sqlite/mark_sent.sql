UPDATE outbox SET sent_ms = ? WHERE id = ?
