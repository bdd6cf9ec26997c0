//! RDF syntaxes podplane reads and writes, and the graph type the rest of the core works on.

use crate::error::SolidError;
use crate::limits::{self, ExpansionBudget, Limits};
use crate::vocab;
use oxjsonld::{JsonLdParser, JsonLdRemoteDocument, JsonLdSerializer};
use oxrdf::{GraphName, Triple};
use oxttl::{NTriplesParser, NTriplesSerializer, TurtleParser, TurtleSerializer};
use std::panic::{RefUnwindSafe, UnwindSafe};
use std::sync::Arc;

/// The RDF syntaxes an RDF source can be written in and served as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RdfFormat {
    Turtle,
    JsonLd,
    NTriples,
}

impl RdfFormat {
    /// Server preference order for negotiation: Turtle first, as the Solid Protocol expects.
    pub const ALL: [RdfFormat; 3] = [RdfFormat::Turtle, RdfFormat::JsonLd, RdfFormat::NTriples];
    pub const MEDIA_TYPES: [&'static str; 3] = [
        "text/turtle",
        "application/ld+json",
        "application/n-triples",
    ];

    pub fn media_type(self) -> &'static str {
        match self {
            RdfFormat::Turtle => "text/turtle",
            RdfFormat::JsonLd => "application/ld+json",
            RdfFormat::NTriples => "application/n-triples",
        }
    }

    /// The format for a media-type essence, if it is one we can parse.
    pub fn from_media_type(essence: &str) -> Option<Self> {
        match essence {
            "text/turtle" => Some(RdfFormat::Turtle),
            "application/ld+json" => Some(RdfFormat::JsonLd),
            "application/n-triples" => Some(RdfFormat::NTriples),
            _ => None,
        }
    }
}

/// Fetches a remote JSON-LD context. Returning an error refuses the context; the parse then
/// fails with a 400. The callback is synchronous because the JSON-LD processor is; callers run
/// parsing off the async runtime.
pub type ContextLoader =
    Arc<dyn Fn(&str) -> Result<Vec<u8>, String> + Send + Sync + UnwindSafe + RefUnwindSafe>;

/// Parses `body` as `format`, resolving relative IRIs against `base_iri`, within `limits`
/// (nesting is checked before parsing, expansion triple by triple while parsing).
///
/// JSON-LD remote contexts go through `contexts`; without a loader every remote context is
/// refused, so parsing never makes a request on a client's behalf.
pub fn parse(
    body: &[u8],
    format: RdfFormat,
    base_iri: &str,
    contexts: Option<ContextLoader>,
    limits: &Limits,
) -> Result<Vec<Triple>, SolidError> {
    let malformed = |message: String| SolidError::MalformedRdf {
        media_type: format.media_type().to_owned(),
        message,
    };
    let mut budget = ExpansionBudget::new(limits);
    let mut keep = |triples: &mut Vec<Triple>, t: Triple| {
        budget.charge(t.as_ref())?;
        triples.push(t);
        Ok::<_, SolidError>(())
    };
    let mut triples = Vec::new();
    match format {
        RdfFormat::Turtle | RdfFormat::NTriples => {
            // Depth only: the exact expansion is charged below, as triples come.
            limits::check_turtle_depth(body, limits)?;
            if format == RdfFormat::Turtle {
                let parser = TurtleParser::new()
                    .with_base_iri(base_iri)
                    .map_err(|e| malformed(e.to_string()))?;
                for t in parser.for_slice(body) {
                    keep(&mut triples, t.map_err(|e| malformed(e.to_string()))?)?;
                }
            } else {
                for t in NTriplesParser::new().for_slice(body) {
                    keep(&mut triples, t.map_err(|e| malformed(e.to_string()))?)?;
                }
            }
        }
        RdfFormat::JsonLd => {
            limits::check_jsonld(body, base_iri.len(), limits)?;
            let mut parser = JsonLdParser::new()
                .with_base_iri(base_iri)
                .map_err(|e| malformed(e.to_string()))?
                .for_slice(body);
            if let Some(loader) = contexts {
                let max_depth = limits.max_depth;
                parser = parser.with_load_document_callback(move |url, _| {
                    let document = loader(url)?;
                    // A remote context nests and expands like the document that names it.
                    limits::check_json_depth(&document, max_depth).map_err(|e| e.to_string())?;
                    Ok(JsonLdRemoteDocument {
                        document,
                        document_url: url.to_owned(),
                    })
                });
            }
            let mut labels = BlankLabels::default();
            for quad in parser {
                let quad = quad.map_err(|e| malformed(e.to_string()))?;
                if quad.graph_name != GraphName::DefaultGraph {
                    return Err(malformed(
                        "named graphs cannot be stored in an RDF document resource".into(),
                    ));
                }
                keep(&mut triples, labels.relabel(Triple::from(quad)))?;
            }
        }
    }
    Ok(triples)
}

/// JSON-LD accepts blank node identifiers (`_:b:`) that Turtle and N-Triples do not; stored
/// as they came, the document could be written but never read back. Such labels get fresh
/// valid ones, the same for every occurrence in the document.
#[derive(Default)]
struct BlankLabels(std::collections::HashMap<String, oxrdf::BlankNode>);

impl BlankLabels {
    fn relabel(&mut self, mut t: Triple) -> Triple {
        if let oxrdf::NamedOrBlankNode::BlankNode(b) = &t.subject {
            t.subject = self.valid(b).into();
        }
        if let oxrdf::Term::BlankNode(b) = &t.object {
            t.object = self.valid(b).into();
        }
        t
    }

    fn valid(&mut self, b: &oxrdf::BlankNode) -> oxrdf::BlankNode {
        // A conservative subset of Turtle's BLANK_NODE_LABEL (oxrdf's own check admits
        // labels such as `b:` that Turtle parsers refuse).
        let id = b.as_str();
        let portable = id
            .bytes()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_')
            && id
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-');
        if portable {
            return b.clone();
        }
        self.0.entry(b.as_str().to_owned()).or_default().clone()
    }
}

/// Serialises triples. Turtle output declares the usual prefixes of the vocabularies it
/// actually uses, so documents read naturally; IRIs stay absolute so a stored document does
/// not depend on the URL it was written at.
pub fn serialize(triples: &[Triple], format: RdfFormat) -> Vec<u8> {
    // Writing to a Vec cannot fail and every prefix below is a valid constant, so the errors
    // here are impossible; they become an empty document rather than a panic.
    let out = match format {
        RdfFormat::Turtle => {
            let mut s = TurtleSerializer::new();
            for (prefix, iri) in PREFIXES
                .iter()
                .filter(|(_, iri)| uses_namespace(triples, iri))
            {
                s = s
                    .with_prefix(*prefix, *iri)
                    .unwrap_or_else(|_| TurtleSerializer::new());
            }
            let mut w = s.for_writer(Vec::new());
            triples
                .iter()
                .try_for_each(|t| w.serialize_triple(t))
                .and_then(|()| w.finish())
        }
        RdfFormat::NTriples => {
            let mut w = NTriplesSerializer::new().for_writer(Vec::new());
            triples
                .iter()
                .try_for_each(|t| w.serialize_triple(t))
                .map(|()| w.finish())
        }
        RdfFormat::JsonLd => {
            let mut w = JsonLdSerializer::new().for_writer(Vec::new());
            triples
                .iter()
                .try_for_each(|t| {
                    w.serialize_quad(t.as_ref().in_graph(GraphName::DefaultGraph.as_ref()))
                })
                .and_then(|()| w.finish())
        }
    };
    out.unwrap_or_default()
}

fn uses_namespace(triples: &[Triple], namespace: &str) -> bool {
    triples.iter().any(|t| {
        t.predicate.as_str().starts_with(namespace)
            || matches!(&t.object, oxrdf::Term::NamedNode(n) if n.as_str().starts_with(namespace))
            || matches!(&t.object, oxrdf::Term::Literal(l) if l.datatype().as_str().starts_with(namespace))
    })
}

const PREFIXES: &[(&str, &str)] = &[
    ("ldp", vocab::LDP),
    ("solid", vocab::SOLID),
    ("dc", "http://purl.org/dc/terms/"),
    ("posix", "http://www.w3.org/ns/posix/stat#"),
    ("xsd", "http://www.w3.org/2001/XMLSchema#"),
    ("rdf", "http://www.w3.org/1999/02/22-rdf-syntax-ns#"),
    ("foaf", "http://xmlns.com/foaf/0.1/"),
    ("acl", "http://www.w3.org/ns/auth/acl#"),
    ("pim", "http://www.w3.org/ns/pim/space#"),
];

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "https://pod.example/alice/doc";

    #[test]
    fn turtle_round_trips_through_every_format() {
        let src = b"@prefix ex: <http://ex.org/> . <#me> ex:name \"Alice\"@en ; ex:knows [ ex:name \"Bob\" ] .";
        let triples = parse(src, RdfFormat::Turtle, BASE, None, &Limits::default()).unwrap();
        assert_eq!(triples.len(), 3);
        for format in RdfFormat::ALL {
            let bytes = serialize(&triples, format);
            let back = parse(&bytes, format, BASE, None, &Limits::default()).unwrap();
            assert_eq!(
                back.len(),
                3,
                "{format:?}: {}",
                String::from_utf8_lossy(&bytes)
            );
            assert!(back
                .iter()
                .any(|t| t.subject.to_string() == "<https://pod.example/alice/doc#me>"));
        }
    }

    #[test]
    fn malformed_turtle_reports_parser_message() {
        let err = parse(
            b"<a> <b> ",
            RdfFormat::Turtle,
            BASE,
            None,
            &Limits::default(),
        )
        .unwrap_err();
        match err {
            SolidError::MalformedRdf {
                media_type,
                message,
            } => {
                assert_eq!(media_type, "text/turtle");
                assert!(!message.is_empty());
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn ntriples_rejects_relative_iris() {
        assert!(parse(
            b"<a> <b> <c> .\n",
            RdfFormat::NTriples,
            BASE,
            None,
            &Limits::default()
        )
        .is_err());
    }

    #[test]
    fn jsonld_resolves_relative_ids_against_base() {
        let src = br##"{"@id": "#it", "http://ex.org/p": "v"}"##;
        let triples = parse(src, RdfFormat::JsonLd, BASE, None, &Limits::default()).unwrap();
        assert_eq!(
            triples[0].subject.to_string(),
            "<https://pod.example/alice/doc#it>"
        );
    }

    #[test]
    fn jsonld_remote_context_refused_without_loader() {
        let src = br##"{"@context": "https://example.org/ctx.jsonld", "@id": "#it", "name": "x"}"##;
        let err = parse(src, RdfFormat::JsonLd, BASE, None, &Limits::default()).unwrap_err();
        assert!(matches!(err, SolidError::MalformedRdf { .. }), "{err:?}");
    }

    #[test]
    fn jsonld_remote_context_uses_loader() {
        let loader: ContextLoader = Arc::new(|url: &str| {
            if url == "https://example.org/ctx.jsonld" {
                Ok(br##"{"@context": {"name": "http://xmlns.com/foaf/0.1/name"}}"##.to_vec())
            } else {
                Err(format!("{url} is not allowed"))
            }
        });
        let src = br##"{"@context": "https://example.org/ctx.jsonld", "@id": "#it", "name": "x"}"##;
        let triples = parse(
            src,
            RdfFormat::JsonLd,
            BASE,
            Some(loader.clone()),
            &Limits::default(),
        )
        .unwrap();
        assert_eq!(
            triples[0].predicate.as_str(),
            "http://xmlns.com/foaf/0.1/name"
        );
        let other = br##"{"@context": "https://evil.example/ctx", "name": "x"}"##;
        assert!(parse(
            other,
            RdfFormat::JsonLd,
            BASE,
            Some(loader),
            &Limits::default()
        )
        .is_err());
    }

    #[test]
    fn jsonld_named_graphs_are_refused() {
        let src = br##"{"@id": "http://ex.org/g", "@graph": [{"@id": "http://ex.org/s", "http://ex.org/p": "o"}]}"##;
        assert!(parse(src, RdfFormat::JsonLd, BASE, None, &Limits::default()).is_err());
    }

    #[test]
    fn expansion_is_charged_while_parsing() {
        let small = Limits {
            max_expanded_bytes: 64 * 1024,
            ..Limits::default()
        };
        let long = "x".repeat(10_000);
        let mut doc = format!("@prefix p: <http://e/{long}> .\n");
        for i in 0..20 {
            doc.push_str(&format!("p:s{i} p:p {i} .\n"));
        }
        let err = parse(doc.as_bytes(), RdfFormat::Turtle, BASE, None, &small).unwrap_err();
        assert!(matches!(err, SolidError::TooLarge(_)), "{err:?}");
        let ctx = format!(
            r#"{{"@context": {{"p": "http://e/{long}"}}, "@id": "http://s", "p": [{}]}}"#,
            (0..20).map(|i| i.to_string()).collect::<Vec<_>>().join(",")
        );
        let err = parse(ctx.as_bytes(), RdfFormat::JsonLd, BASE, None, &small).unwrap_err();
        assert!(matches!(err, SolidError::TooLarge(_)), "{err:?}");
    }

    #[test]
    fn deep_nesting_is_refused_in_every_syntax() {
        let ttl = format!("<s> <p> {} 1 {} .", "(".repeat(5000), ")".repeat(5000));
        let json = format!(
            r#"{}"@id": "http://s"{}"#,
            r#"{"http://p": "#.repeat(5000),
            "}".repeat(5000)
        );
        let list = format!(
            r#"{{"http://p": {{"@list": {}1{}}}}}"#,
            "[".repeat(5000),
            "]".repeat(5000)
        );
        for (doc, format) in [
            (ttl, RdfFormat::Turtle),
            (json, RdfFormat::JsonLd),
            (list, RdfFormat::JsonLd),
        ] {
            let err = parse(doc.as_bytes(), format, BASE, None, &Limits::default()).unwrap_err();
            assert!(
                matches!(err, SolidError::TooComplex(_)),
                "{format:?}: {err:?}"
            );
        }
    }

    #[test]
    fn media_types_map_both_ways() {
        for f in RdfFormat::ALL {
            assert_eq!(RdfFormat::from_media_type(f.media_type()), Some(f));
        }
        assert_eq!(RdfFormat::from_media_type("text/plain"), None);
    }
}
