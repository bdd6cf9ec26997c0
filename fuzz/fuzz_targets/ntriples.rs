//! N-Triples bodies: parsing never panics, and whatever parses round-trips.
#![no_main]

use libfuzzer_sys::fuzz_target;
use podplane_solid::rdf::RdfFormat;

fuzz_target!(|data: &[u8]| {
    podplane_fuzz::parse_document(data, RdfFormat::NTriples, None);
});
