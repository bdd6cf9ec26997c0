//! A TCP proxy between the suite and a server or service, for injecting outages.

use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// A TCP proxy that can be cut (every connection dropped, new ones closed at once) and
/// restored: an outage of whatever is behind it, as a client sees one.
pub struct FaultProxy {
    pub addr: SocketAddr,
    up: std::sync::Arc<std::sync::atomic::AtomicBool>,
    connections: std::sync::Arc<Mutex<Vec<tokio::task::AbortHandle>>>,
}

impl FaultProxy {
    pub fn start(target: SocketAddr) -> FaultProxy {
        FaultProxy::over(vec![target])
    }

    /// Sends each new connection to the next target that accepts it (round robin with
    /// fail-over), so a client's requests over fresh connections spread over the targets.
    pub fn over(targets: Vec<SocketAddr>) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let addr = listener.local_addr().expect("proxy addr");
        listener.set_nonblocking(true).expect("nonblocking");
        let up = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let connections: std::sync::Arc<Mutex<Vec<tokio::task::AbortHandle>>> = Default::default();
        let (up2, connections2) = (up.clone(), connections.clone());
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("proxy listener");
                let next = AtomicUsize::new(0);
                while let Ok((mut inbound, _)) = listener.accept().await {
                    if !up2.load(Ordering::SeqCst) {
                        continue; // dropped: the client sees the connection closed
                    }
                    let start = next.fetch_add(1, Ordering::SeqCst);
                    let targets = targets.clone();
                    let task = tokio::spawn(async move {
                        for i in 0..targets.len() {
                            let target = targets[(start + i) % targets.len()];
                            if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                                let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound)
                                    .await;
                                return;
                            }
                        }
                    });
                    let mut open = connections2.lock().unwrap();
                    open.retain(|c| !c.is_finished());
                    open.push(task.abort_handle());
                }
            });
        });
        FaultProxy {
            addr,
            up,
            connections,
        }
    }

    /// A proxy to `target` when there is one (distributed mode), else `None`.
    pub fn start_if(target: Option<SocketAddr>) -> Option<FaultProxy> {
        target.map(FaultProxy::start)
    }

    pub fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        for c in self.connections.lock().unwrap().drain(..) {
            c.abort();
        }
    }

    pub fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}
