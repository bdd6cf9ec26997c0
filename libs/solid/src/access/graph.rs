//! A read-only index over a small RDF document (an ACL, an ACR, a group), enough to follow
//! predicates from a node. Nodes are keyed by their IRI, or `_:id` for blank nodes.

use oxrdf::{NamedOrBlankNode, Term, Triple};
use std::collections::HashMap;

#[derive(Debug, Default, Clone)]
pub struct Graph {
    by_subject: HashMap<String, Vec<(String, Node)>>,
}

/// An object: a node we may follow, or a literal we only compare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Iri(String),
    Blank(String),
    Literal(String),
}

impl Node {
    /// The key of a node we can follow (IRI or blank node).
    pub fn key(&self) -> Option<&str> {
        match self {
            Node::Iri(k) | Node::Blank(k) => Some(k),
            Node::Literal(_) => None,
        }
    }

    pub fn iri(&self) -> Option<&str> {
        match self {
            Node::Iri(i) => Some(i),
            _ => None,
        }
    }
}

fn subject_key(s: &NamedOrBlankNode) -> String {
    match s {
        NamedOrBlankNode::NamedNode(n) => n.as_str().to_owned(),
        NamedOrBlankNode::BlankNode(b) => format!("_:{}", b.as_str()),
        #[allow(unreachable_patterns)]
        _ => String::new(),
    }
}

fn node(t: &Term) -> Node {
    match t {
        Term::NamedNode(n) => Node::Iri(n.as_str().to_owned()),
        Term::BlankNode(b) => Node::Blank(format!("_:{}", b.as_str())),
        Term::Literal(l) => Node::Literal(l.value().to_owned()),
        #[allow(unreachable_patterns)]
        _ => Node::Literal(String::new()),
    }
}

impl Graph {
    pub fn new(triples: &[Triple]) -> Self {
        let mut by_subject: HashMap<String, Vec<(String, Node)>> = HashMap::new();
        for t in triples {
            by_subject
                .entry(subject_key(&t.subject))
                .or_default()
                .push((t.predicate.as_str().to_owned(), node(&t.object)));
        }
        Self { by_subject }
    }

    /// Objects of `subject predicate ?o`.
    pub fn objects<'a>(
        &'a self,
        subject: &str,
        predicate: &'a str,
    ) -> impl Iterator<Item = &'a Node> {
        self.by_subject
            .get(subject)
            .into_iter()
            .flatten()
            .filter(move |(p, _)| p == predicate)
            .map(|(_, o)| o)
    }

    /// IRI objects of `subject predicate ?o`.
    pub fn iris<'a>(&'a self, subject: &str, predicate: &'a str) -> impl Iterator<Item = &'a str> {
        self.objects(subject, predicate).filter_map(Node::iri)
    }

    /// Subjects that have `predicate` at all, or `predicate object` when `object` is given.
    pub fn subjects_with<'a>(
        &'a self,
        predicate: &'a str,
        object: Option<&'a str>,
    ) -> impl Iterator<Item = &'a str> {
        self.by_subject.iter().filter_map(move |(s, pos)| {
            pos.iter()
                .any(|(p, o)| p == predicate && object.is_none_or(|want| o.key() == Some(want)))
                .then_some(s.as_str())
        })
    }

    pub fn has(&self, subject: &str, predicate: &str, object: &str) -> bool {
        self.objects(subject, predicate)
            .any(|o| matches!(o, Node::Iri(i) | Node::Blank(i) | Node::Literal(i) if i == object))
    }
}
