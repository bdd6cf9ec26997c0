-- A deleted pod keeps its row, and so its name, until the purge has removed every row and
-- blob of it; deleted_ms says since when clients have been told it does not exist. (SQLite
-- compares text byte-wise: the purge's prefix range reads the primary key index.)
ALTER TABLE pods ADD COLUMN deleted_ms INTEGER;
