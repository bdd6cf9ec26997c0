//! The metadata model: resource rows, pods, and the operations that change them atomically.

use crate::error::StoreError;
pub use crate::pod_deletion::{PodDeletion, PurgedRows};
use podplane_events::Envelope;
pub use podplane_solid::access::AccessKind;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Container,
    Rdf,
    Binary,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Container => "container",
            Kind::Rdf => "rdf",
            Kind::Binary => "binary",
        }
    }

    pub fn parse(s: &str) -> Result<Self, StoreError> {
        match s {
            "container" => Ok(Kind::Container),
            "rdf" => Ok(Kind::Rdf),
            "binary" => Ok(Kind::Binary),
            other => Err(StoreError::Corrupt(format!(
                "unknown resource kind {other}"
            ))),
        }
    }
}

/// Where a resource's bytes are. Small RDF documents live inline in the row so that reading
/// them costs one metadata lookup and no blob round trip.
#[derive(Debug, Clone, PartialEq)]
pub enum Content {
    /// Containers without client-supplied triples.
    Empty,
    Inline(Vec<u8>),
    Blob(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    pub path: String,
    pub kind: Kind,
    pub content_type: String,
    pub content: Content,
    pub size: u64,
    /// Strong entity tag with quotes.
    pub etag: String,
    pub modified_ms: i64,
    /// The WebID that created the resource, when the request was authenticated.
    pub creator: Option<String>,
}

impl Resource {
    /// What conditional requests compare against (RFC 9110 §13): the strong ETag, and the
    /// modification time in whole seconds.
    pub fn validators(&self) -> podplane_solid::preconditions::Validators<'_> {
        podplane_solid::preconditions::Validators {
            etag: &self.etag,
            last_modified: self.modified_ms / 1000,
        }
    }
}

/// A member of a container as listings need it: no content.
#[derive(Debug, Clone, PartialEq)]
pub struct ChildRow {
    pub path: String,
    pub kind: Kind,
    pub content_type: String,
    pub size: u64,
    pub modified_ms: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Pod {
    pub name: String,
    pub owner: Option<String>,
    pub access: AccessKind,
    pub created_ms: i64,
    /// Bytes the pod's resources take (their sizes summed), exact at every commit.
    pub used_bytes: i64,
    /// The pod's own quota; `None`: the server's default applies.
    pub quota_bytes: Option<i64>,
}

/// The quota that applies to a pod: its own (`own`, as stored), else the server's default;
/// `None`: unlimited.
pub fn effective_quota(own: Option<i64>, default: Option<u64>) -> Option<u64> {
    own.map(|q| u64::try_from(q).unwrap_or(0)).or(default)
}

/// Whether `adding` bytes fit beside the `used` ones under `quota`; the refusal names the
/// figures. The one rule both the commit's count and the early refusal of a large upload
/// apply.
pub fn check_room(used: u64, adding: u64, quota: Option<u64>) -> Result<(), StoreError> {
    match quota {
        Some(quota) if used.saturating_add(adding) > quota => Err(StoreError::QuotaExceeded {
            quota,
            used,
            adding,
        }),
        _ => Ok(()),
    }
}

/// A quota as stored (the database's integers are signed; no quota is that large).
pub(crate) fn quota_column(bytes: u64) -> i64 {
    i64::try_from(bytes).unwrap_or(i64::MAX)
}

/// A pod to create: its root container and, in the same transaction, the access control
/// resource of the root (`/{name}/.acl`), so a pod never exists without access control.
#[derive(Debug, Clone)]
pub struct NewPod<'a> {
    pub name: &'a str,
    pub owner: Option<&'a str>,
    pub access: AccessKind,
    /// Turtle of the root's initial ACL or ACR.
    pub acl: Option<&'a [u8]>,
}

impl<'a> NewPod<'a> {
    /// A pod with no owner and no access control document (tests of the store alone).
    pub fn bare(name: &'a str) -> Self {
        Self {
            name,
            owner: None,
            access: AccessKind::default(),
            acl: None,
        }
    }
}

/// What must hold of a write's target as it is at commit. The engine checks it inside the
/// write's transaction, under the pod's lock, so no other write can come between the check
/// and the commit: callers never re-read and retry to make a condition hold.
#[derive(Debug, Clone, Default)]
pub struct Expect {
    /// Which of create and replace the writer was granted. Authorization decides both before
    /// the body arrives; which one applies depends on what exists at commit.
    pub allowed: Allowed,
    /// The request's conditional headers: [`StoreError::PreconditionFailed`] unless they hold.
    pub conditions: podplane_solid::preconditions::WriteConditions,
    /// For a read-modify-write (PATCH), the row its result was computed from: `Some(None)`
    /// "must not exist", `Some(Some(etag))` "must still have this ETag", else
    /// [`StoreError::Changed`].
    pub unchanged: Option<Option<String>>,
}

/// Whether a writer may create the target, and whether it may replace (or delete) it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Allowed {
    pub create: bool,
    pub replace: bool,
}

impl Allowed {
    pub const ALL: Allowed = Allowed {
        create: true,
        replace: true,
    };
}

impl Default for Allowed {
    fn default() -> Self {
        Allowed::ALL
    }
}

impl Expect {
    /// A create that must not replace anything (POST's new member).
    pub fn absent() -> Self {
        Expect {
            unchanged: Some(None),
            ..Expect::default()
        }
    }

    /// Checks `current` (the target's row, `None` when it does not exist): access first (a
    /// refused agent learns nothing from a precondition), then the conditional headers, then
    /// compare-and-swap.
    pub fn check(&self, current: Option<&Resource>) -> Result<(), StoreError> {
        let exists = current.is_some();
        let granted = if exists {
            self.allowed.replace
        } else {
            self.allowed.create
        };
        if !granted {
            return Err(StoreError::Refused { exists });
        }
        if !self.conditions.hold(current.map(Resource::validators)) {
            return Err(StoreError::PreconditionFailed);
        }
        match &self.unchanged {
            Some(expected) if current.map(|r| &r.etag) != expected.as_ref() => {
                Err(StoreError::Changed)
            }
            _ => Ok(()),
        }
    }
}

/// Create or replace one resource.
#[derive(Debug, Clone)]
pub struct WriteRequest {
    pub path: podplane_solid::path::ResourcePath,
    pub kind: Kind,
    pub content_type: String,
    pub content: Content,
    pub size: u64,
    /// What must hold of the target's row at commit.
    pub expect: Expect,
    /// Create missing intermediate containers (PUT/PATCH do; POST does not need to).
    pub create_ancestors: bool,
    /// Set for an auxiliary resource (e.g. a description resource): the resource it belongs
    /// to, which must exist. Auxiliary resources are not members of any container.
    pub auxiliary_of: Option<podplane_solid::path::ResourcePath>,
    pub actor: Option<String>,
    /// Who asked, for the audit event queued with the write; `None`: not audited (the
    /// store's own tests, changes the server makes by itself).
    pub audit: Option<podplane_events::Audited>,
    /// The quota of a pod that has none of its own (`None`: unlimited). A write that would
    /// take the pod past its quota fails with [`StoreError::QuotaExceeded`] and stores nothing.
    pub default_quota: Option<u64>,
}

#[derive(Debug, Clone)]
pub struct DeleteRequest {
    pub path: podplane_solid::path::ResourcePath,
    /// Auxiliary resources deleted in the same transaction (missing ones are skipped).
    pub auxiliaries: Vec<podplane_solid::path::ResourcePath>,
    /// What must hold of the target's row at commit.
    pub expect: Expect,
    pub actor: Option<String>,
    /// Who asked, for the audit event queued with the deletion; `None`: not audited.
    pub audit: Option<podplane_events::Audited>,
}

/// A resource as an import brings it (`pod_import`): content already stored (a blob
/// registered as pending, or inline bytes), its modification time kept.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedRow {
    pub path: String,
    pub kind: Kind,
    pub content_type: String,
    pub content: Content,
    pub size: u64,
    pub modified_ms: i64,
    pub creator: Option<String>,
}

/// Metadata persistence. Every mutating method is one transaction that also queues its events
/// in the outbox and records superseded blobs as garbage.
#[async_trait::async_trait]
pub trait MetadataStore: Send + Sync + 'static {
    async fn get(&self, path: &str) -> Result<Option<Resource>, StoreError>;
    async fn children(&self, container: &str) -> Result<Vec<ChildRow>, StoreError>;
    /// Returns the new state; `created` tells a create from a replace.
    async fn write(&self, req: WriteRequest) -> Result<(Resource, bool), StoreError>;
    async fn delete(&self, req: DeleteRequest) -> Result<(), StoreError>;

    /// Several point reads at once (the access control documents of a path and its
    /// ancestors); missing paths are left out. Engines that coalesce concurrent reads turn
    /// this into one query.
    async fn get_many(&self, paths: &[String]) -> Result<Vec<Resource>, StoreError> {
        let rows = futures_util::future::try_join_all(paths.iter().map(|p| self.get(p))).await?;
        Ok(rows.into_iter().flatten().collect())
    }

    /// Rows whose paths lie strictly between `after` and `before` (byte order), in that
    /// order, at most `limit`: a pod or the whole store, walked in batches.
    async fn scan(
        &self,
        after: &str,
        before: &str,
        limit: u32,
    ) -> Result<Vec<Resource>, StoreError>;
    /// Stores `path`'s content another way, keeping its tag, times and members and queuing no
    /// event: the same representation, stored differently (see `rewrite`). `false` when the
    /// row is gone or its tag is no longer `etag` (a write came first; it wins).
    async fn rewrite(
        &self,
        path: &str,
        etag: &str,
        content: Content,
        size: u64,
    ) -> Result<bool, StoreError>;
    /// A value the store keeps about itself (a data migration's progress).
    async fn setting(&self, name: &str) -> Result<Option<String>, StoreError>;
    async fn set_setting(&self, name: &str, value: &str) -> Result<(), StoreError>;

    /// Starts importing `pod` (see `pod_import`): its row, invisible to clients until
    /// [`MetadataStore::finish_import`]. A conflict when the name is taken in any way.
    async fn begin_import(&self, pod: &Pod) -> Result<(), StoreError>;
    /// Adds a batch of resources to a pod being imported (none: only says it is alive).
    async fn import_rows(&self, name: &str, rows: Vec<ImportedRow>) -> Result<(), StoreError>;
    /// Adds the root and makes the imported pod appear, whole, in one transaction.
    async fn finish_import(
        &self,
        name: &str,
        root: ImportedRow,
        owner: Option<&str>,
    ) -> Result<(), StoreError>;
    /// Turns an import that will not finish into a deleted pod, purged like any other;
    /// `false` when `name` is not being imported.
    async fn abandon_import(&self, name: &str) -> Result<bool, StoreError>;
    /// Pods whose import has shown no life since `before_ms`.
    async fn stalled_imports(&self, before_ms: i64) -> Result<Vec<String>, StoreError>;

    async fn create_pod(&self, pod: NewPod<'_>) -> Result<Pod, StoreError>;
    async fn get_pod(&self, name: &str) -> Result<Option<Pod>, StoreError>;
    async fn list_pods(&self) -> Result<Vec<Pod>, StoreError>;
    /// Gives pod `name` a quota of its own (`None`: back to the server's default).
    async fn set_quota(&self, name: &str, quota: Option<u64>) -> Result<(), StoreError>;

    /// Deletes pod `name` for clients at once (see `pod_deletion`): its name stays taken until
    /// [`MetadataStore::finish_purge`]. `actor`: who asked, for the `pod-deleted` event.
    async fn delete_pod(&self, name: &str, actor: Option<&str>) -> Result<PodDeletion, StoreError>;
    /// Pods deleted whose purge has not finished, oldest deletion first.
    async fn deleted_pods(&self) -> Result<Vec<String>, StoreError>;
    /// Removes up to `limit` rows of deleted pod `name` in one transaction; their blobs become
    /// garbage due at once. Refused for a pod that is not deleted.
    async fn purge_rows(&self, name: &str, limit: u32) -> Result<PurgedRows, StoreError>;
    /// When no row of deleted pod `name` is left: removes the pod and queues `pod-purged`, in
    /// one transaction, and answers `true` (also when it was done before).
    async fn finish_purge(&self, name: &str) -> Result<bool, StoreError>;

    /// Records a blob key before its upload starts, so a crash mid-upload leaves a known
    /// orphan that garbage collection can remove.
    async fn register_pending_blob(&self, key: &str) -> Result<(), StoreError>;
    /// Forgets a pending blob whose upload failed and was cleaned up at once.
    async fn drop_pending_blob(&self, key: &str) -> Result<(), StoreError>;
    /// Blob keys no committed row points to and that have been so since before `before_ms`.
    /// First it expires the uploads registered before `before_ms`: their keys move from
    /// pending to garbage in one transaction, so a write still holding one can no longer
    /// commit it (its commit finds no pending key and fails) and GC never deletes a blob a
    /// row is about to point to.
    async fn garbage(&self, before_ms: i64, limit: u32) -> Result<Vec<String>, StoreError>;
    /// Forgets garbage keys whose blobs were deleted.
    async fn forget_garbage(&self, keys: &[String]) -> Result<(), StoreError>;

    /// Records a DPoP proof id until `expires_ms`; `false` when it was recorded before (a
    /// replay). Shared by every replica that uses the same database.
    async fn claim_proof(&self, id: &str, expires_ms: i64) -> Result<bool, StoreError>;
    /// Forgets proof ids that expired before `now_ms`.
    async fn purge_proofs(&self, now_ms: i64) -> Result<u64, StoreError>;

    /// Unsent outbox rows, oldest first, as (row id, envelope): a read-only look at the
    /// backlog.
    async fn outbox_pending(&self, limit: u32) -> Result<Vec<(i64, Envelope)>, StoreError>;
    /// How far the relay is behind: unsent events (counted up to [`BACKLOG_COUNT_CAP`], so a
    /// long broker outage does not make the count itself slow) and when the oldest was queued.
    async fn outbox_backlog(&self) -> Result<OutboxBacklog, StoreError>;
    /// The connection pool's current size and idle connections (all pools of the engine).
    fn pool_stats(&self) -> PoolStats;
    /// Takes the relay lease and returns up to `limit` unsent events, oldest first; `None`
    /// while another relay (another replica) holds the lease. Only one relay publishes at a
    /// time, which keeps the bus in commit order. The lease ends when the batch is completed
    /// or dropped; rows not marked sent are published again by the next lease holder.
    async fn outbox_batch(&self, limit: u32) -> Result<Option<Box<dyn OutboxBatch>>, StoreError>;
}

/// Counting unsent events stops here.
pub const BACKLOG_COUNT_CAP: i64 = 100_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OutboxBacklog {
    pub pending: i64,
    pub oldest_created_ms: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PoolStats {
    pub size: u32,
    pub idle: u32,
}

/// Events leased to one relay.
#[async_trait::async_trait]
pub trait OutboxBatch: Send {
    fn events(&self) -> &[(i64, Envelope)];
    /// Marks the given rows sent and releases the lease.
    async fn complete(self: Box<Self>, sent: &[i64]) -> Result<(), StoreError>;
}
