-- Each pod is governed by one access control model: 'acp' (as ESS) or 'wac'.
ALTER TABLE pods ADD COLUMN access TEXT NOT NULL DEFAULT 'acp' CHECK (access IN ('acp', 'wac'));

-- The WebID that created a resource (ACP's acp:CreatorAgent); kept across updates.
ALTER TABLE resources ADD COLUMN created_by TEXT;

-- DPoP proof ids seen within their validity window (replay protection).
CREATE TABLE dpop_proofs (
    id         TEXT PRIMARY KEY,
    expires_ms INTEGER NOT NULL
);
CREATE INDEX dpop_proofs_expiry ON dpop_proofs (expires_ms);
