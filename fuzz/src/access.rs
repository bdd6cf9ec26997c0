//! Random access-control documents and a naive oracle for "never grants without a rule".
//!
//! An input is either Turtle (first byte `T`, so hand-written ACLs and ACRs can seed the
//! corpus) or bytes that pick triples from a small vocabulary of `acl:`/`acp:` terms, IRIs and
//! nodes: random bytes over a real-world vocabulary reach far more rule shapes than random
//! Turtle does. The oracle reads the raw triples, not the evaluators' index, so a bug in the
//! index cannot hide itself.

use crate::{CONTAINER, DOC};
use oxrdf::{BlankNode, Literal, NamedNode, NamedOrBlankNode, Term, Triple};
use podplane_solid::access::{Modes, Requester, ACL_APPEND, ACL_CONTROL, ACL_READ, ACL_WRITE};
use podplane_solid::rdf::{self, RdfFormat};

pub const ACL: &str = "http://www.w3.org/ns/auth/acl#";
pub const ACP: &str = "http://www.w3.org/ns/solid/acp#";
pub const RDF_TYPE: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type";
pub const FOAF_AGENT: &str = "http://xmlns.com/foaf/0.1/Agent";

pub const ALICE: &str = "https://alice.example/profile#me";
pub const BOB: &str = "https://bob.example/profile#me";
pub const FRIENDS: &str = "https://pod.example/alice/groups#friends";
pub const APP_ORIGIN: &str = "https://app.example";
pub const EVIL_ORIGIN: &str = "https://evil.example";
pub const APP_CLIENT: &str = "https://app.example/id";
pub const IDP: &str = "https://idp.example";
pub const VC_TYPE: &str = "https://www.w3.org/2018/credentials#VerifiableCredential";
pub const ACR_DOC: &str = "https://pod.example/alice/doc.acl";

/// Things that can be subjects: the documents' own nodes and the resources they talk about.
const NODES: &[&str] = &[
    "https://pod.example/alice/doc.acl#a",
    "https://pod.example/alice/doc.acl#b",
    "https://pod.example/alice/doc.acl#c",
    "https://pod.example/alice/doc.acl#d",
    ACR_DOC,
    DOC,
    CONTAINER,
    "_:b0",
    "_:b1",
    "_:b2",
];

/// Further objects: classes, modes, agents, groups, origins, clients, issuers.
const TERMS: &[&str] = &[
    "http://www.w3.org/ns/auth/acl#Authorization",
    ACL_READ,
    ACL_WRITE,
    ACL_APPEND,
    ACL_CONTROL,
    "http://www.w3.org/ns/auth/acl#Everything",
    FOAF_AGENT,
    "http://www.w3.org/ns/auth/acl#AuthenticatedAgent",
    ALICE,
    BOB,
    FRIENDS,
    "https://pod.example/alice/groups#enemies",
    APP_ORIGIN,
    EVIL_ORIGIN,
    "https://pod.example/bob/",
    "http://www.w3.org/ns/solid/acp#AccessControlResource",
    "http://www.w3.org/ns/solid/acp#AccessControl",
    "http://www.w3.org/ns/solid/acp#Policy",
    "http://www.w3.org/ns/solid/acp#Matcher",
    "http://www.w3.org/ns/solid/acp#PublicAgent",
    "http://www.w3.org/ns/solid/acp#AuthenticatedAgent",
    "http://www.w3.org/ns/solid/acp#CreatorAgent",
    "http://www.w3.org/ns/solid/acp#OwnerAgent",
    "http://www.w3.org/ns/solid/acp#PublicClient",
    "http://www.w3.org/ns/solid/acp#PublicIssuer",
    APP_CLIENT,
    IDP,
    VC_TYPE,
    "\"https://alice.example/profile#me\"",
    "\"x\"",
];

const PREDICATES: &[&str] = &[
    RDF_TYPE,
    "http://www.w3.org/ns/auth/acl#accessTo",
    "http://www.w3.org/ns/auth/acl#default",
    "http://www.w3.org/ns/auth/acl#agent",
    "http://www.w3.org/ns/auth/acl#agentClass",
    "http://www.w3.org/ns/auth/acl#agentGroup",
    "http://www.w3.org/ns/auth/acl#origin",
    "http://www.w3.org/ns/auth/acl#mode",
    "http://www.w3.org/ns/solid/acp#resource",
    "http://www.w3.org/ns/solid/acp#accessControl",
    "http://www.w3.org/ns/solid/acp#memberAccessControl",
    "http://www.w3.org/ns/solid/acp#apply",
    "http://www.w3.org/ns/solid/acp#access",
    "http://www.w3.org/ns/solid/acp#allow",
    "http://www.w3.org/ns/solid/acp#deny",
    "http://www.w3.org/ns/solid/acp#allOf",
    "http://www.w3.org/ns/solid/acp#anyOf",
    "http://www.w3.org/ns/solid/acp#noneOf",
    "http://www.w3.org/ns/solid/acp#agent",
    "http://www.w3.org/ns/solid/acp#client",
    "http://www.w3.org/ns/solid/acp#issuer",
    "http://www.w3.org/ns/solid/acp#vc",
    "http://example.org/unrelated",
];

const PREFIXES: &str = "@prefix acl: <http://www.w3.org/ns/auth/acl#>.\n\
     @prefix acp: <http://www.w3.org/ns/solid/acp#>.\n\
     @prefix foaf: <http://xmlns.com/foaf/0.1/>.\n";

fn term(s: &str) -> Term {
    if let Some(id) = s.strip_prefix("_:") {
        BlankNode::new_unchecked(id).into()
    } else if let Some(lit) = s.strip_prefix('"') {
        Literal::new_simple_literal(lit.trim_end_matches('"')).into()
    } else {
        NamedNode::new_unchecked(s).into()
    }
}

fn subject(s: &str) -> NamedOrBlankNode {
    match s.strip_prefix("_:") {
        Some(id) => BlankNode::new_unchecked(id).into(),
        None => NamedNode::new_unchecked(s).into(),
    }
}

/// The triples an input describes; `None` when it is Turtle that does not parse.
pub fn triples(data: &[u8]) -> Option<Vec<Triple>> {
    if let Some(ttl) = data.strip_prefix(b"T") {
        let mut doc = PREFIXES.as_bytes().to_vec();
        doc.extend_from_slice(ttl);
        return rdf::parse(&doc, RdfFormat::Turtle, ACR_DOC, None, &Default::default()).ok();
    }
    let objects = NODES.len() + TERMS.len();
    Some(
        data.chunks_exact(3)
            .map(|c| {
                let o = usize::from(c[2]) % objects;
                let object = if o < NODES.len() {
                    term(NODES[o])
                } else {
                    term(TERMS[o - NODES.len()])
                };
                Triple::new(
                    subject(NODES[usize::from(c[0]) % NODES.len()]),
                    NamedNode::new_unchecked(PREDICATES[usize::from(c[1]) % PREDICATES.len()]),
                    object,
                )
            })
            .collect(),
    )
}

/// Everyone the evaluators are asked about, for every input.
pub fn requesters() -> Vec<Requester> {
    let who =
        |webid: Option<&str>, client: Option<&str>, issuer: Option<&str>, origin: Option<&str>| {
            Requester {
                webid: webid.map(Into::into),
                client_id: client.map(Into::into),
                issuer: issuer.map(Into::into),
                origin: origin.map(str::to_owned),
            }
        };
    vec![
        Requester::anonymous(None),
        Requester::anonymous(Some(APP_ORIGIN.into())),
        who(Some(ALICE), Some(APP_CLIENT), Some(IDP), None),
        who(Some(ALICE), Some(APP_CLIENT), Some(IDP), Some(APP_ORIGIN)),
        who(
            Some(ALICE),
            None,
            Some("https://idp.example/"),
            Some(EVIL_ORIGIN),
        ),
        who(Some(BOB), None, None, None),
        who(Some(BOB), Some(APP_CLIENT), Some(IDP), Some(APP_ORIGIN)),
    ]
}

/// Each single mode, with the IRIs whose grant would give it (Write gives Append).
pub const MODES: [(Modes, &[&str]); 4] = [
    (Modes::READ, &[ACL_READ]),
    (Modes::WRITE, &[ACL_WRITE]),
    (Modes::APPEND, &[ACL_APPEND, ACL_WRITE]),
    (Modes::CONTROL, &[ACL_CONTROL]),
];

/// A plain view of the raw triples for the oracles: `(s p o)` with blank nodes as `_:id`
/// and literals by their value.
pub struct Raw(Vec<(String, String, String)>);

impl Raw {
    pub fn new(triples: &[Triple]) -> Self {
        let key = |t: &Term| match t {
            Term::NamedNode(n) => n.as_str().to_owned(),
            Term::BlankNode(b) => format!("_:{}", b.as_str()),
            Term::Literal(l) => l.value().to_owned(),
            #[allow(unreachable_patterns)]
            _ => String::new(),
        };
        Raw(triples
            .iter()
            .map(|t| {
                (
                    key(&t.subject.clone().into()),
                    t.predicate.as_str().to_owned(),
                    key(&t.object),
                )
            })
            .collect())
    }

    pub fn has(&self, s: &str, p: &str, o: &str) -> bool {
        self.0.iter().any(|(a, b, c)| a == s && b == p && c == o)
    }

    pub fn objects<'a>(&'a self, s: &'a str, p: &'a str) -> impl Iterator<Item = &'a str> {
        self.0
            .iter()
            .filter(move |(a, b, _)| a == s && b == p)
            .map(|(_, _, c)| c.as_str())
    }

    pub fn subjects<'a>(&'a self, p: &'a str) -> impl Iterator<Item = &'a str> {
        self.0
            .iter()
            .filter(move |(_, b, _)| b == p)
            .map(|(a, _, _)| a.as_str())
    }
}

pub fn acl(local: &str) -> String {
    format!("{ACL}{local}")
}

pub fn acp(local: &str) -> String {
    format!("{ACP}{local}")
}
