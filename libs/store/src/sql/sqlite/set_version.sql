UPDATE resources SET etag = ?, modified_ms = ? WHERE path = ?
