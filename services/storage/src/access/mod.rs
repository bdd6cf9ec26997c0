//! Effective access: loads the access control documents that govern a path (its own ACL/ACR
//! and its ancestors'), parses them once per (path, ETag), fetches WAC groups, and asks
//! `podplane_solid::access` for the modes a requester holds.
//!
//! Freshness: every request reads the candidate documents' rows (one coalesced read of
//! `P.acl`, `parent(P).acl`, ... `/{pod}/.acl`), so a write to any ACL or ACR is seen by the
//! next request on every replica; only parsing is cached, keyed by the row's ETag.

mod groups;
mod replay;

use podplane_auth::Fetcher;
use podplane_solid::access::acp::{self, Acr};
use podplane_solid::access::wac::{Acl, Scope};
use podplane_solid::access::{AccessKind, Modes, Requester};
use podplane_solid::limits::Limits;
use podplane_solid::path::ResourcePath;
use podplane_solid::rdf::{self, RdfFormat};
use podplane_store::{BlobStore, MetadataStore, Pod, Resource, StoreError};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

pub use replay::StoreReplayCache;

/// A parsed access control document.
#[derive(Debug)]
pub enum Document {
    Wac(Acl),
    Acp(Acr),
}

/// Access control, one value in the service state: it reads the documents that govern a path
/// through the store (as any reader does) and keeps what is costly to redo (parsed documents,
/// pods, fetched groups).
pub struct AccessControl {
    meta: Arc<dyn MetadataStore>,
    blobs: Arc<dyn BlobStore>,
    /// Documents are parsed against IRIs under this base URL.
    base_url: String,
    /// Limits for parsing stored documents (already accepted once).
    limits: Limits,
    documents: moka::sync::Cache<(String, String), Arc<Document>>,
    pods: moka::sync::Cache<String, Option<Arc<Pod>>>,
    groups: groups::GroupCache,
}

impl AccessControl {
    pub fn new(
        meta: Arc<dyn MetadataStore>,
        blobs: Arc<dyn BlobStore>,
        base_url: String,
        limits: Limits,
        fetcher: Fetcher,
    ) -> Self {
        Self {
            meta,
            blobs,
            base_url,
            limits,
            documents: moka::sync::Cache::builder().max_capacity(20_000).build(),
            // Pods are created but never change kind or owner, so a short TTL only delays
            // the sight of a pod created by another process.
            pods: moka::sync::Cache::builder()
                .max_capacity(10_000)
                .time_to_live(Duration::from_secs(2))
                .build(),
            groups: groups::GroupCache::new(fetcher),
        }
    }

    fn iri(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }
}

/// The modes a requester holds on a resource, and on its access control resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Effective {
    pub resource: Modes,
    /// READ = may read the ACL/ACR, WRITE = may change it.
    pub acl: Modes,
}

/// Everything evaluation needs for one path, read once per request.
pub struct Governing {
    pub pod: Arc<Pod>,
    /// The row of the path the documents were gathered for, read in the same query.
    pub subject: Option<Resource>,
    /// Its container's row (whose creator matters when deciding a create).
    parent: Option<Resource>,
    /// Parsed documents by the path they govern (the subject), nearest first.
    docs: Vec<(ResourcePath, Arc<Document>)>,
}

impl AccessControl {
    pub async fn pod_of(&self, path: &ResourcePath) -> Result<Option<Arc<Pod>>, StoreError> {
        let Some(name) = path.pod() else {
            return Ok(None);
        };
        if let Some(hit) = self.pods.get(name) {
            if hit.is_some() {
                return Ok(hit);
            }
        }
        let pod = self.meta.get_pod(name).await?.map(Arc::new);
        self.pods.insert(name.to_owned(), pod.clone());
        Ok(pod)
    }

    /// The documents governing `path` (a non-auxiliary path), or `None` outside any pod.
    pub async fn governing(&self, path: &ResourcePath) -> Result<Option<Governing>, StoreError> {
        let Some(pod) = self.pod_of(path).await? else {
            return Ok(None);
        };
        let mut subjects: Vec<ResourcePath> = path.ancestors_within_pod();
        subjects.push(path.clone());
        subjects.reverse();
        let mut paths: Vec<String> = subjects
            .iter()
            .map(|s| s.acl().as_str().to_owned())
            .collect();
        paths.push(path.as_str().to_owned());
        let parent_path = path.parent().filter(|p| !p.is_root());
        if let Some(parent) = &parent_path {
            paths.push(parent.as_str().to_owned());
        }
        // The pod's root goes in the same query: a deleted pod loses its root row in the
        // deleting transaction, so it is gone for every request from that commit on, whatever
        // the cache of pods above still says.
        let root = path.pod_root();
        if let Some(root) = &root {
            paths.push(root.as_str().to_owned());
        }
        let mut rows: HashMap<String, Resource> = self
            .meta
            .get_many(&paths)
            .await?
            .into_iter()
            .map(|r| (r.path.clone(), r))
            .collect();
        if root.is_some_and(|root| !rows.contains_key(root.as_str())) {
            self.pods.invalidate(pod.name.as_str());
            return Ok(None);
        }
        let mut docs = Vec::new();
        for subject in subjects {
            if let Some(row) = rows.get(subject.acl().as_str()) {
                docs.push((subject, self.document(pod.access, row).await?));
            }
        }
        let subject = rows.remove(path.as_str());
        let parent = parent_path.and_then(|p| rows.remove(p.as_str()));
        Ok(Some(Governing {
            pod,
            subject,
            parent,
            docs,
        }))
    }

    /// The access controls `subject`'s ancestors apply to their members
    /// (`acp:memberAccessControl`), nearest ancestor first, each once; none outside ACP pods.
    pub async fn inherited_controls(
        &self,
        subject: &ResourcePath,
    ) -> Result<Vec<String>, StoreError> {
        let Some(g) = self.governing(subject).await? else {
            return Ok(Vec::new());
        };
        let mut controls: Vec<String> = Vec::new();
        for (s, doc) in &g.docs {
            let Document::Acp(acr) = doc.as_ref() else {
                continue;
            };
            if s == subject {
                continue;
            }
            for c in &acr.member_controls {
                if !controls.contains(c) {
                    controls.push(c.clone());
                }
            }
        }
        Ok(controls)
    }

    async fn document(
        &self,
        kind: AccessKind,
        row: &Resource,
    ) -> Result<Arc<Document>, StoreError> {
        let key = (row.path.clone(), row.etag.clone());
        if let Some(hit) = self.documents.get(&key) {
            return Ok(hit);
        }
        let bytes = podplane_store::read_content(self.blobs.as_ref(), &row.content).await?;
        let format = RdfFormat::from_media_type(&row.content_type).unwrap_or(RdfFormat::Turtle);
        // A document that no longer parses grants nothing rather than failing every request.
        let iri = self.iri(&row.path);
        let triples = rdf::parse(&bytes, format, &iri, None, &self.limits).unwrap_or_else(|e| {
            tracing::warn!(path = %row.path, error = %e, "unreadable access control document");
            Vec::new()
        });
        let doc = Arc::new(match kind {
            AccessKind::Wac => Document::Wac(Acl::parse(&triples)),
            AccessKind::Acp => Document::Acp(Acr::parse(&triples)),
        });
        self.documents.insert(key, doc.clone());
        Ok(doc)
    }

    /// The modes `who` holds on `target`: the path the documents were gathered for, or one
    /// of its ancestors.
    pub async fn effective(
        &self,
        g: &Governing,
        target: &ResourcePath,
        who: &Requester,
    ) -> Effective {
        // Documents of the target itself or of its ancestors, nearest first.
        let docs: Vec<&(ResourcePath, Arc<Document>)> = g
            .docs
            .iter()
            .filter(|(s, _)| {
                s == target || (s.is_container() && target.as_str().starts_with(s.as_str()))
            })
            .collect();
        match g.pod.access {
            AccessKind::Wac => {
                // WAC: the nearest ACL alone decides; no ACL anywhere means no access.
                let Some((subject, doc)) = docs.first() else {
                    return Effective {
                        resource: Modes::NONE,
                        acl: Modes::NONE,
                    };
                };
                let Document::Wac(acl) = doc.as_ref() else {
                    return Effective {
                        resource: Modes::NONE,
                        acl: Modes::NONE,
                    };
                };
                let subject_iri = self.iri(subject.as_str());
                let scope = if subject == target {
                    Scope::Own(&subject_iri)
                } else {
                    Scope::Inherited(&subject_iri)
                };
                let wanted = acl.groups_to_check(scope, who);
                let members = self.memberships(&wanted, who).await;
                let resource = acl.modes(scope, who, &|g| members.contains(g));
                let control = resource.contains(Modes::CONTROL);
                Effective {
                    resource,
                    acl: if control {
                        Modes::READ.union(Modes::WRITE)
                    } else {
                        Modes::NONE
                    },
                }
            }
            AccessKind::Acp => {
                let ctx = acp::Context {
                    who,
                    owner: g.pod.owner.as_deref(),
                    creator: [&g.subject, &g.parent]
                        .into_iter()
                        .flatten()
                        .find(|r| r.path == target.as_str())
                        .and_then(|r| r.creator.as_deref()),
                    vcs: &[],
                };
                let mut policies = Vec::new();
                let mut acr_policies = Vec::new();
                for (subject, doc) in docs {
                    let Document::Acp(acr) = doc.as_ref() else {
                        continue;
                    };
                    if subject == target {
                        policies.extend(acr.access_control.iter());
                        acr_policies.extend(acr.acr_access.iter());
                    } else {
                        policies.extend(acr.member_access_control.iter());
                        acr_policies.extend(acr.member_acr_access.iter());
                    }
                }
                let resource = acp::granted(policies, &ctx);
                let access = acp::granted(acr_policies, &ctx);
                Effective {
                    resource,
                    acl: acp::acr_modes(access, resource),
                }
            }
        }
    }
}
