//! Container representations: containment triples with member metadata, and the rule that
//! clients cannot write them.

use crate::error::SolidError;
use crate::vocab::*;
use oxrdf::{Literal, NamedNode, NamedNodeRef, Triple};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// What a container says about one of its members.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub iri: String,
    pub is_container: bool,
    /// Milliseconds since the Unix epoch.
    pub modified_ms: i64,
    pub size: u64,
    /// Media type of a non-container member.
    pub content_type: Option<String>,
}

/// The server-managed triples of a container: its types, its own metadata and, for each member,
/// `ldp:contains` plus type, modification time and size (server-contained-resource-metadata).
pub fn describe(
    container_iri: &str,
    is_storage: bool,
    modified_ms: i64,
    members: &[Member],
) -> Vec<Triple> {
    let mut out = Vec::with_capacity(4 + members.len() * 6);
    let me = NamedNode::new_unchecked(container_iri);
    let a = NamedNodeRef::new_unchecked(RDF_TYPE);
    for ty in [LDP_CONTAINER, LDP_BASIC_CONTAINER, LDP_RESOURCE] {
        out.push(Triple::new(me.clone(), a, NamedNodeRef::new_unchecked(ty)));
    }
    if is_storage {
        out.push(Triple::new(
            me.clone(),
            a,
            NamedNodeRef::new_unchecked(PIM_STORAGE),
        ));
    }
    push_times(&mut out, &me, modified_ms);
    let contains = NamedNodeRef::new_unchecked(LDP_CONTAINS);
    let classes = media_classes(members);
    for m in members {
        let node = NamedNode::new_unchecked(m.iri.as_str());
        out.push(Triple::new(me.clone(), contains, node.clone()));
        out.push(Triple::new(
            node.clone(),
            a,
            NamedNodeRef::new_unchecked(LDP_RESOURCE),
        ));
        if m.is_container {
            out.push(Triple::new(
                node.clone(),
                a,
                NamedNodeRef::new_unchecked(LDP_CONTAINER),
            ));
            out.push(Triple::new(
                node.clone(),
                a,
                NamedNodeRef::new_unchecked(LDP_BASIC_CONTAINER),
            ));
        } else if let Some(class) = m.content_type.as_deref().and_then(|ct| classes.get(ct)) {
            out.push(Triple::new(node.clone(), a, class.clone()));
        }
        push_times(&mut out, &node, m.modified_ms);
        if !m.is_container {
            out.push(Triple::new(
                node,
                NamedNodeRef::new_unchecked(POSIX_SIZE),
                Literal::new_typed_literal(
                    m.size.to_string(),
                    NamedNodeRef::new_unchecked(XSD_INTEGER),
                ),
            ));
        }
    }
    out
}

/// Writes exactly the triples of [`describe`] as Turtle. Container listings are the largest
/// documents the server generates and are read often; building them as text is several times
/// faster than building and serialising triples. Member IRIs are the server's own canonical
/// paths (no characters that need escaping in an IRIREF), and every literal is a number or a
/// date, so no escaping is needed.
pub fn write_turtle(
    out: &mut String,
    container_iri: &str,
    is_storage: bool,
    modified_ms: i64,
    members: &[Member],
) {
    use std::fmt::Write;
    out.reserve(200 + members.len() * 300);
    out.push_str(
        "@prefix ldp: <http://www.w3.org/ns/ldp#> .\n@prefix dc: <http://purl.org/dc/terms/> .\n",
    );
    out.push_str("@prefix posix: <http://www.w3.org/ns/posix/stat#> .\n@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n");
    let classes = media_classes(members);
    let times = |out: &mut String, ms: i64| {
        let _ = write!(
            out,
            "\tdc:modified \"{}\"^^xsd:dateTime ;\n\tposix:mtime {}",
            xsd_datetime(ms),
            ms / 1000
        );
    };
    let _ = write!(
        out,
        "<{container_iri}> a ldp:Container, ldp:BasicContainer, ldp:Resource"
    );
    if is_storage {
        let _ = write!(out, ", <{PIM_STORAGE}>");
    }
    out.push_str(" ;\n");
    times(out, modified_ms);
    if !members.is_empty() {
        out.push_str(" ;\n\tldp:contains ");
        for (i, m) in members.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            let _ = write!(out, "<{}>", m.iri);
        }
    }
    out.push_str(" .\n");
    for m in members {
        let _ = write!(out, "<{}> a ldp:Resource", m.iri);
        if m.is_container {
            out.push_str(", ldp:Container, ldp:BasicContainer");
        } else if let Some(class) = m.content_type.as_deref().and_then(|ct| classes.get(ct)) {
            let _ = write!(out, ", <{}>", class.as_str());
        }
        out.push_str(" ;\n");
        times(out, m.modified_ms);
        if !m.is_container {
            let _ = write!(out, " ;\n\tposix:size {}", m.size);
        }
        out.push_str(" .\n");
    }
}

/// The IANA media-type class of each distinct member media type (it lets clients see a
/// member's type without a request); types that make no valid IRI get none. Computed once per
/// listing because validating an IRI costs more than everything else done per member.
fn media_classes(members: &[Member]) -> std::collections::HashMap<&str, NamedNode> {
    let mut classes = std::collections::HashMap::new();
    for ct in members.iter().filter_map(|m| m.content_type.as_deref()) {
        if !classes.contains_key(ct) {
            if let Ok(class) = NamedNode::new(format!("{IANA_MEDIA_TYPES}{ct}#Resource")) {
                classes.insert(ct, class);
            }
        }
    }
    classes
}

fn push_times(out: &mut Vec<Triple>, node: &NamedNode, modified_ms: i64) {
    out.push(Triple::new(
        node.clone(),
        NamedNodeRef::new_unchecked(DCTERMS_MODIFIED),
        Literal::new_typed_literal(
            xsd_datetime(modified_ms),
            NamedNodeRef::new_unchecked(XSD_DATETIME),
        ),
    ));
    out.push(Triple::new(
        node.clone(),
        NamedNodeRef::new_unchecked(POSIX_MTIME),
        Literal::new_typed_literal(
            (modified_ms / 1000).to_string(),
            NamedNodeRef::new_unchecked(XSD_INTEGER),
        ),
    ));
}

/// `xsd:dateTime` in UTC for milliseconds since the epoch.
pub fn xsd_datetime(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".to_owned())
}

/// Rejects client-supplied triples that would state containment or member metadata, both of
/// which only the server may assert (server-protect-containment,
/// server-protect-contained-resource-metadata).
pub fn check_client_triples(container_iri: &str, triples: &[Triple]) -> Result<(), SolidError> {
    for t in triples {
        let subject = t.subject.to_string();
        let subject = subject.trim_start_matches('<').trim_end_matches('>');
        let p = t.predicate.as_str();
        if p == LDP_CONTAINS && subject == container_iri {
            return Err(SolidError::ContainmentProtected(format!("{t}")));
        }
        let about_member =
            subject.len() > container_iri.len() && subject.starts_with(container_iri);
        if about_member && (p == POSIX_SIZE || p == POSIX_MTIME || p == DCTERMS_MODIFIED) {
            return Err(SolidError::ContainmentProtected(format!(
                "member metadata: {t}"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const C: &str = "https://pod.example/alice/";

    #[test]
    fn describes_members_with_metadata() {
        let members = [
            Member {
                iri: format!("{C}a.txt"),
                is_container: false,
                modified_ms: 1_000,
                size: 5,
                content_type: Some("text/plain".into()),
            },
            Member {
                iri: format!("{C}sub/"),
                is_container: true,
                modified_ms: 2_000,
                size: 0,
                content_type: None,
            },
        ];
        let triples = describe(C, true, 3_000, &members);
        let s: Vec<String> = triples.iter().map(ToString::to_string).collect();
        assert!(s.contains(&format!("<{C}> <{LDP_CONTAINS}> <{C}a.txt>")));
        assert!(s.contains(&format!("<{C}> <{RDF_TYPE}> <{PIM_STORAGE}>")));
        assert!(s.contains(&format!("<{C}sub/> <{RDF_TYPE}> <{LDP_BASIC_CONTAINER}>")));
        assert!(s.contains(&format!("<{C}a.txt> <{POSIX_SIZE}> \"5\"^^<{XSD_INTEGER}>")));
        assert!(s.contains(&format!(
            "<{C}a.txt> <{RDF_TYPE}> <{IANA_MEDIA_TYPES}text/plain#Resource>"
        )));
        assert!(s.iter().any(|t| t.contains("1970-01-01T00:00:01Z")));
    }

    #[test]
    fn turtle_writer_states_exactly_what_describe_does() {
        let members: Vec<Member> = (0..50)
            .map(|i| Member {
                iri: format!("{C}m{i}{}", if i % 5 == 0 { "/" } else { "" }),
                is_container: i % 5 == 0,
                modified_ms: 1_700_000_000_123 + i,
                size: 10 * i as u64,
                content_type: (i % 5 != 0).then(|| {
                    if i % 2 == 0 {
                        "text/turtle".into()
                    } else {
                        "bad type".into()
                    }
                }),
            })
            .collect();
        for storage in [true, false] {
            let mut text = String::new();
            write_turtle(&mut text, C, storage, 42_000, &members);
            let parsed: oxrdf::Graph = crate::rdf::parse(
                text.as_bytes(),
                crate::rdf::RdfFormat::Turtle,
                C,
                None,
                &Default::default(),
            )
            .unwrap()
            .into_iter()
            .collect();
            let expected: oxrdf::Graph =
                describe(C, storage, 42_000, &members).into_iter().collect();
            assert_eq!(parsed, expected);
        }
        let mut empty = String::new();
        write_turtle(&mut empty, C, false, 0, &[]);
        assert_eq!(
            crate::rdf::parse(
                empty.as_bytes(),
                crate::rdf::RdfFormat::Turtle,
                C,
                None,
                &Default::default()
            )
            .unwrap()
            .len(),
            5
        );
    }

    #[test]
    fn non_storage_container_is_not_pim_storage() {
        let s: Vec<String> = describe(C, false, 0, &[])
            .iter()
            .map(ToString::to_string)
            .collect();
        assert!(!s.iter().any(|t| t.contains(PIM_STORAGE)));
    }

    #[test]
    fn client_containment_triples_are_rejected() {
        let t = Triple::new(
            NamedNode::new_unchecked(C),
            NamedNode::new_unchecked(LDP_CONTAINS),
            NamedNode::new_unchecked(format!("{C}x")),
        );
        assert!(matches!(
            check_client_triples(C, &[t]),
            Err(SolidError::ContainmentProtected(_))
        ));
        let meta = Triple::new(
            NamedNode::new_unchecked(format!("{C}x")),
            NamedNode::new_unchecked(POSIX_SIZE),
            Literal::new_simple_literal("1"),
        );
        assert!(check_client_triples(C, &[meta]).is_err());
        let fine = Triple::new(
            NamedNode::new_unchecked(C),
            NamedNode::new_unchecked("http://purl.org/dc/terms/title"),
            Literal::new_simple_literal("t"),
        );
        assert!(check_client_triples(C, &[fine]).is_ok());
    }
}
