//! The RDF manifests of a pod archive (`docs/pod-archive.md`): `pod.ttl` describes the pod,
//! and one `resources/N.ttl` each resource, just before its content. IRIs inside the pod are
//! written relative to the pod root, so the archive reads the same under any base URL and
//! pod name: parsed with the importing pod's root as base, they name its resources.

use podplane_solid::limits::Limits;
use podplane_solid::rdf::{self, RdfFormat};
use podplane_solid::rebase;
use podplane_store::Kind;
use time::format_description::well_known::Rfc3339;

pub const NS: &str = "https://podplane.dev/ns/pod-archive#";
pub const FORMAT_VERSION: i64 = 1;
const DCT: &str = "http://purl.org/dc/terms/";
const XSD_DATETIME: &str = "http://www.w3.org/2001/XMLSchema#dateTime";

/// What a manifest could not say.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ManifestError(pub String);

fn bad(what: impl Into<String>) -> ManifestError {
    ManifestError(what.into())
}

/// The pod as a whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodManifest {
    pub name: String,
    /// The pod root's IRI where it was exported (for people; imports ignore it).
    pub exported_from: String,
    pub owner: Option<String>,
    pub access: String,
    pub created_ms: i64,
}

/// One resource: where it is in the pod and how its content is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceManifest {
    /// Relative to the pod root: `""` for the root, `profile/card`, `.acl`.
    pub relative: String,
    pub kind: Kind,
    pub content_type: String,
    pub size: u64,
    pub modified_ms: i64,
    pub creator: Option<String>,
}

fn datetime(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".into())
}

fn millis(text: &str) -> Result<i64, ManifestError> {
    let t = time::OffsetDateTime::parse(text, &Rfc3339)
        .map_err(|e| bad(format!("bad date-time {text:?}: {e}")))?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).map_err(|_| bad("date out of range"))
}

/// Turtle's string escapes for a literal.
fn literal(s: &str) -> String {
    oxrdf::Literal::new_simple_literal(s).to_string()
}

/// An IRI as the manifest writes it: relative when inside the pod root `root`.
fn iri(value: &str, root: &str) -> String {
    let reference = rebase::relative(root, value, root).unwrap_or_else(|| value.to_owned());
    format!("<{reference}>")
}

pub fn write_pod(pod: &PodManifest, root: &str) -> Vec<u8> {
    let mut out = format!(
        "@prefix pa: <{NS}>.\n@prefix dct: <{DCT}>.\n\n<> a pa:Pod;\n    \
         pa:formatVersion {FORMAT_VERSION};\n    pa:name {};\n    pa:exportedFrom <{}>;\n    \
         pa:accessControl {};\n    dct:created \"{}\"^^<{XSD_DATETIME}>",
        literal(&pod.name),
        pod.exported_from,
        literal(&pod.access),
        datetime(pod.created_ms),
    );
    if let Some(owner) = &pod.owner {
        out.push_str(&format!(";\n    pa:owner {}", iri(owner, root)));
    }
    out.push_str(".\n");
    out.into_bytes()
}

pub fn write_resource(r: &ResourceManifest, root: &str) -> Vec<u8> {
    let kind = match r.kind {
        Kind::Container => "Container",
        Kind::Rdf => "RDFSource",
        Kind::Binary => "NonRDFSource",
    };
    let mut out = format!(
        "@prefix pa: <{NS}>.\n@prefix dct: <{DCT}>.\n\n{} a pa:{kind};\n    \
         pa:contentType {};\n    pa:size {};\n    dct:modified \"{}\"^^<{XSD_DATETIME}>",
        iri(&format!("{root}{}", r.relative), root),
        literal(&r.content_type),
        r.size,
        datetime(r.modified_ms),
    );
    if let Some(creator) = &r.creator {
        out.push_str(&format!(";\n    pa:creator {}", iri(creator, root)));
    }
    out.push_str(".\n");
    out.into_bytes()
}

/// The one subject of a manifest and its properties, as (predicate, object) pairs.
fn statements(
    bytes: &[u8],
    root: &str,
) -> Result<(String, Vec<(String, oxrdf::Term)>), ManifestError> {
    let limits = Limits::default();
    let triples = rdf::parse(bytes, RdfFormat::Turtle, root, None, &limits)
        .map_err(|e| bad(format!("the manifest does not parse: {e}")))?;
    let subject = match triples.first().map(|t| &t.subject) {
        Some(oxrdf::NamedOrBlankNode::NamedNode(n)) => n.as_str().to_owned(),
        _ => return Err(bad("the manifest describes nothing")),
    };
    if triples.iter().any(
        |t| !matches!(&t.subject, oxrdf::NamedOrBlankNode::NamedNode(n) if n.as_str() == subject),
    ) {
        return Err(bad("the manifest describes more than one thing"));
    }
    let props = triples
        .into_iter()
        .map(|t| (t.predicate.as_str().to_owned(), t.object))
        .collect();
    Ok((subject, props))
}

fn one<'a>(props: &'a [(String, oxrdf::Term)], predicate: &str) -> Option<&'a oxrdf::Term> {
    props.iter().find(|(p, _)| p == predicate).map(|(_, o)| o)
}

fn text(props: &[(String, oxrdf::Term)], predicate: &str) -> Result<String, ManifestError> {
    match one(props, predicate) {
        Some(oxrdf::Term::Literal(l)) => Ok(l.value().to_owned()),
        _ => Err(bad(format!("the manifest has no {predicate}"))),
    }
}

fn named(props: &[(String, oxrdf::Term)], predicate: &str) -> Option<String> {
    match one(props, predicate) {
        Some(oxrdf::Term::NamedNode(n)) => Some(n.as_str().to_owned()),
        _ => None,
    }
}

fn kind_of(props: &[(String, oxrdf::Term)]) -> Result<String, ManifestError> {
    named(props, "http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
        .and_then(|t| t.strip_prefix(NS).map(str::to_owned))
        .ok_or_else(|| bad("the manifest says not what it describes"))
}

/// Reads `pod.ttl`, resolving IRIs against `root` (the importing pod's root IRI).
pub fn read_pod(bytes: &[u8], root: &str) -> Result<PodManifest, ManifestError> {
    let (subject, props) = statements(bytes, root)?;
    if subject != root || kind_of(&props)? != "Pod" {
        return Err(bad("pod.ttl does not describe a pod"));
    }
    let version: i64 = text(&props, &format!("{NS}formatVersion"))?
        .parse()
        .map_err(|_| bad("bad format version"))?;
    if version != FORMAT_VERSION {
        return Err(bad(format!(
            "archive format {version}; this podplane reads format {FORMAT_VERSION}"
        )));
    }
    Ok(PodManifest {
        name: text(&props, &format!("{NS}name"))?,
        exported_from: named(&props, &format!("{NS}exportedFrom")).unwrap_or_default(),
        owner: named(&props, &format!("{NS}owner")),
        access: text(&props, &format!("{NS}accessControl"))?,
        created_ms: millis(&text(&props, &format!("{DCT}created"))?)?,
    })
}

/// Reads one `resources/N.ttl`, resolving IRIs against `root`.
pub fn read_resource(bytes: &[u8], root: &str) -> Result<ResourceManifest, ManifestError> {
    let (subject, props) = statements(bytes, root)?;
    let relative = subject
        .strip_prefix(root)
        .ok_or_else(|| bad(format!("{subject} is outside the pod")))?
        .to_owned();
    let kind = match kind_of(&props)?.as_str() {
        "Container" => Kind::Container,
        "RDFSource" => Kind::Rdf,
        "NonRDFSource" => Kind::Binary,
        other => return Err(bad(format!("unknown kind of resource {other:?}"))),
    };
    let size = text(&props, &format!("{NS}size"))?
        .parse()
        .map_err(|_| bad("bad size"))?;
    Ok(ResourceManifest {
        relative,
        kind,
        content_type: text(&props, &format!("{NS}contentType"))?,
        size,
        modified_ms: millis(&text(&props, &format!("{DCT}modified"))?)?,
        creator: named(&props, &format!("{NS}creator")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const FROM: &str = "http://127.0.0.1:3000/alice/";
    const TO: &str = "https://pods.example/bob/";

    #[test]
    fn a_pod_manifest_reads_back_under_another_root() {
        let pod = PodManifest {
            name: "alice".into(),
            exported_from: FROM.into(),
            owner: Some("https://id.example/alice#me".into()),
            access: "wac".into(),
            created_ms: 1_765_000_000_123,
        };
        let back = read_pod(&write_pod(&pod, FROM), TO).unwrap();
        assert_eq!(back, pod);
    }

    #[test]
    fn resource_manifests_name_paths_relative_to_the_root() {
        for relative in ["", "profile/card", ".acl", "a/b/", "odd%20name", "x:y"] {
            let r = ResourceManifest {
                relative: relative.into(),
                kind: Kind::Binary,
                content_type: "image/png; \"q\"".into(),
                size: 42,
                modified_ms: 1_765_000_000_001,
                creator: Some(format!("{FROM}profile/card#me")),
            };
            let back = read_resource(&write_resource(&r, FROM), TO).unwrap();
            assert_eq!(back.relative, relative);
            assert_eq!(
                back.creator.as_deref(),
                Some(&*format!("{TO}profile/card#me"))
            );
            assert_eq!((back.size, back.modified_ms), (42, 1_765_000_000_001));
            assert_eq!(back.content_type, r.content_type);
        }
    }

    #[test]
    fn bad_manifests_are_refused() {
        for bad in [
            "not turtle",
            "<> a <https://podplane.dev/ns/pod-archive#Pod>.",
            "<https://elsewhere.example/x> a <https://podplane.dev/ns/pod-archive#Binary>.",
            "<a> a <https://podplane.dev/ns/pod-archive#Container>. <b> a <https://podplane.dev/ns/pod-archive#Container>.",
        ] {
            assert!(read_resource(bad.as_bytes(), TO).is_err(), "{bad}");
        }
        assert!(read_pod(b"<> a <https://podplane.dev/ns/pod-archive#Pod>.", TO).is_err());
    }
}
