//! Fetching documents on a token's behalf (issuer discovery, JWKS, WebID profiles, groups):
//! size- and time-limited, redirects followed by hand so each hop is checked, and no requests
//! to private or loopback addresses unless the operator allows them. The URLs come from
//! tokens a stranger sent us, so without these limits any client could make the server probe
//! its own network.

use crate::error::AuthError;
use futures_util::StreamExt;
use podplane_solid::rdf::{self, RdfFormat};
use std::net::IpAddr;
use std::time::Duration;
use url::Url;

const MAX_REDIRECTS: usize = 3;
const RDF_ACCEPT: &str = "text/turtle, application/ld+json;q=0.9, application/n-triples;q=0.8";

#[derive(Debug, Clone)]
pub struct FetchLimits {
    pub timeout: Duration,
    pub max_bytes: usize,
    /// Allow loopback, private and link-local targets (local development and tests).
    pub allow_private: bool,
}

impl Default for FetchLimits {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(5),
            max_bytes: 512 * 1024,
            allow_private: false,
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
                .map_err(|e| fail(e.to_string()))?;
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
        rdf::parse(&doc.body, format, base.as_str(), None)
            .map_err(|e| AuthError::Unverifiable(format!("{url}: {e}")))
    }

    async fn check_target(&self, url: &Url) -> Result<(), String> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!("scheme {} is not fetched", url.scheme()));
        }
        if self.limits.allow_private {
            return Ok(());
        }
        let host = url.host_str().ok_or("no host")?;
        let port = url.port_or_known_default().unwrap_or(443);
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let addrs: Vec<IpAddr> = match host.parse::<IpAddr>() {
            Ok(ip) => vec![ip],
            Err(_) => tokio::net::lookup_host((host, port))
                .await
                .map_err(|e| format!("cannot resolve {host}: {e}"))?
                .map(|a| a.ip())
                .collect(),
        };
        match addrs.iter().find(|ip| is_private(ip)) {
            Some(ip) => Err(format!("{host} resolves to non-public address {ip}")),
            None => Ok(()),
        }
    }
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
