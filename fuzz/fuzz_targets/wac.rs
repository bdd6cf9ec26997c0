//! WAC evaluation over random ACL graphs never panics, and never grants a mode unless some
//! `acl:Authorization` in the document gives that mode, applies to the resource in that
//! scope, names the requester and admits its origin.
#![no_main]

use libfuzzer_sys::fuzz_target;
use podplane_fuzz::access::{
    acl, requesters, triples, Raw, ALICE, FOAF_AGENT, FRIENDS, MODES, RDF_TYPE,
};
use podplane_fuzz::{CONTAINER, DOC};
use podplane_solid::access::wac::{Acl, Scope};
use podplane_solid::access::Requester;

fuzz_target!(|data: &[u8]| {
    let Some(triples) = triples(data) else {
        return;
    };
    let parsed = Acl::parse(&triples);
    let raw = Raw::new(&triples);
    for who in requesters() {
        let member_of = |g: &str| g == FRIENDS && who.webid.as_deref() == Some(ALICE);
        for (scope, link, target) in [
            (Scope::Own(DOC), "accessTo", DOC),
            (Scope::Own(CONTAINER), "accessTo", CONTAINER),
            (Scope::Inherited(CONTAINER), "default", CONTAINER),
        ] {
            let granted = parsed.modes(scope, &who, &member_of);
            let groups = parsed.groups_to_check(scope, &who);
            assert!(who.webid.is_some() || groups.is_empty());
            for (mode, iris) in MODES {
                if granted.contains(mode) {
                    assert!(
                        rule_exists(&raw, &acl(link), target, &who, &member_of, iris),
                        "{mode} granted to {who:?} on {target} ({link}) without a rule"
                    );
                }
            }
        }
    }
});

fn rule_exists(
    raw: &Raw,
    link: &str,
    target: &str,
    who: &Requester,
    member_of: &dyn Fn(&str) -> bool,
    iris: &[&str],
) -> bool {
    let authorization = acl("Authorization");
    raw.subjects(RDF_TYPE)
        .filter(|a| raw.has(a, RDF_TYPE, &authorization))
        .any(|a| {
            let objects = |p: &str| {
                raw.objects(a, &acl(p))
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            };
            let origins = objects("origin");
            let origin_ok = match &who.origin {
                None => true,
                Some(o) => {
                    origins.is_empty() || origins.iter().any(|x| x.trim_end_matches('/') == o)
                }
            };
            let classes = objects("agentClass");
            let named = classes.iter().any(|c| c == FOAF_AGENT)
                || who.webid.as_deref().is_some_and(|webid| {
                    classes.iter().any(|c| *c == acl("AuthenticatedAgent"))
                        || objects("agent").iter().any(|x| x == webid)
                        || objects("agentGroup").iter().any(|g| member_of(g))
                });
            raw.has(a, link, target)
                && iris.iter().any(|m| raw.has(a, &acl("mode"), m))
                && origin_ok
                && named
        })
}
