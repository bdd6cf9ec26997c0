//! Fetching documents on a token's behalf (issuer discovery, JWKS, WebID profiles, groups):
//! size- and time-limited, redirects followed by hand so each hop is checked, and no requests
//! to private or loopback addresses unless the operator allows them. The URLs come from
//! tokens a stranger sent us, so without these limits any client could make the server probe
//! its own network.
//!
//! Names are resolved by our own resolver, which drops every address the policy refuses, so
//! the connection goes to an address that was checked: a DNS answer that changes between a
//! check and the connect (rebinding) cannot slip a private address through.

use crate::error::AuthError;
use futures_util::StreamExt;
use ipnet::IpNet;
use podplane_solid::rdf::{self, RdfFormat};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use url::Url;

const MAX_REDIRECTS: usize = 3;
const RDF_ACCEPT: &str = "text/turtle, application/ld+json;q=0.9, application/n-triples;q=0.8";

#[derive(Debug, Clone)]
pub struct FetchLimits {
    pub timeout: Duration,
    pub max_bytes: usize,
    /// Allow loopback targets (a local identity provider in development and tests). Private
    /// and link-local ranges stay refused; name those in `allow_ranges` if you need them.
    pub allow_private: bool,
    /// Non-public ranges the operator explicitly allows (an identity provider in the VPC).
    pub allow_ranges: Vec<IpNet>,
}

impl FetchLimits {
    /// Whether an outbound fetch may go to `ip`.
    pub fn permits(&self, ip: &IpAddr) -> bool {
        let ip = canonical(ip);
        !is_private(&ip)
            || (self.allow_private && ip.is_loopback())
            || self.allow_ranges.iter().any(|n| n.contains(&ip))
    }
}

/// IPv4-mapped IPv6 addresses are judged as the IPv4 address they carry.
fn canonical(ip: &IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(*ip, IpAddr::V4),
        v4 => *v4,
    }
}

/// Resolves with the system resolver and keeps only the addresses the policy permits.
struct CheckedResolver {
    limits: FetchLimits,
}

impl reqwest::dns::Resolve for CheckedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let limits = self.limits.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let permitted: Vec<SocketAddr> = found
                .iter()
                .copied()
                .filter(|a| limits.permits(&a.ip()))
                .collect();
            if permitted.is_empty() {
                let shown = found
                    .first()
                    .map_or("nothing".to_owned(), |a| a.ip().to_string());
                return Err(format!("{host} resolves to non-public address {shown}").into());
            }
            let addrs: reqwest::dns::Addrs = Box::new(permitted.into_iter());
            Ok(addrs)
        })
    }
}

impl Default for FetchLimits {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(5),
            max_bytes: 512 * 1024,
            allow_private: false,
            allow_ranges: Vec::new(),
        }
    }
}

#[derive(Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    limits: FetchLimits,
}

pub struct Fetched {
    /// The URL the document was finally read from (after redirects).
    pub url: Url,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

impl Fetcher {
    pub fn new(limits: FetchLimits) -> Self {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(limits.timeout)
            .connect_timeout(limits.timeout)
            .user_agent(concat!("podplane/", env!("CARGO_PKG_VERSION")))
            .dns_resolver(Arc::new(CheckedResolver {
                limits: limits.clone(),
            }))
            .build()
            .unwrap_or_default();
        Self { client, limits }
    }

    pub async fn get(&self, url: &str, accept: &str) -> Result<Fetched, AuthError> {
        let fail = |m: String| AuthError::Unverifiable(format!("{url}: {m}"));
        let mut current = Url::parse(url).map_err(|e| fail(e.to_string()))?;
        for _ in 0..=MAX_REDIRECTS {
            self.check_target(&current).await.map_err(fail)?;
            let res = self
                .client
                .get(current.clone())
                .header(reqwest::header::ACCEPT, accept)
                .send()
                .await
                .map_err(|e| fail(error_chain(&e)))?;
            if res.status().is_redirection() {
                let location = res
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .ok_or_else(|| fail("redirect without Location".into()))?;
                current = current.join(location).map_err(|e| fail(e.to_string()))?;
                continue;
            }
            if !res.status().is_success() {
                return Err(fail(format!("status {}", res.status())));
            }
            if res
                .content_length()
                .is_some_and(|n| n > self.limits.max_bytes as u64)
            {
                return Err(fail("document too large".into()));
            }
            let content_type = res
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let mut body = Vec::new();
            let mut stream = res.bytes_stream();
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(|e| fail(e.to_string()))?;
                if body.len() + chunk.len() > self.limits.max_bytes {
                    return Err(fail("document too large".into()));
                }
                body.extend_from_slice(&chunk);
            }
            return Ok(Fetched {
                url: current,
                content_type,
                body,
            });
        }
        Err(fail("too many redirects".into()))
    }

    /// Fetches an RDF document (Turtle, JSON-LD or N-Triples, as the server labels it;
    /// unlabelled means Turtle) and parses it with the final URL, without fragment, as base.
    pub async fn get_rdf(&self, url: &str) -> Result<Vec<oxrdf::Triple>, AuthError> {
        let doc = self.get(url, RDF_ACCEPT).await?;
        let essence = doc
            .content_type
            .as_deref()
            .and_then(|c| c.split(';').next())
            .map(|c| c.trim().to_ascii_lowercase());
        let format = essence
            .as_deref()
            .and_then(RdfFormat::from_media_type)
            .unwrap_or(RdfFormat::Turtle);
        let mut base = doc.url.clone();
        base.set_fragment(None);
        // A remote document is anyone's: it gets the same nesting bound as a client's and
        // may expand to at most 32 times the largest body we fetch.
        let limits = podplane_solid::limits::Limits {
            max_expanded_bytes: 32 * self.limits.max_bytes as u64,
            ..Default::default()
        };
        rdf::parse(&doc.body, format, base.as_str(), None, &limits)
            .map_err(|e| AuthError::Unverifiable(format!("{url}: {e}")))
    }

    /// Whether `url` may be fetched or posted to: an http(s) URL whose host is, or resolves
    /// only to, addresses the policy permits. For refusing a target when it is configured
    /// (a webhook's `sendTo`); the connection is checked again when it is made.
    pub async fn vet(&self, url: &str) -> Result<(), String> {
        let url = Url::parse(url).map_err(|e| e.to_string())?;
        self.check_target(&url).await?;
        if let Some(url::Host::Domain(host)) = url.host() {
            let port = url.port_or_known_default().unwrap_or(443);
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
                .await
                .map_err(|e| format!("{host}: {e}"))?
                .collect();
            if let Some(bad) = found.iter().find(|a| !self.limits.permits(&a.ip())) {
                return Err(format!(
                    "{host} resolves to non-public address {}",
                    bad.ip()
                ));
            }
        }
        Ok(())
    }

    /// POSTs `body` to `url` with `headers`, without following redirects, connecting only to
    /// permitted addresses (resolved once, checked, then connected to). Returns the status.
    pub async fn post(
        &self,
        url: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> Result<reqwest::StatusCode, String> {
        let parsed = Url::parse(url).map_err(|e| e.to_string())?;
        self.check_target(&parsed).await?;
        let mut req = self.client.post(parsed).body(body);
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        let res = req.send().await.map_err(|e| error_chain(&e))?;
        Ok(res.status())
    }

    async fn check_target(&self, url: &Url) -> Result<(), String> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!("scheme {} is not fetched", url.scheme()));
        }
        // Names are checked by the resolver at connect time; literal addresses never reach
        // a resolver, so they are checked here.
        let ip = match url.host() {
            Some(url::Host::Ipv4(v4)) => IpAddr::V4(v4),
            Some(url::Host::Ipv6(v6)) => IpAddr::V6(v6),
            Some(url::Host::Domain(_)) => return Ok(()),
            None => return Err("no host".into()),
        };
        if self.limits.permits(&ip) {
            Ok(())
        } else {
            Err(format!("{ip} is a non-public address"))
        }
    }
}

/// An error with its causes: reqwest's own message does not say why a connect failed.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cause = c.source();
    }
    out
}

/// Addresses a public client must not make us reach: loopback, private ranges, link-local
/// (cloud metadata lives there), carrier-grade NAT, unspecified and unique-local IPv6.
pub fn is_private(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || (o[0] == 100 && (64..128).contains(&o[1]))
                || o[0] == 0
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_private(&IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_ranges_are_recognised() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fc00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(is_private(&ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.216.34", "2606:4700::1", "8.8.8.8"] {
            assert!(!is_private(&ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn allowing_private_fetch_opens_loopback_only() {
        let dev = FetchLimits {
            allow_private: true,
            ..FetchLimits::default()
        };
        for ip in ["127.0.0.1", "::1", "::ffff:127.0.0.1"] {
            assert!(dev.permits(&ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "169.254.169.254",
            "10.0.0.1",
            "fe80::1",
            "0.0.0.0",
            "::ffff:169.254.169.254",
        ] {
            assert!(!dev.permits(&ip.parse().unwrap()), "{ip}");
        }
        let vpc = FetchLimits {
            allow_ranges: vec!["10.0.0.0/8".parse().unwrap()],
            ..FetchLimits::default()
        };
        assert!(vpc.permits(&"10.1.2.3".parse().unwrap()));
        assert!(!vpc.permits(&"127.0.0.1".parse().unwrap()));
    }

    #[tokio::test]
    async fn names_resolving_to_refused_addresses_are_not_connected() {
        // `localhost` resolves to loopback: the resolver drops it, so nothing is connected.
        let strict = Fetcher::new(FetchLimits::default());
        let err = strict
            .get("http://localhost:9/x", "*/*")
            .await
            .err()
            .unwrap();
        assert!(format!("{err:?}").contains("non-public"), "{err:?}");
    }

    #[tokio::test]
    async fn loopback_is_refused_unless_allowed() {
        let strict = Fetcher::new(FetchLimits::default());
        let err = strict
            .get("http://127.0.0.1:9/x", "*/*")
            .await
            .err()
            .unwrap();
        assert!(err.to_string().contains("non-public"), "{err}");
        let err = strict.get("file:///etc/passwd", "*/*").await.err().unwrap();
        assert!(err.to_string().contains("scheme"), "{err}");
    }
}
