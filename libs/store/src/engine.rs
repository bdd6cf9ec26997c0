//! The write algorithm every metadata engine shares, written once over [`WriteTx`]: the
//! row-level statements one write transaction needs. Engines supply only SQL.
//!
//! A write runs inside one transaction that the engine has made exclusive for the pod (SQLite:
//! `BEGIN IMMEDIATE`; PostgreSQL: an advisory lock on the pod), so the checks below (slash
//! twins, emptiness, compare-and-swap) cannot race with another writer.

use crate::error::StoreError;
use crate::meta::*;
use crate::now_ms;
use podplane_events::{AuditName, Envelope, ResourceEvent, ResourceEventKind};
use uuid::Uuid;

/// A new row (or the new state of an existing one).
pub(crate) struct NewRow<'a> {
    pub path: &'a str,
    pub parent: Option<&'a str>,
    pub kind: Kind,
    pub content_type: &'a str,
    pub inline: Option<&'a [u8]>,
    pub blob_key: Option<&'a str>,
    pub size: i64,
    pub etag: &'a str,
    pub now: i64,
    /// Recorded when the row is inserted; updates keep the original creator.
    pub creator: Option<&'a str>,
}

impl<'a> NewRow<'a> {
    /// A container with no client-supplied triples (an intermediate container, a pod root).
    fn empty_container(
        path: &'a str,
        parent: Option<&'a str>,
        etag: &'a str,
        now: i64,
        creator: Option<&'a str>,
    ) -> Self {
        NewRow {
            path,
            parent,
            kind: Kind::Container,
            content_type: "text/turtle",
            inline: None,
            blob_key: None,
            size: 0,
            etag,
            now,
            creator,
        }
    }
}

#[async_trait::async_trait]
pub(crate) trait WriteTx: Send {
    async fn resource(&mut self, path: &str) -> Result<Option<Resource>, StoreError>;
    async fn exists(&mut self, path: &str) -> Result<bool, StoreError>;
    async fn has_children(&mut self, path: &str) -> Result<bool, StoreError>;
    /// The container a row is a member of (`None` for pod roots and auxiliary resources).
    async fn parent_of(&mut self, path: &str) -> Result<Option<String>, StoreError>;
    /// Inserts, or replaces everything but `created_ms` of, the row at `row.path`.
    async fn upsert(&mut self, row: &NewRow<'_>) -> Result<(), StoreError>;
    async fn set_version(&mut self, path: &str, etag: &str, now: i64) -> Result<(), StoreError>;
    async fn delete_row(&mut self, path: &str) -> Result<(), StoreError>;
    /// Claims a pending blob for the row being written; `false` when garbage collection
    /// expired it first (the upload outlived the grace period).
    async fn unpend_blob(&mut self, key: &str) -> Result<bool, StoreError>;
    async fn mark_garbage(&mut self, key: &str, now: i64) -> Result<(), StoreError>;
    async fn enqueue(&mut self, envelope: &Envelope, now: i64) -> Result<(), StoreError>;
    async fn insert_pod(&mut self, pod: &Pod) -> Result<(), StoreError>;
    /// Adds `delta` to the pod's used bytes; answers the new figure and the pod's own quota.
    async fn add_usage(&mut self, pod: &str, delta: i64) -> Result<(i64, Option<i64>), StoreError>;
    /// `None`: no such pod; `Some(None)`: live; `Some(Some(ms))`: deleted at `ms`.
    async fn pod_deleted(&mut self, pod: &str) -> Result<Option<Option<i64>>, StoreError>;
    async fn tombstone_pod(&mut self, pod: &str, now: i64) -> Result<(), StoreError>;
    /// Deletes up to `limit` rows whose paths lie in `[from, to)`; answers their blob keys.
    async fn take_rows(
        &mut self,
        from: &str,
        to: &str,
        limit: u32,
    ) -> Result<Vec<Option<String>>, StoreError>;
    /// Whether any row's path lies in `[from, to)`.
    async fn has_rows(&mut self, from: &str, to: &str) -> Result<bool, StoreError>;
    async fn remove_pod(&mut self, pod: &str) -> Result<(), StoreError>;
    /// Marks a live pod as being imported since `since` (`None`: clears the mark).
    async fn mark_importing(&mut self, pod: &str, since: Option<i64>) -> Result<(), StoreError>;
    /// When the live pod's import last showed life; `None` when it is not being imported.
    async fn importing_since(&mut self, pod: &str) -> Result<Option<i64>, StoreError>;
}

/// Counts `delta` bytes against the pod, in the write's transaction (so under the pod's
/// lock: concurrent writers are counted one after the other and cannot pass the quota
/// together). Growth past the quota is refused; the caller's error rolls the transaction
/// back, so nothing of the write stays. Shrinking is never refused.
async fn count_usage(
    tx: &mut impl WriteTx,
    pod: &str,
    delta: i64,
    default_quota: Option<u64>,
) -> Result<(), StoreError> {
    if delta == 0 {
        return Ok(());
    }
    let (used, own) = tx.add_usage(pod, delta).await?;
    if delta < 0 {
        return Ok(());
    }
    let before = u64::try_from(used - delta).unwrap_or(0);
    check_room(
        before,
        delta.unsigned_abs(),
        effective_quota(own, default_quota),
    )
}

/// The row columns that hold `content`: inline bytes or a blob key.
pub(crate) fn columns(content: &Content) -> (Option<&[u8]>, Option<&str>) {
    match content {
        Content::Empty => (None, None),
        Content::Inline(b) => (Some(b.as_slice()), None),
        Content::Blob(k) => (None, Some(k.as_str())),
    }
}

/// Claims the pending blob a row is about to point to, if any (see `WriteTx::unpend_blob`).
pub(crate) async fn claim_blob(tx: &mut impl WriteTx, key: Option<&str>) -> Result<(), StoreError> {
    match key {
        Some(key) if !tx.unpend_blob(key).await? => Err(StoreError::Unavailable(
            "the upload took longer than the blob grace period and was collected".into(),
        )),
        _ => Ok(()),
    }
}

pub(crate) fn new_etag() -> String {
    format!("\"{}\"", Uuid::new_v4().simple())
}

/// Builds events with absolute IRIs.
pub(crate) struct Events<'a> {
    pub base_url: &'a str,
    pub actor: &'a Option<String>,
    pub out: Vec<ResourceEvent>,
}

impl Events<'_> {
    pub(crate) fn push(
        &mut self,
        kind: ResourceEventKind,
        path: &str,
        target: Option<&str>,
        state: Option<&str>,
    ) -> &mut ResourceEvent {
        self.out.push(ResourceEvent {
            id: Uuid::new_v4(),
            kind,
            object: format!("{}{path}", self.base_url),
            target: target.map(|t| format!("{}{t}", self.base_url)),
            state: state.map(str::to_owned),
            media_type: None,
            size: None,
            actor: self.actor.clone(),
            published_ms: now_ms(),
        });
        let last = self.out.len() - 1;
        &mut self.out[last]
    }

    pub(crate) async fn flush(self, tx: &mut impl WriteTx, now: i64) -> Result<(), StoreError> {
        // Every store call runs inside the span of the request that made it; its trace goes
        // with the events, so the consumers' spans join it.
        let traceparent = podplane_telemetry::trace::current_traceparent();
        for e in &self.out {
            let mut envelope = e.envelope();
            envelope.traceparent.clone_from(&traceparent);
            tx.enqueue(&envelope, now).await?;
        }
        Ok(())
    }
}

/// A container's representation lists its members with their size and modification time, so
/// any change to a member gives the container a new ETag.
async fn touch(tx: &mut impl WriteTx, container: &str, now: i64) -> Result<String, StoreError> {
    let etag = new_etag();
    tx.set_version(container, &etag, now).await?;
    Ok(etag)
}

pub(crate) async fn write(
    tx: &mut impl WriteTx,
    base_url: &str,
    req: WriteRequest,
) -> Result<(Resource, bool), StoreError> {
    let now = now_ms();
    let path = req.path.as_str();
    let pod_root = req
        .path
        .pod_root()
        .ok_or_else(|| StoreError::NotFound("no pod".into()))?;
    if !tx.exists(pod_root.as_str()).await? {
        return Err(StoreError::NotFound(format!("no pod at {pod_root}")));
    }
    let current = tx.resource(path).await?;
    req.expect.check(current.as_ref())?;
    let size = i64::try_from(req.size).map_err(|_| StoreError::TooLarge {
        limit: i64::MAX as u64,
    })?;
    let replaced = current.as_ref().map_or(0, |c| c.size);
    let replaced = i64::try_from(replaced).unwrap_or(i64::MAX);
    let pod = req.path.pod().unwrap_or_default().to_owned();
    count_usage(tx, &pod, size - replaced, req.default_quota).await?;
    if current.is_none() {
        if let Some(twin) = req.path.toggled_slash() {
            if tx.exists(twin.as_str()).await? {
                return Err(StoreError::Conflict(format!("{twin} already exists")));
            }
        }
    }

    let mut events = Events {
        base_url,
        actor: &req.actor,
        out: Vec::new(),
    };
    let ancestors = match &req.auxiliary_of {
        Some(subject) => {
            if !tx.exists(subject.as_str()).await? {
                return Err(StoreError::NotFound(format!("{subject} does not exist")));
            }
            Vec::new()
        }
        None => req.path.ancestors_within_pod(),
    };
    // Intermediate containers, outermost first (server-put-patch-intermediate-containers).
    for ancestor in ancestors {
        if tx.exists(ancestor.as_str()).await? {
            continue;
        }
        if let Some(twin) = ancestor.toggled_slash() {
            if tx.exists(twin.as_str()).await? {
                return Err(StoreError::Conflict(format!("{twin} is not a container")));
            }
        }
        if !req.create_ancestors {
            return Err(StoreError::NotFound(format!(
                "container {ancestor} does not exist"
            )));
        }
        let parent = ancestor.parent().map(|p| p.as_str().to_owned());
        let etag = new_etag();
        tx.upsert(&NewRow::empty_container(
            ancestor.as_str(),
            parent.as_deref(),
            &etag,
            now,
            req.actor.as_deref(),
        ))
        .await?;
        events.push(
            ResourceEventKind::Create,
            ancestor.as_str(),
            None,
            Some(&etag),
        );
        if let Some(parent) = parent {
            let state = touch(tx, &parent, now).await?;
            events.push(
                ResourceEventKind::Add,
                ancestor.as_str(),
                Some(&parent),
                Some(&state),
            );
        }
    }

    let (inline, blob_key) = columns(&req.content);
    let etag = new_etag();
    let parent = match req.auxiliary_of {
        Some(_) => None,
        None => req.path.parent().map(|p| p.as_str().to_owned()),
    };
    tx.upsert(&NewRow {
        path,
        parent: parent.as_deref(),
        kind: req.kind,
        content_type: &req.content_type,
        inline,
        blob_key,
        size,
        etag: &etag,
        now,
        creator: req.actor.as_deref(),
    })
    .await?;
    claim_blob(tx, blob_key).await?;
    if let Some(Content::Blob(old)) = current.as_ref().map(|c| &c.content) {
        if blob_key != Some(old.as_str()) {
            tx.mark_garbage(old, now).await?;
        }
    }

    let created = current.is_none();
    let kind = if created {
        ResourceEventKind::Create
    } else {
        ResourceEventKind::Update
    };
    let main = events.push(kind, path, None, Some(&etag));
    main.media_type = Some(req.content_type.clone());
    main.size = Some(req.size);
    if let Some(parent) = &parent {
        let state = touch(tx, parent, now).await?;
        if created {
            events.push(ResourceEventKind::Add, path, Some(parent), Some(&state));
        }
    }
    events.flush(tx, now).await?;
    if let Some(who) = &req.audit {
        let (name, status) = match created {
            true => (AuditName::ResourceCreated, 201),
            false => (AuditName::ResourceUpdated, 204),
        };
        crate::audit::record(tx, base_url, name, &req.path, who, status, now).await?;
    }
    let resource = Resource {
        path: path.to_owned(),
        kind: req.kind,
        content_type: req.content_type,
        content: req.content,
        size: req.size,
        etag,
        modified_ms: now,
        creator: match &current {
            Some(c) => c.creator.clone(),
            None => req.actor.clone(),
        },
    };
    Ok((resource, created))
}

pub(crate) async fn delete(
    tx: &mut impl WriteTx,
    base_url: &str,
    req: DeleteRequest,
) -> Result<(), StoreError> {
    let now = now_ms();
    let path = req.path.as_str();
    let current = tx
        .resource(path)
        .await?
        .ok_or_else(|| StoreError::NotFound(path.to_owned()))?;
    req.expect.check(Some(&current))?;
    if current.kind == Kind::Container && tx.has_children(path).await? {
        return Err(StoreError::Conflict(format!(
            "container {path} is not empty"
        )));
    }
    let parent = tx.parent_of(path).await?;
    tx.delete_row(path).await?;
    if let Content::Blob(key) = &current.content {
        tx.mark_garbage(key, now).await?;
    }
    let mut freed = current.size;
    // server-delete-remove-auxiliary-resource: auxiliaries go with their subject.
    for aux in &req.auxiliaries {
        if let Some(r) = tx.resource(aux.as_str()).await? {
            tx.delete_row(aux.as_str()).await?;
            if let Content::Blob(key) = &r.content {
                tx.mark_garbage(key, now).await?;
            }
            freed += r.size;
        }
    }
    let pod = req.path.pod().unwrap_or_default();
    count_usage(tx, pod, -i64::try_from(freed).unwrap_or(i64::MAX), None).await?;
    let mut events = Events {
        base_url,
        actor: &req.actor,
        out: Vec::new(),
    };
    events.push(ResourceEventKind::Delete, path, None, None);
    if let Some(parent) = parent {
        let state = touch(tx, &parent, now).await?;
        events.push(ResourceEventKind::Remove, path, Some(&parent), Some(&state));
    }
    events.flush(tx, now).await?;
    if let Some(who) = &req.audit {
        let name = AuditName::ResourceDeleted;
        crate::audit::record(tx, base_url, name, &req.path, who, 204, now).await?;
    }
    Ok(())
}

/// An owned copy of a [`NewPod`], for the task or thread that creates it.
pub(crate) struct PodSpec {
    pub name: String,
    owner: Option<String>,
    access: AccessKind,
    acl: Option<Vec<u8>>,
}

impl From<NewPod<'_>> for PodSpec {
    fn from(p: NewPod<'_>) -> Self {
        Self {
            name: p.name.to_owned(),
            owner: p.owner.map(str::to_owned),
            access: p.access,
            acl: p.acl.map(<[u8]>::to_vec),
        }
    }
}

/// A pod: its row, its root container (no parent) with the root's access control resource,
/// and their Create events, in the caller's transaction.
pub(crate) async fn create_pod(
    tx: &mut impl WriteTx,
    base_url: &str,
    spec: &PodSpec,
) -> Result<Pod, StoreError> {
    if tx.pod_deleted(&spec.name).await?.is_some() {
        // A live pod's root would be found below too; this is a deleted one, still purging.
        return Err(StoreError::Conflict(format!(
            "pod {} exists or is still being deleted",
            spec.name
        )));
    }
    let pod = NewPod {
        name: &spec.name,
        owner: spec.owner.as_deref(),
        access: spec.access,
        acl: spec.acl.as_deref(),
    };
    create_pod_root(tx, base_url, &pod).await?;
    // The pod is provisioned for its owner, on their behalf.
    let (provisioned, owner) = (AuditName::PodProvisioned, spec.owner.as_deref());
    crate::audit::record_pod(tx, base_url, provisioned, &spec.name, owner, 201, now_ms()).await?;
    let row = Pod {
        name: spec.name.clone(),
        owner: spec.owner.clone(),
        access: spec.access,
        created_ms: now_ms(),
        // The root's access control document is the pod's first content.
        used_bytes: spec
            .acl
            .as_ref()
            .map_or(0, |acl| i64::try_from(acl.len()).unwrap_or(i64::MAX)),
        quota_bytes: None,
    };
    tx.insert_pod(&row).await?;
    Ok(row)
}

async fn create_pod_root(
    tx: &mut impl WriteTx,
    base_url: &str,
    pod: &NewPod<'_>,
) -> Result<(), StoreError> {
    let (name, owner) = (pod.name, pod.owner);
    let root = podplane_solid::path::ResourcePath::parse(&format!("/{name}/"))
        .map_err(|e| StoreError::Conflict(e.to_string()))?;
    if !root.is_pod_root() {
        return Err(StoreError::Conflict(format!(
            "{name:?} is not a valid pod name"
        )));
    }
    if tx.exists(root.as_str()).await? || tx.exists(&format!("/{name}")).await? {
        return Err(StoreError::Conflict(format!("pod {name} already exists")));
    }
    let now = now_ms();
    let etag = new_etag();
    tx.upsert(&NewRow::empty_container(
        root.as_str(),
        None,
        &etag,
        now,
        owner,
    ))
    .await?;
    let acl_path = root.acl();
    let acl_etag = new_etag();
    if let Some(acl) = pod.acl {
        tx.upsert(&NewRow {
            path: acl_path.as_str(),
            parent: None,
            kind: Kind::Rdf,
            content_type: "text/turtle",
            inline: Some(acl),
            blob_key: None,
            size: i64::try_from(acl.len()).unwrap_or(i64::MAX),
            etag: &acl_etag,
            now,
            creator: owner,
        })
        .await?;
    }
    let actor = owner.map(str::to_owned);
    let mut events = Events {
        base_url,
        actor: &actor,
        out: Vec::new(),
    };
    events.push(ResourceEventKind::Create, root.as_str(), None, Some(&etag));
    if pod.acl.is_some() {
        events.push(
            ResourceEventKind::Create,
            acl_path.as_str(),
            None,
            Some(&acl_etag),
        );
    }
    events.flush(tx, now).await
}
