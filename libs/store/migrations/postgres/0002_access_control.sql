-- Each pod is governed by one access control model: 'acp' (as ESS) or 'wac'.
ALTER TABLE pods ADD COLUMN access TEXT NOT NULL DEFAULT 'acp' CHECK (access IN ('acp', 'wac'));

-- The WebID that created a resource (ACP's acp:CreatorAgent); kept across updates.
ALTER TABLE resources ADD COLUMN created_by TEXT;

-- DPoP proof ids seen within their validity window, shared by every replica (replay
-- protection). UNLOGGED: losing it in a crash only reopens a window of at most a minute.
CREATE UNLOGGED TABLE dpop_proofs (
    id         TEXT PRIMARY KEY,
    expires_ms BIGINT NOT NULL
);
CREATE INDEX dpop_proofs_expiry ON dpop_proofs (expires_ms);
