//! Command-line flags, each with an environment fallback (ESS names where ESS has one).

mod audit;
mod kafka;
mod notify;
mod provision;

pub use audit::{AuditArgs, AuditVerifyArgs, AuditingArgs};
pub use kafka::KafkaArgs;
pub use notify::{NotificationsArgs, NotifyArgs};
pub use provision::{ProvisionArgs, ProvisioningArgs};

use clap::{Args, Parser, Subcommand};
use podplane_store::locate::{BlobUrl, MetadataUrl};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "podplane",
    version,
    about = "A Solid server speaking the ESS data-plane surface"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Log lines as text or as one JSON object each (for log shippers: CloudWatch, Loki, ...).
    /// Levels and targets come from PODPLANE_LOG (default info).
    #[arg(long, global = true, env = "PODPLANE_LOG_FORMAT", default_value = "text", value_parser = ["text", "json"])]
    pub log_format: String,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the whole server in one process: by default blobs on disk and metadata in SQLite
    /// under --data-dir (embedded mode); --metadata-url and --blob-url name other engines.
    Serve(ServeArgs),
    /// Run one stateless Pod Storage replica: metadata in PostgreSQL, blobs in S3, events to
    /// Kafka (distributed mode). Run as many as you like behind a load balancer.
    Storage(StorageArgs),
    /// Run one notifications replica: Solid Notifications subscriptions, WebSocket, Streaming
    /// HTTP and webhook channels, fed by Kafka; channels in its own PostgreSQL database
    /// (distributed mode). Run as many as you like behind the load balancer.
    Notifications(NotificationsArgs),
    /// Run one provisioning replica: ESS's provisioning API (pods for authenticated agents,
    /// within a per-owner limit), its record of owners in its own PostgreSQL database, pods
    /// made by the storage service (distributed mode). Run as many as you like.
    Provision(ProvisionArgs),
    /// Run one audit replica: stores the audit events every service emits (from Kafka) in its
    /// own PostgreSQL database, chained per pod, copies them to the configured sinks and
    /// serves them to pod owners and administrators (distributed mode). Run as many as you
    /// like.
    Audit(AuditArgs),
    /// Verify the audit database's hash chains: exit 0 when every event is as it was stored,
    /// 1 naming the first event edited, removed or reordered.
    AuditVerify(AuditVerifyArgs),
    /// Apply the storage database schema and exit (for operators who keep DDL credentials
    /// apart from the service's; start replicas with --no-migrate then).
    Migrate(DatabaseArgs),
    /// Exit 0 when the local server answers its readiness check, 1 otherwise: the container
    /// HEALTHCHECK of images that carry no shell or curl.
    Healthcheck(HealthcheckArgs),
    /// Administer pods (offline, against the data directory or the database).
    Pod {
        #[command(subcommand)]
        command: PodCommand,
    },
}

#[derive(Args)]
pub struct HealthcheckArgs {
    /// URL to check (default: /health/ready on the port the service listens on).
    pub url: Option<String>,
    /// The service's listen address (the same setting the service reads).
    #[arg(long, env = "PODPLANE_LISTEN", default_value = "127.0.0.1:3000")]
    pub listen: SocketAddr,
    /// Seconds to wait for the answer.
    #[arg(long, default_value_t = 3)]
    pub timeout_secs: u64,
}

impl HealthcheckArgs {
    pub fn url(&self) -> String {
        self.url.clone().unwrap_or_else(|| {
            // A service bound to every interface is reached on loopback.
            let ip = match self.listen.ip() {
                ip if ip.is_unspecified() && ip.is_ipv4() => "127.0.0.1".to_owned(),
                ip if ip.is_unspecified() => "[::1]".to_owned(),
                std::net::IpAddr::V6(ip) => format!("[{ip}]"),
                std::net::IpAddr::V4(ip) => ip.to_string(),
            };
            format!("http://{ip}:{}/health/ready", self.listen.port())
        })
    }
}

/// Settings every HTTP-serving mode shares.
#[derive(Args, Clone)]
pub struct HttpArgs {
    /// Address to listen on.
    #[arg(long, env = "PODPLANE_LISTEN", default_value = "127.0.0.1:3000")]
    pub listen: SocketAddr,
    /// Public base URL of the server (what clients see, e.g. behind a TLS proxy). Defaults to
    /// http://{listen}.
    #[arg(long, env = "PODPLANE_BASE_URL")]
    pub base_url: Option<String>,
    /// Base URLs data was written under by earlier podplane versions, which stored absolute
    /// IRIs (the served --base-url always counts): stored documents naming them are converted
    /// once, at start, so a server moved to a new --base-url keeps its links and its access
    /// control. Repeat the flag, or separate with commas.
    #[arg(
        long = "legacy-base-url",
        env = "PODPLANE_LEGACY_BASE_URLS",
        value_delimiter = ','
    )]
    pub legacy_base_urls: Vec<String>,
    /// Largest non-RDF request body, in bytes.
    #[arg(long, env = "PODPLANE_MAX_BODY_BYTES", default_value_t = 10 * 1024 * 1024 * 1024)]
    pub max_body_bytes: u64,
    /// Bytes a pod may hold unless it has a quota of its own (`podplane pod quota`); a write
    /// that would pass it answers 507 and stores nothing. Default: no quota.
    #[arg(long, env = "PODPLANE_POD_QUOTA_BYTES")]
    pub pod_quota_bytes: Option<u64>,
    /// Rows a deleted pod's purge removes per transaction (each briefly holds the pod's
    /// lock; its blobs are deleted between transactions).
    #[arg(long, env = "PODPLANE_PURGE_BATCH_ROWS", default_value_t = 500)]
    pub purge_batch_rows: u32,
    /// Which requests that change nothing the storage service audits: off, denials (those
    /// refused with 401 or 403) or all (denials and successful reads). Changes are always
    /// audited, in their own transaction.
    #[arg(long, env = "PODPLANE_AUDIT", default_value = "denials", value_parser = ["off", "denials", "all"])]
    pub audit: String,
    /// Audit events of reads and refusals held in memory while the bus takes them; beyond
    /// it they are dropped and counted (podplane_audit_events_dropped_total), never waited for.
    #[arg(long, env = "PODPLANE_AUDIT_QUEUE", default_value_t = 10_000)]
    pub audit_queue: usize,
    /// Percent of its time the worker that publishes read and refusal audit events may
    /// spend (1-100): under more audited reads than that covers, the excess is dropped and
    /// counted instead of taking the cores that serve requests (embedded mode stores the
    /// events on the same machine).
    #[arg(long, env = "PODPLANE_AUDIT_READ_SHARE", default_value_t = 20, value_parser = clap::value_parser!(u8).range(1..=100))]
    pub audit_read_share: u8,
    /// Largest RDF or patch body, in bytes (these are parsed in memory).
    #[arg(long, env = "PODPLANE_MAX_RDF_BYTES", default_value_t = 16 * 1024 * 1024)]
    pub max_rdf_bytes: u64,
    /// Remote JSON-LD contexts that may be fetched and cached (comma-separated URLs). Any other
    /// remote context in client JSON-LD is refused.
    #[arg(long, env = "PODPLANE_JSONLD_CONTEXT_ALLOW", value_delimiter = ',')]
    pub jsonld_context_allow: Vec<String>,
    /// Seconds a superseded or orphaned blob is kept before garbage collection removes it.
    #[arg(long, env = "PODPLANE_GC_GRACE_SECS", default_value_t = 300)]
    pub gc_grace_secs: u64,
    /// Seconds a `podplane pod import` may show no life before the servers abandon it (its
    /// process died): the partial pod is then deleted and purged.
    #[arg(long, env = "PODPLANE_IMPORT_GRACE_SECS", default_value_t = 60)]
    pub import_grace_secs: u64,
    /// Seconds between garbage-collection passes.
    #[arg(long, env = "PODPLANE_GC_INTERVAL_SECS", default_value_t = 60)]
    pub gc_interval_secs: u64,
    /// Memory, in bytes, for each cache: resource rows (embedded mode only) and rendered
    /// representations (conversions, container listings).
    #[arg(long, env = "PODPLANE_CACHE_BYTES", default_value_t = 32 * 1024 * 1024)]
    pub cache_bytes: u64,
    /// Seconds a client has to send a request's head; also how long an idle keep-alive
    /// connection (or one that sends nothing) stays open.
    #[arg(long, env = "PODPLANE_HEADER_READ_TIMEOUT_SECS", default_value_t = 15)]
    pub header_read_timeout_secs: u64,
    /// Seconds a request body may go without sending a byte before the request fails (408).
    #[arg(long, env = "PODPLANE_BODY_IDLE_TIMEOUT_SECS", default_value_t = 30)]
    pub body_idle_timeout_secs: u64,
    /// Most client connections open at once; more are closed on arrival (counted in
    /// podplane_connections_refused_total). Default: what the file-descriptor limit allows,
    /// less a reserve, at most 10 000.
    #[arg(long, env = "PODPLANE_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,
    #[command(flatten)]
    pub limits: LimitArgs,
    #[command(flatten)]
    pub auth: AuthArgs,
    /// Shut down when standard input closes: lets a supervising process (the test harness)
    /// guarantee the server never outlives it.
    #[arg(long, hide = true)]
    pub exit_on_stdin_eof: bool,
}

/// What one request may cost to parse and evaluate.
#[derive(Args, Clone)]
pub struct LimitArgs {
    /// Deepest nesting of RDF and patch documents (blank nodes, collections, groups, JSON).
    #[arg(long, env = "PODPLANE_MAX_RDF_DEPTH", default_value_t = 64)]
    pub max_rdf_depth: usize,
    /// Most bytes of terms an RDF or patch document may expand to once parsed (prefixes,
    /// repeated subjects and JSON-LD contexts expand).
    #[arg(long, env = "PODPLANE_MAX_RDF_EXPANDED_BYTES", default_value_t = 128 * 1024 * 1024)]
    pub max_rdf_expanded_bytes: u64,
    /// Most triple patterns in a patch's conditions (solid:where, SPARQL WHERE).
    #[arg(long, env = "PODPLANE_MAX_PATCH_PATTERNS", default_value_t = 128)]
    pub max_patch_patterns: usize,
    /// Most solutions a patch's conditions may produce.
    #[arg(long, env = "PODPLANE_MAX_PATCH_SOLUTIONS", default_value_t = 100_000)]
    pub max_patch_solutions: usize,
    /// Milliseconds a patch may spend evaluating before it is refused (422).
    #[arg(long, env = "PODPLANE_PATCH_TIME_BUDGET_MS", default_value_t = 2_000)]
    pub patch_time_budget_ms: u64,
    /// Parses and patch evaluations running at once (the rest wait their turn); default:
    /// the number of CPUs.
    #[arg(long, env = "PODPLANE_CPU_JOBS")]
    pub cpu_jobs: Option<usize>,
}

/// Solid-OIDC and access control. The ESS variable names are accepted as fallbacks.
#[derive(Args, Clone)]
pub struct AuthArgs {
    /// Trust only these token issuers (comma-separated). Empty: any issuer a WebID names.
    #[arg(long, env = "INRUPT_JWT_ISSUER_ALLOW_LIST", value_delimiter = ',')]
    pub issuer_allow_list: Vec<String>,
    /// Never trust these token issuers (comma-separated); wins over the allow list.
    #[arg(long, env = "INRUPT_JWT_ISSUER_DENY_LIST", value_delimiter = ',')]
    pub issuer_deny_list: Vec<String>,
    /// Signature algorithms accepted for access tokens and DPoP proofs (comma-separated;
    /// among ES256, RS256, PS256, EdDSA).
    #[arg(
        long,
        env = "INRUPT_JWT_ALLOWED_SIGNATURE_ALGORITHMS",
        value_delimiter = ',',
        default_value = "ES256,RS256,PS256,EdDSA"
    )]
    pub allowed_signature_algorithms: Vec<String>,
    /// Also accept `Authorization: Bearer` tokens that are not DPoP-bound (as CSS can).
    #[arg(long, env = "PODPLANE_ACCEPT_BEARER_TOKENS")]
    pub accept_bearer_tokens: bool,
    /// Reject DPoP proofs without `ath` (the hash of the access token). Off by default: the
    /// widely used Inrupt client libraries do not send it.
    #[arg(long, env = "PODPLANE_REQUIRE_DPOP_ATH")]
    pub require_dpop_ath: bool,
    /// Seconds before an issuer's keys may be fetched again when a token names a key we do
    /// not know (rotation is picked up at once; bogus key ids cannot make us hammer issuers).
    #[arg(long, env = "PODPLANE_JWKS_MIN_REFRESH_SECS", default_value_t = 10)]
    pub jwks_min_refresh_secs: u64,
    /// Allow fetching WebID profiles, issuer keys and groups from loopback addresses (a local
    /// identity provider, tests). Off by default: those URLs come from tokens anyone can send.
    /// Private and link-local ranges (cloud metadata) stay refused; see --allow-fetch-ranges.
    #[arg(long, env = "PODPLANE_ALLOW_PRIVATE_FETCH")]
    pub allow_private_fetch: bool,
    /// Non-public address ranges that outbound fetches may reach anyway (comma-separated
    /// CIDRs, e.g. an identity provider inside the VPC: 10.1.0.0/16).
    #[arg(long, env = "PODPLANE_ALLOW_FETCH_RANGES", value_delimiter = ',')]
    pub allow_fetch_ranges: Vec<ipnet::IpNet>,
    /// DANGER: turn access control off. Every request, from anyone, may read, write and
    /// delete everything. Only for experiments on a machine nobody else can reach.
    #[arg(long, env = "PODPLANE_DANGER_NO_ACCESS_CONTROL")]
    pub danger_no_access_control: bool,
}

impl AuthArgs {
    pub fn config(&self) -> anyhow::Result<podplane_auth::AuthConfig> {
        let mut algorithms = Vec::new();
        for name in &self.allowed_signature_algorithms {
            let alg = podplane_auth::parse_algorithm(name).ok_or_else(|| {
                anyhow::anyhow!("signature algorithm {name:?} is not accepted (use ES256, RS256, PS256 or EdDSA)")
            })?;
            algorithms.push(alg);
        }
        let clean = |v: &[String]| {
            v.iter()
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect()
        };
        Ok(podplane_auth::AuthConfig {
            algorithms,
            issuer_allow: clean(&self.issuer_allow_list),
            issuer_deny: clean(&self.issuer_deny_list),
            accept_bearer: self.accept_bearer_tokens,
            require_ath: self.require_dpop_ath,
            jwks_min_refresh: std::time::Duration::from_secs(self.jwks_min_refresh_secs),
            fetch: podplane_auth::FetchLimits {
                allow_private: self.allow_private_fetch,
                allow_ranges: self.allow_fetch_ranges.clone(),
                ..podplane_auth::FetchLimits::default()
            },
            ..podplane_auth::AuthConfig::default()
        })
    }
}

impl HttpArgs {
    pub fn base_url(&self) -> String {
        self.base_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.listen))
            .trim_end_matches('/')
            .to_owned()
    }
}

#[derive(Args, Clone)]
pub struct DataArgs {
    /// Directory holding the SQLite database and the blobs (embedded mode).
    #[arg(long, env = "PODPLANE_DATA_DIR", default_value = "./podplane-data")]
    pub data_dir: PathBuf,
}

#[derive(Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub http: HttpArgs,
    #[command(flatten)]
    pub data: DataArgs,
    /// Where resource metadata lives: sqlite://<file> or postgres://… (default:
    /// sqlite://<data-dir>/metadata.sqlite).
    // Parsed after clap, whose errors would echo a password.
    #[arg(long, env = "PODPLANE_METADATA_URL")]
    pub metadata_url: Option<String>,
    /// Where resource content lives: file://<directory> or s3://<bucket>/<prefix> (default:
    /// file://<data-dir>/blobs).
    #[arg(long, env = "PODPLANE_BLOB_URL")]
    pub blob_url: Option<BlobUrl>,
    #[command(flatten)]
    pub s3: S3Args,
    #[command(flatten)]
    pub notify: NotifyArgs,
    #[command(flatten)]
    pub pods: ProvisioningArgs,
    /// Where the provisioning service keeps its record of owners: sqlite://<file> or
    /// postgres://… (default: sqlite://<data-dir>/provision.sqlite).
    #[arg(long, env = "PODPLANE_PROVISION_DATABASE_URL")]
    pub provision_database_url: Option<String>,
    #[command(flatten)]
    pub audit: AuditingArgs,
    /// Where the audit service keeps events: sqlite://<file> or postgres://… (default:
    /// sqlite://<data-dir>/audit.sqlite).
    #[arg(long, env = "PODPLANE_AUDIT_DATABASE_URL")]
    pub audit_database_url: Option<String>,
}

impl ServeArgs {
    pub fn audit_database_url(&self) -> String {
        self.audit_database_url
            .clone()
            .unwrap_or_else(|| sqlite_in(&self.data.data_dir, "audit.sqlite"))
    }

    pub fn provision_database_url(&self) -> String {
        self.provision_database_url
            .clone()
            .unwrap_or_else(|| sqlite_in(&self.data.data_dir, "provision.sqlite"))
    }

    pub fn metadata_url(&self) -> anyhow::Result<MetadataUrl> {
        match &self.metadata_url {
            Some(url) => Ok(url.parse()?),
            None => Ok(MetadataUrl::Sqlite(
                self.data.data_dir.join("metadata.sqlite"),
            )),
        }
    }

    pub fn blob_url(&self) -> BlobUrl {
        self.blob_url
            .clone()
            .unwrap_or_else(|| BlobUrl::File(self.data.data_dir.join("blobs")))
    }
}

/// `sqlite://` URL of a database file in the data directory, created when missing.
pub fn sqlite_in(dir: &std::path::Path, file: &str) -> String {
    format!("sqlite://{}?mode=rwc", dir.join(file).display())
}

/// How to reach an S3-compatible server, for blob locations in S3.
#[derive(Args, Clone)]
pub struct S3Args {
    /// Endpoint of an S3-compatible server (default: AWS S3 for the region).
    #[arg(long, env = "PODPLANE_S3_ENDPOINT")]
    pub s3_endpoint: Option<String>,
    /// Path-style addressing (endpoint/bucket/key), which most S3-compatible servers need.
    #[arg(long, env = "PODPLANE_S3_PATH_STYLE")]
    pub s3_path_style: bool,
    /// Region (default: the AWS provider chain's, e.g. AWS_REGION).
    #[arg(long, env = "PODPLANE_S3_REGION")]
    pub s3_region: Option<String>,
}

#[derive(Args, Clone)]
pub struct DatabaseArgs {
    /// The storage database: `postgres://user:pass@host:5432/podplane_storage`, or
    /// `sqlite://<file>` for a single replica.
    #[arg(long, env = "PODPLANE_DATABASE_URL")]
    pub database_url: String,
    /// Pooled connections per replica.
    #[arg(long, env = "PODPLANE_DATABASE_MAX_CONNECTIONS", default_value_t = 16)]
    pub database_max_connections: u32,
    /// Milliseconds a statement may run before PostgreSQL cancels it.
    #[arg(
        long,
        env = "PODPLANE_DATABASE_STATEMENT_TIMEOUT_MS",
        default_value_t = 5000
    )]
    pub database_statement_timeout_ms: u64,
}

#[derive(Args)]
pub struct StorageArgs {
    #[command(flatten)]
    pub http: HttpArgs,
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Do not apply migrations at start-up (run `podplane migrate` separately).
    #[arg(long, env = "PODPLANE_NO_MIGRATE")]
    pub no_migrate: bool,
    /// Where resource content lives: s3://<bucket>/<prefix> or file://<directory> (a
    /// directory only works for a single replica or a shared file system).
    #[arg(long, env = "PODPLANE_BLOB_URL")]
    pub blob_url: Option<BlobUrl>,
    /// S3 bucket holding resource content (shorthand for --blob-url s3://<bucket>/<prefix>).
    #[arg(long, env = "PODPLANE_S3_BUCKET")]
    pub s3_bucket: Option<String>,
    /// Prefix for every object key, so deployments can share a bucket.
    #[arg(long, env = "PODPLANE_S3_PREFIX", default_value = "")]
    pub s3_prefix: String,
    #[command(flatten)]
    pub s3: S3Args,
    #[command(flatten)]
    pub kafka: KafkaArgs,
    /// Public base URL of the notifications service, advertised in discovery (omit when
    /// none is deployed; behind one load balancer it is the same as --base-url).
    #[arg(long, env = "PODPLANE_NOTIFICATIONS_BASE_URL")]
    pub notifications_base_url: Option<String>,
    /// Public base URL of the provisioning service, advertised in discovery with its pod
    /// limit (omit when none is deployed).
    #[arg(long, env = "PODPLANE_PROVISION_BASE_URL")]
    pub provision_base_url: Option<String>,
    /// The provisioning service's per-owner pod limit, for discovery (read from the same
    /// variable as the provisioning service's, so one setting serves both).
    #[arg(long, env = "PODPLANE_MAX_PODS_PER_OWNER", default_value_t = podplane_provision::DEFAULT_MAX_PODS_PER_OWNER)]
    pub max_pods_per_owner: u32,
    /// Shared secret that other podplane services present to this one's internal endpoints
    /// (without it, those endpoints do not exist).
    #[arg(long, env = "PODPLANE_INTERNAL_SECRET", hide_env_values = true)]
    pub internal_secret: Option<String>,
    /// Kafka consumer group of the storage replicas (they purge deleted pods as one group:
    /// each deletion is purged once). Deployments sharing a broker need groups of their own.
    #[arg(
        long,
        env = "PODPLANE_STORAGE_CONSUMER_GROUP",
        default_value = podplane_storage::purger::PURGER_GROUP
    )]
    pub kafka_consumer_group: String,
}

impl DatabaseArgs {
    pub fn database_url(&self) -> anyhow::Result<MetadataUrl> {
        Ok(self.database_url.parse()?)
    }
}

impl StorageArgs {
    /// `--blob-url`, or the bucket and prefix flags it abbreviates.
    pub fn blob_url(&self) -> anyhow::Result<BlobUrl> {
        match (&self.blob_url, &self.s3_bucket) {
            (Some(url), _) => Ok(url.clone()),
            (None, Some(bucket)) if !bucket.is_empty() => Ok(BlobUrl::S3 {
                bucket: bucket.clone(),
                prefix: self.s3_prefix.clone(),
            }),
            _ => anyhow::bail!(
                "say where resource content lives: --blob-url (PODPLANE_BLOB_URL) or --s3-bucket \
                 (PODPLANE_S3_BUCKET)"
            ),
        }
    }
}

/// How a service other than storage reaches the storage service (distributed mode).
#[derive(Args, Clone)]
pub struct StorageLinkArgs {
    /// Public base URL of the storage (default: --base-url, one origin with routing by path
    /// prefix).
    #[arg(long, env = "PODPLANE_STORAGE_BASE_URL")]
    pub storage_base_url: Option<String>,
    /// Where this service reaches the storage service's internal endpoints (default: the
    /// storage base URL).
    #[arg(long, env = "PODPLANE_STORAGE_URL")]
    pub storage_url: Option<String>,
    /// Shared secret for the storage service's internal endpoints (the same on both).
    #[arg(long, env = "PODPLANE_INTERNAL_SECRET", hide_env_values = true)]
    pub internal_secret: String,
}

impl StorageLinkArgs {
    /// The storage's public base URL and where to reach it, given this service's base URL.
    pub fn addresses(&self, base_url: &str) -> (String, String) {
        let public = self
            .storage_base_url
            .clone()
            .unwrap_or_else(|| base_url.to_owned());
        let reach = self.storage_url.clone().unwrap_or_else(|| public.clone());
        (public, reach)
    }
}

/// Which store an administrative command works on.
#[derive(Args, Clone)]
pub struct AdminTarget {
    #[command(flatten)]
    pub data: DataArgs,
    /// Work on this database (postgres://… or sqlite://<file>) instead of the data
    /// directory's.
    #[arg(long, env = "PODPLANE_DATABASE_URL")]
    pub database_url: Option<String>,
    /// The provisioning service's database, which records every pod's owner (default: the
    /// data directory's; needed with --database-url).
    #[arg(long, env = "PODPLANE_PROVISION_DATABASE_URL")]
    pub provision_database_url: Option<String>,
    /// Public base URL of the server: the one it serves (IRIs in the events this command
    /// emits, and in exported archives).
    #[arg(
        long,
        env = "PODPLANE_BASE_URL",
        default_value = "http://127.0.0.1:3000"
    )]
    pub base_url: String,
    /// Where resource content lives (export and import): file://<directory> or
    /// s3://<bucket>/<prefix> (default: file://<data-dir>/blobs).
    #[arg(long, env = "PODPLANE_BLOB_URL")]
    pub blob_url: Option<BlobUrl>,
    #[command(flatten)]
    pub s3: S3Args,
}

impl AdminTarget {
    pub fn blob_url(&self) -> BlobUrl {
        self.blob_url
            .clone()
            .unwrap_or_else(|| BlobUrl::File(self.data.data_dir.join("blobs")))
    }

    /// The provisioning database that goes with the storage database worked on.
    pub fn provision_database_url(&self) -> anyhow::Result<String> {
        match (&self.provision_database_url, &self.database_url) {
            (Some(url), _) => Ok(url.clone()),
            (None, None) => Ok(sqlite_in(&self.data.data_dir, "provision.sqlite")),
            (None, Some(_)) => anyhow::bail!(
                "--database-url names the storage database; name the provisioning database \
                 too: --provision-database-url (PODPLANE_PROVISION_DATABASE_URL)"
            ),
        }
    }
}

#[derive(Subcommand)]
pub enum PodCommand {
    /// Create a pod at {base}/{name}/.
    Create {
        /// Pod name: lower-case letters, digits and '-', starting with a letter or digit.
        name: String,
        /// WebID of the pod's owner: the one agent with access to a new pod.
        #[arg(long)]
        owner: String,
        /// Access control model of the pod: acp (as ESS) or wac (as CSS and NSS).
        #[arg(long, default_value = "acp", value_parser = ["acp", "wac"])]
        access: String,
        #[command(flatten)]
        target: AdminTarget,
    },
    /// List the pods: name, access control, owner, bytes used, quota.
    List {
        #[command(flatten)]
        target: AdminTarget,
    },
    /// Give a pod a quota of its own, in bytes, or (--default) return it to the server's
    /// default (--pod-quota-bytes).
    Quota {
        name: String,
        #[arg(long, conflicts_with = "default", required_unless_present = "default")]
        bytes: Option<u64>,
        #[arg(long)]
        default: bool,
        #[command(flatten)]
        target: AdminTarget,
    },
    /// Write one pod, whole, to a tar archive (docs/pod-archive.md): every resource with its
    /// content type, containment, access control, owner and times. Streams: any size of pod
    /// in bounded memory. Runs against a live deployment.
    Export {
        name: String,
        /// The archive to write (default: standard output). Written under FILE.partial and
        /// renamed when complete.
        #[arg(long, short)]
        output: Option<std::path::PathBuf>,
        #[command(flatten)]
        target: AdminTarget,
    },
    /// Load a pod archive into this deployment, under its own name or --name, all or nothing:
    /// clients see the pod once it is whole; an import that fails (or is killed) leaves no pod
    /// (the servers purge what it had written).
    Import {
        /// The archive to read (default: standard input).
        input: Option<std::path::PathBuf>,
        /// Pod name to import under (default: the archive's).
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        target: AdminTarget,
    },
    /// Delete a pod: it answers 404 at once; the server purges its resources and blobs
    /// (a running server, or the next one started on these databases). Its name is free
    /// again once the purge has finished.
    Delete {
        name: String,
        /// Wait until the purge has finished (checked every second).
        #[arg(long)]
        wait: bool,
        #[command(flatten)]
        target: AdminTarget,
    },
}
