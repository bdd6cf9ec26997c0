//! Pod archives: one pod, whole, in a tar file (`docs/pod-archive.md`), written by
//! `podplane pod export` from any deployment and loaded by `podplane pod import` into any
//! other, under any base URL and pod name.
//!
//! Both stream: an export writes each resource's content as it reads it from the blob store,
//! an import stores each as it reads it from the archive, so memory stays bounded whatever the
//! pod's size (one RDF document, parsed to re-base it, is the most either holds). An import is
//! all-or-nothing (`podplane_store`'s pod import): the pod appears whole when it commits, and
//! an import that fails, or whose process dies, leaves a deleted pod that is purged.

mod export;
mod framing;
mod import;
pub mod manifest;

pub use export::export;
pub use import::{import, ImportLimits};

use crate::error::ApiError;

/// What an export or import moved.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Moved {
    pub resources: u64,
    /// Content bytes, as the archive holds them.
    pub bytes: u64,
}

fn io(e: std::io::Error) -> ApiError {
    ApiError::Archive(format!("archive I/O: {e}"))
}

fn bad(e: manifest::ManifestError) -> ApiError {
    ApiError::Archive(e.0)
}

/// Entry names: `resources/00000001.ttl` (manifest) and `.data` (content).
fn entry_name(n: u64, suffix: &str) -> String {
    format!("resources/{n:08}.{suffix}")
}
