//! N3 Patch (Solid Protocol §"N3 Patch"): parsing, validation and application.
//!
//! Shape violations are 422 ([`SolidError::UnprocessablePatch`]); a patch that is valid but
//! does not fit the current document (no or several `where` matches, deletions that are not
//! there) is 409 ([`SolidError::PatchConflict`]).

use crate::error::SolidError;
use crate::limits::{self, EvalBudget, Limits};
use crate::vocab;
use oxrdf::{BlankNode, Dataset, Graph, GraphName, Term, Triple, Variable};
use oxttl::n3::{N3Quad, N3Term};
use oxttl::N3Parser;
use spareval::{QueryEvaluator, QueryResults};
use spargebra::algebra::GraphPattern;
use spargebra::term::{NamedNodePattern, TermPattern, TriplePattern};
use spargebra::Query;
use std::collections::{HashMap, HashSet};

/// A validated N3 Patch: the three formulae as triple patterns.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct N3Patch {
    pub conditions: Vec<TriplePattern>,
    pub insertions: Vec<TriplePattern>,
    pub deletions: Vec<TriplePattern>,
}

impl N3Patch {
    /// The patch reads the document when it has conditions (Read needed), appends when it
    /// inserts, and writes when it deletes (Read + Write): the spec's authorization mapping.
    pub fn needs_read(&self) -> bool {
        !self.conditions.is_empty() || !self.deletions.is_empty()
    }
    pub fn needs_write(&self) -> bool {
        !self.deletions.is_empty()
    }
    /// What the patch does, for the access it needs ([`crate::access::need`]).
    pub fn shape(&self) -> crate::access::PatchShape {
        crate::access::PatchShape {
            reads: self.needs_read(),
            deletes: self.needs_write(),
        }
    }
    pub fn needs_append(&self) -> bool {
        !self.insertions.is_empty()
    }
}

fn unprocessable(msg: impl Into<String>) -> SolidError {
    SolidError::UnprocessablePatch(msg.into())
}

/// Parses and validates an N3 Patch document, within `limits`.
pub fn parse(body: &[u8], base_iri: &str, limits: &Limits) -> Result<N3Patch, SolidError> {
    limits::check_patch(body, base_iri.len(), limits)?;
    let quads = N3Parser::new()
        .with_base_iri(base_iri)
        .map_err(|e| SolidError::BadRequest(e.to_string()))?
        .for_slice(body)
        .collect::<Result<Vec<N3Quad>, _>>()
        .map_err(|e| SolidError::MalformedRdf {
            media_type: "text/n3".into(),
            message: e.to_string(),
        })?;

    // Formulae are blank nodes that name graphs; everything else is in the default graph.
    let mut formulae: HashMap<BlankNode, Vec<&N3Quad>> = HashMap::new();
    let mut top = Vec::new();
    for q in &quads {
        match &q.graph_name {
            GraphName::DefaultGraph => top.push(q),
            GraphName::BlankNode(b) => formulae.entry(b.clone()).or_default().push(q),
            GraphName::NamedNode(_) => return Err(unprocessable("named graphs are not allowed")),
        }
    }
    let is_formula = |t: &N3Term| matches!(t, N3Term::BlankNode(b) if formulae.contains_key(b));

    let patch_subjects: Vec<&N3Term> = top
        .iter()
        .filter(|q| {
            matches!(&q.predicate, N3Term::NamedNode(p) if p.as_str() == vocab::RDF_TYPE)
                && matches!(&q.object, N3Term::NamedNode(o) if o.as_str() == vocab::SOLID_INSERT_DELETE_PATCH)
        })
        .map(|q| &q.subject)
        .collect();
    let patch = match patch_subjects.as_slice() {
        [one] => *one,
        [] => {
            return Err(unprocessable(
                "the document has no solid:InsertDeletePatch resource",
            ))
        }
        _ => {
            return Err(unprocessable(
                "the document has more than one patch resource",
            ))
        }
    };

    let mut picks: HashMap<&str, Option<&N3Term>> = [
        (vocab::SOLID_WHERE, None),
        (vocab::SOLID_INSERTS, None),
        (vocab::SOLID_DELETES, None),
    ]
    .into_iter()
    .collect();
    for q in top.iter().filter(|q| &q.subject == patch) {
        let N3Term::NamedNode(p) = &q.predicate else {
            continue;
        };
        if let Some(slot) = picks.get_mut(p.as_str()) {
            if slot.is_some() {
                return Err(unprocessable(format!(
                    "the patch has more than one {}",
                    p.as_str()
                )));
            }
            if !is_formula(&q.object) {
                return Err(unprocessable(format!(
                    "the object of {} must be a formula",
                    p.as_str()
                )));
            }
            *slot = Some(&q.object);
        }
    }

    let formula_patterns = |term: Option<&N3Term>| -> Result<Vec<TriplePattern>, SolidError> {
        let Some(N3Term::BlankNode(b)) = term else {
            return Ok(Vec::new());
        };
        formulae
            .get(b)
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .map(|q| {
                for t in [&q.subject, &q.predicate, &q.object] {
                    if is_formula(t) {
                        return Err(unprocessable("nested formulae are not allowed"));
                    }
                }
                to_pattern(q)
            })
            .collect()
    };
    let conditions = formula_patterns(picks[vocab::SOLID_WHERE])?;
    if conditions.len() > limits.max_patterns {
        return Err(SolidError::TooComplex(format!(
            "solid:where has more than {} patterns",
            limits.max_patterns
        )));
    }
    let insertions = formula_patterns(picks[vocab::SOLID_INSERTS])?;
    let deletions = formula_patterns(picks[vocab::SOLID_DELETES])?;

    let bound: HashSet<&Variable> = conditions.iter().flat_map(pattern_variables).collect();
    for (name, set) in [("inserts", &insertions), ("deletes", &deletions)] {
        if set.iter().any(has_blank_node) {
            return Err(unprocessable(format!(
                "solid:{name} must not contain blank nodes"
            )));
        }
        if let Some(v) = set
            .iter()
            .flat_map(pattern_variables)
            .find(|v| !bound.contains(v))
        {
            return Err(unprocessable(format!(
                "variable {v} in solid:{name} does not occur in solid:where"
            )));
        }
    }
    Ok(N3Patch {
        conditions,
        insertions,
        deletions,
    })
}

fn to_term_pattern(t: &N3Term) -> TermPattern {
    match t {
        N3Term::NamedNode(n) => n.clone().into(),
        N3Term::BlankNode(b) => b.clone().into(),
        N3Term::Literal(l) => l.clone().into(),
        N3Term::Variable(v) => v.clone().into(),
    }
}

fn to_pattern(q: &N3Quad) -> Result<TriplePattern, SolidError> {
    let predicate = match &q.predicate {
        N3Term::NamedNode(n) => NamedNodePattern::NamedNode(n.clone()),
        N3Term::Variable(v) => NamedNodePattern::Variable(v.clone()),
        _ => return Err(unprocessable("a predicate must be an IRI or a variable")),
    };
    if matches!(q.subject, N3Term::Literal(_)) {
        return Err(unprocessable("a subject cannot be a literal"));
    }
    Ok(TriplePattern {
        subject: to_term_pattern(&q.subject),
        predicate,
        object: to_term_pattern(&q.object),
    })
}

fn pattern_variables(p: &TriplePattern) -> impl Iterator<Item = &Variable> {
    let s = match &p.subject {
        TermPattern::Variable(v) => Some(v),
        _ => None,
    };
    let pr = match &p.predicate {
        NamedNodePattern::Variable(v) => Some(v),
        NamedNodePattern::NamedNode(_) => None,
    };
    let o = match &p.object {
        TermPattern::Variable(v) => Some(v),
        _ => None,
    };
    [s, pr, o].into_iter().flatten()
}

fn has_blank_node(p: &TriplePattern) -> bool {
    matches!(p.subject, TermPattern::BlankNode(_)) || matches!(p.object, TermPattern::BlankNode(_))
}

/// Applies `patch` to `graph` in place within `budget` (all or nothing: on error `graph` is
/// unchanged).
pub fn apply(patch: &N3Patch, graph: &mut Graph, budget: &EvalBudget) -> Result<(), SolidError> {
    let bindings = if patch.conditions.is_empty() {
        HashMap::new()
    } else {
        single_solution(&patch.conditions, graph, budget)?
    };
    let instantiate = |set: &[TriplePattern]| -> Result<Vec<Triple>, SolidError> {
        set.iter().map(|p| instantiate(p, &bindings)).collect()
    };
    let deletions = instantiate(&patch.deletions)?;
    let insertions = instantiate(&patch.insertions)?;
    if let Some(missing) = deletions.iter().find(|t| !graph.contains(*t)) {
        return Err(SolidError::PatchConflict(format!(
            "the triple to delete is not in the document: {missing}"
        )));
    }
    budget.check_growth(graph, &insertions)?;
    for t in &deletions {
        graph.remove(t);
    }
    for t in insertions {
        graph.insert(&t);
    }
    Ok(())
}

fn single_solution(
    conditions: &[TriplePattern],
    graph: &Graph,
    budget: &EvalBudget,
) -> Result<HashMap<Variable, Term>, SolidError> {
    let dataset: Dataset = graph
        .iter()
        .map(|t| t.in_graph(GraphName::DefaultGraph.as_ref()))
        .collect();
    let query = Query::Select {
        dataset: None,
        pattern: GraphPattern::Bgp {
            patterns: conditions.to_vec(),
        },
        base_iri: None,
    };
    let evaluator = QueryEvaluator::new().with_cancellation_token(budget.cancel.clone());
    let results = evaluator
        .prepare(&query)
        .execute(&dataset)
        .map_err(|e| budget.evaluation_error(e))?;
    let QueryResults::Solutions(solutions) = results else {
        return Err(SolidError::PatchConflict("unexpected query result".into()));
    };
    // A mapping binds the patch's variables only. Blank nodes in `where` are existential, so
    // solutions that differ only in what a blank node matched are one and the same mapping.
    let variables: HashSet<&Variable> = conditions.iter().flat_map(pattern_variables).collect();
    let mut found: Vec<HashMap<Variable, Term>> = Vec::new();
    for (n, s) in solutions.enumerate() {
        if n >= budget.limits.max_solutions {
            return Err(budget.too_many_solutions());
        }
        let s = s.map_err(|e| budget.evaluation_error(e))?;
        let mapping: HashMap<Variable, Term> = s
            .iter()
            .filter(|(v, _)| variables.contains(v))
            .map(|(v, t)| (v.clone(), t.clone()))
            .collect();
        if !found.contains(&mapping) {
            found.push(mapping);
        }
        if found.len() > 1 {
            return Err(SolidError::PatchConflict(
                "solid:where matches more than one set of bindings".into(),
            ));
        }
    }
    found
        .pop()
        .ok_or_else(|| SolidError::PatchConflict("solid:where matches nothing".into()))
}

fn instantiate(p: &TriplePattern, b: &HashMap<Variable, Term>) -> Result<Triple, SolidError> {
    let term = |t: &TermPattern| -> Option<Term> {
        match t {
            TermPattern::NamedNode(n) => Some(n.clone().into()),
            TermPattern::BlankNode(x) => Some(x.clone().into()),
            TermPattern::Literal(l) => Some(l.clone().into()),
            TermPattern::Variable(v) => b.get(v).cloned(),
        }
    };
    let unbound = || SolidError::PatchConflict(format!("cannot instantiate {p}"));
    let subject: oxrdf::NamedOrBlankNode = match term(&p.subject).ok_or_else(unbound)? {
        Term::NamedNode(n) => n.into(),
        Term::BlankNode(x) => x.into(),
        Term::Literal(_) => {
            return Err(SolidError::PatchConflict(format!("literal subject in {p}")))
        }
    };
    let predicate = match &p.predicate {
        NamedNodePattern::NamedNode(n) => n.clone(),
        NamedNodePattern::Variable(v) => match b.get(v) {
            Some(Term::NamedNode(n)) => n.clone(),
            _ => {
                return Err(SolidError::PatchConflict(format!(
                    "predicate of {p} is not an IRI"
                )))
            }
        },
    };
    let object = term(&p.object).ok_or_else(unbound)?;
    Ok(Triple::new(subject, predicate, object))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rdf::{parse as parse_rdf, RdfFormat};

    const BASE: &str = "https://pod.example/alice/doc";
    const PRE: &str =
        "@prefix solid: <http://www.w3.org/ns/solid/terms#>. @prefix ex: <http://ex.org/>.\n";

    fn graph(ttl: &str) -> Graph {
        parse_rdf(
            format!("{PRE}{ttl}").as_bytes(),
            RdfFormat::Turtle,
            BASE,
            None,
            &Limits::default(),
        )
        .unwrap()
        .into_iter()
        .collect()
    }

    fn patch(body: &str) -> Result<N3Patch, SolidError> {
        parse(format!("{PRE}{body}").as_bytes(), BASE, &Limits::default())
    }

    fn apply(p: &N3Patch, g: &mut Graph) -> Result<(), SolidError> {
        super::apply(p, g, &EvalBudget::default())
    }

    #[test]
    fn long_where_chains_and_deep_formulae_are_refused() {
        let chain: String = (0..1000)
            .map(|i| format!("?v{i} ex:p ?v{}. ", i + 1))
            .collect();
        let err = patch(&format!("_:p a solid:InsertDeletePatch; solid:where {{ {chain} }}; solid:inserts {{ <#a> ex:p 1 }}.")).unwrap_err();
        assert!(matches!(err, SolidError::TooComplex(_)), "{err:?}");
        let deep = format!(
            "_:p a solid:InsertDeletePatch; solid:inserts {{ <#a> ex:p {}1{} }}.",
            "( ".repeat(3000),
            " )".repeat(3000)
        );
        let err = patch(&deep).unwrap_err();
        assert!(matches!(err, SolidError::TooComplex(_)), "{err:?}");
    }

    #[test]
    fn where_solutions_are_budgeted() {
        let mut g = graph(
            &(0..30)
                .map(|i| format!("<#s{i}> ex:p {i}. "))
                .collect::<String>(),
        );
        let p = patch("_:p a solid:InsertDeletePatch; solid:where { <#s0> ex:p ?x. _:a ex:p _:b. _:c ex:p _:d }; solid:inserts { <#a> ex:q ?x }.").unwrap();
        // 900 solutions, all one mapping: without a budget this would be a valid patch.
        let budget = EvalBudget::new(Limits {
            max_solutions: 100,
            ..Limits::default()
        });
        let err = super::apply(&p, &mut g, &budget).unwrap_err();
        assert!(matches!(err, SolidError::TooComplex(_)), "{err:?}");
    }

    #[test]
    fn inserts_into_empty_document() {
        let p = patch("_:p a solid:InsertDeletePatch; solid:inserts { <#a> ex:p 1 }.").unwrap();
        let mut g = Graph::new();
        apply(&p, &mut g).unwrap();
        assert_eq!(g.len(), 1);
        assert!(p.needs_append() && !p.needs_read() && !p.needs_write());
    }

    #[test]
    fn where_binds_variables_for_delete_and_insert() {
        let p = patch(
            "_:p a solid:InsertDeletePatch; solid:where { ?x ex:count ?n }; \
             solid:deletes { ?x ex:count ?n }; solid:inserts { ?x ex:count 2 }.",
        )
        .unwrap();
        let mut g = graph("<#a> ex:count 1.");
        apply(&p, &mut g).unwrap();
        assert_eq!(g, graph("<#a> ex:count 2."));
        assert!(p.needs_read() && p.needs_write());
    }

    #[test]
    fn where_without_match_is_conflict() {
        let p = patch("_:p a solid:InsertDeletePatch; solid:where { ?x ex:q ?y }; solid:inserts { ?x ex:r ?y }.").unwrap();
        let mut g = graph("<#a> ex:p 1.");
        assert!(matches!(
            apply(&p, &mut g),
            Err(SolidError::PatchConflict(_))
        ));
    }

    #[test]
    fn where_with_two_matches_is_conflict_and_graph_unchanged() {
        let p = patch("_:p a solid:InsertDeletePatch; solid:where { ?x ex:p ?y }; solid:inserts { ?x ex:r ?y }.").unwrap();
        let mut g = graph("<#a> ex:p 1. <#b> ex:p 2.");
        let before = g.clone();
        assert!(matches!(
            apply(&p, &mut g),
            Err(SolidError::PatchConflict(_))
        ));
        assert_eq!(g, before);
    }

    #[test]
    fn deleting_absent_triple_is_conflict() {
        let p = patch("_:p a solid:InsertDeletePatch; solid:deletes { <#a> ex:p 9 }.").unwrap();
        let mut g = graph("<#a> ex:p 1.");
        assert!(matches!(
            apply(&p, &mut g),
            Err(SolidError::PatchConflict(_))
        ));
    }

    #[test]
    fn missing_patch_type_is_unprocessable() {
        assert!(matches!(
            patch("_:p solid:inserts { <#a> ex:p 1 }."),
            Err(SolidError::UnprocessablePatch(_))
        ));
    }

    #[test]
    fn two_patch_resources_are_unprocessable() {
        let r = patch("_:p a solid:InsertDeletePatch. _:q a solid:InsertDeletePatch.");
        assert!(matches!(r, Err(SolidError::UnprocessablePatch(_))));
    }

    #[test]
    fn duplicate_inserts_are_unprocessable() {
        let r =
            patch("_:p a solid:InsertDeletePatch; solid:inserts { <#a> ex:p 1 }, { <#a> ex:p 2 }.");
        assert!(matches!(r, Err(SolidError::UnprocessablePatch(_))));
    }

    #[test]
    fn non_formula_object_is_unprocessable() {
        let r = patch("_:p a solid:InsertDeletePatch; solid:inserts <#a>.");
        assert!(matches!(r, Err(SolidError::UnprocessablePatch(_))));
    }

    #[test]
    fn unbound_variable_is_unprocessable() {
        let r = patch("_:p a solid:InsertDeletePatch; solid:inserts { ?x ex:p 1 }.");
        assert!(matches!(r, Err(SolidError::UnprocessablePatch(_))));
    }

    #[test]
    fn blank_nodes_in_inserts_or_deletes_are_unprocessable() {
        for body in [
            "_:p a solid:InsertDeletePatch; solid:inserts { _:b ex:p 1 }.",
            "_:p a solid:InsertDeletePatch; solid:deletes { <#a> ex:p [] }.",
        ] {
            assert!(
                matches!(patch(body), Err(SolidError::UnprocessablePatch(_))),
                "{body}"
            );
        }
    }

    #[test]
    fn nested_formulae_are_unprocessable() {
        let r =
            patch("_:p a solid:InsertDeletePatch; solid:inserts { <#a> ex:p { <#b> ex:q 1 } }.");
        assert!(matches!(r, Err(SolidError::UnprocessablePatch(_))));
    }

    #[test]
    fn syntax_errors_are_malformed() {
        assert!(matches!(
            patch("_:p a solid:InsertDeletePatch; solid:inserts { <#a> "),
            Err(SolidError::MalformedRdf { .. })
        ));
    }

    #[test]
    fn where_blank_nodes_matching_several_terms_are_one_mapping() {
        let p = patch("_:p a solid:InsertDeletePatch; solid:where { ?x ex:p _:any }; solid:inserts { ?x ex:seen true }.").unwrap();
        let mut g = graph("<#a> ex:p 1, 2.");
        apply(&p, &mut g).unwrap();
        assert_eq!(g.len(), 3);
        let p = patch("_:p a solid:InsertDeletePatch; solid:where { ?x ex:p [] }; solid:inserts { ?x ex:seen true }.").unwrap();
        let mut g = graph("<#a> ex:p 1. <#b> ex:p 2.");
        assert!(matches!(
            apply(&p, &mut g),
            Err(SolidError::PatchConflict(_))
        ));
    }

    #[test]
    fn where_blank_nodes_act_as_wildcards() {
        let p = patch("_:p a solid:InsertDeletePatch; solid:where { ?x ex:p _:any }; solid:inserts { ?x ex:seen true }.").unwrap();
        let mut g = graph("<#a> ex:p 1.");
        apply(&p, &mut g).unwrap();
        assert_eq!(g.len(), 2);
    }
}
