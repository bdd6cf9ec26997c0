//! The baseline for scripts/bench.sh: an axum handler answering a fixed body, so every figure
//! the bench prints can be read as a ratio to "the fastest this machine serves HTTP with axum".

use axum::routing::get;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:3100".into());
    let app = axum::Router::new().route("/{*path}", get(|| async { "<#it> <#is> <#trivial> .\n" }));
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    axum::serve(listener, app).await
}
