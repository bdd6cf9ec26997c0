-- The W3C trace context of the request that queued the event, sent on as a Kafka header so
-- consumers join that request's trace. NULL when tracing is off.
ALTER TABLE outbox ADD COLUMN traceparent TEXT;
