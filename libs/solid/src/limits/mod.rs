//! What a client's document may cost to parse and evaluate.
//!
//! A few kilobytes of RDF can nest deep enough to overflow a parser's stack, or expand (prefixes,
//! repeated subjects, JSON-LD contexts) to gigabytes of terms. Everything here is checked
//! before or while the document is turned into terms, so the cost of a refusal is bounded by
//! the size of the body, never by what it would expand to.
//!
//! This module must not allocate in proportion to a document's expansion, and must not rely on
//! the parsers it protects: its scanners read raw bytes.

use crate::error::SolidError;
use oxrdf::{TermRef, TripleRef};

mod json;
mod turtle;

pub use json::{check_json_depth, check_jsonld};
pub use turtle::{check_patch, check_turtle_depth};

/// Bounds on one document. The defaults are generous for real Solid data (profiles, ACLs,
/// app documents nest a few levels and expand a few times) and small enough that a server can
/// hold several worst cases at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Deepest nesting of brackets: blank nodes, collections, groups, quoted triples, JSON
    /// objects and arrays.
    pub max_depth: usize,
    /// The most bytes of terms a document may expand to (see [`triple_cost`]).
    pub max_expanded_bytes: u64,
    /// The most triple patterns in a patch's conditions (`solid:where`, SPARQL `WHERE`).
    pub max_patterns: usize,
    /// The most solutions a patch's conditions may produce.
    pub max_solutions: usize,
    /// The most operators (`/ | ^ + * ! & =`) in a patch: each chain of them nests the
    /// parsed query one level deeper, without a bracket.
    pub max_operators: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_depth: 64,
            max_expanded_bytes: 128 * 1024 * 1024,
            max_patterns: 128,
            max_solutions: 100_000,
            max_operators: 1024,
        }
    }
}

/// What one triple costs in memory: the bytes of its three terms plus the bookkeeping of each.
pub fn triple_cost(t: TripleRef<'_>) -> u64 {
    const PER_TERM: u64 = 32;
    let term = |t: TermRef<'_>| -> u64 {
        PER_TERM
            + match t {
                TermRef::NamedNode(n) => n.as_str().len() as u64,
                TermRef::BlankNode(b) => b.as_str().len() as u64,
                TermRef::Literal(l) => {
                    (l.value().len()
                        + l.datatype().as_str().len()
                        + l.language().map_or(0, str::len)) as u64
                }
                // RDF 1.2 quoted triples, should a dependency turn that oxrdf feature on.
                #[allow(unreachable_patterns)]
                _ => 256,
            }
    };
    term(t.subject.into()) + term(t.predicate.into()) + term(t.object)
}

/// What a patch's evaluation may spend: the limits, and a token the caller cancels when the
/// time budget runs out (this crate has no clock).
#[derive(Clone, Default)]
pub struct EvalBudget {
    pub limits: Limits,
    pub cancel: spareval::CancellationToken,
}

impl EvalBudget {
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            cancel: spareval::CancellationToken::new(),
        }
    }

    /// The error for an evaluation that stopped: cancelled (out of time) or otherwise failed.
    pub fn evaluation_error(&self, e: spareval::QueryEvaluationError) -> SolidError {
        if self.cancel.is_cancelled() || matches!(e, spareval::QueryEvaluationError::Cancelled) {
            SolidError::TooComplex("the patch took longer than its time budget".into())
        } else {
            SolidError::PatchConflict(e.to_string())
        }
    }

    pub fn too_many_solutions(&self) -> SolidError {
        SolidError::TooComplex(format!(
            "the patch's conditions have more than {} solutions",
            self.limits.max_solutions
        ))
    }

    /// Refuses a patch whose insertions would grow `graph` past what a document may expand
    /// to (deletions are not credited: the bound stays simple and conservative).
    pub fn check_growth(
        &self,
        graph: &oxrdf::Graph,
        insertions: &[oxrdf::Triple],
    ) -> Result<(), SolidError> {
        let mut budget = ExpansionBudget::new(&self.limits);
        graph.iter().try_for_each(|t| budget.charge(t))?;
        insertions
            .iter()
            .try_for_each(|t| budget.charge(t.as_ref()))
    }
}

/// Running total of the terms a parser has produced; refuses once it passes the limit.
#[derive(Debug)]
pub struct ExpansionBudget {
    used: u64,
    limit: u64,
}

impl ExpansionBudget {
    pub fn new(limits: &Limits) -> Self {
        Self {
            used: 0,
            limit: limits.max_expanded_bytes,
        }
    }

    pub fn charge(&mut self, t: TripleRef<'_>) -> Result<(), SolidError> {
        self.add(triple_cost(t))
    }

    pub(crate) fn add(&mut self, bytes: u64) -> Result<(), SolidError> {
        self.used = self.used.saturating_add(bytes);
        if self.used > self.limit {
            return Err(expanded_too_large(self.limit));
        }
        Ok(())
    }
}

pub(crate) fn expanded_too_large(limit: u64) -> SolidError {
    SolidError::TooLarge(format!(
        "the document expands to more than {limit} bytes of terms"
    ))
}

pub(crate) fn too_deep(max: usize) -> SolidError {
    SolidError::TooComplex(format!("the document nests deeper than {max} levels"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits {
            max_expanded_bytes: 1024 * 1024,
            ..Limits::default()
        }
    }

    #[test]
    fn ordinary_documents_pass() {
        let doc = br#"@prefix ex: <http://example.org/> .
            <#me> a ex:Person ; ex:name "Ada", "Ada L."@en ; ex:knows [ ex:name "Bob" ] ;
                  ex:list ( 1 2.5 "three" ) . # a comment with ( [ {
            ex:s ex:p """long ( [ { "" string""" ."#;
        check_turtle_depth(doc, &limits()).unwrap();
        check_patch(doc, 30, &limits()).unwrap();
        let sparql = b"PREFIX ex: <http://ex.org/> DELETE { ?s ex:p ?o } INSERT { ?s ex:p 2 } \
                       WHERE { ?s ex:p ?o FILTER (?o < 3 && (?o >= 1)) }";
        check_patch(sparql, 30, &limits()).unwrap();
        check_json_depth(
            br#"{"@context": {"a": "http://x/"}, "a": [1, {"b": "]]]"}]}"#,
            3,
        )
        .unwrap();
    }

    #[test]
    fn deep_nesting_is_refused_before_parsing() {
        for (open, close) in [("[ <p> ", "]"), ("(", ")"), ("{", "}"), ("<<", ">>")] {
            let doc = format!("<s> <p> {}{}", open.repeat(65), close.repeat(65));
            let err = check_turtle_depth(doc.as_bytes(), &limits()).unwrap_err();
            assert!(matches!(err, SolidError::TooComplex(_)), "{open}: {err:?}");
        }
        let json = format!("{}{}", "[".repeat(65), "]".repeat(65));
        assert!(check_json_depth(json.as_bytes(), 64).is_err());
        assert!(check_json_depth(json.as_bytes(), 65).is_ok());
    }

    #[test]
    fn brackets_inside_strings_iris_and_comments_do_not_count() {
        let doc = format!(
            "<s> <p> \"{0}\", '''{0}''', <http://x/{0}> . # {0}\n",
            "[(".repeat(100)
        );
        check_patch(doc.as_bytes(), 10, &limits()).unwrap();
        // Escaped punctuation in a local name, as Turtle serialisers write it.
        let escaped = format!(
            "@prefix p: <http://x/>.\np:s p:a{} 1 .\n",
            "\\(".repeat(100)
        );
        check_turtle_depth(escaped.as_bytes(), &limits()).unwrap();
        let json = format!("{{\"k\": \"{}\"}}", "[{\\\"".repeat(100));
        check_json_depth(json.as_bytes(), 2).unwrap();
    }

    #[test]
    fn prefix_bombs_are_refused_by_their_expansion() {
        let long = "x".repeat(50_000);
        let mut doc = format!("@prefix p: <http://e/{long}> .\n");
        for i in 0..100 {
            doc.push_str(&format!("p:s{i} p:p p:o .\n"));
        }
        let err = check_patch(doc.as_bytes(), 10, &limits()).unwrap_err();
        assert!(matches!(err, SolidError::TooLarge(_)), "{err:?}");
        // Data documents are charged while parsed, not estimated.
        check_turtle_depth(doc.as_bytes(), &limits()).unwrap();
        // The same body without the prefix is small.
        let plain = doc.replace(&long, "x");
        check_patch(plain.as_bytes(), 10, &limits()).unwrap();
    }

    #[test]
    fn jsonld_context_and_id_bombs_are_refused_up_front() {
        let long = "x".repeat(50_000);
        let values = (0..3000)
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(",");
        let via_context = format!(
            r#"{{"@context": {{"p": "http://e/{long}"}}, "@id": "http://e/s", "p": [{values}]}}"#
        );
        let via_id = format!(r#"{{"@id": "http://e/{long}", "http://e/p": [{values}]}}"#);
        for doc in [via_context, via_id] {
            let err = check_jsonld(doc.as_bytes(), 30, &limits()).unwrap_err();
            assert!(matches!(err, SolidError::TooLarge(_)), "{err:?}");
        }
        // A long literal is not repeated by expansion: it costs what it weighs.
        let literal = format!(
            r#"{{"@context": {{"p": "http://e/p"}}, "@id": "http://e/s", "p": ["{long}", {values}]}}"#
        );
        check_jsonld(literal.as_bytes(), 30, &limits()).unwrap();
    }

    #[test]
    fn repeated_subjects_are_charged_per_repetition() {
        let long = "y".repeat(20_000);
        let doc = format!("<http://e/{long}> <p> {} .", vec!["1"; 100].join(", "));
        assert!(check_patch(doc.as_bytes(), 10, &limits()).is_err());
    }

    #[test]
    fn operator_chains_and_many_groups_are_refused_in_patches() {
        let path = format!(
            "INSERT {{ ?s <p> 1 }} WHERE {{ ?s {} ?o }}",
            vec!["<p>"; 2000].join("/")
        );
        let err = check_patch(path.as_bytes(), 10, &limits()).unwrap_err();
        assert!(matches!(err, SolidError::TooComplex(_)), "{err:?}");
        let optional = format!(
            "INSERT {{ ?s <p> 1 }} WHERE {{ ?s <p> ?o {} }}",
            "OPTIONAL { ?s <q> ?x } ".repeat(200)
        );
        let err = check_patch(optional.as_bytes(), 10, &limits()).unwrap_err();
        assert!(matches!(err, SolidError::TooComplex(_)), "{err:?}");
    }

    #[test]
    fn budget_counts_triples_until_the_limit() {
        let t = oxrdf::Triple::new(
            oxrdf::NamedNode::new_unchecked("http://e/s"),
            oxrdf::NamedNode::new_unchecked("http://e/p"),
            oxrdf::Literal::new_simple_literal("v"),
        );
        let cost = triple_cost(t.as_ref());
        let mut budget = ExpansionBudget::new(&Limits {
            max_expanded_bytes: cost * 2,
            ..Limits::default()
        });
        budget.charge(t.as_ref()).unwrap();
        budget.charge(t.as_ref()).unwrap();
        assert!(budget.charge(t.as_ref()).is_err());
    }
}
