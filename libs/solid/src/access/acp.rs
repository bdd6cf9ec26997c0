//! Access Control Policy (solid/specification `acp`, 2022-05-18 draft): the policies one
//! Access Control Resource (ACR) applies, and the modes they grant in a context.
//!
//! A resource's effective policies are those its own ACR applies through
//! `acp:accessControl`, plus those every ancestor's ACR applies to members through
//! `acp:memberAccessControl`. The caller gathers them; [`granted`] decides.

use super::graph::{Graph, Node};
use super::{Modes, Requester};
use oxrdf::Triple;

pub const ACP: &str = "http://www.w3.org/ns/solid/acp#";
pub const ACCESS_CONTROL_RESOURCE: &str = "http://www.w3.org/ns/solid/acp#AccessControlResource";
pub const RESOURCE: &str = "http://www.w3.org/ns/solid/acp#resource";
pub const ACCESS_CONTROL: &str = "http://www.w3.org/ns/solid/acp#accessControl";
pub const MEMBER_ACCESS_CONTROL: &str = "http://www.w3.org/ns/solid/acp#memberAccessControl";
const APPLY: &str = "http://www.w3.org/ns/solid/acp#apply";
/// Policies an access control applies to the ACR itself (Read = read the ACR, Write = change
/// it). Inrupt's libraries and ESS use this (ACP ED 2022-05-10); we also let Control on the
/// resource govern its ACR, as CSS and WAC do.
const ACCESS: &str = "http://www.w3.org/ns/solid/acp#access";
const ALLOW: &str = "http://www.w3.org/ns/solid/acp#allow";
const DENY: &str = "http://www.w3.org/ns/solid/acp#deny";
const ALL_OF: &str = "http://www.w3.org/ns/solid/acp#allOf";
const ANY_OF: &str = "http://www.w3.org/ns/solid/acp#anyOf";
const NONE_OF: &str = "http://www.w3.org/ns/solid/acp#noneOf";
pub const AGENT: &str = "http://www.w3.org/ns/solid/acp#agent";
pub const CLIENT: &str = "http://www.w3.org/ns/solid/acp#client";
pub const ISSUER: &str = "http://www.w3.org/ns/solid/acp#issuer";
pub const VC: &str = "http://www.w3.org/ns/solid/acp#vc";
pub const PUBLIC_AGENT: &str = "http://www.w3.org/ns/solid/acp#PublicAgent";
pub const AUTHENTICATED_AGENT: &str = "http://www.w3.org/ns/solid/acp#AuthenticatedAgent";
pub const CREATOR_AGENT: &str = "http://www.w3.org/ns/solid/acp#CreatorAgent";
pub const OWNER_AGENT: &str = "http://www.w3.org/ns/solid/acp#OwnerAgent";
pub const PUBLIC_CLIENT: &str = "http://www.w3.org/ns/solid/acp#PublicClient";
pub const PUBLIC_ISSUER: &str = "http://www.w3.org/ns/solid/acp#PublicIssuer";
/// The `rel="http://www.w3.org/ns/solid/acp#grant"` and `#attribute` links an ACR's OPTIONS
/// lists: the modes this server can grant and the matcher attributes it evaluates.
pub const GRANT_REL: &str = "http://www.w3.org/ns/solid/acp#grant";
pub const ATTRIBUTE_REL: &str = "http://www.w3.org/ns/solid/acp#attribute";
pub const SUPPORTED_ATTRIBUTES: [&str; 4] = [AGENT, CLIENT, ISSUER, VC];

/// A matcher: satisfied when, for each attribute it defines, the context has one of the
/// values it lists. A matcher that defines no attribute is never satisfied.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Matcher {
    pub agents: Vec<String>,
    pub clients: Vec<String>,
    pub issuers: Vec<String>,
    pub vcs: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    pub allow: Modes,
    pub deny: Modes,
    pub all_of: Vec<Matcher>,
    pub any_of: Vec<Matcher>,
    pub none_of: Vec<Matcher>,
}

/// The policies one ACR applies.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Acr {
    /// Applied to the resource the ACR controls (`acp:accessControl` / `acp:apply`).
    pub access_control: Vec<Policy>,
    /// Applied to every descendant (`acp:memberAccessControl` / `acp:apply`).
    pub member_access_control: Vec<Policy>,
    /// Applied to this ACR (`acp:accessControl` / `acp:access`).
    pub acr_access: Vec<Policy>,
    /// Applied to the ACRs of every descendant (`acp:memberAccessControl` / `acp:access`).
    pub member_acr_access: Vec<Policy>,
    /// The access controls it links with `acp:memberAccessControl` (IRIs), which every
    /// descendant's ACR shows as its own ([`inherited_links`]).
    pub member_controls: Vec<String>,
}

/// What the request presents, beyond the requester.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub who: &'a Requester,
    /// The pod owner's WebID (`acp:OwnerAgent`).
    pub owner: Option<&'a str>,
    /// The WebID that created the resource (`acp:CreatorAgent`), when known.
    pub creator: Option<&'a str>,
    /// Types of verifiable credentials presented with the request (`acp:vc`).
    pub vcs: &'a [String],
}

impl Acr {
    /// Reads the policies of an ACR document. Access controls, policies and matchers must be
    /// described in the document itself; a reference to a node it does not describe applies
    /// nothing (and so grants nothing).
    pub fn parse(triples: &[Triple]) -> Acr {
        let g = Graph::new(triples);
        let policies = |link: &str, via: &str| {
            let mut controls: Vec<&str> = g
                .subjects_with(link, None)
                .flat_map(|s| g.objects(s, link).filter_map(Node::key))
                .collect();
            controls.sort();
            controls.dedup();
            let mut out: Vec<Policy> = controls
                .into_iter()
                .flat_map(|c| g.objects(c, via).filter_map(Node::key))
                .map(|p| policy(&g, p))
                .collect();
            out.sort_by_key(|p| (p.allow.wac_tokens(), p.deny.wac_tokens()));
            out
        };
        let mut member_controls: Vec<String> = g
            .subjects_with(MEMBER_ACCESS_CONTROL, None)
            .flat_map(|s| g.objects(s, MEMBER_ACCESS_CONTROL).filter_map(Node::iri))
            .map(str::to_owned)
            .collect();
        member_controls.sort();
        member_controls.dedup();
        Acr {
            member_controls,
            access_control: policies(ACCESS_CONTROL, APPLY),
            member_access_control: policies(MEMBER_ACCESS_CONTROL, APPLY),
            acr_access: policies(ACCESS_CONTROL, ACCESS),
            member_acr_access: policies(MEMBER_ACCESS_CONTROL, ACCESS),
        }
    }
}

/// The links ESS shows in a resource's ACR for the access controls its ancestors apply to
/// their members: each as `acp:accessControl` (it applies to this resource) and, for a
/// container, `acp:memberAccessControl` (it reaches its members too). Inrupt's `acp_ess_2`
/// reads a resource's access controls from its ACR alone, so without these a new resource
/// shows none. They are shown, never stored ([`without_inherited`]): what applies is still
/// decided from the ancestors' ACRs, so a change there shows everywhere at once.
pub fn inherited_links(acr: &str, inherited: &[String], container: bool) -> Vec<Triple> {
    let subject = oxrdf::NamedNode::new_unchecked(acr);
    let mut links = Vec::new();
    for control in inherited {
        let Ok(control) = oxrdf::NamedNode::new(control.as_str()) else {
            continue;
        };
        links.push(Triple::new(
            subject.clone(),
            oxrdf::NamedNode::new_unchecked(ACCESS_CONTROL),
            control.clone(),
        ));
        if container {
            links.push(Triple::new(
                subject.clone(),
                oxrdf::NamedNode::new_unchecked(MEMBER_ACCESS_CONTROL),
                control,
            ));
        }
    }
    links
}

/// An ACR as it is stored: without the links [`inherited_links`] shows, which a client that
/// read the ACR sends back (Inrupt's libraries save the whole document they read).
pub fn without_inherited(triples: Vec<Triple>, acr: &str, inherited: &[String]) -> Vec<Triple> {
    triples
        .into_iter()
        .filter(|t| {
            let shown = matches!(&t.subject, oxrdf::NamedOrBlankNode::NamedNode(s) if s.as_str() == acr)
                && matches!(
                    t.predicate.as_str(),
                    ACCESS_CONTROL | MEMBER_ACCESS_CONTROL
                )
                && matches!(&t.object, oxrdf::Term::NamedNode(o) if inherited.iter().any(|i| i == o.as_str()));
            !shown
        })
        .collect()
}

fn policy(g: &Graph, node: &str) -> Policy {
    let modes = |p| {
        g.iris(node, p)
            .fold(Modes::NONE, |m, iri| m.union(Modes::from_iri(iri)))
    };
    // A matcher we cannot read (a literal where a node belongs) must restrict, not vanish:
    // in allOf and anyOf it is never satisfied, in noneOf always (so the policy fails).
    let matchers = |p, unreadable: fn() -> Matcher| {
        g.objects(node, p)
            .map(|m| m.key().map_or_else(unreadable, |m| matcher(g, m)))
            .collect()
    };
    Policy {
        allow: modes(ALLOW),
        deny: modes(DENY),
        all_of: matchers(ALL_OF, Matcher::default),
        any_of: matchers(ANY_OF, Matcher::default),
        none_of: matchers(NONE_OF, || Matcher {
            agents: vec![PUBLIC_AGENT.to_owned()],
            ..Matcher::default()
        }),
    }
}

fn matcher(g: &Graph, node: &str) -> Matcher {
    let values = |p| {
        g.objects(node, p)
            .map(|o| match o {
                Node::Iri(v) | Node::Literal(v) => v.clone(),
                // A value we cannot compare still restricts: it matches nothing.
                Node::Blank(_) => String::new(),
            })
            .collect()
    };
    Matcher {
        agents: values(AGENT),
        clients: values(CLIENT),
        issuers: values(ISSUER),
        vcs: values(VC),
    }
}

impl Matcher {
    fn satisfied(&self, ctx: &Context<'_>) -> bool {
        let defined = [&self.agents, &self.clients, &self.issuers, &self.vcs];
        if defined.iter().all(|v| v.is_empty()) {
            return false;
        }
        let who = ctx.who;
        let webid = who.webid.as_deref();
        let agent_ok = self.agents.is_empty()
            || self.agents.iter().any(|a| match a.as_str() {
                PUBLIC_AGENT => true,
                AUTHENTICATED_AGENT => webid.is_some(),
                CREATOR_AGENT => webid.is_some() && webid == ctx.creator,
                OWNER_AGENT => webid.is_some() && webid == ctx.owner,
                other => webid == Some(other),
            });
        let client_ok = self.clients.is_empty()
            || self
                .clients
                .iter()
                .any(|c| c == PUBLIC_CLIENT || who.client_id.as_deref() == Some(c.as_str()));
        let issuer_ok = self.issuers.is_empty()
            || self
                .issuers
                .iter()
                .any(|i| i == PUBLIC_ISSUER || issuer_eq(who.issuer.as_deref(), i));
        let vc_ok = self.vcs.is_empty() || self.vcs.iter().any(|v| ctx.vcs.contains(v));
        agent_ok && client_ok && issuer_ok && vc_ok
    }
}

/// Issuers compare as URLs that may or may not carry a trailing slash.
fn issuer_eq(have: Option<&str>, want: &str) -> bool {
    have.is_some_and(|h| h.trim_end_matches('/') == want.trim_end_matches('/'))
}

impl Policy {
    /// Satisfied iff it has at least one allOf or anyOf matcher, all allOf matchers are
    /// satisfied, at least one anyOf matcher is (when there are any), and no noneOf matcher is.
    pub fn satisfied(&self, ctx: &Context<'_>) -> bool {
        if self.all_of.is_empty() && self.any_of.is_empty() {
            return false;
        }
        self.all_of.iter().all(|m| m.satisfied(ctx))
            && (self.any_of.is_empty() || self.any_of.iter().any(|m| m.satisfied(ctx)))
            && !self.none_of.iter().any(|m| m.satisfied(ctx))
    }
}

/// The modes granted by a set of effective policies: allowed by some satisfied policy and
/// denied by none.
pub fn granted<'a>(policies: impl IntoIterator<Item = &'a Policy>, ctx: &Context<'_>) -> Modes {
    let (allow, deny) = policies
        .into_iter()
        .filter(|p| p.satisfied(ctx))
        .fold((Modes::NONE, Modes::NONE), |(a, d), p| {
            (a.union(p.allow), d.union(p.deny))
        });
    allow.minus(deny)
}

/// The modes granted on an ACR: what its `acp:access` policies grant (Read, Write), plus Read
/// and Write for whoever holds Control over the resource. Returned as Control-equivalent
/// modes: `READ` = may read the ACR, `WRITE` = may change it.
pub fn acr_modes(access: Modes, resource: Modes) -> Modes {
    let mut m = Modes::NONE;
    if access.contains(Modes::READ) || resource.contains(Modes::CONTROL) {
        m = m.union(Modes::READ);
    }
    if access.contains(Modes::WRITE) || resource.contains(Modes::CONTROL) {
        m = m.union(Modes::WRITE);
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rdf::{parse, RdfFormat};

    const ACR: &str = "https://pod.example/alice/doc.acl";

    fn acr(ttl: &str) -> Acr {
        let doc = format!(
            "@prefix acp: <http://www.w3.org/ns/solid/acp#>. @prefix acl: <http://www.w3.org/ns/auth/acl#>.\n{ttl}"
        );
        Acr::parse(
            &parse(
                doc.as_bytes(),
                RdfFormat::Turtle,
                ACR,
                None,
                &Default::default(),
            )
            .unwrap(),
        )
    }

    fn who(webid: Option<&str>, client: Option<&str>, issuer: Option<&str>) -> Requester {
        Requester {
            webid: webid.map(Into::into),
            client_id: client.map(Into::into),
            issuer: issuer.map(Into::into),
            origin: None,
        }
    }

    fn ctx(who: &Requester) -> Context<'_> {
        Context {
            who,
            owner: Some("https://o.example/#me"),
            creator: Some("https://c.example/#me"),
            vcs: &[],
        }
    }

    #[test]
    fn access_control_and_member_access_control_are_read_apart() {
        let a = acr("<> acp:accessControl <#ac>; acp:memberAccessControl <#mac>.
                     <#ac> acp:apply <#p1>. <#mac> acp:apply <#p2>.
                     <#p1> acp:allow acl:Read; acp:anyOf <#m>.
                     <#p2> acp:allow acl:Write; acp:anyOf <#m>.
                     <#m> acp:agent acp:PublicAgent.");
        let anon = who(None, None, None);
        assert_eq!(granted(&a.access_control, &ctx(&anon)), Modes::READ);
        assert_eq!(granted(&a.member_access_control, &ctx(&anon)), Modes::WRITE);
    }

    #[test]
    fn acr_access_comes_from_acp_access_or_control() {
        let a = acr("<> acp:accessControl <#ac>. <#ac> acp:access <#p>.
                     <#p> acp:allow acl:Read; acp:anyOf [ acp:agent <https://b.example/#me> ].");
        let bob = who(Some("https://b.example/#me"), None, None);
        let access = granted(&a.acr_access, &ctx(&bob));
        assert_eq!(access, Modes::READ);
        assert!(a.access_control.is_empty());
        assert_eq!(acr_modes(access, Modes::NONE), Modes::READ);
        assert_eq!(
            acr_modes(Modes::NONE, Modes::CONTROL),
            Modes::READ.union(Modes::WRITE)
        );
    }

    #[test]
    fn deny_beats_allow() {
        let a = acr(
            "<> acp:accessControl <#ac>. <#ac> acp:apply <#allow>, <#deny>.
                     <#allow> acp:allow acl:Read, acl:Write; acp:anyOf <#pub>.
                     <#deny> acp:deny acl:Write; acp:anyOf <#bob>.
                     <#pub> acp:agent acp:PublicAgent. <#bob> acp:agent <https://b.example/#me>.",
        );
        let bob = who(Some("https://b.example/#me"), None, None);
        let anon = who(None, None, None);
        assert_eq!(granted(&a.access_control, &ctx(&bob)), Modes::READ);
        assert_eq!(
            granted(&a.access_control, &ctx(&anon)),
            Modes::READ.union(Modes::WRITE)
        );
    }

    #[test]
    fn all_of_any_of_none_of() {
        let a = acr("<> acp:accessControl <#ac>. <#ac> acp:apply <#p>.
                     <#p> acp:allow acl:Read; acp:allOf <#auth>; acp:anyOf <#app1>, <#app2>; acp:noneOf <#evil>.
                     <#auth> acp:agent acp:AuthenticatedAgent.
                     <#app1> acp:client <https://app1.example/id>. <#app2> acp:client <https://app2.example/id>.
                     <#evil> acp:issuer <https://evil.example>.");
        let ok = who(
            Some("https://x.example/#i"),
            Some("https://app2.example/id"),
            Some("https://idp.example"),
        );
        assert_eq!(granted(&a.access_control, &ctx(&ok)), Modes::READ);
        let wrong_app = who(
            Some("https://x.example/#i"),
            Some("https://other.example/id"),
            None,
        );
        assert_eq!(granted(&a.access_control, &ctx(&wrong_app)), Modes::NONE);
        let anon_app = who(None, Some("https://app1.example/id"), None);
        assert_eq!(granted(&a.access_control, &ctx(&anon_app)), Modes::NONE);
        let evil = who(
            Some("https://x.example/#i"),
            Some("https://app1.example/id"),
            Some("https://evil.example/"),
        );
        assert_eq!(granted(&a.access_control, &ctx(&evil)), Modes::NONE);
    }

    #[test]
    fn a_policy_with_only_none_of_or_an_empty_matcher_is_never_satisfied() {
        let a = acr("<> acp:accessControl <#ac>. <#ac> acp:apply <#p>, <#q>.
                     <#p> acp:allow acl:Read; acp:noneOf <#m>. <#m> acp:agent <https://b.example/#me>.
                     <#q> acp:allow acl:Write; acp:anyOf <#empty>. <#empty> a acp:Matcher.");
        assert_eq!(
            granted(&a.access_control, &ctx(&who(None, None, None))),
            Modes::NONE
        );
    }

    #[test]
    fn owner_creator_and_public_client_issuer() {
        let a = acr("<> acp:accessControl <#ac>. <#ac> acp:apply <#o>, <#c>, <#pc>.
                     <#o> acp:allow acl:Control; acp:anyOf [ acp:agent acp:OwnerAgent ].
                     <#c> acp:allow acl:Write; acp:anyOf [ acp:agent acp:CreatorAgent ].
                     <#pc> acp:allow acl:Read; acp:allOf [ acp:client acp:PublicClient; acp:issuer acp:PublicIssuer ].");
        let owner = who(Some("https://o.example/#me"), None, None);
        assert_eq!(
            granted(&a.access_control, &ctx(&owner)),
            Modes::CONTROL.union(Modes::READ)
        );
        let creator = who(Some("https://c.example/#me"), None, None);
        assert_eq!(
            granted(&a.access_control, &ctx(&creator)),
            Modes::WRITE.union(Modes::READ)
        );
        assert_eq!(
            granted(&a.access_control, &ctx(&who(None, None, None))),
            Modes::READ
        );
    }

    #[test]
    fn vc_matcher_needs_a_presented_credential_type() {
        let a = acr("<> acp:accessControl <#ac>. <#ac> acp:apply <#p>.
                     <#p> acp:allow acl:Read; acp:anyOf [ acp:vc <https://www.w3.org/2018/credentials#VerifiableCredential> ].");
        let anon = who(None, None, None);
        assert_eq!(granted(&a.access_control, &ctx(&anon)), Modes::NONE);
        let vcs = ["https://www.w3.org/2018/credentials#VerifiableCredential".to_owned()];
        let with_vc = Context {
            vcs: &vcs,
            ..ctx(&anon)
        };
        assert_eq!(granted(&a.access_control, &with_vc), Modes::READ);
    }

    #[test]
    fn member_controls_are_shown_in_descendants_acrs_and_never_stored() {
        let root = acr("<> acp:accessControl <#own>; acp:memberAccessControl <#members>, <#more>.");
        let inherited = root.member_controls.clone();
        assert_eq!(
            inherited,
            [format!("{ACR}#members"), format!("{ACR}#more")],
            "the IRIs, sorted"
        );
        let child = "https://pod.example/alice/c/.acl";
        let doc = inherited_links(child, &inherited, false);
        assert_eq!(doc.len(), 2, "one acp:accessControl each: {doc:?}");
        assert!(doc.iter().all(|t| t.predicate.as_str() == ACCESS_CONTROL));
        let container = inherited_links(child, &inherited, true);
        assert_eq!(container.len(), 4, "a container's members inherit them too");

        // Sent back with the client's own triples: only the shown links go.
        let own = Triple::new(
            oxrdf::NamedNode::new_unchecked(child),
            oxrdf::NamedNode::new_unchecked(ACCESS_CONTROL),
            oxrdf::NamedNode::new_unchecked(format!("{child}#mine")),
        );
        let elsewhere = Triple::new(
            oxrdf::NamedNode::new_unchecked(format!("{child}#mine")),
            oxrdf::NamedNode::new_unchecked(ACCESS_CONTROL),
            oxrdf::NamedNode::new_unchecked(format!("{ACR}#members")),
        );
        let mut sent = container.clone();
        sent.push(own.clone());
        sent.push(elsewhere.clone());
        assert_eq!(without_inherited(sent, child, &inherited), [own, elsewhere]);
    }
}
