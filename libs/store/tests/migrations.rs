//! Migrations that convert stored data, run from the schema before them with data in it, on
//! both engines: 0004 adds quotas and must sum each pod's existing bytes exactly.

use podplane_store::*;
use sqlx::Connection;
use std::path::{Path, PathBuf};

/// The engine's migrations before `first_new` (a number), copied to a directory of their own.
fn migrations_before(engine: &str, first_new: u32, into: &Path) -> PathBuf {
    let source = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(engine);
    let dir = into.join(format!("{engine}-before-{first_new}"));
    std::fs::create_dir_all(&dir).unwrap();
    for entry in std::fs::read_dir(source).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let number: u32 = name.split('_').next().unwrap().parse().unwrap();
        if number < first_new {
            std::fs::copy(entry.path(), dir.join(&name)).unwrap();
        }
    }
    dir
}

/// Two pods whose names share a prefix (`a` and `ab`), with rows of known sizes, as the schema
/// before quotas stored them.
const ROWS: &str = "
INSERT INTO pods (name, owner, access, created_ms) VALUES ('a', NULL, 'acp', 1), ('ab', NULL, 'wac', 1), ('empty', NULL, 'acp', 1);
INSERT INTO resources (path, parent, kind, content_type, size, etag, modified_ms, created_ms) VALUES
  ('/a/', NULL, 'container', 'text/turtle', 0, 'e1', 1, 1),
  ('/a/.acl', NULL, 'rdf', 'text/turtle', 300, 'e2', 1, 1),
  ('/a/x', '/a/', 'binary', 'image/png', 5000, 'e3', 1, 1),
  ('/a/c/', '/a/', 'container', 'text/turtle', 20, 'e4', 1, 1),
  ('/a/c/y', '/a/c/', 'rdf', 'text/turtle', 700, 'e5', 1, 1),
  ('/ab/', NULL, 'container', 'text/turtle', 0, 'e6', 1, 1),
  ('/ab/z', '/ab/', 'binary', 'image/png', 40, 'e7', 1, 1),
  ('/empty/', NULL, 'container', 'text/turtle', 0, 'e8', 1, 1);
";

async fn check_usage(store: &dyn MetadataStore) {
    let usage = |name: &'static str| async move {
        let pod = store.get_pod(name).await.unwrap().unwrap();
        (pod.used_bytes, pod.quota_bytes)
    };
    assert_eq!(usage("a").await, (6020, None));
    assert_eq!(usage("ab").await, (40, None));
    assert_eq!(usage("empty").await, (0, None));
}

#[tokio::test]
async fn sqlite_quota_migration_sums_what_each_pod_already_holds() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("metadata.sqlite");
    let url = format!("sqlite://{}?mode=rwc", file.display());
    {
        let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
        let before = migrations_before("sqlite", 4, dir.path());
        let migrator = sqlx::migrate::Migrator::new(before).await.unwrap();
        migrator.run(&mut conn).await.unwrap();
        sqlx::raw_sql(ROWS).execute(&mut conn).await.unwrap();
        conn.close().await.unwrap();
    }
    let store = SqliteMetadataStore::open(&file, "http://pods.test")
        .await
        .unwrap();
    check_usage(&store).await;
}

#[tokio::test]
async fn postgres_quota_migration_sums_what_each_pod_already_holds() {
    let Some(url) = podplane_store::testing::fresh_postgres_database("podplane_migration").await
    else {
        return;
    };
    {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
        let before = migrations_before("postgres", 4, dir.path());
        let migrator = sqlx::migrate::Migrator::new(before).await.unwrap();
        migrator.run(&mut conn).await.unwrap();
        sqlx::raw_sql(ROWS).execute(&mut conn).await.unwrap();
        conn.close().await.unwrap();
    }
    let store = PgMetadataStore::connect(&PgSettings::new(&url), "http://pods.test").unwrap();
    store.migrate().await.unwrap();
    check_usage(&store).await;
    drop(store);
    podplane_store::testing::drop_postgres_database(&url).await;
}
