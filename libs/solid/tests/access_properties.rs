//! Properties of the access-control evaluators over random documents and requesters.
//!
//! Documents are generated as small models, written out as Turtle and read back through
//! `rdf::parse` and `Acl::parse`/`Acr::parse`, so the properties cover what a client can
//! actually store. The models are evaluated here the way the WAC and ACP specs describe, and
//! the evaluators must agree with them on the properties that make access control safe:
//! nothing is granted without a rule, deny beats allow, inheritance stops at the nearest ACL,
//! and an ACL or ACR is only reachable with Control.

use podplane_solid::access::acp::{self, Acr, Context};
use podplane_solid::access::wac::{Acl, Scope};
use podplane_solid::access::{Modes, Requester};
use podplane_solid::path::ResourcePath;
use podplane_solid::rdf::{parse, RdfFormat};
use proptest::prelude::*;
use proptest::sample::subsequence;

const ORIGIN: &str = "https://pod.example";
const ALICE: &str = "https://alice.example/profile#me";
const BOB: &str = "https://bob.example/profile#me";
const CAROL: &str = "https://carol.example/profile#me";
const FRIENDS: &str = "https://pod.example/alice/groups#friends";
const APP: &str = "https://app.example";
const CLIENT: &str = "https://app.example/id";
const IDP: &str = "https://idp.example";

const ACL_NS: &str = "http://www.w3.org/ns/auth/acl#";
const ACP_NS: &str = "http://www.w3.org/ns/solid/acp#";
/// Mode IRIs, with one no evaluator may understand.
const MODE_IRIS: [&str; 5] = ["Read", "Write", "Append", "Control", "Everything"];

fn mode_of(local: &str) -> Modes {
    match local {
        "Read" => Modes::READ,
        "Write" => Modes::WRITE,
        "Append" => Modes::APPEND,
        "Control" => Modes::CONTROL,
        _ => Modes::NONE,
    }
}

fn modes_of(locals: &[&str]) -> Modes {
    locals.iter().fold(Modes::NONE, |m, l| m.union(mode_of(l)))
}

/// The four single modes, for checking sets mode by mode.
const SINGLE: [Modes; 4] = [Modes::READ, Modes::WRITE, Modes::APPEND, Modes::CONTROL];

fn requester() -> impl Strategy<Value = Requester> {
    (
        prop::option::of(prop::sample::select(vec![ALICE, BOB, CAROL])),
        prop::option::of(prop::sample::select(vec![
            CLIENT,
            "https://other.example/id",
        ])),
        prop::option::of(prop::sample::select(vec![IDP, "https://idp.example/"])),
        prop::option::of(prop::sample::select(vec![APP, "https://evil.example"])),
    )
        .prop_map(|(webid, client, issuer, origin)| Requester {
            webid: webid.map(Into::into),
            client_id: client.map(Into::into),
            issuer: issuer.map(Into::into),
            origin: origin.map(Into::into),
        })
}

fn turtle(doc_iri: &str, body: &str) -> Vec<oxrdf::Triple> {
    let doc = format!(
        "@prefix acl: <{ACL_NS}>. @prefix acp: <{ACP_NS}>.\n\
         @prefix foaf: <http://xmlns.com/foaf/0.1/>.\n{body}"
    );
    parse(
        doc.as_bytes(),
        RdfFormat::Turtle,
        doc_iri,
        None,
        &Default::default(),
    )
    .expect("generated Turtle parses")
}

// ---------------------------------------------------------------------------------------
// WAC

/// One authorization, as a model. Every list may be empty: a rule that names nobody or no
/// resource is a rule too, and must grant nothing.
#[derive(Debug, Clone)]
struct Auth {
    typed: bool,
    access_to: Vec<String>,
    default: Vec<String>,
    agents: Vec<&'static str>,
    classes: Vec<&'static str>,
    groups: Vec<&'static str>,
    origins: Vec<&'static str>,
    modes: Vec<&'static str>,
}

fn auth(resources: Vec<String>) -> impl Strategy<Value = Auth> {
    (
        prop::bool::weighted(0.9),
        subsequence(resources.clone(), 0..=resources.len()),
        subsequence(resources.clone(), 0..=resources.len()),
        subsequence(vec![ALICE, BOB, CAROL], 0..=2),
        subsequence(vec!["foaf:Agent", "acl:AuthenticatedAgent"], 0..=1),
        subsequence(
            vec![FRIENDS, "https://pod.example/alice/groups#other"],
            0..=1,
        ),
        subsequence(
            vec![APP, "https://app.example/", "https://evil.example"],
            0..=1,
        ),
        subsequence(MODE_IRIS.to_vec(), 0..=3),
    )
        .prop_map(
            |(typed, access_to, default, agents, classes, groups, origins, modes)| Auth {
                typed,
                access_to,
                default,
                agents,
                classes,
                groups,
                origins,
                modes,
            },
        )
}

fn acl_turtle(auths: &[Auth]) -> String {
    let mut out = String::new();
    for (i, a) in auths.iter().enumerate() {
        let s = format!("<#rule{i}>");
        if a.typed {
            out += &format!("{s} a acl:Authorization.\n");
        }
        for r in &a.access_to {
            out += &format!("{s} acl:accessTo <{r}>.\n");
        }
        for r in &a.default {
            out += &format!("{s} acl:default <{r}>.\n");
        }
        for x in &a.agents {
            out += &format!("{s} acl:agent <{x}>.\n");
        }
        for x in &a.classes {
            out += &format!("{s} acl:agentClass {x}.\n");
        }
        for x in &a.groups {
            out += &format!("{s} acl:agentGroup <{x}>.\n");
        }
        for x in &a.origins {
            out += &format!("{s} acl:origin <{x}>.\n");
        }
        for m in &a.modes {
            out += &format!("{s} acl:mode acl:{m}.\n");
        }
    }
    out
}

fn member_of(who: &Requester) -> impl Fn(&str) -> bool + '_ {
    move |g: &str| g == FRIENDS && who.webid.as_deref() == Some(ALICE)
}

/// Whether the model rule applies in `scope` and names `who` (WAC §"Authorization
/// Evaluation"): typed, accessTo/default the resource, an agent/class/group that covers the
/// requester, and an origin that admits the request.
fn wac_rule_matches(a: &Auth, scope: Scope<'_>, who: &Requester) -> bool {
    let applies = match scope {
        Scope::Own(iri) => a.access_to.iter().any(|r| r == iri),
        Scope::Inherited(iri) => a.default.iter().any(|r| r == iri),
    };
    let origin_ok = match &who.origin {
        None => true,
        Some(o) => a.origins.is_empty() || a.origins.iter().any(|x| x.trim_end_matches('/') == o),
    };
    let named = a.classes.contains(&"foaf:Agent")
        || who.webid.as_deref().is_some_and(|w| {
            a.classes.contains(&"acl:AuthenticatedAgent")
                || a.agents.contains(&w)
                || a.groups.iter().any(|g| member_of(who)(g))
        });
    a.typed && applies && origin_ok && named
}

fn container_chain(depth: usize) -> Vec<String> {
    (0..=depth)
        .map(|i| {
            let mut p = String::from("/alice/");
            for d in 0..i {
                p += &format!("c{d}/");
            }
            p
        })
        .collect()
}

fn iri(path: &str) -> String {
    format!("{ORIGIN}{path}")
}

/// The service's rule (services/storage `AppState::effective`): the target's own ACL, else
/// the nearest ancestor's, decides alone; no ACL anywhere means no access.
fn effective_wac(
    target: &ResourcePath,
    docs: &[(ResourcePath, Acl)],
    who: &Requester,
) -> Option<Modes> {
    let mut candidates = target.ancestors_within_pod();
    candidates.push(target.clone());
    let (subject, acl) = candidates
        .iter()
        .rev()
        .find_map(|c| docs.iter().find(|(s, _)| s == c))?;
    let subject_iri = iri(subject.as_str());
    let scope = if subject == target {
        Scope::Own(&subject_iri)
    } else {
        Scope::Inherited(&subject_iri)
    };
    Some(acl.modes(scope, who, &member_of(who)))
}

const DOC: &str = "https://pod.example/alice/doc";
const HERE: &str = "https://pod.example/alice/";

fn wac_case() -> impl Strategy<Value = (Vec<Auth>, Requester)> {
    let resources = vec![
        DOC.to_owned(),
        HERE.to_owned(),
        "https://pod.example/bob/".to_owned(),
    ];
    (prop::collection::vec(auth(resources), 0..6), requester())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Deny by default: a mode is granted only when some authorization gives it (Write
    /// counting as Append) and applies to the resource and the requester.
    #[test]
    fn wac_grants_nothing_without_a_matching_rule((auths, who) in wac_case()) {
        let acl = Acl::parse(&turtle("https://pod.example/alice/.acl", &acl_turtle(&auths)));
        for scope in [Scope::Own(DOC), Scope::Own(HERE), Scope::Inherited(HERE)] {
            let granted = acl.modes(scope, &who, &member_of(&who));
            let matching: Vec<&Auth> =
                auths.iter().filter(|a| wac_rule_matches(a, scope, &who)).collect();
            let expected = matching.iter().fold(Modes::NONE, |m, a| m.union(modes_of(&a.modes)));
            prop_assert_eq!(granted, expected, "{:?} in {:?}", who, scope);
            if matching.is_empty() {
                prop_assert_eq!(granted, Modes::NONE);
            }
        }
    }

    /// An empty ACL, or one whose rules name only someone else, grants nothing.
    #[test]
    fn wac_denies_everyone_not_named(
        mut auths in prop::collection::vec(auth(vec![DOC.into()]), 0..6),
    ) {
        for a in &mut auths {
            a.agents = vec![CAROL];
            a.classes.clear();
            a.groups.clear();
        }
        let acl = Acl::parse(&turtle("https://pod.example/alice/doc.acl", &acl_turtle(&auths)));
        for webid in [None, Some(ALICE), Some(BOB)] {
            let who = Requester { webid: webid.map(Into::into), ..Requester::default() };
            prop_assert_eq!(acl.modes(Scope::Own(DOC), &who, &member_of(&who)), Modes::NONE);
        }
    }

    /// Inheritance stops at the nearest ACL: whatever an outer ACL grants, and whatever the
    /// nearest ACL says about other resources (accessTo/default of outer containers), only
    /// the nearest ACL's rules for this scope count.
    #[test]
    fn wac_inheritance_stops_at_the_nearest_acl(
        depth in 1usize..4,
        nearest_level in 0usize..4,
        target_is_container in any::<bool>(),
        rules in prop::collection::vec(any::<prop::sample::Index>(), 0..4),
        modes in subsequence(MODE_IRIS.to_vec(), 0..=4),
        who in requester(),
    ) {
        let chain = container_chain(depth);
        let target_path = if target_is_container {
            format!("{}t/", chain[depth])
        } else {
            format!("{}t", chain[depth])
        };
        let target = ResourcePath::parse(&target_path).unwrap();
        // The nearest ACL sits on some ancestor (or the target itself at level depth + 1).
        let level = nearest_level.min(depth + 1);
        let governed = if level == depth + 1 { target_path.clone() } else { chain[level].clone() };
        let governed_iri = iri(&governed);
        let all_iris: Vec<String> =
            chain.iter().map(|c| iri(c)).chain([iri(&target_path)]).collect();
        // The nearest document: its own rules for the governed resource, and rules that
        // grant everything to everyone but name other resources.
        let own = Auth {
            typed: true,
            access_to: vec![governed_iri.clone()],
            default: vec![governed_iri.clone()],
            agents: vec![ALICE],
            classes: vec![],
            groups: vec![],
            origins: vec![],
            modes: modes.clone(),
        };
        let leaky: Vec<Auth> = rules
            .iter()
            .map(|i| i.get(&all_iris).clone())
            .filter(|r| *r != governed_iri)
            .map(|r| Auth {
                typed: true,
                access_to: vec![r.clone()],
                default: vec![r],
                agents: vec![],
                classes: vec!["foaf:Agent"],
                groups: vec![],
                origins: vec![],
                modes: MODE_IRIS.to_vec(),
            })
            .collect();
        let acl_iri = format!("{governed_iri}.acl");
        let nearest_plain = Acl::parse(&turtle(&acl_iri, &acl_turtle(std::slice::from_ref(&own))));
        let mut with_leaks = vec![own];
        with_leaks.extend(leaky);
        let nearest = Acl::parse(&turtle(&acl_iri, &acl_turtle(&with_leaks)));
        // Every outer container grants everything to everyone, for itself and by default.
        let everything = |c: &str| {
            let a = Auth {
                typed: true,
                access_to: all_iris.clone(),
                default: all_iris.clone(),
                agents: vec![],
                classes: vec!["foaf:Agent"],
                groups: vec![],
                origins: vec![],
                modes: MODE_IRIS.to_vec(),
            };
            Acl::parse(&turtle(&format!("{}.acl", iri(c)), &acl_turtle(&[a])))
        };
        let governed_path = ResourcePath::parse(&governed).unwrap();
        let mut docs = vec![(governed_path.clone(), nearest)];
        docs.extend(chain[..level.min(chain.len())].iter().map(|c| {
            (ResourcePath::parse(c).unwrap(), everything(c))
        }));
        let got = effective_wac(&target, &docs, &who).expect("an ACL governs");
        let alone = effective_wac(&target, &[(governed_path, nearest_plain)], &who).unwrap();
        prop_assert_eq!(got, alone);
        // The nearest rule names Alice through both accessTo and default, so whichever scope
        // applies, she gets its modes and nobody else gets anything.
        let alice = who.webid.as_deref() == Some(ALICE);
        let expected = if alice { modes_of(&modes) } else { Modes::NONE };
        prop_assert_eq!(got, expected);
    }
}

// ---------------------------------------------------------------------------------------
// ACP

#[derive(Debug, Clone)]
struct MatcherModel {
    agents: Vec<&'static str>,
    clients: Vec<&'static str>,
    issuers: Vec<&'static str>,
}

#[derive(Debug, Clone)]
struct PolicyModel {
    allow: Vec<&'static str>,
    deny: Vec<&'static str>,
    all_of: Vec<MatcherModel>,
    any_of: Vec<MatcherModel>,
    none_of: Vec<MatcherModel>,
}

fn matcher() -> impl Strategy<Value = MatcherModel> {
    (
        subsequence(
            vec![
                ALICE,
                BOB,
                "acp:PublicAgent",
                "acp:AuthenticatedAgent",
                "acp:OwnerAgent",
                "acp:CreatorAgent",
            ],
            0..=2,
        ),
        subsequence(
            vec![CLIENT, "acp:PublicClient", "https://other.example/id"],
            0..=1,
        ),
        subsequence(vec![IDP, "https://idp.example/", "acp:PublicIssuer"], 0..=1),
    )
        .prop_map(|(agents, clients, issuers)| MatcherModel {
            agents,
            clients,
            issuers,
        })
}

fn policy() -> impl Strategy<Value = PolicyModel> {
    let matchers = || prop::collection::vec(matcher(), 0..3);
    (
        subsequence(MODE_IRIS.to_vec(), 0..=3),
        subsequence(MODE_IRIS.to_vec(), 0..=2),
        matchers(),
        matchers(),
        prop::collection::vec(matcher(), 0..2),
    )
        .prop_map(|(allow, deny, all_of, any_of, none_of)| PolicyModel {
            allow,
            deny,
            all_of,
            any_of,
            none_of,
        })
}

fn term(v: &str) -> String {
    if v.starts_with("acp:") {
        v.to_owned()
    } else {
        format!("<{v}>")
    }
}

/// An ACR applying `apply` to the resource and `access` to the ACR itself.
fn acr_turtle(apply: &[PolicyModel], access: &[PolicyModel]) -> String {
    let mut out = String::from("<> a acp:AccessControlResource; acp:accessControl <#ac>.\n");
    let mut n = 0;
    for (link, policies) in [("apply", apply), ("access", access)] {
        for p in policies {
            n += 1;
            let s = format!("<#p{n}>");
            out += &format!("<#ac> acp:{link} {s}.\n{s} a acp:Policy.\n");
            for m in &p.allow {
                out += &format!("{s} acp:allow acl:{m}.\n");
            }
            for m in &p.deny {
                out += &format!("{s} acp:deny acl:{m}.\n");
            }
            for (kind, ms) in [
                ("allOf", &p.all_of),
                ("anyOf", &p.any_of),
                ("noneOf", &p.none_of),
            ] {
                for m in ms {
                    n += 1;
                    let ms_ = format!("<#m{n}>");
                    out += &format!("{s} acp:{kind} {ms_}.\n{ms_} a acp:Matcher.\n");
                    for a in &m.agents {
                        out += &format!("{ms_} acp:agent {}.\n", term(a));
                    }
                    for c in &m.clients {
                        out += &format!("{ms_} acp:client {}.\n", term(c));
                    }
                    for i in &m.issuers {
                        out += &format!("{ms_} acp:issuer {}.\n", term(i));
                    }
                }
            }
        }
    }
    out
}

/// ACP §"Matcher": satisfied when it defines an attribute and every attribute it defines has a
/// value that fits the context.
fn model_matcher(m: &MatcherModel, ctx: &Context<'_>) -> bool {
    let webid = ctx.who.webid.as_deref();
    let agent = |a: &&str| match *a {
        "acp:PublicAgent" => true,
        "acp:AuthenticatedAgent" => webid.is_some(),
        "acp:OwnerAgent" => webid.is_some() && webid == ctx.owner,
        "acp:CreatorAgent" => webid.is_some() && webid == ctx.creator,
        other => webid == Some(other),
    };
    let client = |c: &&str| *c == "acp:PublicClient" || ctx.who.client_id.as_deref() == Some(*c);
    let issuer = |i: &&str| {
        *i == "acp:PublicIssuer"
            || ctx
                .who
                .issuer
                .as_deref()
                .is_some_and(|h| h.trim_end_matches('/') == i.trim_end_matches('/'))
    };
    let defined = !m.agents.is_empty() || !m.clients.is_empty() || !m.issuers.is_empty();
    defined
        && (m.agents.is_empty() || m.agents.iter().any(agent))
        && (m.clients.is_empty() || m.clients.iter().any(client))
        && (m.issuers.is_empty() || m.issuers.iter().any(issuer))
}

/// ACP §"Policy": satisfied with an allOf or anyOf, all allOf, some anyOf, and no noneOf.
fn model_policy(p: &PolicyModel, ctx: &Context<'_>) -> bool {
    (!p.all_of.is_empty() || !p.any_of.is_empty())
        && p.all_of.iter().all(|m| model_matcher(m, ctx))
        && (p.any_of.is_empty() || p.any_of.iter().any(|m| model_matcher(m, ctx)))
        && !p.none_of.iter().any(|m| model_matcher(m, ctx))
}

fn ctx(who: &Requester) -> Context<'_> {
    Context {
        who,
        owner: Some(ALICE),
        creator: Some(BOB),
        vcs: &[],
    }
}

fn parse_acr(apply: &[PolicyModel], access: &[PolicyModel]) -> Acr {
    Acr::parse(&turtle(
        "https://pod.example/alice/doc.acl",
        &acr_turtle(apply, access),
    ))
}

fn public_deny(deny: Vec<&'static str>) -> PolicyModel {
    PolicyModel {
        allow: vec![],
        deny,
        all_of: vec![],
        any_of: vec![MatcherModel {
            agents: vec!["acp:PublicAgent"],
            clients: vec![],
            issuers: vec![],
        }],
        none_of: vec![],
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Deny by default: every granted mode is allowed by a satisfied policy, and an ACR
    /// without satisfied policies grants nothing.
    #[test]
    fn acp_grants_nothing_without_a_satisfied_allow(
        policies in prop::collection::vec(policy(), 0..5),
        who in requester(),
    ) {
        let acr = parse_acr(&policies, &[]);
        let c = ctx(&who);
        let granted = acp::granted(&acr.access_control, &c);
        let satisfied: Vec<&PolicyModel> =
            policies.iter().filter(|p| model_policy(p, &c)).collect();
        let allowed = satisfied.iter().fold(Modes::NONE, |m, p| m.union(modes_of(&p.allow)));
        let denied = satisfied.iter().fold(Modes::NONE, |m, p| m.union(modes_of(&p.deny)));
        prop_assert_eq!(granted, allowed.minus(denied), "{:?}", who);
        for mode in SINGLE {
            if granted.contains(mode) {
                prop_assert!(allowed.contains(mode));
            }
        }
        if satisfied.is_empty() {
            prop_assert_eq!(granted, Modes::NONE);
        }
        // Nothing here is a member policy, so nothing is granted to members either.
        prop_assert_eq!(acp::granted(&acr.member_access_control, &c), Modes::NONE);
    }

    /// Deny beats allow: adding a satisfied policy that denies D takes exactly D (and Write
    /// with Append) away, whatever else allows it; no satisfied policy's deny is ever granted.
    #[test]
    fn acp_deny_beats_allow(
        policies in prop::collection::vec(policy(), 0..5),
        deny in subsequence(MODE_IRIS.to_vec(), 1..=3),
        who in requester(),
    ) {
        let c = ctx(&who);
        let before = acp::granted(&parse_acr(&policies, &[]).access_control, &c);
        let mut with_deny = policies.clone();
        with_deny.push(public_deny(deny.clone()));
        let acr = parse_acr(&with_deny, &[]);
        let after = acp::granted(&acr.access_control, &c);
        prop_assert_eq!(after, before.minus(modes_of(&deny)));
        for p in acr.access_control.iter().filter(|p| p.satisfied(&c)) {
            for mode in SINGLE {
                if after.contains(mode) {
                    prop_assert!(Modes::ALL.minus(p.deny).contains(mode), "{} denied", mode);
                }
            }
        }
    }

    /// An ACL or ACR is only readable or writable with Control over its resource, or (ACP)
    /// through an `acp:access` policy; Control on the resource gives both.
    #[test]
    fn control_governs_access_control_resources(
        apply in prop::collection::vec(policy(), 0..4),
        access in prop::collection::vec(policy(), 0..3),
        who in requester(),
    ) {
        let c = ctx(&who);
        let without_access = parse_acr(&apply, &[]);
        let resource = acp::granted(&without_access.access_control, &c);
        let acr = acp::acr_modes(acp::granted(&without_access.acr_access, &c), resource);
        prop_assert_eq!(acr.is_empty(), !resource.contains(Modes::CONTROL));
        if resource.contains(Modes::CONTROL) {
            prop_assert_eq!(acr, Modes::READ.union(Modes::WRITE));
        }
        let full = parse_acr(&apply, &access);
        let access_modes = acp::granted(&full.acr_access, &c);
        let acr = acp::acr_modes(access_modes, acp::granted(&full.access_control, &c));
        prop_assert!(Modes::READ.union(Modes::WRITE).contains(acr));
        if !resource.contains(Modes::CONTROL) {
            prop_assert_eq!(acr.contains(Modes::READ), access_modes.contains(Modes::READ));
            prop_assert_eq!(acr.contains(Modes::WRITE), access_modes.contains(Modes::WRITE));
        }
        // WAC has no acp:access: a requester without Control gets nothing on the ACL.
        prop_assert!(acp::acr_modes(Modes::NONE, resource.minus(Modes::CONTROL)).is_empty());
    }
}
