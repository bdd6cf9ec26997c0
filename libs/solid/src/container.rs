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
        } else if let Some(ct) = &m.content_type {
            // The IANA media-type class lets clients see a member's type without a request.
            if let Ok(class) = NamedNode::new(format!("{IANA_MEDIA_TYPES}{ct}#Resource")) {
                out.push(Triple::new(node.clone(), a, class));
            }
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
