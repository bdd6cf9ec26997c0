-- Pods: storage roots at {base}/{name}/.
CREATE TABLE pods (
    name       TEXT PRIMARY KEY,
    owner      TEXT,
    created_ms INTEGER NOT NULL
);

-- One row per resource. path is the canonical encoded path; containers end with '/'.
-- Exactly one of inline / blob_key holds the content (both NULL for a container without
-- client-supplied triples).
CREATE TABLE resources (
    path         TEXT PRIMARY KEY,
    parent       TEXT,
    kind         TEXT NOT NULL CHECK (kind IN ('container', 'rdf', 'binary')),
    content_type TEXT NOT NULL,
    inline       BLOB,
    blob_key     TEXT,
    size         INTEGER NOT NULL,
    etag         TEXT NOT NULL,
    modified_ms  INTEGER NOT NULL,
    created_ms   INTEGER NOT NULL
);
CREATE INDEX resources_parent ON resources (parent);

-- Blob keys handed out for an upload not yet committed (orphans if the process dies).
CREATE TABLE pending_blobs (
    blob_key   TEXT PRIMARY KEY,
    created_ms INTEGER NOT NULL
);

-- Blob keys no row points to any more, removed after a grace period.
CREATE TABLE garbage_blobs (
    blob_key TEXT PRIMARY KEY,
    since_ms INTEGER NOT NULL
);

-- Transactional outbox: events written with the change that caused them.
CREATE TABLE outbox (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id   TEXT NOT NULL,
    topic      TEXT NOT NULL,
    key        TEXT NOT NULL,
    payload    BLOB NOT NULL,
    created_ms INTEGER NOT NULL,
    sent_ms    INTEGER
);
CREATE INDEX outbox_unsent ON outbox (id) WHERE sent_ms IS NULL;
