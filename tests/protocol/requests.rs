//! Small HTTP helpers: plain requests, an agent's requests, and reading responses.

use crate::idp::Agent;
use std::net::SocketAddr;
use std::time::Duration;

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

pub const TURTLE: &str = "text/turtle";

pub async fn put(
    url: &str,
    content_type: &str,
    body: impl Into<reqwest::Body>,
) -> reqwest::Response {
    client()
        .put(url)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .expect("PUT")
}

pub async fn put_turtle(url: &str, body: &str) -> reqwest::Response {
    let res = put(url, TURTLE, body.to_owned()).await;
    assert!(res.status().is_success(), "PUT {url}: {}", res.status());
    res
}

pub async fn get(url: &str) -> reqwest::Response {
    client().get(url).send().await.expect("GET")
}

pub async fn get_accept(url: &str, accept: &str) -> reqwest::Response {
    client()
        .get(url)
        .header("accept", accept)
        .send()
        .await
        .expect("GET")
}

pub async fn patch(url: &str, content_type: &str, body: &str) -> reqwest::Response {
    client()
        .patch(url)
        .header("content-type", content_type)
        .body(body.to_owned())
        .send()
        .await
        .expect("PATCH")
}

pub async fn options(url: &str) -> reqwest::Response {
    client()
        .request(reqwest::Method::OPTIONS, url)
        .send()
        .await
        .expect("OPTIONS")
}

pub async fn delete(url: &str) -> reqwest::Response {
    client().delete(url).send().await.expect("DELETE")
}

pub async fn text(res: reqwest::Response) -> String {
    res.text().await.expect("body")
}

pub fn header(res: &reqwest::Response, name: &str) -> String {
    res.headers()
        .get_all(name)
        .iter()
        .map(|v| v.to_str().unwrap_or_default().to_owned())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether a Link header value includes `<target>; rel="rel"`.
pub fn has_link(res: &reqwest::Response, target: &str, rel: &str) -> bool {
    header(res, "link").contains(&format!("<{target}>; rel=\"{rel}\""))
}

/// Asserts an RFC 9457 problem response with the status, returning its detail.
pub async fn assert_problem(res: reqwest::Response, status: u16) -> String {
    assert_eq!(res.status().as_u16(), status, "status of {}", res.url());
    assert_eq!(header(&res, "content-type"), "application/problem+json");
    let body: serde_json::Value = res.json().await.expect("problem JSON");
    assert_eq!(body["status"], status);
    assert!(body["title"].is_string(), "problem title");
    body["detail"].as_str().unwrap_or_default().to_owned()
}

/// Parses Turtle (or N-Triples) into N-Triples lines for easy containment checks, using the
/// server's own IRI as base.
pub fn ntriples(turtle: &str, base: &str) -> Vec<String> {
    oxttl::TurtleParser::new()
        .with_base_iri(base)
        .expect("base")
        .for_slice(turtle.as_bytes())
        .map(|t| t.expect("valid turtle from server").to_string())
        .collect()
}

/// Sends raw bytes over TCP and returns the whole response text (for requests reqwest would
/// normalise or refuse to send).
pub async fn raw(addr: SocketAddr, request: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    s.write_all(request).await.expect("write");
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut buf)).await;
    String::from_utf8_lossy(&buf).into_owned()
}

/// Status code of a raw response.
pub fn raw_status(response: &str) -> u16 {
    response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// `agent`'s request (`None`: anonymous), with an optional Turtle body.
pub async fn as_agent(
    agent: Option<&Agent>,
    method: reqwest::Method,
    url: &str,
    turtle: Option<&str>,
) -> reqwest::Response {
    send_as(agent, method, url, turtle.map(|t| (TURTLE, t))).await
}

/// `agent`'s request (`None`: anonymous), with an optional body of a media type.
pub async fn send_as(
    agent: Option<&Agent>,
    method: reqwest::Method,
    url: &str,
    body: Option<(&str, &str)>,
) -> reqwest::Response {
    let mut req = match agent {
        Some(a) => a.request(&client(), method, url),
        None => client().request(method, url),
    };
    if let Some((media_type, body)) = body {
        req = req.header("content-type", media_type).body(body.to_owned());
    }
    req.send().await.expect("request")
}

/// Status of `agent`'s request.
pub async fn status_as(
    agent: Option<&Agent>,
    method: reqwest::Method,
    url: &str,
    turtle: Option<&str>,
) -> u16 {
    as_agent(agent, method, url, turtle).await.status().as_u16()
}
