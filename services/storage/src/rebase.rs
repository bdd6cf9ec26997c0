//! Converting documents stored by earlier versions, which wrote every IRI absolute under the
//! base URL of the day, into the stored form that does not depend on it
//! (`podplane_solid::rebase`).
//!
//! It runs in the background at start, in both modes, over every RDF document and container
//! in path order, and records its progress in the metadata store after each batch: a server
//! stopped half-way resumes where it was, and once it has finished it does not run again —
//! unless it is given a base URL it has not converted from yet (`--legacy-base-url`: data
//! written under another domain, say before a TLS proxy was added). Replicas starting together
//! may each convert some of the same documents; a conversion is idempotent and commits only if
//! the document is unchanged since it was read (a client's write wins), so that is only work.
//!
//! Until a document is converted it is still served right under the base URL it was written
//! at: its absolute IRIs are what they always were.

use crate::error::{ApiError, ApiResult};
use crate::AppState;
use podplane_solid::rdf::{self, RdfFormat};
use podplane_solid::rebase;
use podplane_store::{Kind, Resource};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use tokio::sync::watch;

/// Where the progress is kept (`MetadataStore::setting`).
pub const PROGRESS: &str = "rdf-relative-iris";
const BATCH: u32 = 200;
/// Above every resource path (paths are ASCII).
const END: &str = "\u{7f}";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// Namespace roots whose absolute IRIs the conversion turns relative.
    pub roots: Vec<String>,
    /// The last path converted; `None` once every document was.
    pub after: Option<String>,
}

/// What one run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Converted {
    pub documents: u64,
    pub rewritten: u64,
}

/// The roots a run converts from: the served base URL's and the legacy ones.
fn roots(state: &AppState) -> Vec<String> {
    let mut roots = vec![state.root()];
    for legacy in &state.config.legacy_base_urls {
        let root = rebase::root_of(legacy);
        if !roots.contains(&root) {
            roots.push(root);
        }
    }
    roots
}

/// Runs the conversion to its end, unless it was done before for these roots.
pub async fn convert(state: &AppState) -> ApiResult<Converted> {
    let roots = roots(state);
    let recorded: Option<Progress> = match state.meta.setting(PROGRESS).await? {
        Some(json) => serde_json::from_str(&json).ok(),
        None => None,
    };
    let covers = |p: &Progress| roots.iter().all(|r| p.roots.contains(r));
    let mut after = match recorded {
        Some(p) if covers(&p) => match p.after {
            None => return Ok(Converted::default()),
            Some(after) => after,
        },
        _ => String::new(),
    };
    let mut done = Converted::default();
    loop {
        let rows = state.meta.scan(&after, END, BATCH).await?;
        let Some(last) = rows.last().map(|r| r.path.clone()) else {
            break;
        };
        for row in rows {
            if matches!(row.kind, Kind::Rdf | Kind::Container) && row.size > 0 {
                done.documents += 1;
                if convert_one(state, &row, &roots).await? {
                    done.rewritten += 1;
                }
            }
        }
        after = last;
        record(state, &roots, Some(after.clone())).await?;
    }
    record(state, &roots, None).await?;
    Ok(done)
}

async fn record(state: &AppState, roots: &[String], after: Option<String>) -> ApiResult<()> {
    let progress = Progress {
        roots: roots.to_vec(),
        after,
    };
    let json = serde_json::to_string(&progress)
        .map_err(|e| ApiError::Internal(format!("conversion progress: {e}")))?;
    Ok(state.meta.set_setting(PROGRESS, &json).await?)
}

/// Rewrites one document in the stored form; `false` when it was in that form already, or
/// changed meanwhile (then it was written in that form).
async fn convert_one(state: &AppState, row: &Resource, roots: &[String]) -> ApiResult<bool> {
    let bytes = podplane_store::read_content(state.blobs.as_ref(), &row.content).await?;
    let (iri, path, limits) = (
        state.iri(&row.path),
        row.path.clone(),
        state.config.stored_limits(),
    );
    let roots = roots.to_vec();
    let converted = state
        .cpu
        .run(move || {
            rdf::parse(&bytes, RdfFormat::Turtle, &iri, None, &limits)
                .map(|triples| (rebase::stored_turtle(&triples, &path, &roots), bytes))
        })
        .await?;
    let (stored, before) = match converted {
        Ok(pair) => pair,
        Err(e) => {
            // Left as it is: still served as it always was.
            tracing::warn!(path = %row.path, error = %e, "a stored document does not parse; not converted");
            return Ok(false);
        }
    };
    if stored == before.as_ref() {
        return Ok(false);
    }
    let staged = crate::http::stage_turtle(state, row.kind, stored).await?;
    let committed = state
        .meta
        .rewrite(&row.path, &row.etag, staged.content.clone(), staged.size)
        .await;
    if !matches!(committed, Ok(true)) {
        staged.discard(state).await;
    }
    // The renderings of the old bytes are the same triples: nothing cached goes stale.
    Ok(committed?)
}

/// The background worker: converts at start, retrying while the store is unavailable.
pub async fn run(state: AppState, mut stop: watch::Receiver<bool>) {
    loop {
        match convert(&state).await {
            Ok(Converted {
                documents,
                rewritten,
            }) => {
                if rewritten > 0 {
                    tracing::info!(
                        documents,
                        rewritten,
                        "stored documents no longer name a base URL"
                    );
                }
                return;
            }
            Err(e) => tracing::warn!(error = %e, "converting stored documents failed; will retry"),
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(5)) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
    }
}
