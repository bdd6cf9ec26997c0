UPDATE resources SET etag = $1, modified_ms = $2 WHERE path = $3
