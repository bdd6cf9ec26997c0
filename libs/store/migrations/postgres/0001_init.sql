-- The storage service's database (podplane_storage). Same model as the SQLite schema.

-- Pods: storage roots at {base}/{name}/.
CREATE TABLE pods (
    name       TEXT PRIMARY KEY,
    owner      TEXT,
    created_ms BIGINT NOT NULL
);

-- One row per resource. path is the canonical encoded path; containers end with '/'.
-- Exactly one of inline / blob_key holds the content (both NULL for a container without
-- client-supplied triples). parent is NULL for pod roots and auxiliary resources.
CREATE TABLE resources (
    path         TEXT PRIMARY KEY,
    parent       TEXT,
    kind         TEXT NOT NULL CHECK (kind IN ('container', 'rdf', 'binary')),
    content_type TEXT NOT NULL,
    inline       BYTEA,
    blob_key     TEXT,
    size         BIGINT NOT NULL,
    etag         TEXT NOT NULL,
    modified_ms  BIGINT NOT NULL,
    created_ms   BIGINT NOT NULL
);
CREATE INDEX resources_parent ON resources (parent, path);
CREATE INDEX resources_blob_key ON resources (blob_key) WHERE blob_key IS NOT NULL;

-- Blob keys handed out for an upload not yet committed (orphans if the replica dies).
CREATE TABLE pending_blobs (
    blob_key   TEXT PRIMARY KEY,
    created_ms BIGINT NOT NULL
);

-- Blob keys no row points to any more, removed after a grace period.
CREATE TABLE garbage_blobs (
    blob_key TEXT PRIMARY KEY,
    since_ms BIGINT NOT NULL
);

-- Transactional outbox: events written with the change that caused them.
CREATE TABLE outbox (
    id         BIGSERIAL PRIMARY KEY,
    event_id   TEXT NOT NULL,
    topic      TEXT NOT NULL,
    key        TEXT NOT NULL,
    payload    BYTEA NOT NULL,
    created_ms BIGINT NOT NULL,
    sent_ms    BIGINT
);
CREATE INDEX outbox_unsent ON outbox (id) WHERE sent_ms IS NULL;
