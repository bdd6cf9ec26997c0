//! For tests of every crate that keeps data in PostgreSQL: a fresh database on the test
//! server. Not for production code.

use sqlx::Connection;

/// A new, empty database on the server `PODPLANE_TEST_PG_URL` names (scripts/dev-services.sh
/// starts one and scripts/test.sh exports it), as a URL. `None`, after saying loudly that the
/// test is skipped, when no server is set; in CI (`CI=true`) a missing server fails the test.
pub async fn fresh_postgres_database(prefix: &str) -> Option<String> {
    let admin_url = match std::env::var("PODPLANE_TEST_PG_URL") {
        Ok(url) if !url.is_empty() => url,
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("CI=true but PODPLANE_TEST_PG_URL is not set: the PostgreSQL tests cannot run")
        }
        _ => {
            eprintln!(
                "SKIPPED: a PostgreSQL test (set PODPLANE_TEST_PG_URL or run scripts/test.sh)"
            );
            return None;
        }
    };
    let db = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
    let mut admin = sqlx::PgConnection::connect(&admin_url)
        .await
        .expect("connect to PostgreSQL");
    sqlx::query(&format!("CREATE DATABASE {db}"))
        .execute(&mut admin)
        .await
        .expect("create a test database");
    let (server, _) = admin_url
        .rsplit_once('/')
        .expect("PODPLANE_TEST_PG_URL must name a database");
    Some(format!("{server}/{db}"))
}

/// Drops a database [`fresh_postgres_database`] made (tests that make many clean up after
/// themselves; the rest are dropped with the test server).
pub async fn drop_postgres_database(url: &str) {
    let admin_url = std::env::var("PODPLANE_TEST_PG_URL").expect("PODPLANE_TEST_PG_URL");
    let (_, db) = url.rsplit_once('/').expect("a database URL");
    let mut admin = sqlx::PgConnection::connect(&admin_url)
        .await
        .expect("connect to PostgreSQL");
    sqlx::query(&format!("DROP DATABASE {db} WITH (FORCE)"))
        .execute(&mut admin)
        .await
        .expect("drop a test database");
}
