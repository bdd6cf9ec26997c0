//! Response headers every resource response carries (Link, Allow, Accept-*, validators).

use crate::AppState;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue};
use podplane_solid::headers::{
    self, ResourceKind, ACCEPT_PATCH, ACCEPT_POST, ACCEPT_PUT, ACCEPT_PUT_CONTAINER,
};
use podplane_solid::path::ResourcePath;
use podplane_solid::preconditions::format_http_date;
use podplane_solid::rdf::RdfFormat;
use podplane_solid::vocab;
use podplane_store::{Kind, Resource};

/// Suffixes that make the strong ETag of each non-Turtle RDF representation distinct, as RFC
/// 9110 requires of strong validators.
pub const VARIANT_SUFFIXES: [&str; 2] = ["-jsonld", "-nt"];

pub fn kind_of(kind: Kind) -> ResourceKind {
    match kind {
        Kind::Container => ResourceKind::Container,
        Kind::Rdf => ResourceKind::RdfSource,
        Kind::Binary => ResourceKind::NonRdfSource,
    }
}

/// The ETag of one representation of `etag`'s resource. Every RDF representation names the
/// base URL it is served under (stored documents do not), so its tag carries `base_tag`: the
/// same document served under another domain is another representation with another tag.
pub fn representation_etag(etag: &str, format: Option<RdfFormat>, base_tag: &str) -> String {
    let variant = match format {
        None => return etag.to_owned(),
        Some(RdfFormat::JsonLd) => VARIANT_SUFFIXES[0],
        Some(RdfFormat::NTriples) => VARIANT_SUFFIXES[1],
        Some(RdfFormat::Turtle) => "",
    };
    match etag.strip_suffix('"') {
        Some(base) => format!("{base}-{base_tag}{variant}\""),
        None => etag.to_owned(),
    }
}

pub fn set(headers: &mut HeaderMap, name: HeaderName, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        headers.insert(name, v);
    }
}

/// Headers describing a resource that exists (or, for OPTIONS, that could exist here).
pub fn resource_headers(
    state: &AppState,
    path: &ResourcePath,
    kind: ResourceKind,
    owner: Option<&str>,
) -> HeaderMap {
    let mut h = HeaderMap::new();
    let is_root = path.is_pod_root();
    let mut links: Vec<(String, &str)> = headers::type_links(kind, is_root)
        .into_iter()
        .map(|t| (t.to_owned(), "type"))
        .collect();
    let description = state.iri(path.description().as_str());
    if path.auxiliary_subject().is_none() {
        links.push((description, "describedby"));
    }
    if let Some(root) = path.pod_root() {
        links.push((
            state.iri(&format!("{root}.well-known/solid")),
            vocab::SOLID_STORAGE_DESCRIPTION,
        ));
    }
    if let Some(services) = &state.config.notifications_base_url {
        if path.auxiliary_subject().is_none() {
            links.push((
                format!("{services}/.notifications/StreamingHTTPChannel2023{path}"),
                podplane_solid::notify::STREAMING_HTTP_REL,
            ));
        }
    }
    if let Some(owner) = owner.filter(|_| is_root) {
        links.push((owner.to_owned(), vocab::SOLID_OWNER));
    }
    let link = headers::format_links(links.iter().map(|(t, r)| (t.as_str(), *r)));
    set(&mut h, header::LINK, &link);
    set(&mut h, header::ALLOW, headers::allow(kind, is_root));
    let accept_put = match kind {
        ResourceKind::Container => ACCEPT_PUT_CONTAINER,
        ResourceKind::RdfSource | ResourceKind::NonRdfSource => ACCEPT_PUT,
    };
    set(&mut h, HeaderName::from_static("accept-put"), accept_put);
    if kind != ResourceKind::NonRdfSource {
        set(
            &mut h,
            HeaderName::from_static("accept-patch"),
            ACCEPT_PATCH,
        );
    }
    if kind == ResourceKind::Container {
        set(&mut h, HeaderName::from_static("accept-post"), ACCEPT_POST);
    }
    h
}

pub fn validator_headers(
    state: &AppState,
    h: &mut HeaderMap,
    r: &Resource,
    format: Option<RdfFormat>,
) {
    let etag = representation_etag(&r.etag, format, &state.base_tag);
    set(h, header::ETAG, &etag);
    set(
        h,
        header::LAST_MODIFIED,
        &format_http_date(r.modified_ms / 1000),
    );
}
