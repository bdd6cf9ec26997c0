//! WAC `acl:agentGroup`: group documents are read from this server's own store when they live
//! here (no HTTP round trip to ourselves, no access check on the group document: the ACL's
//! author chose to trust it) and fetched with the bounded fetcher otherwise. Fetched groups
//! are cached briefly; a group that cannot be read grants nothing.

use super::AccessControl;
use podplane_auth::Fetcher;
use podplane_solid::access::wac::group_has_member;
use podplane_solid::access::Requester;
use podplane_solid::path::ResourcePath;
use podplane_solid::rdf::{self, RdfFormat};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

pub struct GroupCache {
    fetcher: Fetcher,
    remote: moka::future::Cache<String, Arc<Vec<oxrdf::Triple>>>,
}

impl GroupCache {
    pub fn new(fetcher: Fetcher) -> Self {
        Self {
            fetcher,
            remote: moka::future::Cache::builder()
                .max_capacity(1_000)
                .time_to_live(Duration::from_secs(60))
                .build(),
        }
    }
}

impl AccessControl {
    /// The groups among `groups` that list the requester's WebID.
    pub(super) async fn memberships(&self, groups: &[String], who: &Requester) -> HashSet<String> {
        let mut out = HashSet::new();
        let Some(webid) = who.webid.as_deref() else {
            return out;
        };
        for group in groups {
            let doc_url = group.split('#').next().unwrap_or(group);
            let triples = match self.group_document(doc_url).await {
                Some(t) => t,
                None => continue,
            };
            if group_has_member(&triples, group, webid) {
                out.insert(group.clone());
            }
        }
        out
    }

    async fn group_document(&self, url: &str) -> Option<Arc<Vec<oxrdf::Triple>>> {
        if let Some(local) = url.strip_prefix(&self.base_url) {
            let path = ResourcePath::parse(local).ok()?;
            let row = self.meta.get(path.as_str()).await.ok()??;
            let bytes = podplane_store::read_content(self.blobs.as_ref(), &row.content)
                .await
                .ok()?;
            let format = RdfFormat::from_media_type(&row.content_type)?;
            return rdf::parse(&bytes, format, url, None, &self.limits)
                .ok()
                .map(Arc::new);
        }
        let fetcher = self.groups.fetcher.clone();
        let owned = url.to_owned();
        self.groups
            .remote
            .try_get_with(url.to_owned(), async move {
                fetcher.get_rdf(&owned).await.map(Arc::new)
            })
            .await
            .map_err(|e| tracing::debug!(group = url, error = %e, "group unavailable"))
            .ok()
    }
}
