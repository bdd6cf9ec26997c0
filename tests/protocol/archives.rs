//! Pods that move between deployments: `podplane pod export` writes a pod to an archive and
//! `podplane pod import` loads it into another deployment (embedded or distributed), under
//! another base URL and pod name, all or nothing.

use crate::harness::*;
use futures_util::StreamExt;
use reqwest::Method;
use std::io::Write;
use std::process::Stdio;
use std::time::Duration;

const TITLE: &str = "http://purl.org/dc/terms/title";
const KNOWS: &str = "http://xmlns.com/foaf/0.1/knows";

/// Deterministic bytes that do not compress: `n` of them, seeded.
fn noise(seed: u64, n: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn embedded() -> Server {
    Server::start_with(
        &Via {
            embedded: true,
            ..Via::default()
        },
        &[],
    )
}

async fn put(url: String, body: Vec<u8>, content_type: &'static str) {
    let client = client();
    let res = owner()
        .request(&client, Method::PUT, &url)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .expect("PUT");
    assert!(res.status().is_success(), "PUT {url}: {}", res.status());
}

/// GET as the owner: status, content type and body.
async fn get(url: &str) -> (u16, String, Vec<u8>) {
    let client = client();
    let res = owner()
        .request(&client, Method::GET, url)
        .header("accept", "text/turtle, */*;q=0.5")
        .send()
        .await
        .expect("GET");
    let status = res.status().as_u16();
    let content_type = header(&res, "content-type");
    (
        status,
        content_type,
        res.bytes().await.expect("body").to_vec(),
    )
}

/// A WAC pod of the owner on `server`: `docs` RDF documents over ten containers (linking
/// each other relatively and absolutely, another origin and another pod of the server),
/// `blobs` binaries of `blob_bytes`, and a `public/` container anyone may read.
async fn fill(
    server: &Server,
    docs: usize,
    blobs: usize,
    blob_bytes: usize,
) -> (String, Vec<String>) {
    let root = server.private_pod(&owner().webid, "wac");
    let base = server.base.clone();
    let mut paths = vec![String::new(), ".acl".into(), "public/".into()];
    let mut writes = Vec::new();
    for j in 0..docs {
        let (c, next) = (j % 10, (j + 1) % 10);
        let path = format!("c{c}/d{j}.ttl");
        let body = format!(
            "<#it> <{KNOWS}> <../c{next}/d{}.ttl#it>, <{root}c{c}/>, <https://elsewhere.example/x>, \
             <{base}/another-pod/x>; <{TITLE}> \"document {j}\"; <{KNOWS}> [ <{TITLE}> \"b{j}\" ].",
            (j + 1) % docs
        );
        writes.push((path, body.into_bytes(), "text/turtle"));
    }
    for b in 0..blobs {
        writes.push((
            format!("c{b}/blob{b}.bin"),
            noise(b as u64 + 7, blob_bytes),
            "application/octet-stream",
        ));
    }
    let public = format!(
        "@prefix acl: <http://www.w3.org/ns/auth/acl#>.
         <#owner> a acl:Authorization; acl:agent <{}>; acl:accessTo <./>; acl:default <./>;
             acl:mode acl:Read, acl:Write, acl:Control.
         <#public> a acl:Authorization; acl:agentClass <http://xmlns.com/foaf/0.1/Agent>;
             acl:accessTo <./>; acl:default <./>; acl:mode acl:Read.",
        owner().webid
    );
    writes.push((
        "public/readme.ttl".into(),
        b"<> <http://purl.org/dc/terms/title> \"hello\".".to_vec(),
        "text/turtle",
    ));
    for (path, _, _) in &writes {
        paths.push(path.clone());
    }
    futures_util::stream::iter(writes)
        .map(|(path, body, ct)| put(format!("{root}{path}"), body, ct))
        .buffer_unordered(16)
        .collect::<Vec<()>>()
        .await;
    put(
        format!("{root}public/.acl"),
        public.into_bytes(),
        "text/turtle",
    )
    .await;
    paths.push("public/.acl".into());
    for c in 0..10.min(docs.max(blobs)) {
        paths.push(format!("c{c}/"));
    }
    (root, paths)
}

/// A listing without its members' sizes: an RDF document's stored size depends on which IRIs
/// are the server's own, which differs between deployments.
fn without_sizes(listing: &str) -> String {
    listing
        .lines()
        .map(|line| match line.find("posix:size ") {
            Some(at) => &line[..at],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Equal documents, or the first line that differs.
fn same_document(expected: &str, found: &str, path: &str) {
    if expected == found {
        return;
    }
    let differing = expected
        .lines()
        .zip(found.lines())
        .find(|(a, b)| a != b)
        .map_or_else(
            || "(one is longer)".to_owned(),
            |(a, b)| format!("{a}\n  vs\n{b}"),
        );
    panic!("{path} differs after the move:\n{differing}");
}

fn name_of(root: &str) -> String {
    root.trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_pod_exported_from_embedded_mode_imports_elsewhere_under_another_base_and_name() {
    let source = embedded();
    let (root, paths) = fill(&source, 975, 10, 512 * 1024).await;
    assert_eq!(paths.len(), 1000, "a pod of a thousand resources");
    let dir = tempfile::tempdir().expect("tempdir");
    let archive = dir.path().join("pod.tar");
    let archive_arg = archive.to_str().unwrap();
    source.pod_command(&["export", &name_of(&root), "--output", archive_arg]);

    // Another deployment (distributed in that mode), another base URL, another name.
    let target = Server::start(&[]);
    let moved_name = format!("moved-{}", name_of(&root));
    target.pod_command(&["import", archive_arg, "--name", &moved_name]);
    let moved = format!("{}/{moved_name}/", target.base);
    assert_ne!(root, moved);

    let compared = futures_util::stream::iter(paths.clone())
        .map(|path| {
            let (from, to) = (format!("{root}{path}"), format!("{moved}{path}"));
            let (root, moved) = (root.clone(), moved.clone());
            async move {
                let (s1, t1, b1) = get(&from).await;
                let (s2, t2, b2) = get(&to).await;
                assert_eq!((s1, s2), (200, 200), "{path}");
                assert_eq!(t1, t2, "{path}");
                if t1.starts_with("text/turtle") {
                    let expected = String::from_utf8(b1).unwrap().replace(&root, &moved);
                    let found = String::from_utf8(b2).unwrap();
                    same_document(&without_sizes(&expected), &without_sizes(&found), &path);
                } else {
                    assert!(b1 == b2, "{path}: the bytes differ");
                }
            }
        })
        .buffer_unordered(16)
        .count()
        .await;
    assert_eq!(compared, 1000);

    // Access control is the same: public where it was, private elsewhere, the owner recorded.
    assert_eq!(
        status_as(
            None,
            Method::GET,
            &format!("{moved}public/readme.ttl"),
            None
        )
        .await,
        200
    );
    assert_eq!(
        status_as(None, Method::GET, &format!("{moved}c1/d1.ttl"), None).await,
        401
    );
    let listed = target.pod_command(&["list"]);
    assert!(
        listed
            .lines()
            .any(|l| l.starts_with(&format!("{moved_name}\twac\t{}", owner().webid))),
        "{listed}"
    );
    // The same name again is refused, and the pod stays as it was.
    let again = target
        .pod_process(&["import", archive_arg, "--name", &moved_name])
        .output()
        .expect("run import");
    assert!(!again.status.success());
    assert_eq!(get(&format!("{moved}c2/d2.ttl")).await.0, 200);
}

/// Rows of pod `name` in the storage database, and whether its pod row exists.
async fn traces(server: &Server, name: &str) -> (i64, i64) {
    let rows = server
        .storage_count(&format!(
            "SELECT COUNT(*) FROM resources WHERE path LIKE '/{name}/%'"
        ))
        .await;
    let pods = server
        .storage_count(&format!("SELECT COUNT(*) FROM pods WHERE name = '{name}'"))
        .await;
    (rows, pods)
}

#[tokio::test]
async fn an_import_killed_midway_leaves_no_trace() {
    let source = embedded();
    let (root, _) = fill(&source, 450, 0, 0).await;
    // Last in path order: the archive ends with it.
    let big = noise(3, 8 * 1024 * 1024);
    put(format!("{root}zz/big.bin"), big, "application/octet-stream").await;
    let dir = tempfile::tempdir().expect("tempdir");
    let archive = dir.path().join("pod.tar");
    let archive_arg = archive.to_str().unwrap();
    source.pod_command(&["export", &name_of(&root), "--output", archive_arg]);
    let bytes = std::fs::read(&archive).expect("archive");

    let target = Server::start(&[
        "--import-grace-secs",
        "2",
        "--gc-interval-secs",
        "1",
        "--gc-grace-secs",
        "2",
    ]);
    let blobs_before = target.blob_files();
    let name = format!("killed-{}", name_of(&root));
    let mut import = target
        .pod_process(&["import", "--name", &name])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn import");
    // All but the end of the big blob: the import commits its first batches, then waits.
    let mut stdin = import.stdin.take().expect("stdin");
    stdin
        .write_all(&bytes[..bytes.len() - 4 * 1024 * 1024])
        .expect("feed");
    let mut seen = (0, 0);
    for _ in 0..200 {
        seen = traces(&target, &name).await;
        if seen.0 > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        seen.0 > 0 && seen.1 == 1,
        "the import wrote rows first: {seen:?}"
    );
    import.kill().expect("SIGKILL");
    let _ = import.wait();
    drop(stdin);

    let moved = format!("{}/{name}/", target.base);
    assert_eq!(get(&moved).await.0, 404, "never visible");
    assert!(!target.pod_command(&["list"]).contains(&name));
    let mut left = (1, 1, usize::MAX);
    for _ in 0..300 {
        let (rows, pods) = traces(&target, &name).await;
        left = (rows, pods, target.blob_files());
        if left == (0, 0, blobs_before) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        left,
        (0, 0, blobs_before),
        "rows, pod row and blobs of the dead import"
    );

    // The name is free: the whole archive imports.
    target.pod_command(&["import", archive_arg, "--name", &name]);
    assert_eq!(get(&moved).await.0, 200);
}

#[tokio::test]
async fn a_bad_archive_is_refused_and_leaves_no_pod() {
    let target = Server::start(&[]);
    let dir = tempfile::tempdir().expect("tempdir");
    let cases: [(&str, Vec<u8>); 3] = [
        (
            "not a tar file",
            b"hello, this is not an archive".repeat(40),
        ),
        ("empty", Vec::new()),
        ("a tar without a manifest", {
            let mut b = tar::Builder::new(Vec::new());
            let mut h = tar::Header::new_ustar();
            h.set_size(3);
            h.set_cksum();
            b.append_data(&mut h, "readme.txt", &b"hi!"[..]).unwrap();
            b.into_inner().unwrap()
        }),
    ];
    for (i, (what, bytes)) in cases.into_iter().enumerate() {
        let path = dir.path().join(format!("bad{i}.tar"));
        std::fs::write(&path, bytes).unwrap();
        let name = format!("bad-{i}-{}", std::process::id());
        let out = target
            .pod_process(&["import", path.to_str().unwrap(), "--name", &name])
            .output()
            .expect("run import");
        assert!(!out.status.success(), "{what} was imported");
        assert!(!out.stderr.is_empty(), "{what}: the import says why");
        assert_eq!(traces(&target, &name).await, (0, 0), "{what}");
    }
    // No such pod to export; a name no pod may have.
    let out = target
        .pod_process(&[
            "export",
            "no-such-pod",
            "--output",
            dir.path().join("x.tar").to_str().unwrap(),
        ])
        .output()
        .expect("run export");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no pod named no-such-pod"));
    assert!(!dir.path().join("x.tar").exists() && !dir.path().join("x.partial").exists());
    let source = embedded();
    let root = source.private_pod(&owner().webid, "acp");
    let archive = dir.path().join("good.tar");
    source.pod_command(&[
        "export",
        &name_of(&root),
        "--output",
        archive.to_str().unwrap(),
    ]);
    let out = target
        .pod_process(&["import", archive.to_str().unwrap(), "--name", "Not_A_Name"])
        .output()
        .expect("run import");
    assert!(!out.status.success(), "an invalid pod name was accepted");
    assert_eq!(traces(&target, "Not_A_Name").await, (0, 0));
}
