//! Engines named by URL (`--metadata-url`, `--blob-url`): any metadata engine pairs with any
//! blob store, whichever mode runs them.

use crate::harness::*;
use std::process::{Command, Stdio};

/// Embedded mode over distributed mode's engines: `podplane serve` with its metadata in
/// PostgreSQL and its content in S3, the pod made by `podplane pod create` through the same
/// URLs (the provisioning service's record in PostgreSQL too). Nothing lands in the data
/// directory, and a restart finds everything.
#[tokio::test]
async fn serve_keeps_metadata_and_content_where_their_urls_say() {
    let Some(infra) = infra() else {
        eprintln!("SKIPPED: this test needs PostgreSQL and S3 (PODPLANE_TEST_MODE=distributed)");
        return;
    };
    let pid = std::process::id();
    let db = format!("podplane_urls_{pid}");
    psql(&infra.pg_admin_url, &format!("CREATE DATABASE {db}"));
    psql(&infra.pg_admin_url, &format!("CREATE DATABASE {db}_p"));
    psql(&infra.pg_admin_url, &format!("CREATE DATABASE {db}_a"));
    let (server, _) = infra
        .pg_admin_url
        .rsplit_once('/')
        .expect("PODPLANE_TEST_PG_URL names a database");
    let metadata = format!("{server}/{db}");
    let provision = format!("{server}/{db}_p");
    let audit = format!("{server}/{db}_a");
    let prefix = format!("urls-{pid}/");
    let blobs = format!("s3://{}/{prefix}", infra.s3_bucket);
    let data = tempfile::tempdir().expect("tempdir");
    let addr = free_addr();
    let base = format!("http://{addr}");

    let made = Command::new(BIN)
        .args([
            "pod",
            "create",
            "urls",
            "--owner",
            "https://owner.example/#me",
        ])
        .args(["--base-url", &base, "--database-url", &metadata])
        .args(["--provision-database-url", &provision])
        .output()
        .expect("run podplane pod create");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let serve = || {
        let child = Command::new(BIN)
            .arg("serve")
            .args(["--listen", &addr.to_string(), "--base-url", &base])
            .arg("--data-dir")
            .arg(data.path())
            .args(["--metadata-url", &metadata, "--blob-url", &blobs])
            .args(["--provision-database-url", &provision])
            .args(["--audit-database-url", &audit])
            .args(["--s3-endpoint", &infra.s3_endpoint, "--s3-path-style"])
            .args(["--danger-no-access-control", "--exit-on-stdin-eof"])
            .env("PODPLANE_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("start podplane serve");
        wait_ready(addr);
        child
    };

    let mut first = serve();
    let file = format!("{base}/urls/files/a.bin");
    let doc = format!("{base}/urls/notes/n1");
    let res = put(&file, "application/octet-stream", vec![7u8; 100_000]).await;
    assert_eq!(res.status(), 201);
    assert_eq!(put(&doc, TURTLE, "<#a> <#b> 42 .").await.status(), 201);
    first.kill().expect("stop the server");
    let _ = first.wait();

    let mut second = serve();
    let res = get(&file).await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.bytes().await.expect("body").as_ref(),
        &[7u8; 100_000][..]
    );
    assert!(text(get(&doc).await).await.contains("42"));
    second.kill().expect("stop the server");
    let _ = second.wait();

    assert_eq!(count_objects(&prefix), 1, "the binary's blob is in S3");
    let left: Vec<_> = std::fs::read_dir(data.path())
        .expect("data directory")
        .flatten()
        .map(|e| e.file_name())
        .filter(|n| {
            n != "notifications.sqlite" && !n.to_string_lossy().starts_with("notifications.sqlite-")
        })
        .collect();
    assert!(left.is_empty(), "the data directory holds {left:?}");
}

/// A location that names no engine is refused at start-up with a message that says what would
/// do, and without echoing a password.
#[test]
fn an_unknown_engine_is_refused_at_start_up() {
    let data = tempfile::tempdir().expect("tempdir");
    let out = Command::new(BIN)
        .arg("serve")
        .arg("--data-dir")
        .arg(data.path())
        .args(["--metadata-url", "mysql://root:hunter2@db/pods"])
        .output()
        .expect("run podplane serve");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("sqlite://"), "{stderr}");
    assert!(!stderr.contains("hunter2"), "{stderr}");
    let out = Command::new(BIN)
        .arg("serve")
        .arg("--data-dir")
        .arg(data.path())
        .args(["--blob-url", "gs://bucket/x"])
        .output()
        .expect("run podplane serve");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("s3://"));
}
