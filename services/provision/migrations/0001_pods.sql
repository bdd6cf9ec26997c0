-- The provisioning service's own record of the pods it made: who owns which, and how many
-- each owner holds (the per-owner limit is checked against `owners.pods` in the same
-- transaction that reserves a name, so concurrent requests cannot overshoot it). The pods
-- themselves (root, owner, access control) live in the storage service's database.
-- SQL common to SQLite and PostgreSQL: the engine is chosen by URL.

CREATE TABLE pods (
    name       TEXT PRIMARY KEY,
    owner      TEXT NOT NULL,
    access     TEXT NOT NULL,
    -- 'creating' until the storage service confirms the pod exists, then 'active'.
    state      TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE INDEX pods_by_owner ON pods (owner, created_at);
CREATE INDEX pods_by_state ON pods (state, created_at);

CREATE TABLE owners (
    owner TEXT PRIMARY KEY,
    pods  BIGINT NOT NULL
);

-- DPoP proof ids seen by any replica (replay protection, RFC 9449 §11.1).
CREATE TABLE proof_ids (
    id         TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL
);
