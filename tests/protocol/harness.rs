//! Runs the real `podplane` binary on a free loopback port and talks to it over HTTP.
//!
//! One shared server serves most tests, each in pods of its own; tests that need special
//! settings or restarts start their own. A server exits when the test process does (its stdin
//! closes), so no run leaves processes behind.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_podplane");

pub struct Server {
    pub base: String,
    pub addr: SocketAddr,
    pub data_dir: PathBuf,
    _tmp: Option<tempfile::TempDir>,
    child: std::sync::Mutex<Option<Child>>,
    extra: Vec<String>,
}

fn free_addr() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    l.local_addr().expect("local addr")
}

impl Server {
    /// Starts a server on a fresh data directory with extra `serve` flags.
    pub fn start(extra: &[&str]) -> Server {
        let tmp = tempfile::tempdir().expect("tempdir");
        let data_dir = tmp.path().to_path_buf();
        let mut s = Server::start_in(&data_dir, extra);
        s._tmp = Some(tmp);
        s
    }

    /// Starts a server on an existing data directory (for restart tests).
    pub fn start_in(data_dir: &Path, extra: &[&str]) -> Server {
        let addr = free_addr();
        let server = Server {
            base: format!("http://{addr}"),
            addr,
            data_dir: data_dir.to_path_buf(),
            _tmp: None,
            child: std::sync::Mutex::new(None),
            extra: extra.iter().map(|s| s.to_string()).collect(),
        };
        server.spawn();
        server
    }

    fn spawn(&self) {
        let mut cmd = Command::new(BIN);
        cmd.arg("serve")
            .arg("--listen")
            .arg(self.addr.to_string())
            .arg("--data-dir")
            .arg(&self.data_dir)
            .arg("--base-url")
            .arg(&self.base)
            .arg("--exit-on-stdin-eof")
            .args(&self.extra)
            .env("PODPLANE_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        let child = cmd.spawn().expect("spawn podplane serve");
        *self.child.lock().unwrap() = Some(child);
        self.wait_ready();
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(mut s) = TcpStream::connect(self.addr) {
                let _ = s.write_all(
                    b"GET /health/ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                );
                let mut buf = String::new();
                let _ = s.read_to_string(&mut buf);
                if buf.starts_with("HTTP/1.1 200") {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("podplane did not become ready at {}", self.addr);
    }

    pub fn pid(&self) -> u32 {
        self.child
            .lock()
            .unwrap()
            .as_ref()
            .map(|c| c.id())
            .expect("server running")
    }

    /// SIGKILL, no chance to clean up: what a crash looks like.
    pub fn kill9(&self) {
        if let Some(mut c) = self.child.lock().unwrap().take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts the same server again (same port, same data) after `kill9`.
    pub fn restart(&self) {
        self.kill9();
        self.spawn();
    }

    /// Creates a pod with a unique name and returns its root URL (with trailing slash).
    pub fn pod(&self) -> String {
        self.pod_owned_by(None)
    }

    pub fn pod_owned_by(&self, owner: Option<&str>) -> String {
        static N: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "t{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        );
        let mut cmd = Command::new(BIN);
        cmd.args(["pod", "create", &name, "--data-dir"])
            .arg(&self.data_dir)
            .args(["--base-url", &self.base]);
        if let Some(o) = owner {
            cmd.args(["--owner", o]);
        }
        let out = cmd.output().expect("run podplane pod create");
        assert!(
            out.status.success(),
            "pod create failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        format!("{}/{name}/", self.base)
    }

    /// Peak resident set size of the server process so far, in bytes (Linux VmHWM).
    pub fn peak_rss(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .expect("read /proc status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map(|kb| kb * 1024)
            .expect("VmHWM in /proc status")
    }

    /// Number of blob files on disk.
    pub fn blob_files(&self) -> usize {
        fn count(dir: &Path) -> usize {
            std::fs::read_dir(dir)
                .map(|rd| {
                    rd.flatten()
                        .map(|e| {
                            if e.path().is_dir() {
                                count(&e.path())
                            } else {
                                1
                            }
                        })
                        .sum()
                })
                .unwrap_or(0)
        }
        count(&self.data_dir.join("blobs"))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// The server most tests share.
pub fn shared() -> &'static Server {
    static SHARED: OnceLock<Server> = OnceLock::new();
    SHARED.get_or_init(|| Server::start(&[]))
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// A fresh pod on the shared server.
pub fn pod() -> String {
    shared().pod()
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
