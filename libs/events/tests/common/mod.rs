//! Brokers of a test's own: Nisshi processes on loopback (scripts/dev-services.sh installs the
//! binary), so a test can stop, restart or front them without disturbing other tests.

#![allow(dead_code)]

use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Whether the Kafka tests can run: in CI they must; elsewhere they say SKIPPED.
pub fn enabled(what: &str) -> bool {
    match std::env::var("PODPLANE_TEST_KAFKA") {
        Ok(b) if !b.is_empty() => true,
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("CI=true but PODPLANE_TEST_KAFKA is not set: the Kafka tests cannot run")
        }
        _ => {
            eprintln!("SKIPPED: {what} (set PODPLANE_TEST_KAFKA or run scripts/test.sh)");
            false
        }
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Child processes killed when the test ends, however it ends.
pub struct Processes(pub Vec<Child>);

impl Drop for Processes {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// An in-memory Nisshi broker listening on `port`, telling clients to connect to `advertised`.
pub fn nisshi(port: u16, advertised: u16) -> Child {
    let nisshi = std::env::var("HOME")
        .map(|h| format!("{h}/.cargo/bin/nisshi"))
        .unwrap_or_else(|_| "nisshi".into());
    let child = Command::new(nisshi)
        .args(["broker", "--storage-engine", "memory://nisshi/"])
        .args(["--listener-url", &format!("tcp://127.0.0.1:{port}")])
        .args([
            "--advertised-listener-url",
            &format!("tcp://127.0.0.1:{advertised}"),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start nisshi (scripts/dev-services.sh up kafka installs it)");
    wait_for_port(port);
    child
}

pub fn wait_for_port(port: u16) {
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
