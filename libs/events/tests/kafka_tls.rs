//! Kafka over TLS, with client certificates, against a real broker: a Nisshi broker of this
//! test's own behind a TLS terminator (socat with OpenSSL), advertised at the TLS port, so
//! every connection the client makes (bootstrap and partition leaders) goes through TLS.
//! SASL (SCRAM, OAUTHBEARER) cannot be tested this way: no Kafka-protocol broker that runs
//! here speaks it; `kafka_config`'s unit tests cover how those settings reach the client.

mod common;

use common::*;
use podplane_events::*;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use uuid::Uuid;

fn run(cmd: &mut Command) {
    let out = cmd.output().expect("run openssl");
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA, a server certificate for 127.0.0.1 and a client certificate, signed by the CA.
fn certificates(dir: &Path) {
    let d = |f: &str| dir.join(f).display().to_string();
    run(Command::new("openssl").args([
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=podplane test CA",
        "-keyout",
        &d("ca.key"),
        "-out",
        &d("ca.pem"),
    ]));
    std::fs::write(dir.join("server.ext"), "subjectAltName=IP:127.0.0.1\n").unwrap();
    for (name, ext) in [("server", Some("server.ext")), ("client", None)] {
        run(Command::new("openssl").args([
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-subj",
            &format!("/CN={name}"),
            "-keyout",
            &d(&format!("{name}.key")),
            "-out",
            &d(&format!("{name}.csr")),
        ]));
        let mut sign = Command::new("openssl");
        sign.args([
            "x509",
            "-req",
            "-days",
            "1",
            "-in",
            &d(&format!("{name}.csr")),
            "-CA",
            &d("ca.pem"),
            "-CAkey",
            &d("ca.key"),
            "-CAcreateserial",
            "-out",
            &d(&format!("{name}.pem")),
        ]);
        if let Some(ext) = ext {
            sign.args(["-extfile", &d(ext)]);
        }
        run(&mut sign);
    }
}

/// A broker reachable only through TLS that requires a client certificate. Returns the TLS
/// address.
fn tls_broker(dir: &Path) -> (String, Processes) {
    let (plain, tls) = (free_port(), free_port());
    let broker = nisshi(plain, tls);
    let d = |f: &str| dir.join(f).display().to_string();
    let terminator = Command::new("socat")
        .arg(format!(
            "OPENSSL-LISTEN:{tls},bind=127.0.0.1,reuseaddr,fork,cert={},key={},cafile={},verify=1",
            d("server.pem"),
            d("server.key"),
            d("ca.pem")
        ))
        .arg(format!("TCP:127.0.0.1:{plain}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start socat (scripts/test.sh installs it)");
    let processes = Processes(vec![broker, terminator]);
    wait_for_port(tls);
    (format!("127.0.0.1:{tls}"), processes)
}

fn tls_config(address: &str, dir: &Path, client_certificate: bool) -> KafkaConfig {
    let d = |f: &str| Some(dir.join(f).display().to_string());
    KafkaConfig {
        security_protocol: SecurityProtocol::Ssl,
        tls: Tls {
            ca_location: d("ca.pem"),
            certificate_location: if client_certificate {
                d("client.pem")
            } else {
                None
            },
            key_location: if client_certificate {
                d("client.key")
            } else {
                None
            },
        },
        partitions: 2,
        ..KafkaConfig::plaintext(address)
    }
}

#[tokio::test]
async fn kafka_over_mutual_tls_produces_and_consumes_and_refuses_a_client_without_a_certificate() {
    if !enabled("Kafka TLS test") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    certificates(dir.path());
    let (address, _processes) = tls_broker(dir.path());
    let kafka = tls_config(&address, dir.path(), true);
    let topic = format!("podplane.tls.{}", Uuid::new_v4().simple());
    ensure_topics(&kafka, &[&topic]).await.unwrap();
    let bus = KafkaBus::connect(&kafka).unwrap();
    let sent = Envelope {
        id: Uuid::new_v4(),
        topic: topic.clone(),
        key: "k".into(),
        payload: b"over tls".to_vec(),
        traceparent: None,
    };
    bus.publish(&sent).await.unwrap();

    let seen: Arc<Mutex<Vec<Envelope>>> = Arc::default();
    let done = Arc::new(tokio::sync::Notify::new());
    let (seen2, done2) = (seen.clone(), done.clone());
    let topics = [topic.as_str()];
    let group = format!("tls-{}", Uuid::new_v4().simple());
    let consumer = consume(
        &kafka,
        &group,
        &topics,
        move |e| {
            let (seen, done) = (seen2.clone(), done2.clone());
            async move {
                seen.lock().unwrap().push(e);
                done.notify_one();
                Ok(())
            }
        },
        async {
            let _ = tokio::time::timeout(Duration::from_secs(30), done.notified()).await;
        },
    );
    consumer.await.unwrap();
    assert_eq!(
        seen.lock().unwrap().as_slice(),
        &[sent],
        "the event came back over TLS"
    );

    // Without a client certificate the terminator refuses the handshake: nothing is sent.
    let anonymous = tls_config(&address, dir.path(), false);
    let refused = KafkaBus::connect(&anonymous).unwrap();
    let again = Envelope {
        id: Uuid::new_v4(),
        ..seen.lock().unwrap()[0].clone()
    };
    assert!(refused.publish(&again).await.is_err());
}
