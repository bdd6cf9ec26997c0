//! How podplane reaches a Kafka cluster: bootstrap servers, TLS, SASL and topic settings, as
//! one value every producer, consumer and admin client is built from. Amazon MSK requires TLS
//! and authentication (SCRAM-SHA-512, or IAM through OAUTHBEARER); a local broker needs none.

use rdkafka::config::ClientConfig;
use std::fmt;

/// `security.protocol`: whether the connection is encrypted and whether SASL authenticates it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SecurityProtocol {
    #[default]
    Plaintext,
    Ssl,
    SaslPlaintext,
    SaslSsl,
}

impl SecurityProtocol {
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "plaintext" => Some(Self::Plaintext),
            "ssl" => Some(Self::Ssl),
            "sasl_plaintext" => Some(Self::SaslPlaintext),
            "sasl_ssl" => Some(Self::SaslSsl),
            _ => None,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Plaintext => "plaintext",
            Self::Ssl => "ssl",
            Self::SaslPlaintext => "sasl_plaintext",
            Self::SaslSsl => "sasl_ssl",
        }
    }

    fn tls(self) -> bool {
        matches!(self, Self::Ssl | Self::SaslSsl)
    }

    fn sasl(self) -> bool {
        matches!(self, Self::SaslPlaintext | Self::SaslSsl)
    }
}

/// How SASL authenticates the client.
#[derive(Clone, PartialEq, Eq)]
pub enum Sasl {
    Plain {
        username: String,
        password: String,
    },
    /// SCRAM-SHA-256 or SCRAM-SHA-512 (MSK's SASL/SCRAM uses 512).
    Scram {
        sha512: bool,
        username: String,
        password: String,
    },
    /// OAUTHBEARER with tokens from an OIDC token endpoint (client credentials), refreshed by
    /// the client library before they expire.
    OauthbearerOidc {
        token_endpoint: String,
        client_id: String,
        client_secret: String,
        scope: Option<String>,
    },
    /// Amazon MSK's IAM access control: OAUTHBEARER tokens signed with the process's AWS
    /// credentials (the default chain: IRSA, ECS task role, environment) for the cluster's
    /// region, made and refreshed by podplane.
    MskIam {
        region: String,
    },
}

impl fmt::Debug for Sasl {
    // Secrets never reach a log line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Plain { username, .. } => write!(f, "PLAIN as {username}"),
            Self::Scram {
                sha512, username, ..
            } => write!(
                f,
                "SCRAM-SHA-{} as {username}",
                if *sha512 { 512 } else { 256 }
            ),
            Self::OauthbearerOidc {
                token_endpoint,
                client_id,
                ..
            } => write!(f, "OAUTHBEARER (OIDC {token_endpoint}) as {client_id}"),
            Self::MskIam { region } => write!(f, "AWS_MSK_IAM in {region}"),
        }
    }
}

/// Files holding PEM certificates and keys for TLS.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tls {
    /// CA bundle that signs the brokers' certificates (default: the system's CAs).
    pub ca_location: Option<String>,
    /// Client certificate and key, for brokers that authenticate clients by TLS.
    pub certificate_location: Option<String>,
    pub key_location: Option<String>,
}

/// Everything needed to talk to one Kafka cluster.
#[derive(Clone, PartialEq, Eq)]
pub struct KafkaConfig {
    pub bootstrap_servers: String,
    pub security_protocol: SecurityProtocol,
    pub tls: Tls,
    pub sasl: Option<Sasl>,
    /// Further librdkafka properties, set last (they override the ones above).
    pub properties: Vec<(String, String)>,
    /// Partitions of the topics podplane creates when the broker does not auto-create them.
    pub partitions: i32,
    /// Replication factor of the topics podplane creates; -1 leaves it to the broker's
    /// `default.replication.factor`.
    pub replication_factor: i32,
}

impl fmt::Debug for KafkaConfig {
    // Extra properties may hold secrets: only their names are shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let extra: Vec<&str> = self.properties.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("KafkaConfig")
            .field("bootstrap_servers", &self.bootstrap_servers)
            .field("security_protocol", &self.security_protocol)
            .field("tls", &self.tls)
            .field("sasl", &self.sasl)
            .field("properties", &extra)
            .field("partitions", &self.partitions)
            .field("replication_factor", &self.replication_factor)
            .finish()
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KafkaConfigError {
    #[error("SASL {0:?} needs security protocol sasl_ssl or sasl_plaintext, not {1:?}")]
    SaslWithoutSaslProtocol(String, SecurityProtocol),
    #[error("security protocol {0:?} needs a SASL mechanism")]
    SaslProtocolWithoutMechanism(SecurityProtocol),
    #[error("TLS files are set but the security protocol {0:?} does not use TLS")]
    TlsFilesWithoutTls(SecurityProtocol),
    #[error("a client certificate needs its key, and a key its certificate")]
    HalfAClientCertificate,
}

impl KafkaConfig {
    /// An unauthenticated, unencrypted connection (a broker on loopback or in a private network).
    pub fn plaintext(bootstrap_servers: impl Into<String>) -> Self {
        Self {
            bootstrap_servers: bootstrap_servers.into(),
            security_protocol: SecurityProtocol::Plaintext,
            tls: Tls::default(),
            sasl: None,
            properties: Vec::new(),
            partitions: 6,
            replication_factor: -1,
        }
    }

    /// Refuses combinations that could only fail later, at the first connection.
    pub fn validate(&self) -> Result<(), KafkaConfigError> {
        let protocol = self.security_protocol;
        match (&self.sasl, protocol.sasl()) {
            (Some(sasl), false) => {
                return Err(KafkaConfigError::SaslWithoutSaslProtocol(
                    format!("{sasl:?}"),
                    protocol,
                ))
            }
            (None, true) => return Err(KafkaConfigError::SaslProtocolWithoutMechanism(protocol)),
            _ => {}
        }
        let tls = &self.tls;
        let any_file = tls.ca_location.is_some()
            || tls.certificate_location.is_some()
            || tls.key_location.is_some();
        if any_file && !protocol.tls() {
            return Err(KafkaConfigError::TlsFilesWithoutTls(protocol));
        }
        if tls.certificate_location.is_some() != tls.key_location.is_some() {
            return Err(KafkaConfigError::HalfAClientCertificate);
        }
        Ok(())
    }

    /// The librdkafka properties of this configuration, in the order they are set.
    pub fn client_properties(&self) -> Vec<(String, String)> {
        let mut p: Vec<(String, String)> = Vec::new();
        let mut set = |k: &str, v: &str| p.push((k.to_owned(), v.to_owned()));
        set("bootstrap.servers", &self.bootstrap_servers);
        set("security.protocol", self.security_protocol.as_str());
        if self.security_protocol.tls() {
            // The client's OpenSSL is built in, so its compiled-in CA directory does not exist
            // on the host: without a bundle, look in the usual system locations.
            set(
                "ssl.ca.location",
                self.tls.ca_location.as_deref().unwrap_or("probe"),
            );
            if let Some(cert) = &self.tls.certificate_location {
                set("ssl.certificate.location", cert);
            }
            if let Some(key) = &self.tls.key_location {
                set("ssl.key.location", key);
            }
        }
        match &self.sasl {
            None => {}
            Some(Sasl::Plain { username, password }) => {
                set("sasl.mechanism", "PLAIN");
                set("sasl.username", username);
                set("sasl.password", password);
            }
            Some(Sasl::Scram {
                sha512,
                username,
                password,
            }) => {
                set(
                    "sasl.mechanism",
                    if *sha512 {
                        "SCRAM-SHA-512"
                    } else {
                        "SCRAM-SHA-256"
                    },
                );
                set("sasl.username", username);
                set("sasl.password", password);
            }
            Some(Sasl::OauthbearerOidc {
                token_endpoint,
                client_id,
                client_secret,
                scope,
            }) => {
                set("sasl.mechanism", "OAUTHBEARER");
                set("sasl.oauthbearer.method", "oidc");
                set("sasl.oauthbearer.token.endpoint.url", token_endpoint);
                set("sasl.oauthbearer.client.id", client_id);
                set("sasl.oauthbearer.client.secret", client_secret);
                if let Some(scope) = scope {
                    set("sasl.oauthbearer.scope", scope);
                }
            }
            Some(Sasl::MskIam { .. }) => set("sasl.mechanism", "OAUTHBEARER"),
        }
        for (k, v) in &self.properties {
            set(k, v);
        }
        p
    }

    /// The region to sign MSK IAM tokens for, when clients make their own tokens.
    pub fn msk_iam_region(&self) -> Option<&str> {
        match &self.sasl {
            Some(Sasl::MskIam { region }) => Some(region),
            _ => None,
        }
    }

    /// A client configuration to build producers, consumers and admin clients from.
    pub fn client(&self) -> ClientConfig {
        let mut config = ClientConfig::new();
        for (k, v) in self.client_properties() {
            config.set(k, v);
        }
        config
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get<'a>(props: &'a [(String, String)], key: &str) -> Option<&'a str> {
        props
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn msk_scram() -> KafkaConfig {
        KafkaConfig {
            security_protocol: SecurityProtocol::SaslSsl,
            sasl: Some(Sasl::Scram {
                sha512: true,
                username: "alice".into(),
                password: "s3cret".into(),
            }),
            ..KafkaConfig::plaintext("b-1.msk:9096,b-2.msk:9096")
        }
    }

    #[test]
    fn plaintext_sets_only_the_brokers_and_the_protocol() {
        let p = KafkaConfig::plaintext("127.0.0.1:9092").client_properties();
        assert_eq!(get(&p, "bootstrap.servers"), Some("127.0.0.1:9092"));
        assert_eq!(get(&p, "security.protocol"), Some("plaintext"));
        assert_eq!(get(&p, "ssl.ca.location"), None);
        assert_eq!(get(&p, "sasl.mechanism"), None);
    }

    #[test]
    fn msk_scram_is_sasl_ssl_with_sha512_and_system_cas() {
        let c = msk_scram();
        c.validate().unwrap();
        let p = c.client_properties();
        assert_eq!(get(&p, "security.protocol"), Some("sasl_ssl"));
        assert_eq!(get(&p, "sasl.mechanism"), Some("SCRAM-SHA-512"));
        assert_eq!(get(&p, "sasl.username"), Some("alice"));
        assert_eq!(get(&p, "sasl.password"), Some("s3cret"));
        assert_eq!(get(&p, "ssl.ca.location"), Some("probe"));
    }

    #[test]
    fn msk_iam_is_oauthbearer_with_tokens_podplane_makes() {
        let c = KafkaConfig {
            security_protocol: SecurityProtocol::SaslSsl,
            sasl: Some(Sasl::MskIam {
                region: "eu-west-1".into(),
            }),
            ..KafkaConfig::plaintext("b-1.msk:9098")
        };
        c.validate().unwrap();
        let p = c.client_properties();
        assert_eq!(get(&p, "sasl.mechanism"), Some("OAUTHBEARER"));
        // Not librdkafka's OIDC fetching: the client's token callback signs them.
        assert_eq!(get(&p, "sasl.oauthbearer.method"), None);
        assert_eq!(c.msk_iam_region(), Some("eu-west-1"));
        assert_eq!(msk_scram().msk_iam_region(), None);
        let plain = KafkaConfig {
            security_protocol: SecurityProtocol::Ssl,
            ..c
        };
        assert!(plain.validate().is_err(), "IAM needs a SASL protocol");
    }

    #[test]
    fn secrets_stay_out_of_debug_output() {
        let shown = format!("{:?}", msk_scram());
        assert!(shown.contains("SCRAM-SHA-512 as alice"), "{shown}");
        assert!(!shown.contains("s3cret"), "{shown}");
        let oidc = Sasl::OauthbearerOidc {
            token_endpoint: "https://idp/token".into(),
            client_id: "podplane".into(),
            client_secret: "hush".into(),
            scope: None,
        };
        assert!(!format!("{oidc:?}").contains("hush"));
        let extra = KafkaConfig {
            properties: vec![("sasl.password".into(), "hidden".into())],
            ..KafkaConfig::plaintext("b:9092")
        };
        assert!(!format!("{extra:?}").contains("hidden"));
    }

    #[test]
    fn mutual_tls_names_the_ca_certificate_and_key() {
        let c = KafkaConfig {
            security_protocol: SecurityProtocol::Ssl,
            tls: Tls {
                ca_location: Some("/etc/ca.pem".into()),
                certificate_location: Some("/etc/client.pem".into()),
                key_location: Some("/etc/client.key".into()),
            },
            ..KafkaConfig::plaintext("b:9094")
        };
        c.validate().unwrap();
        let p = c.client_properties();
        assert_eq!(get(&p, "ssl.ca.location"), Some("/etc/ca.pem"));
        assert_eq!(get(&p, "ssl.certificate.location"), Some("/etc/client.pem"));
        assert_eq!(get(&p, "ssl.key.location"), Some("/etc/client.key"));
    }

    #[test]
    fn oidc_oauthbearer_uses_the_clients_own_token_refresh() {
        let c = KafkaConfig {
            security_protocol: SecurityProtocol::SaslSsl,
            sasl: Some(Sasl::OauthbearerOidc {
                token_endpoint: "https://idp/token".into(),
                client_id: "podplane".into(),
                client_secret: "hush".into(),
                scope: Some("kafka".into()),
            }),
            ..KafkaConfig::plaintext("b:9098")
        };
        let p = c.client_properties();
        assert_eq!(get(&p, "sasl.mechanism"), Some("OAUTHBEARER"));
        assert_eq!(get(&p, "sasl.oauthbearer.method"), Some("oidc"));
        assert_eq!(get(&p, "sasl.oauthbearer.scope"), Some("kafka"));
    }

    #[test]
    fn extra_properties_come_last_and_win() {
        let c = KafkaConfig {
            properties: vec![("security.protocol".into(), "ssl".into())],
            ..KafkaConfig::plaintext("b:9092")
        };
        assert_eq!(
            get(&c.client_properties(), "security.protocol"),
            Some("ssl")
        );
    }

    #[test]
    fn contradictory_settings_are_refused_before_connecting() {
        let sasl_over_plaintext = KafkaConfig {
            security_protocol: SecurityProtocol::Ssl,
            ..msk_scram()
        };
        assert!(matches!(
            sasl_over_plaintext.validate(),
            Err(KafkaConfigError::SaslWithoutSaslProtocol(..))
        ));
        let no_mechanism = KafkaConfig {
            security_protocol: SecurityProtocol::SaslSsl,
            ..KafkaConfig::plaintext("b:9096")
        };
        assert_eq!(
            no_mechanism.validate(),
            Err(KafkaConfigError::SaslProtocolWithoutMechanism(
                SecurityProtocol::SaslSsl
            ))
        );
        let ca_without_tls = KafkaConfig {
            tls: Tls {
                ca_location: Some("/ca.pem".into()),
                ..Tls::default()
            },
            ..KafkaConfig::plaintext("b:9092")
        };
        assert!(ca_without_tls.validate().is_err());
        let half = KafkaConfig {
            security_protocol: SecurityProtocol::Ssl,
            tls: Tls {
                certificate_location: Some("/c.pem".into()),
                ..Tls::default()
            },
            ..KafkaConfig::plaintext("b:9094")
        };
        assert_eq!(
            half.validate(),
            Err(KafkaConfigError::HalfAClientCertificate)
        );
    }
}
