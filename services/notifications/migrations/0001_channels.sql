-- The notifications service's own schema (never the storage tables). Written in the SQL that
-- PostgreSQL and SQLite share, so one statement set serves both engines. Times are
-- milliseconds since the Unix epoch.

-- Channels subscribers asked for; any replica serves any of them.
CREATE TABLE channels (
    id           TEXT PRIMARY KEY,
    channel_type TEXT NOT NULL,
    topic        TEXT NOT NULL,
    -- Who subscribed: checked again on every delivery.
    agent        TEXT NOT NULL,
    client_id    TEXT,
    issuer       TEXT,
    -- SHA-256 (hex) of the secret in a WebSocket channel's receiveFrom URL.
    receive_hash TEXT UNIQUE,
    send_to      TEXT,
    state        TEXT,
    start_at     BIGINT,
    end_at       BIGINT NOT NULL,
    rate_ms      BIGINT,
    created_at   BIGINT NOT NULL
);
CREATE INDEX channels_topic ON channels (topic, channel_type);
CREATE INDEX channels_end ON channels (end_at);

-- One row per (webhook channel, event): the de-duplication record and the delivery outcome.
CREATE TABLE deliveries (
    channel_id  TEXT NOT NULL,
    event_id    TEXT NOT NULL,
    status      TEXT NOT NULL,
    attempts    BIGINT NOT NULL,
    last_error  TEXT,
    payload     TEXT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (channel_id, event_id)
);
CREATE INDEX deliveries_failed ON deliveries (channel_id, status);

-- DPoP proof ids seen by any replica (replay protection, RFC 9449 §11.1).
CREATE TABLE proof_ids (
    id         TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL
);

-- The key that signs webhook deliveries, shared by every replica; published at /jwks.
CREATE TABLE signing_keys (
    kid        TEXT PRIMARY KEY,
    pkcs8      TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
