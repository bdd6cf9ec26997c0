-- What the store keeps about itself: the progress of data migrations that run in the
-- background (rewriting stored documents so they do not depend on the base URL).
CREATE TABLE settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
