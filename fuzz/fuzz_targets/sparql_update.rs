//! SPARQL Update bodies: parsing and applying never panic; a failed apply leaves the document
//! as it was; a successful one only deletes when the update asked for Write and only inserts
//! when it asked for Append.
//!
//! Input: `stored Turtle NUL update`, or just an update applied to a small fixed document.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oxrdf::Graph;
use podplane_fuzz::{split_nul, DOC};
use podplane_solid::rdf::{self, RdfFormat};
use podplane_solid::sparql_update;

const STORED: &[u8] = b"@prefix ex: <http://ex.org/>. <#me> ex:name \"Alice\"; ex:age 42; ex:knows <#bob>. <#bob> ex:name \"Bob\".";

fuzz_target!(|data: &[u8]| {
    let (stored, body) = split_nul(data);
    let stored = if stored.is_empty() { STORED } else { stored };
    let Ok(triples) = rdf::parse(stored, RdfFormat::Turtle, DOC, None, &Default::default()) else {
        return;
    };
    let Ok(patch) = sparql_update::parse(body, DOC, &Default::default()) else {
        return;
    };
    let before: Graph = triples.iter().collect();
    let mut graph = before.clone();
    match sparql_update::apply(&patch, &mut graph, &Default::default()) {
        Err(_) => assert_eq!(graph, before, "a failed update changed the document"),
        Ok(()) => {
            if before.iter().any(|t| !graph.contains(t)) {
                assert!(
                    patch.needs_write(),
                    "deleted without needing Write: {patch:?}"
                );
            }
            if graph.iter().any(|t| !before.contains(t)) {
                assert!(
                    patch.needs_append(),
                    "inserted without needing Append: {patch:?}"
                );
            }
        }
    }
});
