//! The Solid protocol core of podplane: pure functions, no I/O.
//!
//! This crate owns every protocol decision that can be made from bytes and headers alone:
//! resource paths and slash semantics, content negotiation, RDF parsing and serialisation,
//! container representations, N3 Patch and SPARQL Update, HTTP preconditions, byte ranges and
//! the Link/Allow/Accept-* headers. Services call into it; it never touches the network, the
//! disk or a clock (callers pass "now" in).
//!
//! It must not depend on any storage, HTTP server or async runtime crate.

pub mod access;
pub mod conneg;
pub mod container;
pub mod error;
pub mod headers;
pub mod limits;
pub mod n3patch;
pub mod notify;
pub mod path;
pub mod pod;
pub mod preconditions;
pub mod range;
pub mod rdf;
pub mod rebase;
pub mod sparql_update;
pub mod vocab;

pub use error::SolidError;
