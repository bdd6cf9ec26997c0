//! Stored RDF that does not name the server it was written on.
//!
//! A document is stored with every IRI inside the server's namespace (the base URL and
//! everything under it) written as a reference relative to the document itself (`<#me>`,
//! `<../profile/card#me>`, `<./>`), and every other IRI absolute. Reading a stored document
//! resolves those references against the document's IRI under the base URL the server serves
//! *now*, so the same bytes are right under any domain: a server moved behind a TLS proxy, or a
//! pod imported into another deployment under another name, keeps its links and its access
//! control. IRIs of other origins (a WebID elsewhere) are never touched.
//!
//! The same functions convert documents stored by earlier versions, whose IRIs are absolute
//! under whatever base URL they were written at: those bases are passed as further roots.
//!
//! It must not know where documents live or which base URL is configured: callers pass IRIs.

use crate::rdf::{self, RdfFormat};
use oxrdf::{Literal, NamedNode, NamedOrBlankNode, Term, Triple};

/// The namespace root of a base URL: the base with exactly one trailing slash.
pub fn root_of(base_url: &str) -> String {
    format!("{}/", base_url.trim_end_matches('/'))
}

/// How the document `doc` refers to `target` when both lie under `root` (which ends with
/// `/`): a relative reference that resolves back to `target` against `doc`, and to the
/// same path under any other root. `None` when `target` or `doc` is outside `root`.
pub fn relative(doc: &str, target: &str, root: &str) -> Option<String> {
    let d = doc.strip_prefix(root)?;
    let t = target.strip_prefix(root)?;
    if let Some(rest) = target.strip_prefix(doc) {
        if rest.is_empty() || rest.starts_with('#') {
            return Some(rest.to_owned());
        }
    }
    let dir_len = d.rfind('/').map_or(0, |i| i + 1);
    let dir = &d[..dir_len];
    // Walk the document's directory down as far as the target shares it, segment by segment.
    let mut shared = 0;
    let mut ups = 0;
    for segment in dir.split_terminator('/') {
        let next = shared + segment.len() + 1;
        if ups == 0 && t.as_bytes().get(shared..next) == Some(&dir.as_bytes()[shared..next]) {
            shared = next;
        } else {
            ups += 1;
        }
    }
    let rest = &t[shared..];
    let mut reference = "../".repeat(ups);
    // A reference that is empty, starts with a query or fragment, an empty segment or a
    // colon-bearing first segment would mean something else: "./" keeps it a path.
    let first_segment = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if ups == 0
        && (rest.is_empty() || rest.starts_with(['?', '#', '/']) || first_segment.contains(':'))
    {
        reference.push_str("./");
    }
    reference.push_str(rest);
    Some(reference)
}

/// `triples` as the document at `path` under each of `roots` stores them (`/pod/doc` under a
/// server's namespace root, see [`root_of`]; `doc` under a pod's root): IRIs under any of
/// the roots become references relative to the document's IRI under that root.
pub fn to_stored(triples: &[Triple], path: &str, roots: &[String]) -> Vec<Triple> {
    let docs: Vec<(String, &str)> = roots
        .iter()
        .map(|root| {
            (
                format!("{root}{}", path.trim_start_matches('/')),
                root.as_str(),
            )
        })
        .collect();
    let node = |n: &NamedNode| -> NamedNode {
        docs.iter()
            .find_map(|(doc, root)| relative(doc, n.as_str(), root))
            .map_or_else(|| n.clone(), NamedNode::new_unchecked)
    };
    triples
        .iter()
        .map(|t| Triple {
            subject: match &t.subject {
                NamedOrBlankNode::NamedNode(n) => NamedOrBlankNode::NamedNode(node(n)),
                other => other.clone(),
            },
            predicate: node(&t.predicate),
            object: match &t.object {
                Term::NamedNode(n) => Term::NamedNode(node(n)),
                Term::Literal(l) if l.language().is_none() => Term::Literal(
                    Literal::new_typed_literal(l.value(), node(&l.datatype().into_owned())),
                ),
                other => other.clone(),
            },
        })
        .collect()
}

/// The stored form of `triples` for the document at `path`: Turtle, namespace-relative.
pub fn stored_turtle(triples: &[Triple], path: &str, roots: &[String]) -> Vec<u8> {
    rdf::serialize(&to_stored(triples, path, roots), RdfFormat::Turtle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::Limits;

    const ROOT: &str = "http://127.0.0.1:3994/";
    const ELSEWHERE: &str = "https://pods.example.org/solid/";

    fn resolve(base: &str, reference: &str) -> String {
        oxiri::Iri::parse(base.to_owned())
            .and_then(|b| b.resolve(reference))
            .map(oxiri::Iri::into_inner)
            .unwrap_or_else(|e| panic!("{reference:?} against {base}: {e}"))
    }

    /// Every pair resolves back to its target, and to the same path under another root.
    #[test]
    fn references_resolve_to_the_same_path_under_any_root() {
        let docs = [
            "p/profile/card",
            "p/",
            "p/a/b/c/",
            "p/.acl",
            "p/a/b.ttl",
            "x",
        ];
        let targets = [
            "p/profile/card",
            "p/profile/card#me",
            "p/profile/",
            "p/",
            "",
            "q/other#it",
            "p/a/b/c/d/e",
            "p/a/b/c/",
            "p/a/b.ttl?x=1#f",
            "p/a:b/c",
            "p//double",
            "p/a/b/c//",
            "p/?q",
            "p/#frag",
            "p/a/b/c/#frag",
            "p/%2Fslash",
        ];
        for doc in docs {
            for target in targets {
                let (d, t) = (format!("{ROOT}{doc}"), format!("{ROOT}{target}"));
                let reference = relative(&d, &t, ROOT).expect("inside the root");
                assert_eq!(resolve(&d, &reference), t, "{reference:?} from {d}");
                let moved = format!("{ELSEWHERE}{doc}");
                assert_eq!(
                    resolve(&moved, &reference),
                    format!("{ELSEWHERE}{target}"),
                    "{reference:?} from {moved}"
                );
            }
        }
    }

    #[test]
    fn iris_outside_the_root_stay_absolute() {
        let doc = format!("{ROOT}p/doc");
        for other in [
            "http://127.0.0.1:39940/p/doc",
            "https://127.0.0.1:3994/p/doc",
            "http://127.0.0.1:3994",
            "https://id.example/alice#me",
        ] {
            assert_eq!(relative(&doc, other, ROOT), None, "{other}");
        }
    }

    #[test]
    fn short_forms_for_the_usual_links() {
        let doc = format!("{ROOT}p/profile/card");
        let r = |t: &str| relative(&doc, &format!("{ROOT}{t}"), ROOT).unwrap();
        assert_eq!(r("p/profile/card"), "");
        assert_eq!(r("p/profile/card#me"), "#me");
        assert_eq!(r("p/profile/"), "./");
        assert_eq!(r("p/"), "../");
        assert_eq!(r("p/settings/prefs.ttl"), "../settings/prefs.ttl");
        assert_eq!(r("q/"), "../../q/");
    }

    /// A stored document read back under another base names that base, and only for the
    /// server's own IRIs; an earlier version's absolute document converts the same way.
    #[test]
    fn stored_documents_follow_the_base_they_are_read_under() {
        let src = format!(
            "@prefix acl: <http://www.w3.org/ns/auth/acl#>.
             <#owner> acl:agent <https://id.example/alice#me>, <{ROOT}p/profile/card#me>;
                 acl:accessTo <{ROOT}p/>; acl:default <./>;
                 <{ROOT}p/vocab#p> \"v\"^^<{ROOT}p/vocab#T>."
        );
        let limits = Limits::default();
        let doc = format!("{ROOT}p/.acl");
        let triples = rdf::parse(src.as_bytes(), RdfFormat::Turtle, &doc, None, &limits).unwrap();
        let stored = stored_turtle(&triples, "/p/.acl", &[root_of("http://127.0.0.1:3994")]);
        let text = String::from_utf8(stored.clone()).unwrap();
        assert!(!text.contains("127.0.0.1"), "{text}");
        assert!(text.contains("https://id.example/alice#me"), "{text}");

        let moved = format!("{ELSEWHERE}p/.acl");
        let back = rdf::parse(&stored, RdfFormat::Turtle, &moved, None, &limits).unwrap();
        let expected = rdf::parse(
            src.replace(ROOT, ELSEWHERE).as_bytes(),
            RdfFormat::Turtle,
            &moved,
            None,
            &limits,
        )
        .unwrap();
        let (mut back, mut expected) = (back, expected);
        back.sort_by_key(ToString::to_string);
        expected.sort_by_key(ToString::to_string);
        assert_eq!(back, expected);

        // Written under an old base, converted with that base as a further root.
        let legacy = rdf::serialize(&triples, RdfFormat::Turtle);
        let old = rdf::parse(&legacy, RdfFormat::Turtle, &doc, None, &limits).unwrap();
        let roots = [root_of(ELSEWHERE), root_of(ROOT)];
        assert_eq!(stored_turtle(&old, "/p/.acl", &roots), stored);
    }
}
