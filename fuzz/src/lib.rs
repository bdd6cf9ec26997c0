//! Helpers shared by the fuzz targets: the fixed IRIs they parse against, the round-trip check
//! of the RDF syntaxes, and the small vocabulary the access-control targets build graphs from.

pub mod access;

use oxrdf::{Graph, Triple};
use podplane_solid::rdf::{self, RdfFormat};

/// Base IRI every client document is parsed against, as the server would for a PUT to it.
pub const DOC: &str = "https://pod.example/alice/doc";
pub const CONTAINER: &str = "https://pod.example/alice/";

/// Splits the input at its first NUL byte, so one input can carry two documents (a stored
/// document and a patch, a JWS header and its payload). No NUL: everything is the second part.
pub fn split_nul(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|b| *b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (&[], data),
    }
}

/// What the server stores must read back: whatever a client could write in one syntax has to
/// survive serialisation to every syntax we serve, or a later GET (or a conneg'd GET) fails.
/// Compared as graphs, because serialisers may drop duplicate triples and rename blank nodes.
pub fn assert_round_trips(triples: &[Triple], from: RdfFormat) {
    let original: Graph = triples.iter().collect();
    for to in RdfFormat::ALL {
        let bytes = rdf::serialize(triples, to);
        let back = rdf::parse(&bytes, to, DOC, None, &Default::default()).unwrap_or_else(|e| {
            panic!(
                "{from:?} → {to:?} does not read back: {e}\n{}",
                String::from_utf8_lossy(&bytes)
            )
        });
        let back: Graph = back.iter().collect();
        assert_eq!(
            original.len(),
            back.len(),
            "{from:?} → {to:?} changed the graph:\n{}",
            String::from_utf8_lossy(&bytes)
        );
    }
}

/// Parses a client document in `format` and, when it parses, checks the round trip and the
/// container-triples check that a PUT or POST of it to a container would run.
pub fn parse_document(data: &[u8], format: RdfFormat, contexts: Option<rdf::ContextLoader>) {
    let Ok(triples) = rdf::parse(data, format, DOC, contexts, &Default::default()) else {
        return;
    };
    let _ = podplane_solid::container::check_client_triples(CONTAINER, &triples);
    assert_round_trips(&triples, format);
}

/// A compact JWS from a fuzz input. Inputs without NUL are taken as the compact string itself
/// (real tokens seed the corpus that way); otherwise the NUL-separated parts are JSON header,
/// JSON payload and signature bytes, base64url-encoded here so that mutations hit the JSON
/// rather than the base64.
pub fn compact_jws(data: &[u8]) -> Option<String> {
    if !data.contains(&0) {
        return std::str::from_utf8(data).ok().map(str::to_owned);
    }
    let parts: Vec<String> = data
        .splitn(3, |b| *b == 0)
        .map(podplane_auth::jose::b64url)
        .collect();
    Some(parts.join("."))
}

/// The clock the token and proof seeds were minted for.
pub const NOW: i64 = 1_700_000_000;

/// What both patch targets check after applying: a failed patch leaves the document as it
/// was; a successful one deletes only when the patch asked for Write and inserts only when it
/// asked for Append, so authorization (decided from the parse) covers what apply did.
pub fn assert_patch_outcome(
    before: &Graph,
    after: &Graph,
    applied: bool,
    needs: (bool, bool),
    patch: &dyn std::fmt::Debug,
) {
    let (needs_write, needs_append) = needs;
    if !applied {
        assert_eq!(after, before, "a failed patch changed the document");
        return;
    }
    if before.iter().any(|t| !after.contains(t)) {
        assert!(needs_write, "deleted without needing Write: {patch:?}");
    }
    if after.iter().any(|t| !before.contains(t)) {
        assert!(needs_append, "inserted without needing Append: {patch:?}");
    }
}
