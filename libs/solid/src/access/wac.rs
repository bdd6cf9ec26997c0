//! Web Access Control 1.0: the authorizations of one ACL document and the modes they grant.
//!
//! Which ACL applies is decided by the caller: a resource's own ACL (authorizations with
//! `acl:accessTo` the resource) or, when it has none, the nearest ancestor container's ACL
//! (authorizations with `acl:default` that container).

use super::graph::Graph;
use super::{Modes, Requester};
use crate::vocab::RDF_TYPE;
use oxrdf::Triple;

const AUTHORIZATION: &str = "http://www.w3.org/ns/auth/acl#Authorization";
const ACCESS_TO: &str = "http://www.w3.org/ns/auth/acl#accessTo";
const DEFAULT: &str = "http://www.w3.org/ns/auth/acl#default";
const AGENT: &str = "http://www.w3.org/ns/auth/acl#agent";
const AGENT_CLASS: &str = "http://www.w3.org/ns/auth/acl#agentClass";
const AGENT_GROUP: &str = "http://www.w3.org/ns/auth/acl#agentGroup";
const ORIGIN: &str = "http://www.w3.org/ns/auth/acl#origin";
const MODE: &str = "http://www.w3.org/ns/auth/acl#mode";
pub const FOAF_AGENT: &str = "http://xmlns.com/foaf/0.1/Agent";
pub const AUTHENTICATED_AGENT: &str = "http://www.w3.org/ns/auth/acl#AuthenticatedAgent";
pub const VCARD_HAS_MEMBER: &str = "http://www.w3.org/2006/vcard/ns#hasMember";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    pub access_to: Vec<String>,
    pub default: Vec<String>,
    pub agents: Vec<String>,
    pub agent_classes: Vec<String>,
    pub agent_groups: Vec<String>,
    pub origins: Vec<String>,
    pub modes: Modes,
}

/// How an ACL document relates to the resource being accessed.
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    /// The resource's own ACL; `acl:accessTo` this IRI applies.
    Own(&'a str),
    /// An ancestor container's ACL; `acl:default` that container's IRI applies.
    Inherited(&'a str),
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Acl {
    pub authorizations: Vec<Authorization>,
}

impl Acl {
    /// Reads the `acl:Authorization`s of a document. Nodes without that type are not
    /// authorizations, whatever else they say.
    pub fn parse(triples: &[Triple]) -> Acl {
        let g = Graph::new(triples);
        let mut authorizations: Vec<Authorization> = g
            .subjects_with(RDF_TYPE, Some(AUTHORIZATION))
            .map(|s| {
                let all = |p| g.iris(s, p).map(str::to_owned).collect::<Vec<_>>();
                Authorization {
                    access_to: all(ACCESS_TO),
                    default: all(DEFAULT),
                    agents: all(AGENT),
                    agent_classes: all(AGENT_CLASS),
                    agent_groups: all(AGENT_GROUP),
                    // An origin we cannot read (a literal) still restricts: it matches
                    // no request's Origin.
                    origins: g
                        .objects(s, ORIGIN)
                        .map(|o| o.iri().unwrap_or_default().to_owned())
                        .collect(),
                    modes: g
                        .iris(s, MODE)
                        .fold(Modes::NONE, |m, iri| m.union(Modes::from_iri(iri))),
                }
            })
            .collect();
        // The index is a hash map; keep results independent of its order.
        authorizations.sort_by(|a, b| a.agents.cmp(&b.agents).then(a.access_to.cmp(&b.access_to)));
        Acl { authorizations }
    }

    fn applicable<'a>(&'a self, scope: Scope<'a>) -> impl Iterator<Item = &'a Authorization> {
        self.authorizations.iter().filter(move |a| match scope {
            Scope::Own(iri) => a.access_to.iter().any(|t| t == iri),
            Scope::Inherited(iri) => a.default.iter().any(|t| t == iri),
        })
    }

    /// The groups whose membership could change the answer for `who`: fetch these and pass
    /// the result to [`Acl::modes`] as `member_of`.
    pub fn groups_to_check(&self, scope: Scope<'_>, who: &Requester) -> Vec<String> {
        if who.webid.is_none() {
            return Vec::new();
        }
        let mut out: Vec<String> = self
            .applicable(scope)
            .filter(|a| origin_allows(a, who))
            .flat_map(|a| a.agent_groups.iter().cloned())
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// The modes `who` holds through this ACL. `member_of(group)` answers whether the
    /// requester's WebID is a member of a group named by `acl:agentGroup`.
    pub fn modes(
        &self,
        scope: Scope<'_>,
        who: &Requester,
        member_of: &dyn Fn(&str) -> bool,
    ) -> Modes {
        self.applicable(scope)
            .filter(|a| origin_allows(a, who) && names(a, who, member_of))
            .fold(Modes::NONE, |m, a| m.union(a.modes))
    }
}

/// `acl:origin` restricts an authorization to requests from those web app origins. A request
/// without an Origin header does not come from a browser app, so the restriction does not
/// apply to it.
fn origin_allows(a: &Authorization, who: &Requester) -> bool {
    match (&who.origin, a.origins.is_empty()) {
        (_, true) | (None, false) => true,
        (Some(origin), false) => a.origins.iter().any(|o| o.trim_end_matches('/') == origin),
    }
}

fn names(a: &Authorization, who: &Requester, member_of: &dyn Fn(&str) -> bool) -> bool {
    if a.agent_classes.iter().any(|c| c == FOAF_AGENT) {
        return true;
    }
    let Some(webid) = who.webid.as_deref() else {
        return false;
    };
    a.agent_classes.iter().any(|c| c == AUTHENTICATED_AGENT)
        || a.agents.iter().any(|x| x == webid)
        || a.agent_groups.iter().any(|g| member_of(g))
}

/// Whether a fetched group document lists `webid` as a member of `group`.
pub fn group_has_member(group_doc: &[Triple], group: &str, webid: &str) -> bool {
    Graph::new(group_doc).has(group, VCARD_HAS_MEMBER, webid)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rdf::{parse, RdfFormat};

    const BASE: &str = "https://pod.example/alice/";

    fn acl(ttl: &str) -> Acl {
        let doc = format!(
            "@prefix acl: <http://www.w3.org/ns/auth/acl#>. @prefix foaf: <http://xmlns.com/foaf/0.1/>.\n{ttl}"
        );
        Acl::parse(
            &parse(
                doc.as_bytes(),
                RdfFormat::Turtle,
                BASE,
                None,
                &Default::default(),
            )
            .unwrap(),
        )
    }

    fn agent(webid: &str) -> Requester {
        Requester {
            webid: Some(webid.into()),
            ..Requester::default()
        }
    }

    const NO_GROUPS: &dyn Fn(&str) -> bool = &|_| false;

    #[test]
    fn access_to_applies_to_the_resource_and_default_to_descendants() {
        let a = acl(
            "<#o> a acl:Authorization; acl:agent <https://a.example/#me>; \
                     acl:accessTo <./>; acl:mode acl:Read, acl:Write.
                     <#d> a acl:Authorization; acl:agent <https://a.example/#me>; \
                     acl:default <./>; acl:mode acl:Read.",
        );
        let me = agent("https://a.example/#me");
        assert_eq!(
            a.modes(Scope::Own(BASE), &me, NO_GROUPS),
            Modes::READ.union(Modes::WRITE)
        );
        assert_eq!(a.modes(Scope::Inherited(BASE), &me, NO_GROUPS), Modes::READ);
        assert_eq!(
            a.modes(
                Scope::Inherited("https://pod.example/other/"),
                &me,
                NO_GROUPS
            ),
            Modes::NONE
        );
    }

    #[test]
    fn agent_classes_public_and_authenticated() {
        let a = acl("<#p> a acl:Authorization; acl:agentClass foaf:Agent; acl:accessTo <./>; acl:mode acl:Read.
                     <#a> a acl:Authorization; acl:agentClass acl:AuthenticatedAgent; acl:accessTo <./>; acl:mode acl:Append.");
        let anon = Requester::anonymous(None);
        assert_eq!(a.modes(Scope::Own(BASE), &anon, NO_GROUPS), Modes::READ);
        assert_eq!(
            a.modes(Scope::Own(BASE), &agent("https://x.example/#i"), NO_GROUPS),
            Modes::READ.union(Modes::APPEND)
        );
    }

    #[test]
    fn untyped_nodes_and_unknown_modes_grant_nothing() {
        let a = acl("<#x> acl:agentClass foaf:Agent; acl:accessTo <./>; acl:mode acl:Read.
                     <#y> a acl:Authorization; acl:agentClass foaf:Agent; acl:accessTo <./>; acl:mode acl:Everything.");
        assert_eq!(
            a.modes(Scope::Own(BASE), &Requester::anonymous(None), NO_GROUPS),
            Modes::NONE
        );
    }

    #[test]
    fn groups_are_asked_only_for_authenticated_agents() {
        let a = acl(
            "<#g> a acl:Authorization; acl:agentGroup <https://g.example/groups#friends>; \
                     acl:accessTo <./>; acl:mode acl:Read.",
        );
        let me = agent("https://a.example/#me");
        assert_eq!(
            a.groups_to_check(Scope::Own(BASE), &me),
            vec!["https://g.example/groups#friends"]
        );
        assert!(a
            .groups_to_check(Scope::Own(BASE), &Requester::anonymous(None))
            .is_empty());
        assert_eq!(
            a.modes(Scope::Own(BASE), &me, &|g| g.ends_with("#friends")),
            Modes::READ
        );
        assert_eq!(a.modes(Scope::Own(BASE), &me, NO_GROUPS), Modes::NONE);
        let group = parse(
            b"<https://g.example/groups#friends> <http://www.w3.org/2006/vcard/ns#hasMember> <https://a.example/#me>.",
            RdfFormat::Turtle,
            "https://g.example/groups",
            None,
            &Default::default(),
        )
        .unwrap();
        assert!(group_has_member(
            &group,
            "https://g.example/groups#friends",
            "https://a.example/#me"
        ));
        assert!(!group_has_member(
            &group,
            "https://g.example/groups#friends",
            "https://b.example/#me"
        ));
    }

    #[test]
    fn origin_restricts_browser_requests_only() {
        let a = acl(
            "<#o> a acl:Authorization; acl:agent <https://a.example/#me>; \
                     acl:origin <https://app.example>; acl:accessTo <./>; acl:mode acl:Read.",
        );
        let mut me = agent("https://a.example/#me");
        assert_eq!(a.modes(Scope::Own(BASE), &me, NO_GROUPS), Modes::READ);
        me.origin = Some("https://app.example".into());
        assert_eq!(a.modes(Scope::Own(BASE), &me, NO_GROUPS), Modes::READ);
        me.origin = Some("https://evil.example".into());
        assert_eq!(a.modes(Scope::Own(BASE), &me, NO_GROUPS), Modes::NONE);
    }
}
