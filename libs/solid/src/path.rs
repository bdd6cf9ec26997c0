//! Resource paths: the part of a resource IRI after the server's base URL.
//!
//! A [`ResourcePath`] is always absolute (`/...`), canonically percent-encoded, free of dot
//! segments and empty segments, and ends with `/` exactly when it names a container. That last
//! rule is the whole of slash semantics: `/a` and `/a/` are different resources, and the store
//! makes sure only one of them exists.

use crate::error::SolidError;
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, CONTROLS};

/// Longest single segment we accept, in decoded bytes: the common filesystem and S3-key limit
/// per component, so a name that works here works on every backend.
pub const MAX_SEGMENT_BYTES: usize = 255;
/// Longest whole path, in encoded bytes. S3 keys stop at 1024 bytes and we prefix them.
pub const MAX_PATH_BYTES: usize = 900;
/// Suffix of description resources (as the Community Solid Server names them).
pub const DESCRIPTION_SUFFIX: &str = ".meta";
/// Suffix of access control resources: the WAC ACL or the ACP ACR, whichever the pod uses
/// (clients find it through `Link: rel="acl"`, never by guessing).
pub const ACL_SUFFIX: &str = ".acl";

/// The kinds of auxiliary resource a resource can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auxiliary {
    Description,
    AccessControl,
}

/// Characters that must be percent-encoded inside one path segment: everything outside RFC
/// 3986 `pchar` (unreserved, sub-delims, `:` and `@`).
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResourcePath(String);

impl ResourcePath {
    /// The server root `/` (not a storage; pods live below it).
    pub fn root() -> Self {
        Self("/".to_owned())
    }

    /// Parses the path of a request URI (still percent-encoded, without query or fragment).
    pub fn parse(raw: &str) -> Result<Self, SolidError> {
        let Some(rest) = raw.strip_prefix('/') else {
            return Err(SolidError::InvalidPath("a path must start with '/'".into()));
        };
        if rest.is_empty() {
            return Ok(Self::root());
        }
        let is_container = rest.ends_with('/');
        let body = rest.strip_suffix('/').unwrap_or(rest);
        let mut out = String::with_capacity(raw.len());
        for raw_segment in body.split('/') {
            let segment = decode_segment(raw_segment)?;
            out.push('/');
            out.extend(utf8_percent_encode(&segment, SEGMENT));
        }
        if is_container {
            out.push('/');
        }
        if out.len() > MAX_PATH_BYTES {
            return Err(SolidError::PathTooLong(out.len(), MAX_PATH_BYTES));
        }
        Ok(Self(out))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_root(&self) -> bool {
        self.0 == "/"
    }

    pub fn is_container(&self) -> bool {
        self.0.ends_with('/')
    }

    /// The segments of the path, still percent-encoded.
    pub fn segments(&self) -> impl Iterator<Item = &str> {
        self.0
            .trim_matches('/')
            .split('/')
            .filter(|s| !s.is_empty())
    }

    /// The name of the pod this path lies in: its first segment.
    pub fn pod(&self) -> Option<&str> {
        self.segments().next()
    }

    /// `/{pod}/`, the storage root this path belongs to.
    pub fn pod_root(&self) -> Option<ResourcePath> {
        self.pod().map(|p| Self(format!("/{p}/")))
    }

    pub fn is_pod_root(&self) -> bool {
        self.is_container() && self.segments().count() == 1
    }

    /// The last segment, percent-encoded, without a trailing slash.
    pub fn name(&self) -> &str {
        self.segments().last().unwrap_or("")
    }

    /// The container holding this resource; `None` for the server root.
    pub fn parent(&self) -> Option<ResourcePath> {
        if self.is_root() {
            return None;
        }
        let trimmed = self.0.strip_suffix('/').unwrap_or(&self.0);
        let cut = trimmed.rfind('/')?;
        Some(Self(trimmed[..=cut].to_owned()))
    }

    /// Every container from the pod root down to this path's parent, outermost first.
    pub fn ancestors_within_pod(&self) -> Vec<ResourcePath> {
        let mut chain = Vec::new();
        let mut current = self.parent();
        while let Some(p) = current {
            if p.is_root() {
                break;
            }
            current = p.parent();
            chain.push(p);
        }
        chain.reverse();
        chain
    }

    /// A child of this container. `name` is a decoded segment; it is validated and encoded.
    pub fn child(&self, name: &str, container: bool) -> Result<ResourcePath, SolidError> {
        if !self.is_container() {
            return Err(SolidError::InvalidPath(format!(
                "{} is not a container",
                self.0
            )));
        }
        validate_segment(name)?;
        let mut path = self.0.clone();
        path.extend(utf8_percent_encode(name, SEGMENT));
        if container {
            path.push('/');
        }
        Self::parse(&path)
    }

    /// The description resource (`describedby` auxiliary resource) of this resource.
    pub fn description(&self) -> ResourcePath {
        Self(format!("{}{DESCRIPTION_SUFFIX}", self.0))
    }

    /// The access control resource (`rel="acl"`) of this resource.
    pub fn acl(&self) -> ResourcePath {
        Self(format!("{}{ACL_SUFFIX}", self.0))
    }

    /// When this path names an auxiliary resource, its kind and the resource it belongs to.
    /// Names ending in an auxiliary suffix are reserved for auxiliary resources.
    pub fn auxiliary(&self) -> Option<(Auxiliary, ResourcePath)> {
        if self.is_container() {
            return None;
        }
        let (kind, subject) = if let Some(s) = self.0.strip_suffix(DESCRIPTION_SUFFIX) {
            (Auxiliary::Description, s)
        } else {
            (Auxiliary::AccessControl, self.0.strip_suffix(ACL_SUFFIX)?)
        };
        (subject.len() > 1).then(|| (kind, Self(subject.to_owned())))
    }

    /// When this path names an auxiliary resource, the resource it belongs to.
    pub fn auxiliary_subject(&self) -> Option<ResourcePath> {
        self.auxiliary().map(|(_, subject)| subject)
    }

    /// The auxiliary resources that live and die with this resource.
    pub fn auxiliaries(&self) -> Vec<ResourcePath> {
        vec![self.description(), self.acl()]
    }

    /// The same path with the other slash form (`/a` <-> `/a/`).
    pub fn toggled_slash(&self) -> Option<ResourcePath> {
        if self.is_root() {
            return None;
        }
        Some(match self.0.strip_suffix('/') {
            Some(stripped) => Self(stripped.to_owned()),
            None => Self(format!("{}/", self.0)),
        })
    }
}

impl std::fmt::Display for ResourcePath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn decode_segment(raw: &str) -> Result<String, SolidError> {
    if raw.is_empty() {
        return Err(SolidError::InvalidPath("empty path segment ('//')".into()));
    }
    let decoded = percent_decode_str(raw)
        .decode_utf8()
        .map_err(|_| SolidError::InvalidPath("path segment is not valid UTF-8".into()))?
        .into_owned();
    validate_segment(&decoded)?;
    Ok(decoded)
}

/// Checks one decoded segment. Rejects what would let a name escape its container or be
/// ambiguous on some backend: dot segments, slashes and backslashes, control characters.
fn validate_segment(segment: &str) -> Result<(), SolidError> {
    if segment.is_empty() {
        return Err(SolidError::InvalidPath("empty path segment".into()));
    }
    if segment == "." || segment == ".." {
        return Err(SolidError::InvalidPath(
            "dot segments are not allowed".into(),
        ));
    }
    if segment.contains('/') || segment.contains('\\') {
        return Err(SolidError::InvalidPath(
            "encoded slashes and backslashes are not allowed in a name".into(),
        ));
    }
    if segment.chars().any(char::is_control) {
        return Err(SolidError::InvalidPath(
            "control characters are not allowed".into(),
        ));
    }
    if segment.len() > MAX_SEGMENT_BYTES {
        return Err(SolidError::PathTooLong(segment.len(), MAX_SEGMENT_BYTES));
    }
    Ok(())
}

/// Turns a client's `Slug` into a safe single segment: keeps letters, digits and `-._~`,
/// replaces anything else with `-`, and caps its length. Returns `None` when nothing usable
/// remains, so the caller mints a name instead.
pub fn sanitize_slug(slug: &str) -> Option<String> {
    let decoded = percent_decode_str(slug).decode_utf8_lossy();
    let mut out = String::new();
    for c in decoded.chars() {
        if c.is_alphanumeric() || matches!(c, '-' | '.' | '_' | '~') {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
        if out.len() >= 200 {
            break;
        }
    }
    let trimmed = out.trim_matches(|c| c == '-' || c == '.');
    if trimmed.is_empty() {
        None
    } else {
        Some(trimmed.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> ResourcePath {
        ResourcePath::parse(s).unwrap()
    }

    #[test]
    fn trailing_slash_marks_containers() {
        assert!(p("/a/").is_container());
        assert!(!p("/a").is_container());
        assert_ne!(p("/a"), p("/a/"));
        assert_eq!(p("/a").toggled_slash(), Some(p("/a/")));
        assert_eq!(p("/a/").toggled_slash(), Some(p("/a")));
    }

    #[test]
    fn rejects_dot_segments_even_encoded() {
        for bad in ["/a/../b", "/a/./b", "/a/%2e%2e/b", "/a/%2E/b", "/.."] {
            assert!(
                matches!(ResourcePath::parse(bad), Err(SolidError::InvalidPath(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn rejects_encoded_slash_backslash_and_controls() {
        for bad in [
            "/a%2Fb", "/a%2fb", "/a%5Cb", "/a%00b", "/a%0Ab", "/a//b", "/a%FFb", "a",
        ] {
            assert!(ResourcePath::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn rejects_overlong_names_and_paths() {
        let long = format!("/{}", "x".repeat(MAX_SEGMENT_BYTES + 1));
        assert!(matches!(
            ResourcePath::parse(&long),
            Err(SolidError::PathTooLong(..))
        ));
        let deep = "/abcdefghi".repeat(100);
        assert!(matches!(
            ResourcePath::parse(&deep),
            Err(SolidError::PathTooLong(..))
        ));
    }

    #[test]
    fn canonicalises_percent_encoding() {
        assert_eq!(p("/a/hello%20world").as_str(), "/a/hello%20world");
        assert_eq!(p("/a/h%65llo").as_str(), "/a/hello");
        assert_eq!(p("/a/caf%C3%A9").as_str(), "/a/caf%C3%A9");
        assert_eq!(p("/a/it's:ok@x").as_str(), "/a/it's:ok@x");
    }

    #[test]
    fn parent_pod_and_ancestors() {
        let r = p("/alice/x/y/z.ttl");
        assert_eq!(r.parent(), Some(p("/alice/x/y/")));
        assert_eq!(r.pod(), Some("alice"));
        assert_eq!(r.pod_root(), Some(p("/alice/")));
        assert_eq!(
            r.ancestors_within_pod(),
            vec![p("/alice/"), p("/alice/x/"), p("/alice/x/y/")]
        );
        assert!(p("/alice/").is_pod_root());
        assert!(!p("/alice/x/").is_pod_root());
        assert_eq!(p("/alice/").parent(), Some(ResourcePath::root()));
        assert_eq!(ResourcePath::root().parent(), None);
        assert_eq!(p("/alice/x/").name(), "x");
    }

    #[test]
    fn description_resources_pair_with_their_subject() {
        assert_eq!(p("/a/doc").description(), p("/a/doc.meta"));
        assert_eq!(p("/a/c/").description(), p("/a/c/.meta"));
        assert_eq!(p("/a/doc.meta").auxiliary_subject(), Some(p("/a/doc")));
        assert_eq!(p("/a/c/.meta").auxiliary_subject(), Some(p("/a/c/")));
        assert_eq!(p("/a/doc").auxiliary_subject(), None);
        assert_eq!(p("/a/x.meta/").auxiliary_subject(), None);
    }

    #[test]
    fn access_control_resources_pair_with_their_subject() {
        assert_eq!(p("/a/doc").acl(), p("/a/doc.acl"));
        assert_eq!(p("/a/").acl(), p("/a/.acl"));
        assert_eq!(
            p("/a/.acl").auxiliary(),
            Some((Auxiliary::AccessControl, p("/a/")))
        );
        assert_eq!(
            p("/a/doc.meta").auxiliary(),
            Some((Auxiliary::Description, p("/a/doc")))
        );
        assert_eq!(p("/.acl").auxiliary(), None);
        assert_eq!(
            p("/a/doc").auxiliaries(),
            vec![p("/a/doc.meta"), p("/a/doc.acl")]
        );
    }

    #[test]
    fn child_encodes_and_validates() {
        let c = p("/alice/");
        assert_eq!(c.child("a b", false).unwrap().as_str(), "/alice/a%20b");
        assert_eq!(c.child("docs", true).unwrap().as_str(), "/alice/docs/");
        assert!(c.child("..", false).is_err());
        assert!(p("/alice/f").child("x", false).is_err());
    }

    #[test]
    fn slugs_are_sanitised() {
        assert_eq!(sanitize_slug("my file.txt").as_deref(), Some("my-file.txt"));
        assert_eq!(
            sanitize_slug("../../etc/passwd").as_deref(),
            Some("etc-passwd")
        );
        assert_eq!(sanitize_slug("%2F%2F"), None);
        assert_eq!(sanitize_slug("..."), None);
        assert_eq!(sanitize_slug("héllo").as_deref(), Some("héllo"));
    }
}
