-- The audit service's own record: every audit event once (by its id), chained per pod.
-- SQL common to SQLite and PostgreSQL: the engine is chosen by URL.

CREATE TABLE events (
    -- The event's `id` (urn:uuid:…): a redelivered event is recognised by it.
    id           TEXT PRIMARY KEY,
    pod          TEXT NOT NULL,
    -- Position in the pod's chain, from 1.
    seq          BIGINT NOT NULL,
    name         TEXT NOT NULL,
    -- The actor's WebID; NULL for anonymous requests.
    actor        TEXT,
    object       TEXT NOT NULL,
    published_ms BIGINT NOT NULL,
    stored_ms    BIGINT NOT NULL,
    -- The event as received, byte for byte: what the hash covers.
    body         TEXT NOT NULL,
    prev_hash    TEXT NOT NULL,
    hash         TEXT NOT NULL
);

CREATE UNIQUE INDEX events_chain ON events (pod, seq);
CREATE INDEX events_by_time ON events (published_ms, id);
CREATE INDEX events_by_pod_time ON events (pod, published_ms, id);

-- The head of each pod's chain, and where retention cut it: verification starts from the
-- last pruned event's hash, so an event deleted at either end is noticed.
CREATE TABLE chains (
    pod         TEXT PRIMARY KEY,
    seq         BIGINT NOT NULL,
    hash        TEXT NOT NULL,
    pruned_seq  BIGINT NOT NULL,
    pruned_hash TEXT NOT NULL
);

-- DPoP proof ids seen by any replica (replay protection, RFC 9449 §11.1).
CREATE TABLE proof_ids (
    id         TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL
);
