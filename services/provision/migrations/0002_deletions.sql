-- Pod deletions: who asked for which, and when its purge finished. A pod being deleted keeps
-- its row in `pods` (state 'deleting'), so its name stays taken and it still counts against
-- its owner, until storage reports the purge done; the deletion row stays as the status
-- resource's record.

CREATE TABLE deletions (
    id           TEXT PRIMARY KEY,
    pod          TEXT NOT NULL,
    owner        TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    requested_at BIGINT NOT NULL,
    purged_at    BIGINT
);

CREATE INDEX deletions_by_pod ON deletions (pod, purged_at);
CREATE INDEX deletions_pending ON deletions (purged_at, requested_at);
