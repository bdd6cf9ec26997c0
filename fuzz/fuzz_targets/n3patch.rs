//! N3 Patch bodies: parsing and applying never panic; a failed apply leaves the document as
//! it was; a successful one only deletes when the patch asked for Write and only inserts when
//! it asked for Append, so authorization (decided from the parse) covers what apply does.
//!
//! Input: `stored Turtle NUL patch`, or just a patch applied to a small fixed document.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oxrdf::Graph;
use podplane_fuzz::{assert_patch_outcome, split_nul, DOC};
use podplane_solid::n3patch;
use podplane_solid::rdf::{self, RdfFormat};

const STORED: &[u8] = b"@prefix ex: <http://ex.org/>. <#me> ex:name \"Alice\"; ex:age 42; ex:knows <#bob>. <#bob> ex:name \"Bob\".";

fuzz_target!(|data: &[u8]| {
    let (stored, body) = split_nul(data);
    let stored = if stored.is_empty() { STORED } else { stored };
    let Ok(triples) = rdf::parse(stored, RdfFormat::Turtle, DOC, None, &Default::default()) else {
        return;
    };
    let Ok(patch) = n3patch::parse(body, DOC, &Default::default()) else {
        return;
    };
    let before: Graph = triples.iter().collect();
    let mut graph = before.clone();
    let applied = n3patch::apply(&patch, &mut graph, &Default::default()).is_ok();
    let needs = (patch.needs_write(), patch.needs_append());
    assert_patch_outcome(&before, &graph, applied, needs, &patch);
});
