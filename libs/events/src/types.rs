use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Topic of resource lifecycle events (ARCHITECTURE.md "Events").
pub const RESOURCE_TOPIC: &str = "podplane.resource.v1";

/// Activity Streams verbs of the Solid Notifications Protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ResourceEventKind {
    Create,
    Update,
    Delete,
    /// A member was added to the container named by `target`.
    Add,
    /// A member was removed from the container named by `target`.
    Remove,
}

/// One change to one resource. `object` is the resource's IRI; for Add/Remove, `object` is the
/// member and `target` the container.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceEvent {
    pub id: Uuid,
    #[serde(rename = "type")]
    pub kind: ResourceEventKind,
    pub object: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub target: Option<String>,
    /// The resource's ETag after the change (none after a delete).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub state: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub media_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub size: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub actor: Option<String>,
    /// Milliseconds since the Unix epoch.
    pub published_ms: i64,
}

impl ResourceEvent {
    /// Wraps the event for a bus: keyed by the IRI whose order matters (the container for
    /// Add/Remove, so a container's membership changes stay in order).
    pub fn envelope(&self) -> Envelope {
        let key = match self.kind {
            ResourceEventKind::Add | ResourceEventKind::Remove => {
                self.target.clone().unwrap_or_else(|| self.object.clone())
            }
            _ => self.object.clone(),
        };
        Envelope {
            id: self.id,
            topic: RESOURCE_TOPIC.to_owned(),
            key,
            payload: serde_json::to_vec(self).unwrap_or_default(),
            traceparent: None,
        }
    }
}

/// Topic of pod lifecycle events: a pod's deletion and the end of its purge.
pub const POD_TOPIC: &str = "podplane.pod.v1";

/// What happened to a pod as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PodEventKind {
    /// The pod is gone for clients (404 from this commit on); its rows and blobs are still
    /// being removed. Storage's purger acts on it; other services drop what they hold for
    /// the pod.
    PodDeleted,
    /// Every row and blob of the pod is gone; the name may be given out again.
    PodPurged,
}

/// One pod lifecycle event, keyed by the pod name (its events stay in order).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodEvent {
    pub id: Uuid,
    #[serde(rename = "type")]
    pub kind: PodEventKind,
    /// The pod's name.
    pub pod: String,
    /// The pod root's IRI.
    pub storage: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub actor: Option<String>,
    /// Milliseconds since the Unix epoch.
    pub published_ms: i64,
}

impl PodEvent {
    pub fn envelope(&self) -> Envelope {
        Envelope {
            id: self.id,
            topic: POD_TOPIC.to_owned(),
            key: self.pod.clone(),
            payload: serde_json::to_vec(self).unwrap_or_default(),
            traceparent: None,
        }
    }

    /// The pod event an envelope carries; `None` for any other topic or shape.
    pub fn of(envelope: &Envelope) -> Option<PodEvent> {
        if envelope.topic != POD_TOPIC {
            return None;
        }
        serde_json::from_slice(&envelope.payload).ok()
    }
}

/// What travels on a bus: an id for de-duplication, a topic, a partition key, JSON bytes,
/// and the W3C trace context of the request that caused it (a Kafka message header), so a
/// consumer's work joins that request's trace.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    pub id: Uuid,
    pub topic: String,
    pub key: String,
    pub payload: Vec<u8>,
    pub traceparent: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_events_round_trip_as_json() {
        let e = ResourceEvent {
            id: Uuid::new_v4(),
            kind: ResourceEventKind::Add,
            object: "https://x/alice/a".into(),
            target: Some("https://x/alice/".into()),
            state: Some("\"e1\"".into()),
            media_type: None,
            size: None,
            actor: None,
            published_ms: 5,
        };
        let env = e.envelope();
        assert_eq!(env.key, "https://x/alice/");
        assert_eq!(env.topic, RESOURCE_TOPIC);
        let json: serde_json::Value = serde_json::from_slice(&env.payload).unwrap();
        assert_eq!(json["type"], "Add");
        assert_eq!(json["publishedMs"], 5);
        let back: ResourceEvent = serde_json::from_slice(&env.payload).unwrap();
        assert_eq!(back, e);
    }

    #[test]
    fn pod_events_round_trip_keyed_by_pod() {
        let e = PodEvent {
            id: Uuid::new_v4(),
            kind: PodEventKind::PodDeleted,
            pod: "alice".into(),
            storage: "https://x/alice/".into(),
            actor: Some("https://id/alice#me".into()),
            published_ms: 7,
        };
        let env = e.envelope();
        assert_eq!((env.topic.as_str(), env.key.as_str()), (POD_TOPIC, "alice"));
        let json: serde_json::Value = serde_json::from_slice(&env.payload).unwrap();
        assert_eq!(json["type"], "pod-deleted");
        assert_eq!(PodEvent::of(&env), Some(e));
        assert_eq!(
            PodEvent::of(&Envelope {
                topic: RESOURCE_TOPIC.into(),
                ..env
            }),
            None
        );
    }
}
