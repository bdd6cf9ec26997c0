//! Turtle bodies (PUT/POST of text/turtle): parsing never panics, and whatever parses is
//! stored in a form every served syntax reads back.
#![no_main]

use libfuzzer_sys::fuzz_target;
use podplane_solid::rdf::RdfFormat;

fuzz_target!(|data: &[u8]| {
    podplane_fuzz::parse_document(data, RdfFormat::Turtle, None);
});
