//! The database of a service other than storage (notifications, provisioning): PostgreSQL in
//! distributed mode, SQLite embedded, chosen by URL and reached through sqlx's `Any` driver,
//! so such a service writes its SQL once for both engines.

use sqlx::any::AnyPoolOptions;
use sqlx::migrate::Migrator;
use sqlx::AnyPool;

/// Connects to `url` (`postgres://…` or `sqlite://path`) and applies `migrations`.
pub async fn open(
    url: &str,
    max_connections: u32,
    migrations: &Migrator,
) -> Result<AnyPool, sqlx::Error> {
    sqlx::any::install_default_drivers();
    let sqlite = url.starts_with("sqlite:");
    let pool = AnyPoolOptions::new()
        // SQLite takes one writer at a time; more connections only wait on its lock.
        .max_connections(if sqlite { 1 } else { max_connections.max(1) })
        .connect(url)
        .await?;
    if sqlite {
        sqlx::query("PRAGMA journal_mode = WAL")
            .execute(&pool)
            .await?;
    }
    migrations.run(&pool).await?;
    Ok(pool)
}

/// Records a DPoP proof id until `expires_at`, in the service database's `proof_ids` table
/// (every service that verifies proofs across replicas has one); `false` when it was already
/// recorded, i.e. the proof is a replay (RFC 9449 §11.1).
pub async fn first_use(pool: &AnyPool, key: &str, expires_at: i64) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO proof_ids (id, expires_at) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING",
    )
    .bind(key)
    .bind(expires_at)
    .execute(pool)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}
