//! Response and request headers the Solid Protocol defines: `Link`, `Allow`, `Accept-*`.

/// What kind of resource a response is about; decides type links and allowed methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceKind {
    Container,
    RdfSource,
    NonRdfSource,
}

pub const ACCEPT_PATCH: &str = "text/n3, application/sparql-update";
/// Containers accept any media type on POST (RDF is parsed, anything else stored as is).
pub const ACCEPT_POST: &str = "text/turtle, application/ld+json, application/n-triples, */*";
pub const ACCEPT_PUT: &str = "text/turtle, application/ld+json, application/n-triples, */*";
/// A container's own content is RDF: anything else put to it is refused (415).
pub const ACCEPT_PUT_CONTAINER: &str = "text/turtle, application/ld+json, application/n-triples";

/// Every method the storage server implements, for 405 responses on unknown methods.
pub const ALL_METHODS: &str = "GET, HEAD, OPTIONS, PUT, POST, PATCH, DELETE";

/// The `Allow` header for a resource. Pod roots omit DELETE (server-disallow-delete); only
/// containers take POST.
pub fn allow(kind: ResourceKind, is_storage_root: bool) -> &'static str {
    match (kind, is_storage_root) {
        (ResourceKind::Container, true) => "GET, HEAD, OPTIONS, POST, PUT, PATCH",
        (ResourceKind::Container, false) => "GET, HEAD, OPTIONS, POST, PUT, PATCH, DELETE",
        (ResourceKind::RdfSource, _) => "GET, HEAD, OPTIONS, PUT, PATCH, DELETE",
        (ResourceKind::NonRdfSource, _) => "GET, HEAD, OPTIONS, PUT, DELETE",
    }
}

/// The `rel="type"` targets for a resource.
pub fn type_links(kind: ResourceKind, is_storage_root: bool) -> Vec<&'static str> {
    use crate::vocab::*;
    let mut out = vec![LDP_RESOURCE];
    match kind {
        ResourceKind::Container => {
            out.extend([LDP_RDF_SOURCE, LDP_CONTAINER, LDP_BASIC_CONTAINER]);
            if is_storage_root {
                out.push(PIM_STORAGE);
            }
        }
        ResourceKind::RdfSource => out.push(LDP_RDF_SOURCE),
        ResourceKind::NonRdfSource => out.push(LDP_NON_RDF_SOURCE),
    }
    out
}

/// Formats `(target, rel)` pairs as one `Link` header value.
pub fn format_links<'a>(links: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    links
        .into_iter()
        .map(|(target, rel)| format!("<{target}>; rel=\"{rel}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The `rel="type"` targets of a request's `Link` headers (how clients ask for a container).
pub fn requested_types<'a>(link_headers: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut out = Vec::new();
    for header in link_headers {
        for link in split_links(header) {
            let Some((target, params)) = link.split_once('>') else {
                continue;
            };
            let target = target.trim().trim_start_matches('<').trim();
            let is_type = params.split(';').any(|p| {
                let p = p.trim();
                p.split_once('=').is_some_and(|(k, v)| {
                    k.trim().eq_ignore_ascii_case("rel")
                        && v.trim()
                            .trim_matches('"')
                            .split_whitespace()
                            .any(|r| r == "type")
                })
            });
            if is_type {
                out.push(target.to_owned());
            }
        }
    }
    out
}

/// Splits a Link header on the commas between links, not those inside `<…>` or quotes.
fn split_links(header: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut in_iri, mut in_quote) = (0, false, false);
    for (i, c) in header.char_indices() {
        match c {
            '<' if !in_quote => in_iri = true,
            '>' if !in_quote => in_iri = false,
            '"' if !in_iri => in_quote = !in_quote,
            ',' if !in_iri && !in_quote => {
                parts.push(&header[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&header[start..]);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocab::*;

    #[test]
    fn storage_root_allows_no_delete_and_is_pim_storage() {
        assert!(!allow(ResourceKind::Container, true).contains("DELETE"));
        assert!(allow(ResourceKind::Container, false).contains("DELETE"));
        assert!(type_links(ResourceKind::Container, true).contains(&PIM_STORAGE));
        assert!(!type_links(ResourceKind::Container, false).contains(&PIM_STORAGE));
    }

    #[test]
    fn only_rdf_takes_patch_and_only_containers_post() {
        assert!(!allow(ResourceKind::NonRdfSource, false).contains("PATCH"));
        assert!(!allow(ResourceKind::RdfSource, false).contains("POST"));
        assert!(allow(ResourceKind::Container, false).contains("POST"));
    }

    #[test]
    fn formats_links() {
        assert_eq!(
            format_links([("a", "type"), ("b", "acl")]),
            "<a>; rel=\"type\", <b>; rel=\"acl\""
        );
    }

    #[test]
    fn reads_requested_types() {
        let h = "<http://www.w3.org/ns/ldp#BasicContainer>; rel=\"type\", <http://x/a,b>; rel=\"other\"";
        assert_eq!(requested_types([h]), vec![LDP_BASIC_CONTAINER.to_owned()]);
        assert_eq!(
            requested_types(["<http://www.w3.org/ns/ldp#Resource>;rel=type"]),
            vec![LDP_RESOURCE.to_owned()]
        );
        assert!(requested_types(["garbage"]).is_empty());
    }
}
