/// Storage service settings. The binary fills these from flags and environment variables.
#[derive(Debug, Clone)]
pub struct StorageConfig {
    /// Public base URL without trailing slash (`https://pods.example`); IRIs are built from it.
    pub base_url: String,
    /// Base URLs data was written under by versions that stored absolute IRIs: their IRIs are
    /// the server's own too, and `rebase` converts them (the served base URL always is).
    pub legacy_base_urls: Vec<String>,
    /// Largest request body accepted for non-RDF content.
    pub max_body_bytes: u64,
    /// Largest RDF or patch body; these are parsed in memory, so the limit is lower.
    pub max_rdf_bytes: u64,
    /// RDF documents up to this size are stored inline in the metadata row.
    pub inline_rdf_bytes: u64,
    /// Memory for cached conversions and container listings.
    pub rendered_cache_bytes: u64,
    /// Remote JSON-LD contexts that may be fetched (and cached) while parsing client JSON-LD.
    pub jsonld_context_allow: Vec<String>,
    /// What one document may cost to parse and one patch to evaluate.
    pub limits: podplane_solid::limits::Limits,
    /// How long a patch may evaluate before it is refused.
    pub patch_time_budget: std::time::Duration,
    /// Parses and evaluations that may run at once, off the async runtime.
    pub cpu_jobs: usize,
    /// Public base URL of the notifications service (its routes are under
    /// `{url}/.notifications/`), advertised in discovery; `None`: no notifications offered.
    pub notifications_base_url: Option<String>,
    /// Public base URL of the provisioning service (its routes are under
    /// `{url}/.provision/`) and its per-owner pod limit, advertised in discovery; `None`: no
    /// provisioning offered.
    pub provision_base_url: Option<String>,
    pub max_pods_per_owner: Option<u32>,
    /// Shared secret of the internal endpoints other podplane services call
    /// (`/.internal/…`); `None`: those endpoints do not exist.
    pub internal_secret: Option<String>,
    /// Bytes a pod may hold unless it has a quota of its own (`None`: unlimited).
    pub default_quota_bytes: Option<u64>,
    /// Rows a deleted pod's purge removes per transaction (each holds the pod's lock).
    pub purge_batch_rows: u32,
    /// Skip access control entirely: every request may do everything. For local
    /// experiments only; the flag that sets it says so loudly.
    pub open_access: bool,
    /// Which reads and refusals are audited (changes always are).
    pub audit: crate::audit::AuditMode,
    /// Read and refusal audit events held while the bus takes them; more are dropped.
    pub audit_queue: usize,
    /// Share of its time (0–1] the worker publishing read and refusal events may spend.
    pub audit_share: f64,
}

impl StorageConfig {
    pub fn new(base_url: &str) -> Self {
        Self {
            base_url: base_url.trim_end_matches('/').to_owned(),
            legacy_base_urls: Vec::new(),
            max_body_bytes: 10 * 1024 * 1024 * 1024,
            max_rdf_bytes: 16 * 1024 * 1024,
            inline_rdf_bytes: 256 * 1024,
            rendered_cache_bytes: 64 * 1024 * 1024,
            jsonld_context_allow: Vec::new(),
            limits: podplane_solid::limits::Limits::default(),
            patch_time_budget: std::time::Duration::from_secs(2),
            cpu_jobs: std::thread::available_parallelism().map_or(2, |n| n.get()),
            notifications_base_url: None,
            provision_base_url: None,
            max_pods_per_owner: None,
            internal_secret: None,
            default_quota_bytes: None,
            purge_batch_rows: 500,
            open_access: false,
            audit: crate::audit::AuditMode::default(),
            audit_queue: 10_000,
            audit_share: 0.2,
        }
    }

    /// Limits for documents we stored ourselves: they passed the client limits when written
    /// and are canonical Turtle now, so their size is what it is; only nesting is bounded.
    pub fn stored_limits(&self) -> podplane_solid::limits::Limits {
        podplane_solid::limits::Limits {
            max_expanded_bytes: u64::MAX,
            ..self.limits
        }
    }
}
