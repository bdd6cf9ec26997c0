//! Request paths and `Slug` headers. A parsed path is canonical (parsing it again gives it
//! back), within the length limit, and its parents, ancestors and auxiliary resources stay
//! consistent; a sanitised slug is a name that `child` accepts.
//!
//! Input: `path LF slug`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use podplane_solid::path::{sanitize_slug, Auxiliary, ResourcePath, MAX_PATH_BYTES};
use podplane_solid::SolidError;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (raw, slug) = text.split_once('\n').unwrap_or((text, ""));
    let slug = sanitize_slug(slug);
    if let Some(name) = &slug {
        assert!(!name.is_empty() && name != "." && name != "..");
        assert!(name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '.' | '_' | '~')));
    }
    let Ok(path) = ResourcePath::parse(raw) else {
        return;
    };
    check(&path);
    if let Some(name) = &slug {
        match path.child(name, false) {
            Ok(child) => {
                assert_eq!(child.parent().as_ref(), Some(&path));
                check(&child);
            }
            Err(SolidError::PathTooLong(..)) => {}
            Err(e) => assert!(!path.is_container(), "slug {name:?} refused: {e}"),
        }
    }
});

fn check(path: &ResourcePath) {
    let s = path.as_str();
    assert_eq!(
        ResourcePath::parse(s).as_ref(),
        Ok(path),
        "not canonical: {s}"
    );
    assert!(s.starts_with('/') && !s.contains("//") && s.len() <= MAX_PATH_BYTES);
    assert_eq!(path.is_container(), s.ends_with('/'));
    if path.is_root() {
        assert!(path.parent().is_none() && path.toggled_slash().is_none());
        return;
    }
    let parent = path.parent().expect("only the root has no parent");
    assert!(parent.is_container() && s.starts_with(parent.as_str()) && parent != *path);
    for ancestor in path.ancestors_within_pod() {
        assert!(ancestor.is_container() && s.starts_with(ancestor.as_str()));
        assert!(!ancestor.is_root());
    }
    let toggled = path.toggled_slash().expect("not the root");
    assert_eq!(toggled.toggled_slash().as_ref(), Some(path));
    assert_eq!(
        path.acl().auxiliary(),
        Some((Auxiliary::AccessControl, path.clone()))
    );
    assert_eq!(
        path.description().auxiliary(),
        Some((Auxiliary::Description, path.clone()))
    );
    let _ = (path.pod(), path.pod_root(), path.name(), path.is_pod_root());
}
