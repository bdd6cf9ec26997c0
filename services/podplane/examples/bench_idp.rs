//! The benchmark's identity provider: the black-box suite's test provider (discovery, JWKS,
//! WebIDs) plus a control endpoint that hands out the bench owner's WebID, its access token,
//! and batches of fresh DPoP proofs, so wrk can send a new proof with every request as real
//! clients do.
//!
//! Usage: bench_idp 127.0.0.1:3954, then GET /webid, /token, /proofs?n=N&method=GET&url=URL.

#[allow(dead_code)]
#[path = "../../../tests/protocol/idp.rs"]
mod idp;

use axum::extract::{Query, State};
use axum::routing::get;
use axum::Router;
use std::collections::HashMap;
use std::sync::Arc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:3954".into());
    let owner = Arc::new(idp::idp().agent("bench-owner"));
    let app = Router::new()
        .route("/webid", get(|State(a): State<Arc<idp::Agent>>| async move { a.webid.clone() }))
        .route("/token", get(|State(a): State<Arc<idp::Agent>>| async move { a.token.clone() }))
        .route(
            "/proofs",
            get(|State(a): State<Arc<idp::Agent>>, Query(q): Query<HashMap<String, String>>| async move {
                let n: usize = q.get("n").and_then(|n| n.parse().ok()).unwrap_or(1);
                let method = q.get("method").cloned().unwrap_or_else(|| "GET".into());
                let url = q.get("url").cloned().unwrap_or_default();
                (0..n).map(|_| a.proof(&method, &url) + "\n").collect::<String>()
            }),
        )
        .with_state(owner);
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    axum::serve(listener, app).await?;
    Ok(())
}
