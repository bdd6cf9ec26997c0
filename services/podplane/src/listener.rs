//! The connection layer every mode serves through: HTTP/1.1 and HTTP/2 (h2c) on one port,
//! with the limits an internet-facing server needs before any request is routed.
//!
//! - A cap on open connections: past it a new connection is closed at once (and counted), so
//!   idle sockets can never use up the process's file descriptors.
//! - A header-read timeout: a client must send a request's whole head within it, and an idle
//!   keep-alive connection is closed after it (hyper runs the same timer while it waits for
//!   the next request). A connection that sends nothing at all gets the same treatment.
//! - A body-idle timeout: a request body that stops sending fails with 408.
//! - A lingering read of bodies refused unread, so the client sees the answer (`linger`).
//! - HTTP/2 keep-alive pings close connections whose peer is gone.
//!
//! Shutdown stops accepting, lets in-flight requests finish (bounded), then returns.

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use podplane_telemetry::{CONNECTIONS_OPEN, CONNECTIONS_REFUSED};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tower_http::timeout::RequestBodyTimeoutLayer;

const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
/// How long shutdown waits for in-flight requests.
const DRAIN: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    pub max_connections: usize,
    pub header_read_timeout: Duration,
    pub body_idle_timeout: Duration,
}

pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let service = tower::ServiceBuilder::new()
        .map_request(crate::linger::request)
        .layer(RequestBodyTimeoutLayer::new(limits.body_idle_timeout))
        .service(router);
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(64 * 1024);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(Some(Duration::from_secs(20)))
        .keep_alive_timeout(Duration::from_secs(20))
        .max_concurrent_streams(128);
    let builder = Arc::new(builder);
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // EMFILE and friends: back off instead of spinning; the cap should make
                    // this rare.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            metrics::counter!(CONNECTIONS_REFUSED).increment(1);
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let (builder, service) = (builder.clone(), service.clone());
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            metrics::gauge!(CONNECTIONS_OPEN).increment(1.0);
            if first_bytes(&stream, limits.header_read_timeout).await {
                let io = TokioIo::new(stream);
                let conn =
                    builder.serve_connection_with_upgrades(io, TowerToHyperService::new(service));
                if let Err(e) = watcher.watch(conn.into_owned()).await {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
            }
            metrics::gauge!(CONNECTIONS_OPEN).decrement(1.0);
            drop(permit);
        });
    }
    drop(listener);
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(DRAIN) => tracing::warn!("shutdown: requests still in flight after the drain period"),
    }
    Ok(())
}

/// Waits, at most `timeout`, until the client has sent enough to tell HTTP/1 from HTTP/2. The
/// protocol sniffing that follows has no timer of its own, so a silent connection (or one that
/// sends a few bytes of the HTTP/2 preface and stops) would otherwise stay open forever.
async fn first_bytes(stream: &TcpStream, timeout: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + timeout;
    let mut buf = [0u8; 24];
    loop {
        match tokio::time::timeout_at(deadline, stream.peek(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => return false,
            Ok(Ok(n)) if n >= H2_PREFACE.len() || buf[..n] != H2_PREFACE[..n] => return true,
            // Part of the HTTP/2 preface: peek returns at once while those bytes wait (even
            // past the deadline, which `timeout_at` checks only when the peek is pending), so
            // check the clock and pause before looking again.
            Ok(Ok(_)) if tokio::time::Instant::now() >= deadline => return false,
            Ok(Ok(_)) => tokio::time::sleep(Duration::from_millis(5)).await,
        }
    }
}

/// The most connections the process can hold open given its file-descriptor limit, keeping
/// `reserve` descriptors for databases, files and outbound fetches.
pub fn descriptor_bound(reserve: u64) -> Option<usize> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes the struct we pass.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return None;
    }
    usize::try_from(limit.rlim_cur.saturating_sub(reserve)).ok()
}
