-- A pod being imported (`podplane pod import`) has a row, so its name is taken, but clients
-- do not see it until the import commits its root; importing_ms is when the import last
-- showed life, so servers can abandon one whose process died.
ALTER TABLE pods ADD COLUMN importing_ms INTEGER;
