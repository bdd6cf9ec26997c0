-- Run once by the PostgreSQL image on an empty data directory (/docker-entrypoint-initdb.d).
-- One database per podplane service that owns state: a service never reads another's.
-- storage: `podplane migrate` (the compose `migrate` one-shot) applies its schema;
-- notifications, provision, audit: each service applies its own schema at start-up.
CREATE DATABASE podplane_storage;
CREATE DATABASE podplane_notifications;
CREATE DATABASE podplane_provision;
CREATE DATABASE podplane_audit;
