//! PostgreSQL over TLS as an operator on RDS configures it: `sslmode=verify-full` with the CA
//! bundle given by `sslrootcert`. The test starts a PostgreSQL server of its own (initdb from
//! the installed PostgreSQL) that accepts only TLS connections, with a certificate for
//! 127.0.0.1 signed by a CA the test makes, and connects the storage engine to it.

use podplane_store::{MetadataStore, PgMetadataStore, PgSettings};
use sqlx::Connection;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The PostgreSQL server programs, when PostgreSQL is installed (scripts/dev-services.sh
/// installs it). In CI a missing one fails the test; elsewhere it is skipped, loudly.
fn server_programs() -> Option<PathBuf> {
    let found = std::fs::read_dir("/usr/lib/postgresql")
        .ok()
        .and_then(|dirs| {
            dirs.filter_map(Result::ok)
                .map(|d| d.path().join("bin"))
                .filter(|bin| bin.join("initdb").exists())
                .max()
        });
    if found.is_none() {
        assert!(
            !std::env::var("CI").is_ok_and(|v| v == "true"),
            "CI=true but no PostgreSQL server programs under /usr/lib/postgresql"
        );
        eprintln!("SKIPPED: PostgreSQL TLS test (no initdb under /usr/lib/postgresql)");
    }
    found
}

fn run(cmd: &mut Command) {
    let out = cmd.output().expect("run a command");
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

/// PostgreSQL refuses to run as root: as root, run it as the `postgres` user.
fn as_server_user(program: &Path) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

/// A CA and a certificate for 127.0.0.1 and localhost signed by it; `name` prefixes the files.
fn certificates(dir: &Path, name: &str) {
    let d = |f: &str| dir.join(format!("{name}{f}")).display().to_string();
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    run(Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-days",
            "1",
            "-subj",
            "/CN=podplane test CA",
        ])
        .args(ec)
        .args(["-keyout", &d("ca.key"), "-out", &d("ca.pem")]));
    std::fs::write(
        d("server.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n",
    )
    .unwrap();
    run(Command::new("openssl")
        .args(["req", "-subj", "/CN=127.0.0.1"])
        .args(ec)
        .args(["-keyout", &d("server.key"), "-out", &d("server.csr")]));
    run(Command::new("openssl")
        .args(["x509", "-req", "-days", "1", "-in", &d("server.csr")])
        .args([
            "-CA",
            &d("ca.pem"),
            "-CAkey",
            &d("ca.key"),
            "-CAcreateserial",
        ])
        .args(["-extfile", &d("server.ext"), "-out", &d("server.pem")]));
}

struct Server {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A PostgreSQL server on 127.0.0.1 that refuses every connection not made over TLS.
fn tls_only_server(bin: &Path, dir: tempfile::TempDir) -> Server {
    let data = dir.path().join("data");
    if is_root() {
        run(Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(dir.path()));
    }
    run(as_server_user(&bin.join("initdb"))
        .args(["--no-sync", "-A", "trust", "-U", "postgres", "-D"])
        .arg(&data));
    std::fs::write(
        data.join("pg_hba.conf"),
        "local all all trust\nhostssl all all 127.0.0.1/32 trust\nhostnossl all all 127.0.0.1/32 reject\n",
    )
    .unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap();
    let file = |f: &str| dir.path().join(f).display().to_string();
    let child = as_server_user(&bin.join("postgres"))
        .arg("-D")
        .arg(&data)
        .args([
            "-p",
            &port.to_string(),
            "-k",
            &file(""),
            "-c",
            "listen_addresses=127.0.0.1",
        ])
        .args([
            "-c",
            "ssl=on",
            "-c",
            &format!("ssl_cert_file={}", file("server.pem")),
        ])
        .args(["-c", &format!("ssl_key_file={}", file("server.key"))])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start postgres");
    let server = Server {
        child,
        port,
        _dir: dir,
    };
    for _ in 0..200 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    server
}

#[tokio::test]
async fn postgres_over_tls_with_verify_full_and_nothing_without_it() {
    let Some(bin) = server_programs() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    certificates(dir.path(), "");
    // A second CA the server's certificate is not signed by.
    certificates(dir.path(), "other-");
    let ca = dir.path().join("ca.pem").display().to_string();
    let other_ca = dir.path().join("other-ca.pem").display().to_string();
    // The server reads its key as its own user; the CAs stay readable to the test.
    let server = tls_only_server(&bin, dir);
    let url = |query: &str| {
        format!(
            "postgres://postgres@127.0.0.1:{}/postgres?{query}",
            server.port
        )
    };

    let verified = url(&format!("sslmode=verify-full&sslrootcert={ca}"));
    let mut settings = PgSettings::new(&verified);
    settings.acquire_timeout = Duration::from_secs(10);
    let store = PgMetadataStore::connect(&settings, "http://127.0.0.1").unwrap();
    store.migrate().await.expect("the schema goes in over TLS");
    assert!(store.list_pods().await.unwrap().is_empty());
    // The session really is encrypted.
    let mut conn = sqlx::PgConnection::connect(&verified).await.unwrap();
    let ssl: bool = sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert!(ssl);

    // A certificate from a CA the operator did not name is refused.
    let wrong = url(&format!("sslmode=verify-full&sslrootcert={other_ca}"));
    let mut settings = PgSettings::new(&wrong);
    settings.acquire_timeout = Duration::from_secs(5);
    let store = PgMetadataStore::connect(&settings, "http://127.0.0.1").unwrap();
    assert!(
        store.migrate().await.is_err(),
        "an unknown CA must not be trusted"
    );

    // And this server takes nothing in the clear.
    assert!(sqlx::PgConnection::connect(&url("sslmode=disable"))
        .await
        .is_err());
}
