//! SPARQL Update PATCH (`application/sparql-update`), as `@inrupt/solid-client` sends it.
//!
//! Supported: `INSERT DATA`, `DELETE DATA`, `DELETE/INSERT … WHERE` (with full SPARQL WHERE
//! evaluation), against the default graph only. `DELETE DATA` of a triple that is not there is
//! a 409, as solid-client relies on; a `DELETE … WHERE` with a delete template that matches
//! nothing is a 409 too, because a client that asked to delete something would otherwise be
//! told it succeeded when nothing happened.

use crate::error::SolidError;
use oxrdf::{Dataset, Graph, GraphName, Quad, Triple};
use spareval::{DeleteInsertQuad, QueryEvaluator};
use spargebra::{GraphUpdateOperation, SparqlParser, Update};

/// A parsed SPARQL Update with what it needs from the access-control layer.
#[derive(Debug, Clone)]
pub struct SparqlPatch {
    update: Update,
}

impl SparqlPatch {
    /// Reads the document when it has a WHERE clause or deletes (the deletion must match).
    pub fn needs_read(&self) -> bool {
        self.update.operations.iter().any(|op| {
            matches!(
                op,
                GraphUpdateOperation::DeleteData { .. } | GraphUpdateOperation::DeleteInsert { .. }
            )
        })
    }
    pub fn needs_write(&self) -> bool {
        self.update.operations.iter().any(|op| match op {
            GraphUpdateOperation::DeleteData { data } => !data.is_empty(),
            GraphUpdateOperation::DeleteInsert { delete, .. } => !delete.is_empty(),
            _ => false,
        })
    }
    pub fn needs_append(&self) -> bool {
        self.update.operations.iter().any(|op| match op {
            GraphUpdateOperation::InsertData { data } => !data.is_empty(),
            GraphUpdateOperation::DeleteInsert { insert, .. } => !insert.is_empty(),
            _ => false,
        })
    }
}

pub fn parse(body: &[u8], base_iri: &str) -> Result<SparqlPatch, SolidError> {
    let text = std::str::from_utf8(body)
        .map_err(|_| SolidError::BadRequest("SPARQL Update must be UTF-8".into()))?;
    let update = SparqlParser::new()
        .with_base_iri(base_iri)
        .map_err(|e| SolidError::BadRequest(e.to_string()))?
        .parse_update(text)
        .map_err(|e| SolidError::MalformedRdf {
            media_type: "application/sparql-update".into(),
            message: e.to_string(),
        })?;
    for op in &update.operations {
        match op {
            GraphUpdateOperation::InsertData { data } => {
                if data
                    .iter()
                    .any(|q| !matches!(q.graph_name, spargebra::term::GraphName::DefaultGraph))
                {
                    return Err(named_graphs());
                }
            }
            GraphUpdateOperation::DeleteData { data } => {
                if data
                    .iter()
                    .any(|q| !matches!(q.graph_name, spargebra::term::GraphName::DefaultGraph))
                {
                    return Err(named_graphs());
                }
            }
            GraphUpdateOperation::DeleteInsert { using: Some(_), .. } => {
                return Err(SolidError::UnprocessablePatch(
                    "USING is not supported".into(),
                ));
            }
            GraphUpdateOperation::DeleteInsert { delete, insert, .. } => {
                let named = delete.iter().any(|q| {
                    !matches!(
                        q.graph_name,
                        spargebra::term::GraphNamePattern::DefaultGraph
                    )
                }) || insert.iter().any(|q| {
                    !matches!(
                        q.graph_name,
                        spargebra::term::GraphNamePattern::DefaultGraph
                    )
                });
                if named {
                    return Err(named_graphs());
                }
            }
            other => {
                return Err(SolidError::UnprocessablePatch(format!(
                    "only INSERT DATA, DELETE DATA and DELETE/INSERT WHERE are supported, not {other}"
                )));
            }
        }
    }
    Ok(SparqlPatch { update })
}

fn named_graphs() -> SolidError {
    SolidError::UnprocessablePatch("a document has no named graphs; use the default graph".into())
}

/// Applies the update to `graph` (all or nothing).
pub fn apply(patch: &SparqlPatch, graph: &mut Graph) -> Result<(), SolidError> {
    let mut dataset: Dataset = graph
        .iter()
        .map(|t| t.in_graph(GraphName::DefaultGraph.as_ref()))
        .collect();
    for op in &patch.update.operations {
        match op {
            GraphUpdateOperation::InsertData { data } => {
                for q in data {
                    dataset.insert(&Quad::new(
                        q.subject.clone(),
                        q.predicate.clone(),
                        q.object.clone(),
                        GraphName::DefaultGraph,
                    ));
                }
            }
            GraphUpdateOperation::DeleteData { data } => {
                let quads: Vec<Quad> = data
                    .iter()
                    .map(|q| {
                        Quad::new(
                            q.subject.clone(),
                            q.predicate.clone(),
                            ground_term(&q.object),
                            GraphName::DefaultGraph,
                        )
                    })
                    .collect();
                if let Some(missing) = quads.iter().find(|q| !dataset.contains(*q)) {
                    return Err(SolidError::PatchConflict(format!(
                        "the triple to delete is not in the document: {}",
                        Triple::from(missing.clone())
                    )));
                }
                for q in &quads {
                    dataset.remove(q);
                }
            }
            GraphUpdateOperation::DeleteInsert {
                delete,
                insert,
                using,
                pattern,
            } => {
                let evaluator = QueryEvaluator::new();
                let changes = evaluator
                    .prepare_delete_insert(
                        delete.clone(),
                        insert.clone(),
                        None,
                        using.clone(),
                        pattern,
                    )
                    .execute(&dataset)
                    .map_err(|e| SolidError::PatchConflict(e.to_string()))?
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| SolidError::PatchConflict(e.to_string()))?;
                let deletes_any = changes
                    .iter()
                    .any(|c| matches!(c, DeleteInsertQuad::Delete(_)));
                if !delete.is_empty() && !deletes_any {
                    return Err(SolidError::PatchConflict(
                        "the DELETE template matched nothing".into(),
                    ));
                }
                for change in changes.iter() {
                    if let DeleteInsertQuad::Delete(q) = change {
                        dataset.remove(q);
                    }
                }
                for change in changes {
                    if let DeleteInsertQuad::Insert(q) = change {
                        dataset.insert(&q);
                    }
                }
            }
            _ => {
                return Err(SolidError::UnprocessablePatch(
                    "unsupported operation".into(),
                ))
            }
        }
    }
    *graph = dataset
        .iter()
        .map(|q| Triple::from(q.into_owned()))
        .collect();
    Ok(())
}

fn ground_term(t: &spargebra::term::GroundTerm) -> oxrdf::Term {
    match t {
        spargebra::term::GroundTerm::NamedNode(n) => n.clone().into(),
        spargebra::term::GroundTerm::Literal(l) => l.clone().into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rdf::{parse as parse_rdf, RdfFormat};

    const BASE: &str = "https://pod.example/alice/doc";

    fn graph(ttl: &str) -> Graph {
        let src = format!("@prefix ex: <http://ex.org/>. {ttl}");
        parse_rdf(src.as_bytes(), RdfFormat::Turtle, BASE, None)
            .unwrap()
            .into_iter()
            .collect()
    }

    fn run(update: &str, g: &mut Graph) -> Result<(), SolidError> {
        let p = parse(
            format!("PREFIX ex: <http://ex.org/> {update}").as_bytes(),
            BASE,
        )?;
        apply(&p, g)
    }

    #[test]
    fn solid_client_delete_then_insert_data() {
        let mut g = graph("<#a> ex:name \"old\".");
        run(
            "DELETE DATA { <#a> ex:name \"old\" }; INSERT DATA { <#a> ex:name \"new\" }",
            &mut g,
        )
        .unwrap();
        assert_eq!(g, graph("<#a> ex:name \"new\"."));
    }

    #[test]
    fn delete_data_of_absent_triple_conflicts_and_leaves_graph() {
        let mut g = graph("<#a> ex:name \"old\".");
        let before = g.clone();
        let r = run(
            "INSERT DATA { <#b> ex:p 1 }; DELETE DATA { <#a> ex:name \"nope\" }",
            &mut g,
        );
        assert!(matches!(r, Err(SolidError::PatchConflict(_))));
        assert_eq!(g, before);
    }

    #[test]
    fn delete_insert_where_rewrites_matches() {
        let mut g = graph("<#a> ex:n 1. <#b> ex:n 2.");
        run(
            "DELETE { ?s ex:n ?o } INSERT { ?s ex:m ?o } WHERE { ?s ex:n ?o }",
            &mut g,
        )
        .unwrap();
        assert_eq!(g, graph("<#a> ex:m 1. <#b> ex:m 2."));
    }

    #[test]
    fn delete_where_matching_nothing_conflicts() {
        let mut g = graph("<#a> ex:n 1.");
        let r = run("DELETE { ?s ex:zzz ?o } WHERE { ?s ex:zzz ?o }", &mut g);
        assert!(matches!(r, Err(SolidError::PatchConflict(_))));
    }

    #[test]
    fn insert_where_with_filter() {
        let mut g = graph("<#a> ex:n 1. <#b> ex:n 5.");
        run(
            "INSERT { ?s ex:big true } WHERE { ?s ex:n ?o FILTER(?o > 3) }",
            &mut g,
        )
        .unwrap();
        assert_eq!(g.len(), 3);
    }

    #[test]
    fn graph_management_and_named_graphs_are_unprocessable() {
        let mut g = Graph::new();
        for u in [
            "CLEAR ALL",
            "INSERT DATA { GRAPH <http://g> { <#a> ex:p 1 } }",
            "LOAD <http://ex.org/x>",
        ] {
            assert!(
                matches!(run(u, &mut g), Err(SolidError::UnprocessablePatch(_))),
                "{u}"
            );
        }
    }

    #[test]
    fn syntax_error_is_malformed() {
        let mut g = Graph::new();
        assert!(matches!(
            run("INSERT DATA { <#a> ", &mut g),
            Err(SolidError::MalformedRdf { .. })
        ));
    }

    #[test]
    fn mode_requirements() {
        let p = parse(b"INSERT DATA { <#a> <#p> 1 }", BASE).unwrap();
        assert!(p.needs_append() && !p.needs_write());
        let p = parse(b"DELETE DATA { <#a> <#p> 1 }", BASE).unwrap();
        assert!(p.needs_write() && p.needs_read());
    }
}
