//! How a distributed service reaches Kafka: TLS, SASL (SCRAM, OAUTHBEARER, MSK IAM), topics.

use clap::Args;
use podplane_events::{KafkaConfig, Sasl, SecurityProtocol, Tls};

/// How a distributed service reaches Kafka. The environment names follow ESS's
/// (`KAFKA_BOOTSTRAP_SERVERS`, ...); for Amazon MSK use `sasl_ssl` with SCRAM-SHA-512 (port
/// 9096) or TLS alone (port 9094).
#[derive(Args, Clone)]
pub struct KafkaArgs {
    /// Kafka bootstrap servers (`host:port,host:port`).
    #[arg(long, env = "KAFKA_BOOTSTRAP_SERVERS")]
    pub kafka_bootstrap_servers: String,
    /// plaintext, ssl, sasl_plaintext or sasl_ssl (default: sasl_ssl when a SASL mechanism is
    /// set, ssl when a CA bundle is set, plaintext otherwise).
    #[arg(long, env = "KAFKA_SECURITY_PROTOCOL", value_parser = ["plaintext", "ssl", "sasl_plaintext", "sasl_ssl"])]
    pub kafka_security_protocol: Option<String>,
    /// PEM bundle of the CAs that sign the brokers' certificates (default: the system's).
    #[arg(long, env = "KAFKA_SSL_CA_LOCATION")]
    pub kafka_ssl_ca_location: Option<String>,
    /// PEM client certificate, for brokers that authenticate clients by TLS.
    #[arg(long, env = "KAFKA_SSL_CERTIFICATE_LOCATION")]
    pub kafka_ssl_certificate_location: Option<String>,
    /// PEM key of the client certificate.
    #[arg(long, env = "KAFKA_SSL_KEY_LOCATION")]
    pub kafka_ssl_key_location: Option<String>,
    /// SASL mechanism: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER (tokens from an OIDC
    /// token endpoint by client credentials) or AWS_MSK_IAM (Amazon MSK's IAM access control).
    #[arg(long, env = "KAFKA_SASL_MECHANISM", value_parser = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER", "AWS_MSK_IAM"])]
    pub kafka_sasl_mechanism: Option<String>,
    /// SASL user name (PLAIN, SCRAM).
    #[arg(long, env = "KAFKA_SASL_USERNAME")]
    pub kafka_sasl_username: Option<String>,
    /// SASL password (PLAIN, SCRAM).
    #[arg(long, env = "KAFKA_SASL_PASSWORD", hide_env_values = true)]
    pub kafka_sasl_password: Option<String>,
    /// OAUTHBEARER: the OIDC token endpoint.
    #[arg(long, env = "KAFKA_SASL_OAUTHBEARER_TOKEN_ENDPOINT_URL")]
    pub kafka_oauthbearer_token_endpoint_url: Option<String>,
    /// OAUTHBEARER: client id at the token endpoint.
    #[arg(long, env = "KAFKA_SASL_OAUTHBEARER_CLIENT_ID")]
    pub kafka_oauthbearer_client_id: Option<String>,
    /// OAUTHBEARER: client secret at the token endpoint.
    #[arg(
        long,
        env = "KAFKA_SASL_OAUTHBEARER_CLIENT_SECRET",
        hide_env_values = true
    )]
    pub kafka_oauthbearer_client_secret: Option<String>,
    /// OAUTHBEARER: scope to ask for.
    #[arg(long, env = "KAFKA_SASL_OAUTHBEARER_SCOPE")]
    pub kafka_oauthbearer_scope: Option<String>,
    /// AWS_MSK_IAM: the MSK cluster's region (tokens are signed with the default AWS
    /// credentials chain: IRSA, the ECS task role, AWS_* variables).
    #[arg(long, env = "AWS_REGION")]
    pub kafka_aws_region: Option<String>,
    /// Further librdkafka properties, `key=value` (repeat the flag, or comma-separate in the
    /// environment); they override the settings above.
    #[arg(
        long = "kafka-property",
        env = "KAFKA_PROPERTIES",
        value_delimiter = ','
    )]
    pub kafka_properties: Vec<String>,
    /// Partitions of topics this service creates at start-up (when the broker does not
    /// auto-create them; existing topics are kept as they are).
    #[arg(long, env = "PODPLANE_KAFKA_PARTITIONS", default_value_t = 6)]
    pub kafka_partitions: i32,
    /// Replication factor of topics this service creates (-1: the broker's
    /// default.replication.factor; use 3 on MSK across three zones).
    #[arg(long, env = "PODPLANE_KAFKA_REPLICATION_FACTOR", default_value_t = -1, allow_negative_numbers = true)]
    pub kafka_replication_factor: i32,
}

impl KafkaArgs {
    /// The client configuration these flags describe, refusing incomplete or contradictory
    /// combinations at start-up rather than at the first connection.
    pub fn config(&self) -> anyhow::Result<KafkaConfig> {
        let required = |value: &Option<String>, flag: &str| {
            value.clone().ok_or_else(|| {
                let mechanism = self.kafka_sasl_mechanism.as_deref().unwrap_or_default();
                anyhow::anyhow!("--kafka-sasl-mechanism {mechanism} needs --{flag}")
            })
        };
        let sasl = match self.kafka_sasl_mechanism.as_deref() {
            None => None,
            Some("PLAIN") => Some(Sasl::Plain {
                username: required(&self.kafka_sasl_username, "kafka-sasl-username")?,
                password: required(&self.kafka_sasl_password, "kafka-sasl-password")?,
            }),
            Some(m @ ("SCRAM-SHA-256" | "SCRAM-SHA-512")) => Some(Sasl::Scram {
                sha512: m == "SCRAM-SHA-512",
                username: required(&self.kafka_sasl_username, "kafka-sasl-username")?,
                password: required(&self.kafka_sasl_password, "kafka-sasl-password")?,
            }),
            Some("OAUTHBEARER") => Some(Sasl::OauthbearerOidc {
                token_endpoint: required(
                    &self.kafka_oauthbearer_token_endpoint_url,
                    "kafka-oauthbearer-token-endpoint-url",
                )?,
                client_id: required(
                    &self.kafka_oauthbearer_client_id,
                    "kafka-oauthbearer-client-id",
                )?,
                client_secret: required(
                    &self.kafka_oauthbearer_client_secret,
                    "kafka-oauthbearer-client-secret",
                )?,
                scope: self.kafka_oauthbearer_scope.clone(),
            }),
            Some("AWS_MSK_IAM") => Some(Sasl::MskIam {
                region: required(&self.kafka_aws_region, "kafka-aws-region")?,
            }),
            Some(other) => anyhow::bail!("unsupported SASL mechanism {other}"),
        };
        let security_protocol = match self.kafka_security_protocol.as_deref() {
            Some(p) => SecurityProtocol::parse(p)
                .ok_or_else(|| anyhow::anyhow!("unknown Kafka security protocol {p}"))?,
            None if sasl.is_some() => SecurityProtocol::SaslSsl,
            None if self.kafka_ssl_ca_location.is_some() => SecurityProtocol::Ssl,
            None => SecurityProtocol::Plaintext,
        };
        let properties = self
            .kafka_properties
            .iter()
            .map(|p| match p.split_once('=') {
                Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_owned(), v.to_owned())),
                _ => Err(anyhow::anyhow!(
                    "--kafka-property takes key=value, not {p:?}"
                )),
            })
            .collect::<anyhow::Result<_>>()?;
        let config = KafkaConfig {
            bootstrap_servers: self.kafka_bootstrap_servers.clone(),
            security_protocol,
            tls: Tls {
                ca_location: self.kafka_ssl_ca_location.clone(),
                certificate_location: self.kafka_ssl_certificate_location.clone(),
                key_location: self.kafka_ssl_key_location.clone(),
            },
            sasl,
            properties,
            partitions: self.kafka_partitions,
            replication_factor: self.kafka_replication_factor,
        };
        config.validate()?;
        Ok(config)
    }
}
