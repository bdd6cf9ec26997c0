//! Audit events: who did what to which resource, when, through which client, and how it ended.
//! The shape follows ESS's audit events (Activity Streams 2.0 JSON-LD with ESS's audit context,
//! an `Activity` typed by verb, `name` the event name ESS uses, `actor`/`object`/`instrument`/
//! `result` as arrays, `generator` the emitting service, `identifier` the request), and adds
//! what ESS does not record but an auditor needs: the identity provider that vouched for the
//! actor (in `instrument`) and the HTTP outcome (in `result`).
//!
//! Events travel on [`AUDIT_TOPIC`], keyed by pod name, so one pod's events keep their order
//! (the audit service chains them per pod).

use crate::types::Envelope;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Topic of audit events (ARCHITECTURE.md "Events").
pub const AUDIT_TOPIC: &str = "podplane.audit.v1";

/// The JSON-LD contexts of every audit event, as ESS's.
pub const AUDIT_CONTEXT: [&str; 2] = [
    "https://www.w3.org/ns/activitystreams",
    "https://schema.inrupt.com/audit/v1.jsonld",
];

/// What happened, by ESS's event names where ESS has one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuditName {
    ResourceCreated,
    ResourceUpdated,
    ResourceDeleted,
    /// A successful GET or HEAD (audited only when reads are).
    ResourceRead,
    /// A request refused with 401 or 403 (podplane's; ESS records no refusals).
    AccessDenied,
    PodProvisioned,
    /// podplane's: a pod deleted by its owner or an administrator (ESS's purger records
    /// `purge-init`).
    PodDeleted,
}

impl AuditName {
    /// The Activity Streams type beside `Activity`, and ESS's summary.
    fn describe(self) -> (&'static str, &'static str) {
        match self {
            AuditName::ResourceCreated => ("Create", "Resource has been created"),
            AuditName::ResourceUpdated => ("Update", "Resource has been updated"),
            AuditName::ResourceDeleted => ("Delete", "Resource has been deleted"),
            AuditName::ResourceRead => ("Read", "Resource has been read"),
            AuditName::AccessDenied => ("Reject", "Access has been denied"),
            AuditName::PodProvisioned => ("Create", "Pod provisioned"),
            AuditName::PodDeleted => ("Delete", "Pod deleted"),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AuditName::ResourceCreated => "resource-created",
            AuditName::ResourceUpdated => "resource-updated",
            AuditName::ResourceDeleted => "resource-deleted",
            AuditName::ResourceRead => "resource-read",
            AuditName::AccessDenied => "access-denied",
            AuditName::PodProvisioned => "pod-provisioned",
            AuditName::PodDeleted => "pod-deleted",
        }
    }
}

/// Who asked, as the request's credentials said, and which request it was.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Audited {
    /// The agent's WebID; `None`: an anonymous request.
    pub webid: Option<String>,
    /// The Solid-OIDC client id (`azp`) of the application used.
    pub client_id: Option<String>,
    /// The identity provider that issued the agent's token.
    pub issuer: Option<String>,
    /// The request's id (`X-Request-Id`), shared by every event of one request.
    pub request_id: Option<String>,
}

/// One audit event, as published.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    #[serde(rename = "@context")]
    pub context: Vec<String>,
    /// `urn:uuid:…`: the de-duplication key.
    pub id: String,
    #[serde(rename = "type")]
    pub kind: Vec<String>,
    pub name: AuditName,
    pub summary: String,
    pub generator: Generator,
    pub actor: Vec<Thing>,
    pub object: Vec<Thing>,
    /// The pod the event concerns.
    pub target: Thing,
    /// The client application and the identity provider.
    pub instrument: Vec<Thing>,
    /// The outcome: one element with the HTTP status.
    pub result: Vec<Outcome>,
    /// The request's id.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub identifier: Option<String>,
    /// RFC 3339, UTC.
    pub published: String,
}

/// A typed node: an agent, a resource, a storage, a client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Thing {
    pub id: String,
    #[serde(rename = "type", skip_serializing_if = "Vec::is_empty", default)]
    pub kind: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub summary: Option<String>,
}

impl Thing {
    fn typed(id: &str, kind: &str) -> Self {
        Thing {
            id: id.to_owned(),
            kind: vec![kind.to_owned()],
            summary: None,
        }
    }

    fn described(id: &str, summary: &str) -> Self {
        Thing {
            id: id.to_owned(),
            kind: Vec::new(),
            summary: Some(summary.to_owned()),
        }
    }
}

/// The emitting service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Generator {
    /// The service's public base URL.
    pub id: String,
    #[serde(rename = "type")]
    pub kind: Vec<String>,
    pub name: String,
}

/// How the request ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    #[serde(rename = "type")]
    pub kind: Vec<String>,
    /// The HTTP status answered.
    pub status: u16,
}

/// What an event is about: its subject and the pod it lies in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject<'a> {
    /// The resource's (or, for pod events, the pod root's) IRI.
    pub iri: &'a str,
    /// The pod's name: the event's key.
    pub pod: &'a str,
    /// The pod root's IRI.
    pub storage: &'a str,
}

/// The service that emits: its name (`podplane-storage`, …) and public base URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Emitter<'a> {
    pub name: &'a str,
    pub base_url: &'a str,
}

impl AuditEvent {
    /// An event `name` about `subject`, asked by `who`, answered with `status` at
    /// `published_ms`.
    pub fn new(
        emitter: &Emitter<'_>,
        name: AuditName,
        subject: &Subject<'_>,
        who: &Audited,
        status: u16,
        published_ms: i64,
    ) -> Self {
        let (verb, summary) = name.describe();
        let mut instrument = Vec::new();
        if let Some(client) = &who.client_id {
            instrument.push(Thing::described(client, "Client identifier"));
        }
        if let Some(issuer) = &who.issuer {
            instrument.push(Thing::described(issuer, "Identity provider"));
        }
        let object_kind = match name {
            AuditName::PodProvisioned | AuditName::PodDeleted => "Storage",
            _ => "Resource",
        };
        AuditEvent {
            context: AUDIT_CONTEXT.iter().map(|c| (*c).to_owned()).collect(),
            id: format!("urn:uuid:{}", Uuid::new_v4()),
            kind: vec!["Activity".to_owned(), verb.to_owned()],
            name,
            summary: summary.to_owned(),
            generator: Generator {
                id: format!("{}/", emitter.base_url.trim_end_matches('/')),
                kind: vec!["SoftwareApplication".to_owned()],
                name: emitter.name.to_owned(),
            },
            actor: who.webid.iter().map(|w| Thing::typed(w, "Agent")).collect(),
            object: vec![Thing::typed(subject.iri, object_kind)],
            target: Thing::typed(subject.storage, "Storage"),
            instrument,
            result: vec![Outcome {
                kind: vec!["Outcome".to_owned()],
                status,
            }],
            identifier: who.request_id.clone(),
            published: rfc3339(published_ms),
        }
    }

    /// The pod's name, which keys the event (the last path segment of `target`).
    pub fn pod(&self) -> &str {
        self.target
            .id
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or_default()
    }

    /// Wraps the event for a bus, keyed by pod. The envelope's id is the event's UUID.
    pub fn envelope(&self) -> Envelope {
        let id = self
            .id
            .strip_prefix("urn:uuid:")
            .and_then(|u| Uuid::parse_str(u).ok())
            .unwrap_or_else(Uuid::new_v4);
        Envelope {
            id,
            topic: AUDIT_TOPIC.to_owned(),
            key: self.pod().to_owned(),
            payload: serde_json::to_vec(self).unwrap_or_default(),
            traceparent: None,
        }
    }

    /// The audit event an envelope carries; `None` for any other topic or shape.
    pub fn of(envelope: &Envelope) -> Option<AuditEvent> {
        if envelope.topic != AUDIT_TOPIC {
            return None;
        }
        serde_json::from_slice(&envelope.payload).ok()
    }
}

/// Milliseconds since the epoch as RFC 3339 UTC (`1970-01-01T00:00:00.123Z`).
fn rfc3339(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(who: &Audited) -> AuditEvent {
        AuditEvent::new(
            &Emitter {
                name: "podplane-storage",
                base_url: "https://pods.example",
            },
            AuditName::ResourceCreated,
            &Subject {
                iri: "https://pods.example/alice/notes/a.ttl",
                pod: "alice",
                storage: "https://pods.example/alice/",
            },
            who,
            201,
            1_764_547_200_123,
        )
    }

    #[test]
    fn events_have_ess_shape_and_podplanes_additions() {
        let who = Audited {
            webid: Some("https://id.example/alice#me".into()),
            client_id: Some("https://app.example/id".into()),
            issuer: Some("https://idp.example/".into()),
            request_id: Some("r-1".into()),
        };
        let json = serde_json::to_value(sample(&who)).unwrap();
        assert_eq!(json["@context"][0], "https://www.w3.org/ns/activitystreams");
        assert_eq!(json["type"], serde_json::json!(["Activity", "Create"]));
        assert_eq!(json["name"], "resource-created");
        assert!(json["id"].as_str().unwrap().starts_with("urn:uuid:"));
        assert_eq!(json["actor"][0]["id"], "https://id.example/alice#me");
        assert_eq!(json["actor"][0]["type"][0], "Agent");
        assert_eq!(
            json["object"][0]["id"],
            "https://pods.example/alice/notes/a.ttl"
        );
        assert_eq!(json["target"]["id"], "https://pods.example/alice/");
        assert_eq!(json["instrument"][0]["summary"], "Client identifier");
        assert_eq!(json["instrument"][1]["id"], "https://idp.example/");
        assert_eq!(json["result"][0]["status"], 201);
        assert_eq!(json["identifier"], "r-1");
        assert_eq!(json["generator"]["id"], "https://pods.example/");
        assert_eq!(json["published"], "2025-12-01T00:00:00.123Z");
    }

    #[test]
    fn anonymous_events_have_no_actor_and_round_trip_keyed_by_pod() {
        let event = sample(&Audited::default());
        assert!(event.actor.is_empty() && event.instrument.is_empty());
        let envelope = event.envelope();
        assert_eq!(envelope.key, "alice");
        assert_eq!(envelope.topic, AUDIT_TOPIC);
        assert_eq!(format!("urn:uuid:{}", envelope.id), event.id);
        assert_eq!(AuditEvent::of(&envelope), Some(event));
    }

    #[test]
    fn timestamps_are_rfc3339_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400_120), "2000-02-29T00:00:00.12Z");
        assert_eq!(rfc3339(4_102_444_799_999), "2099-12-31T23:59:59.999Z");
    }
}
