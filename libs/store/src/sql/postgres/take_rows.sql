DELETE FROM resources WHERE path IN (
    SELECT path FROM resources WHERE path ~>=~ $1 AND path ~<~ $2 LIMIT $3
) RETURNING blob_key
