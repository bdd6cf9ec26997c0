//! Where stored events are copied as they are stored: JSON lines on standard output, a file,
//! or a syslog collector (RFC 5424 over UDP). Each line carries the event with its place in
//! its pod's chain (`pod`, `seq`, `hash`), so a copy kept elsewhere can vouch for the chain.
//!
//! Copies are made after the event is committed and are best effort: a sink that fails is
//! counted and logged, and the event stays in the database (the API and the chain are the
//! record of truth).

use crate::store::Stored;
use std::net::SocketAddr;
use std::path::PathBuf;
use tokio::io::AsyncWriteExt;
use tokio::sync::Mutex;

/// Counter of events a sink could not take.
pub const SINK_FAILURES: &str = "podplane_audit_sink_failures_total";

/// A sink as configured: `stdout`, `file:<path>`, `syslog:<host:port>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sink {
    Stdout,
    File(PathBuf),
    Syslog(String),
}

impl Sink {
    pub fn parse(spec: &str) -> Result<Sink, String> {
        let spec = spec.trim();
        match spec.split_once(':') {
            _ if spec == "stdout" => Ok(Sink::Stdout),
            Some(("file", path)) if !path.is_empty() => Ok(Sink::File(PathBuf::from(path))),
            Some(("syslog", addr)) if !addr.is_empty() => Ok(Sink::Syslog(addr.to_owned())),
            _ => Err(format!(
                "unknown audit sink {spec:?}: use stdout, file:<path> or syslog:<host:port>"
            )),
        }
    }
}

enum Open {
    Stdout,
    File(PathBuf, Mutex<tokio::fs::File>),
    Syslog(SocketAddr, tokio::net::UdpSocket),
}

/// The configured sinks, opened.
pub struct Sinks {
    open: Vec<Open>,
    host: String,
}

impl Sinks {
    pub fn none() -> Self {
        Self {
            open: Vec::new(),
            host: "-".into(),
        }
    }

    pub async fn open(sinks: &[Sink]) -> std::io::Result<Self> {
        let mut open = Vec::new();
        for sink in sinks {
            open.push(match sink {
                Sink::Stdout => Open::Stdout,
                Sink::File(path) => {
                    let file = tokio::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(path)
                        .await?;
                    Open::File(path.clone(), Mutex::new(file))
                }
                Sink::Syslog(addr) => {
                    let to = tokio::net::lookup_host(addr.as_str())
                        .await?
                        .next()
                        .ok_or_else(|| std::io::Error::other(format!("{addr} has no address")))?;
                    let bind = if to.is_ipv4() { "0.0.0.0:0" } else { "[::]:0" };
                    Open::Syslog(to, tokio::net::UdpSocket::bind(bind).await?)
                }
            });
        }
        let host = std::env::var("HOSTNAME")
            .ok()
            .filter(|h| !h.is_empty() && h.is_ascii() && !h.contains(' '))
            .unwrap_or_else(|| "-".into());
        Ok(Self { open, host })
    }

    /// Copies newly stored events to every sink.
    pub async fn forward(&self, stored: &[Stored]) {
        if self.open.is_empty() || stored.is_empty() {
            return;
        }
        let lines: Vec<String> = stored.iter().map(line).collect();
        for sink in &self.open {
            let result = match sink {
                Open::Stdout => {
                    let mut out = tokio::io::stdout();
                    let mut all = lines.join("\n");
                    all.push('\n');
                    match out.write_all(all.as_bytes()).await {
                        Ok(()) => out.flush().await,
                        Err(e) => Err(e),
                    }
                }
                Open::File(path, file) => {
                    let mut all = lines.join("\n");
                    all.push('\n');
                    let mut file = file.lock().await;
                    file.write_all(all.as_bytes())
                        .await
                        .and(file.flush().await)
                        .map_err(|e| std::io::Error::other(format!("{}: {e}", path.display())))
                }
                Open::Syslog(to, socket) => {
                    let mut result = Ok(());
                    for l in &lines {
                        if let Err(e) = socket.send_to(syslog(&self.host, l).as_bytes(), to).await {
                            result = Err(e);
                        }
                    }
                    result
                }
            };
            if let Err(e) = result {
                metrics::counter!(SINK_FAILURES).increment(stored.len() as u64);
                tracing::warn!(error = %e, "an audit sink failed; the events stay stored");
            }
        }
    }
}

/// One JSON line: the chain position, then the event as received.
pub fn line(s: &Stored) -> String {
    format!(
        "{{\"pod\":{},\"seq\":{},\"hash\":\"{}\",\"event\":{}}}",
        serde_json::Value::String(s.pod.clone()),
        s.seq,
        s.hash,
        s.body
    )
}

/// An RFC 5424 message, facility authpriv (10), severity informational (6).
fn syslog(host: &str, line: &str) -> String {
    let now = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| "-".into());
    format!("<86>1 {now} {host} podplane-audit - audit - {line}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored() -> Stored {
        Stored {
            pod: "alice".into(),
            seq: 7,
            hash: "ab".into(),
            body: r#"{"id":"urn:uuid:1"}"#.into(),
        }
    }

    #[test]
    fn sinks_parse_and_bad_ones_are_refused() {
        assert_eq!(Sink::parse("stdout"), Ok(Sink::Stdout));
        assert_eq!(
            Sink::parse("file:/var/log/audit.jsonl"),
            Ok(Sink::File("/var/log/audit.jsonl".into()))
        );
        assert_eq!(
            Sink::parse("syslog:127.0.0.1:514"),
            Ok(Sink::Syslog("127.0.0.1:514".into()))
        );
        assert!(Sink::parse("kafka:x").is_err() && Sink::parse("file:").is_err());
    }

    #[test]
    fn lines_are_json_with_the_chain_position() {
        let v: serde_json::Value = serde_json::from_str(&line(&stored())).unwrap();
        assert_eq!(v["pod"], "alice");
        assert_eq!(v["seq"], 7);
        assert_eq!(v["event"]["id"], "urn:uuid:1");
    }

    #[tokio::test]
    async fn file_and_syslog_sinks_receive_every_event() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let collector = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = collector.local_addr().unwrap().to_string();
        let sinks = Sinks::open(&[Sink::File(path.clone()), Sink::Syslog(addr)])
            .await
            .unwrap();
        sinks.forward(&[stored(), stored()]).await;
        let written = std::fs::read_to_string(&path).unwrap();
        assert_eq!(written.lines().count(), 2);
        let mut buf = [0u8; 2048];
        let n = collector.recv(&mut buf).await.unwrap();
        let msg = std::str::from_utf8(&buf[..n]).unwrap();
        assert!(msg.starts_with("<86>1 "), "{msg}");
        assert!(msg.ends_with(&line(&stored())), "{msg}");
    }
}
