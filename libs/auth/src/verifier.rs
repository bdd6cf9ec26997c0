//! The whole resource-server check of one request's credentials: scheme, DPoP proof, access
//! token, issuer trust, replay. Verified tokens are cached until they expire, so a client
//! that reuses its token pays for the token signature and the WebID fetch once; the proof
//! (fresh on every request) is always verified.

use crate::dpop::{verify_proof, ProofPolicy, ProofRequest};
use crate::error::AuthError;
use crate::fetch::{FetchLimits, Fetcher};
use crate::issuer::IssuerKeys;
use crate::jose::{malformed, SUPPORTED};
use crate::replay::ReplayCache;
use crate::token::{self, AccessToken, TokenPolicy};
use crate::webid::WebIdIssuers;
use jsonwebtoken::Algorithm;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// Signature algorithms accepted for proofs and tokens.
    pub algorithms: Vec<Algorithm>,
    /// When non-empty, only these issuers are trusted.
    pub issuer_allow: Vec<String>,
    /// Never trusted; wins over the allow list.
    pub issuer_deny: Vec<String>,
    /// Accept `Authorization: Bearer` tokens that are not DPoP-bound (CSS compatibility).
    pub accept_bearer: bool,
    /// Reject DPoP proofs without `ath`.
    pub require_ath: bool,
    pub proof_max_age_secs: i64,
    pub skew_secs: i64,
    pub fetch: FetchLimits,
    pub jwks_ttl: Duration,
    pub jwks_min_refresh: Duration,
    pub webid_ttl: Duration,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            algorithms: SUPPORTED.to_vec(),
            issuer_allow: Vec::new(),
            issuer_deny: Vec::new(),
            accept_bearer: false,
            require_ath: false,
            proof_max_age_secs: 60,
            skew_secs: 5,
            fetch: FetchLimits::default(),
            jwks_ttl: Duration::from_secs(600),
            jwks_min_refresh: Duration::from_secs(10),
            webid_ttl: Duration::from_secs(300),
        }
    }
}

/// Who a request authenticated as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authenticated {
    pub webid: String,
    pub client_id: Option<String>,
    pub issuer: String,
}

/// The credentials a request carries, as read from its headers.
#[derive(Debug, Clone, Copy)]
pub struct Credentials<'a> {
    pub authorization: Option<&'a str>,
    /// Every `DPoP` header value (RFC 9449 §4.3: exactly one is allowed).
    pub dpop: &'a [&'a str],
    pub method: &'a str,
    /// The absolute request URL, built from the public base URL.
    pub url: &'a str,
}

pub struct Verifier {
    cfg: AuthConfig,
    keys: IssuerKeys,
    webids: WebIdIssuers,
    tokens: moka::future::Cache<String, Arc<AccessToken>>,
    replay: Arc<dyn ReplayCache>,
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

impl Verifier {
    pub fn new(cfg: AuthConfig, replay: Arc<dyn ReplayCache>) -> Self {
        let fetcher = Fetcher::new(cfg.fetch.clone());
        Self {
            keys: IssuerKeys::new(fetcher.clone(), cfg.jwks_ttl, cfg.jwks_min_refresh),
            webids: WebIdIssuers::new(fetcher, cfg.webid_ttl),
            // Bounded by bytes: tokens are up to 16 KiB each.
            tokens: moka::future::Cache::builder()
                .max_capacity(64 * 1024 * 1024)
                .weigher(|token: &String, _: &Arc<AccessToken>| {
                    u32::try_from(token.len() + 512).unwrap_or(u32::MAX)
                })
                .time_to_live(Duration::from_secs(300))
                .build(),
            replay,
            cfg,
        }
    }

    pub fn config(&self) -> &AuthConfig {
        &self.cfg
    }

    /// Authenticates a request from its headers: its one `Authorization` header and every
    /// `DPoP` header. `url` is the request URL as the client wrote it, under the public base
    /// URL (htu is compared syntactically). `Ok(None)` for a request without credentials.
    pub async fn authenticate_headers(
        &self,
        headers: &http::HeaderMap,
        method: &str,
        url: &str,
    ) -> Result<Option<Authenticated>, AuthError> {
        let dpop: Vec<&str> = headers
            .get_all("dpop")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        let mut values = headers.get_all(http::header::AUTHORIZATION).iter();
        let first = values.next();
        if values.next().is_some() {
            return Err(AuthError::Ambiguous(
                "more than one Authorization header; send one set of credentials".into(),
            ));
        }
        let authorization = first
            .map(|v| v.to_str())
            .transpose()
            .map_err(|_| malformed("Authorization is not ASCII"))?;
        self.authenticate(Credentials {
            authorization,
            dpop: &dpop,
            method,
            url,
        })
        .await
    }

    /// `Ok(None)` for a request without credentials.
    pub async fn authenticate(
        &self,
        c: Credentials<'_>,
    ) -> Result<Option<Authenticated>, AuthError> {
        let Some(authorization) = c.authorization else {
            if !c.dpop.is_empty() {
                return Err(malformed("a DPoP proof without an Authorization header"));
            }
            return Ok(None);
        };
        let (scheme, token) = authorization
            .trim()
            .split_once(' ')
            .ok_or_else(|| malformed("Authorization must be '<scheme> <token>'"))?;
        let token = token.trim();
        if token.is_empty() || token.len() > token::MAX_TOKEN_BYTES {
            return Err(AuthError::InvalidToken("token empty or too large".into()));
        }
        let now = now();
        if scheme.eq_ignore_ascii_case("dpop") {
            let [proof] = c.dpop else {
                return Err(malformed(
                    "a DPoP token needs exactly one DPoP proof header",
                ));
            };
            let proof = verify_proof(
                proof,
                &ProofRequest {
                    method: c.method,
                    url: c.url,
                    access_token: token,
                    now,
                },
                &self.proof_policy(),
            )?;
            let access = self.access_token(token, now).await?;
            if access.jkt.as_deref() != Some(proof.jkt.as_str()) {
                return Err(AuthError::InvalidToken(
                    "token is not bound to the proof key (cnf.jkt)".into(),
                ));
            }
            let key = format!("{}:{}", proof.jkt, proof.jti);
            let until = proof.iat + self.cfg.proof_max_age_secs + 2 * self.cfg.skew_secs;
            if !self.replay.first_use(&key, until).await? {
                return Err(AuthError::Replayed);
            }
            Ok(Some(identity(&access)))
        } else if scheme.eq_ignore_ascii_case("bearer") {
            if !self.cfg.accept_bearer {
                return Err(malformed("Bearer tokens are not accepted; use DPoP"));
            }
            let access = self.access_token(token, now).await?;
            if access.jkt.is_some() {
                // RFC 9449 §7.1: a DPoP-bound token presented as a bearer token is refused.
                return Err(AuthError::InvalidToken(
                    "a DPoP-bound token needs a proof".into(),
                ));
            }
            Ok(Some(identity(&access)))
        } else {
            Err(malformed(format!(
                "unsupported authorization scheme {scheme}"
            )))
        }
    }

    fn proof_policy(&self) -> ProofPolicy {
        ProofPolicy {
            algorithms: self.cfg.algorithms.clone(),
            max_age_secs: self.cfg.proof_max_age_secs,
            skew_secs: self.cfg.skew_secs,
            require_ath: self.cfg.require_ath,
        }
    }

    async fn access_token(&self, token: &str, now: i64) -> Result<Arc<AccessToken>, AuthError> {
        if let Some(hit) = self.tokens.get(token).await {
            if hit.exp + self.cfg.skew_secs >= now {
                return Ok(hit);
            }
            self.tokens.invalidate(token).await;
        }
        let policy = TokenPolicy {
            algorithms: self.cfg.algorithms.clone(),
            skew_secs: self.cfg.skew_secs,
        };
        let peeked = token::peek(token, &policy)?;
        self.check_issuer_lists(&peeked.issuer)?;
        let mut keys = self.keys.get(&peeked.issuer).await?;
        if token::select_key(&keys.keys, &peeked).is_none() {
            if let Some(fresh) = self.keys.refresh(&peeked.issuer, &keys).await? {
                keys = fresh;
            }
        }
        let key = token::select_key(&keys.keys, &peeked).ok_or_else(|| {
            AuthError::InvalidToken("signed with a key the issuer does not publish".into())
        })?;
        let access = token::verify(token, key, &peeked, now, &policy)?;
        if !self.webids.trusts(&access.webid, &access.issuer).await? {
            return Err(AuthError::UntrustedIssuer(format!(
                "the WebID {} does not list {} as its solid:oidcIssuer",
                access.webid, access.issuer
            )));
        }
        let access = Arc::new(access);
        self.tokens.insert(token.to_owned(), access.clone()).await;
        Ok(access)
    }

    fn check_issuer_lists(&self, issuer: &str) -> Result<(), AuthError> {
        let norm = |s: &str| s.trim_end_matches('/').to_owned();
        let issuer_n = norm(issuer);
        if self.cfg.issuer_deny.iter().any(|d| norm(d) == issuer_n) {
            return Err(AuthError::UntrustedIssuer(format!("{issuer} is denied")));
        }
        if !self.cfg.issuer_allow.is_empty()
            && !self.cfg.issuer_allow.iter().any(|a| norm(a) == issuer_n)
        {
            return Err(AuthError::UntrustedIssuer(format!(
                "{issuer} is not on the allow list"
            )));
        }
        Ok(())
    }
}

fn identity(t: &AccessToken) -> Authenticated {
    Authenticated {
        webid: t.webid.clone(),
        client_id: t.client_id.clone(),
        issuer: t.issuer.clone(),
    }
}
