//! Inputs the fuzz targets in fuzz/ found, minimised, as regression tests.
//!
//! A test marked `#[ignore]` reproduces a finding that is not fixed yet; run them with
//! `cargo test -p podplane-solid --test fuzz_regressions -- --ignored`, and drop the
//! `#[ignore]` with the fix.

use podplane_solid::access::acp::{self, Acr, Context};
use podplane_solid::access::wac::{Acl, Scope};
use podplane_solid::access::{Modes, Requester};
use podplane_solid::rdf::{parse, serialize, RdfFormat};

const DOC: &str = "https://pod.example/alice/doc";

/// fuzz target `jsonld`: JSON-LD accepts blank node identifiers that Turtle's grammar does not
/// (`_:b:`), and they were stored as they came, so the document could be written but not read
/// back as Turtle (or N-Triples): every later GET served a body no parser accepts.
#[test]
fn jsonld_blank_node_labels_survive_turtle() {
    let body = br#"{"@id": "_:b:", "http://ex.org/p": "v"}"#;
    let triples =
        parse(body, RdfFormat::JsonLd, DOC, None, &Default::default()).expect("JSON-LD accepts it");
    for format in [RdfFormat::Turtle, RdfFormat::NTriples] {
        let bytes = serialize(&triples, format);
        let back = parse(&bytes, format, DOC, None, &Default::default());
        assert!(
            back.is_ok(),
            "{format:?}: {}\n{back:?}",
            String::from_utf8_lossy(&bytes)
        );
    }
}

/// fuzz target `wac`: an `acl:origin` that is not an IRI (a literal, a blank node) was
/// dropped, so the rule it was meant to restrict applied to requests from every origin. A
/// restriction the server cannot read must restrict (to nothing), not vanish.
#[test]
fn non_iri_acl_origin_does_not_lift_the_restriction() {
    for origin in [r#""https://app.example""#, "[]"] {
        let ttl = format!(
            "@prefix acl: <http://www.w3.org/ns/auth/acl#>.
            <#r> a acl:Authorization; acl:agentClass <http://xmlns.com/foaf/0.1/Agent>;
                acl:accessTo <doc>; acl:origin {origin}; acl:mode acl:Read."
        );
        let acl = Acl::parse(
            &parse(
                ttl.as_bytes(),
                RdfFormat::Turtle,
                DOC,
                None,
                &Default::default(),
            )
            .unwrap(),
        );
        let evil = Requester::anonymous(Some("https://evil.example".into()));
        assert_eq!(
            acl.modes(Scope::Own(DOC), &evil, &|_| false),
            Modes::NONE,
            "acl:origin {origin}"
        );
    }
}

/// fuzz target `acp`: an `acp:allOf` whose object is a literal was dropped, so a policy meant
/// to require that matcher as well was satisfied by its `acp:anyOf` alone (here: by anyone).
/// An allOf member the server cannot read must fail the policy, not vanish from it.
#[test]
fn literal_acp_all_of_does_not_lift_the_restriction() {
    let ttl = br#"@prefix acp: <http://www.w3.org/ns/solid/acp#>.
        @prefix acl: <http://www.w3.org/ns/auth/acl#>.
        <> acp:accessControl <#ac>. <#ac> acp:apply <#p>.
        <#p> acp:allow acl:Read; acp:anyOf [ acp:agent acp:PublicAgent ];
            acp:allOf "https://alice.example/profile#me"."#;
    let acr = Acr::parse(
        &parse(
            ttl,
            RdfFormat::Turtle,
            "https://pod.example/alice/doc.acl",
            None,
            &Default::default(),
        )
        .unwrap(),
    );
    let anonymous = Requester::anonymous(None);
    let ctx = Context {
        who: &anonymous,
        owner: None,
        creator: None,
        vcs: &[],
    };
    assert_eq!(acp::granted(&acr.access_control, &ctx), Modes::NONE);
}
