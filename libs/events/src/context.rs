//! What every Kafka client of podplane carries: its consumer lag for /metrics (consumers), and,
//! with `AWS_MSK_IAM`, the OAUTHBEARER tokens Amazon MSK's IAM access control takes (a SigV4
//! presigned `kafka-cluster:Connect` URL, made from the process's AWS credentials: IRSA, an
//! ECS task role, the environment).
//!
//! librdkafka calls a token refresh callback only if the client was built with one, and a
//! callback replaces its built-in OIDC token fetching: so whether clients make their own
//! tokens is part of their type (`MSK_IAM`), chosen once per client from the configuration.

use crate::lag;
use aws_credential_types::provider::SharedCredentialsProvider;
use rdkafka::client::{ClientContext, OAuthToken};
use rdkafka::consumer::ConsumerContext;
use rdkafka::statistics::Statistics;
use std::error::Error;

/// MSK IAM tokens signed, labelled by `outcome` (`ok`, `error`): a failing credentials chain
/// shows here before the broker connection does.
pub const MSK_IAM_TOKENS: &str = "podplane_kafka_msk_iam_tokens_total";

pub(crate) struct KafkaContext<const MSK_IAM: bool> {
    /// The consumer's name for its lag gauge (the group, or `tail`); none for producers.
    consumer: Option<String>,
    /// The AWS region of the MSK cluster (with `MSK_IAM`).
    region: Option<String>,
}

impl<const MSK_IAM: bool> KafkaContext<MSK_IAM> {
    pub(crate) fn new(consumer: Option<&str>, region: Option<&str>) -> Self {
        Self {
            consumer: consumer.map(str::to_owned),
            region: region.map(str::to_owned),
        }
    }
}

impl<const MSK_IAM: bool> ClientContext for KafkaContext<MSK_IAM> {
    const ENABLE_REFRESH_OAUTH_TOKEN: bool = MSK_IAM;

    fn stats(&self, statistics: Statistics) {
        if let Some(consumer) = &self.consumer {
            lag::record(consumer, &statistics);
        }
    }

    fn generate_oauth_token(&self, _config: Option<&str>) -> Result<OAuthToken, Box<dyn Error>> {
        let region = self
            .region
            .clone()
            .ok_or("AWS_MSK_IAM needs the cluster's AWS region")?;
        let signed = msk_iam_token(region);
        let outcome = if signed.is_ok() { "ok" } else { "error" };
        metrics::counter!(MSK_IAM_TOKENS, "outcome" => outcome).increment(1);
        if let Err(e) = &signed {
            // librdkafka retries; without a token nothing reaches the broker, so say why.
            tracing::error!(error = %e, "no MSK IAM token for the Kafka client");
        }
        let (token, lifetime_ms) = signed?;
        Ok(OAuthToken {
            token,
            // MSK identifies the client by the signature; librdkafka wants a name.
            principal_name: "podplane".to_owned(),
            lifetime_ms,
        })
    }
}

impl<const MSK_IAM: bool> ConsumerContext for KafkaContext<MSK_IAM> {}

/// A fresh MSK IAM token and when it expires (ms since the epoch), signed with the default
/// AWS credentials chain. librdkafka asks from its own threads or from inside a tokio task
/// polling a consumer, so the signer (async: it may fetch credentials) runs on a thread of its
/// own with a small runtime; tokens live 15 minutes, so this happens rarely.
fn msk_iam_token(region: String) -> Result<(String, i64), Box<dyn Error>> {
    let signer = std::thread::spawn(move || -> Result<(String, i64), String> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        runtime.block_on(async {
            let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
                .region(aws_config::Region::new(region.clone()))
                .load()
                .await;
            let credentials = config
                .credentials_provider()
                .ok_or("no AWS credentials provider is configured")?;
            sign(&region, credentials).await
        })
    });
    let token = signer.join().map_err(|_| "the MSK IAM signer panicked")??;
    Ok(token)
}

async fn sign(
    region: &str,
    credentials: SharedCredentialsProvider,
) -> Result<(String, i64), String> {
    aws_msk_iam_sasl_signer::generate_auth_token_from_credentials_provider(
        aws_config::Region::new(region.to_owned()),
        credentials,
    )
    .await
    .map_err(|e| format!("MSK IAM token: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_credential_types::Credentials;
    use base64::Engine;

    #[tokio::test]
    async fn an_msk_iam_token_is_a_presigned_connect_url_for_the_clusters_region() {
        let credentials = SharedCredentialsProvider::new(Credentials::new(
            "AKIAEXAMPLE",
            "secret",
            None,
            None,
            "test",
        ));
        let (token, expires_ms) = sign("eu-west-1", credentials).await.unwrap();
        let url = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(&token)
            .expect("base64url without padding, as MSK expects");
        let url = String::from_utf8(url).unwrap();
        assert!(
            url.starts_with("https://kafka.eu-west-1.amazonaws.com/?"),
            "{url}"
        );
        assert!(url.contains("Action=kafka-cluster%3AConnect"), "{url}");
        assert!(url.contains("X-Amz-Credential=AKIAEXAMPLE%2F"), "{url}");
        assert!(
            url.contains("%2Feu-west-1%2Fkafka-cluster%2Faws4_request"),
            "{url}"
        );
        assert!(url.contains("X-Amz-Signature="), "{url}");
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64;
        assert!(expires_ms > now_ms && expires_ms <= now_ms + 900_000 + 5_000);
    }

    #[test]
    fn a_client_without_a_region_gets_an_error_not_a_panic() {
        let context = KafkaContext::<true>::new(None, None);
        assert!(context.generate_oauth_token(None).is_err());
    }
}
