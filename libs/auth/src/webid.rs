//! WebID profiles: the issuers a WebID trusts (`solid:oidcIssuer`). Solid-OIDC requires this
//! check: without it, any OpenID provider could mint tokens for any WebID.

use crate::error::AuthError;
use crate::fetch::Fetcher;
use podplane_solid::access::graph::Graph;
use std::sync::Arc;
use std::time::Duration;

const OIDC_ISSUER: &str = "http://www.w3.org/ns/solid/terms#oidcIssuer";

pub struct WebIdIssuers {
    fetcher: Fetcher,
    cache: moka::future::Cache<String, Arc<Vec<String>>>,
}

impl WebIdIssuers {
    pub fn new(fetcher: Fetcher, ttl: Duration) -> Self {
        Self {
            fetcher,
            cache: moka::future::Cache::builder()
                .max_capacity(10_000)
                .time_to_live(ttl)
                .build(),
        }
    }

    /// Whether `webid`'s profile lists `issuer` as one of its OpenID issuers.
    pub async fn trusts(&self, webid: &str, issuer: &str) -> Result<bool, AuthError> {
        let issuers = self
            .cache
            .try_get_with(webid.to_owned(), self.fetch(webid))
            .await
            .map_err(|e| (*e).clone())?;
        let want = issuer.trim_end_matches('/');
        Ok(issuers.iter().any(|i| i.trim_end_matches('/') == want))
    }

    async fn fetch(&self, webid: &str) -> Result<Arc<Vec<String>>, AuthError> {
        let triples = self.fetcher.get_rdf(webid).await?;
        let graph = Graph::new(&triples);
        Ok(Arc::new(
            graph.iris(webid, OIDC_ISSUER).map(str::to_owned).collect(),
        ))
    }
}
