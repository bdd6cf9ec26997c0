//! AWS_MSK_IAM wiring against a real Kafka-protocol broker on loopback: no MSK runs here, so
//! this proves the part that is ours — a client configured for IAM has librdkafka call
//! podplane's token callback, which signs a token with the default AWS credentials chain.
//! (The broker here does not take OAUTHBEARER; the token's shape is checked by a unit test.)

use podplane_events::*;
use std::time::Duration;
use uuid::Uuid;

#[tokio::test]
async fn a_client_configured_for_msk_iam_signs_its_tokens_with_the_aws_credentials_chain() {
    let brokers = match std::env::var("PODPLANE_TEST_KAFKA") {
        Ok(b) if !b.is_empty() => b,
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("CI=true but PODPLANE_TEST_KAFKA is not set: the Kafka tests cannot run")
        }
        _ => {
            eprintln!("SKIPPED: MSK IAM wiring test (set PODPLANE_TEST_KAFKA)");
            return;
        }
    };
    // Credentials from the environment, the first link of the chain (what an operator's
    // AWS_* variables or an ECS task's role provide); no instance metadata lookups.
    std::env::set_var("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEWIRING");
    std::env::set_var("AWS_SECRET_ACCESS_KEY", "not-a-real-secret");
    std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
    let metrics = podplane_telemetry::prometheus().expect("a metrics recorder");

    let config = KafkaConfig {
        security_protocol: SecurityProtocol::SaslPlaintext,
        sasl: Some(Sasl::MskIam {
            region: "eu-west-1".into(),
        }),
        ..KafkaConfig::plaintext(brokers)
    };
    config.validate().unwrap();
    let bus = KafkaBus::connect(&config).unwrap();
    let envelope = Envelope {
        id: Uuid::new_v4(),
        topic: "podplane.test.msk-iam".into(),
        key: "k".into(),
        payload: b"{}".to_vec(),
        traceparent: None,
    };
    // The broker does not take the mechanism: the publish waits or fails, and must not panic.
    let _ = tokio::time::timeout(Duration::from_secs(3), bus.publish(&envelope)).await;

    let signed = format!("{MSK_IAM_TOKENS}{{outcome=\"ok\"}}");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let text = metrics.render();
        if text.lines().any(|l| l.starts_with(&signed)) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no token was signed through the callback:\n{}",
            text.lines()
                .filter(|l| l.contains("msk_iam"))
                .collect::<Vec<_>>()
                .join("\n")
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
