//! Issuer keys: OpenID discovery (`{iss}/.well-known/openid-configuration` → `jwks_uri`) and
//! a JWKS cache. A token signed with a key we have not seen triggers one refresh, at most
//! once per `min_refresh` per issuer, so rotated keys are picked up at once while a stream of
//! bogus `kid`s cannot make us hammer the issuer.

use crate::error::AuthError;
use crate::fetch::Fetcher;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub struct IssuerKeys {
    fetcher: Fetcher,
    cache: moka::future::Cache<String, Arc<KeySet>>,
    min_refresh: Duration,
}

pub struct KeySet {
    pub keys: JwkSet,
    fetched: Instant,
}

impl IssuerKeys {
    pub fn new(fetcher: Fetcher, ttl: Duration, min_refresh: Duration) -> Self {
        Self {
            fetcher,
            cache: moka::future::Cache::builder()
                .max_capacity(1024)
                .time_to_live(ttl)
                .build(),
            min_refresh,
        }
    }

    /// The issuer's current keys, from cache when we have them.
    pub async fn get(&self, issuer: &str) -> Result<Arc<KeySet>, AuthError> {
        self.cache
            .try_get_with(issuer.to_owned(), async {
                self.fetch(issuer).await.map(Arc::new)
            })
            .await
            .map_err(|e| (*e).clone())
    }

    /// Fetches the keys again unless they were fetched less than `min_refresh` ago; returns
    /// `None` when the refresh was rate-limited.
    pub async fn refresh(
        &self,
        issuer: &str,
        seen: &KeySet,
    ) -> Result<Option<Arc<KeySet>>, AuthError> {
        if seen.fetched.elapsed() < self.min_refresh {
            return Ok(None);
        }
        let fresh = Arc::new(self.fetch(issuer).await?);
        self.cache.insert(issuer.to_owned(), fresh.clone()).await;
        Ok(Some(fresh))
    }

    async fn fetch(&self, issuer: &str) -> Result<KeySet, AuthError> {
        let discovery_url = format!(
            "{}/.well-known/openid-configuration",
            issuer.trim_end_matches('/')
        );
        let doc = self.fetcher.get(&discovery_url, "application/json").await?;
        let config: serde_json::Value = serde_json::from_slice(&doc.body)
            .map_err(|e| AuthError::Unverifiable(format!("{discovery_url}: {e}")))?;
        // OpenID Connect Discovery §4.3: the document must name the issuer we asked about,
        // or anyone serving a discovery document could vouch for another issuer.
        let named = config
            .get("issuer")
            .and_then(|v| v.as_str())
            .unwrap_or_default();
        if named.trim_end_matches('/') != issuer.trim_end_matches('/') {
            return Err(AuthError::UntrustedIssuer(format!(
                "discovery document of {issuer} names issuer {named:?}"
            )));
        }
        let jwks_uri = config
            .get("jwks_uri")
            .and_then(|v| v.as_str())
            .ok_or_else(|| AuthError::Unverifiable(format!("{discovery_url}: no jwks_uri")))?;
        let jwks = self.fetcher.get(jwks_uri, "application/json").await?;
        let raw: serde_json::Value = serde_json::from_slice(&jwks.body)
            .map_err(|e| AuthError::Unverifiable(format!("{jwks_uri}: {e}")))?;
        // Keep the keys we understand; one exotic key must not hide the others.
        let keys = raw
            .get("keys")
            .and_then(|k| k.as_array())
            .ok_or_else(|| AuthError::Unverifiable(format!("{jwks_uri}: no keys")))?
            .iter()
            .filter_map(|k| serde_json::from_value::<Jwk>(k.clone()).ok())
            .collect();
        Ok(KeySet {
            keys: JwkSet { keys },
            fetched: Instant::now(),
        })
    }
}
