//! JSON-LD bodies: parsing never panics, with remote contexts refused (the default) or served
//! by a loader that knows one context; whatever parses round-trips.
#![no_main]

use libfuzzer_sys::fuzz_target;
use podplane_solid::rdf::{ContextLoader, RdfFormat};
use std::sync::Arc;

const CONTEXT: &str = "https://ctx.example/person.jsonld";

fuzz_target!(|data: &[u8]| {
    // The first byte chooses the loader, so both paths stay in one corpus.
    let Some((choice, body)) = data.split_first() else {
        return;
    };
    let loader: Option<ContextLoader> = (choice & 1 == 1).then(|| {
        Arc::new(|url: &str| {
            if url == CONTEXT {
                Ok(br#"{"@context": {"name": "http://xmlns.com/foaf/0.1/name", "knows": {"@id": "http://xmlns.com/foaf/0.1/knows", "@type": "@id"}}}"#.to_vec())
            } else {
                Err(format!("{url} is not allowed"))
            }
        }) as ContextLoader
    });
    podplane_fuzz::parse_document(body, RdfFormat::JsonLd, loader);
});
