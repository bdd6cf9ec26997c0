//! The sockets and streams this process holds, by topic, and the dispatch of each resource
//! event to them. Every replica sees every event (it tails all partitions), so whichever
//! replica holds a connection delivers to it. Read access is checked again on every delivery.

use crate::store::Channel;
use crate::State;
use futures_util::StreamExt;
use podplane_events::{Envelope, ResourceEvent, ResourceEventKind};
use podplane_solid::access::Requester;
use podplane_solid::notify::{self, Change};
use podplane_telemetry::trace::consumer_span;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// Messages one connection may have queued before it counts as stuck and is closed.
pub const QUEUE: usize = 256;

/// Connections held right now (gauge), and notifications sent or dropped.
pub const OPEN: &str = "podplane_notifications_connections_open";
pub const SENT: &str = "podplane_notifications_sent_total";
pub const DROPPED: &str = "podplane_notifications_dropped_total";

/// One connection: a channel and the queue its writer task drains.
struct Live {
    key: u64,
    channel: Arc<Channel>,
    tx: mpsc::Sender<String>,
    last_sent: Option<i64>,
}

#[derive(Default)]
pub struct Hub {
    by_topic: Mutex<HashMap<String, Vec<Live>>>,
    next: AtomicU64,
}

/// Keeps a connection registered; dropping it unregisters.
pub struct Registration {
    state: State,
    topic: String,
    key: u64,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.state.hub.remove(&self.topic, self.key);
    }
}

impl Hub {
    /// Registers a connection for `channel`; its messages arrive on the returned receiver
    /// until the registration is dropped or the channel is swept.
    pub fn register(
        state: &State,
        channel: Arc<Channel>,
    ) -> (Registration, mpsc::Receiver<String>) {
        let (tx, rx) = mpsc::channel(QUEUE);
        let key = state.hub.next.fetch_add(1, Ordering::Relaxed);
        let topic = channel.subscription.topic.clone();
        if let Ok(mut map) = state.hub.by_topic.lock() {
            map.entry(topic.clone()).or_default().push(Live {
                key,
                channel,
                tx,
                last_sent: None,
            });
        }
        metrics::gauge!(OPEN).increment(1.0);
        let reg = Registration {
            state: state.clone(),
            topic,
            key,
        };
        (reg, rx)
    }

    fn remove(&self, topic: &str, key: u64) {
        if let Ok(mut map) = self.by_topic.lock() {
            if let Some(list) = map.get_mut(topic) {
                let before = list.len();
                list.retain(|l| l.key != key);
                if list.len() < before {
                    metrics::gauge!(OPEN).decrement(1.0);
                }
                if list.is_empty() {
                    map.remove(topic);
                }
            }
        }
    }

    /// Ids of the stored channels held here (streams have no stored channel).
    pub fn channel_ids(&self) -> Vec<String> {
        self.by_topic.lock().map_or_else(
            |_| Vec::new(),
            |map| {
                map.values()
                    .flatten()
                    .filter(|l| {
                        l.channel.subscription.channel_type != notify::ChannelType::StreamingHttp
                    })
                    .map(|l| l.channel.id.clone())
                    .collect()
            },
        )
    }

    /// Closes the connections of channels that are not in `alive` (deleted or ended
    /// elsewhere) or have ended: dropping the sender ends the connection's writer.
    pub fn close_unless(&self, alive: &std::collections::HashSet<String>, now_ms: i64) {
        if let Ok(mut map) = self.by_topic.lock() {
            for list in map.values_mut() {
                let before = list.len();
                list.retain(|l| {
                    let streaming =
                        l.channel.subscription.channel_type == notify::ChannelType::StreamingHttp;
                    l.channel.end_at > now_ms && (streaming || alive.contains(&l.channel.id))
                });
                metrics::gauge!(OPEN).decrement((before - list.len()) as f64);
            }
            map.retain(|_, list| !list.is_empty());
        }
    }

    /// Closes the connections of one channel (it was deleted here).
    pub fn close_channel(&self, id: &str) {
        if let Ok(mut map) = self.by_topic.lock() {
            for list in map.values_mut() {
                let before = list.len();
                list.retain(|l| l.channel.id != id);
                metrics::gauge!(OPEN).decrement((before - list.len()) as f64);
            }
            map.retain(|_, list| !list.is_empty());
        }
    }

    pub fn connections(&self) -> usize {
        self.by_topic
            .lock()
            .map_or(0, |m| m.values().map(Vec::len).sum())
    }
}

/// The topics an event notifies: the resource for Create/Update/Delete, the container for
/// Add/Remove.
pub fn topics_of(event: &ResourceEvent) -> Vec<&str> {
    match event.kind {
        ResourceEventKind::Add | ResourceEventKind::Remove => {
            event.target.as_deref().into_iter().collect()
        }
        _ => vec![event.object.as_str()],
    }
}

pub fn kind_name(kind: ResourceEventKind) -> &'static str {
    match kind {
        ResourceEventKind::Create => "Create",
        ResourceEventKind::Update => "Update",
        ResourceEventKind::Delete => "Delete",
        ResourceEventKind::Add => "Add",
        ResourceEventKind::Remove => "Remove",
    }
}

/// The message for an event.
pub fn message_of(event: &ResourceEvent) -> String {
    notify::message(&Change {
        id: &format!("urn:uuid:{}", event.id),
        kind: kind_name(event.kind),
        object: &event.object,
        target: event.target.as_deref(),
        state: event.state.as_deref(),
        actor: event.actor.as_deref(),
        published_ms: event.published_ms,
    })
    .to_string()
}

/// Most read-access questions asked of the storage service at once.
const CONCURRENT_CHECKS: usize = 16;

/// Delivers bus envelopes, in order, to the connections held here. Read access is decided
/// for each delivery, after the event arrived (so by a state at least as new as the change),
/// with one question per (subscriber, topic) for the whole batch, asked concurrently: one
/// question per delivery, in turn, falls behind at hundreds of events a second.
pub async fn dispatch(state: &State, envelopes: &[Envelope]) {
    let events: Vec<ResourceEvent> = envelopes
        .iter()
        .filter_map(|e| {
            let id = e.id.to_string();
            let _received = consumer_span(&e.topic, &id, e.traceparent.as_deref()).entered();
            match serde_json::from_slice::<ResourceEvent>(&e.payload) {
                Ok(event) => Some(event),
                Err(_) => {
                    tracing::warn!(id, "skipping an event that is not a resource event");
                    None
                }
            }
        })
        .collect();
    // Who listens to what, decided under the lock; access is asked without it.
    let mut questions: HashSet<(Requester, String)> = HashSet::new();
    if let Ok(map) = state.hub.by_topic.lock() {
        for event in &events {
            for topic in topics_of(event) {
                let (Some(list), Some(path)) = (map.get(topic), state.config.topic_path(topic))
                else {
                    continue;
                };
                for l in list {
                    questions.insert((l.channel.owner.clone(), path.to_owned()));
                }
            }
        }
    }
    if questions.is_empty() {
        return;
    }
    let answers: HashMap<(Requester, String), bool> = futures_util::stream::iter(questions)
        .map(|(who, path)| async move {
            // Unknown is no: a delivery is never made on a decision we could not get.
            let ok = match state.access.view(&who, &path).await {
                Ok(view) => view.readable,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot check read access; notification not sent");
                    false
                }
            };
            ((who, path), ok)
        })
        .buffer_unordered(CONCURRENT_CHECKS)
        .collect()
        .await;
    for event in &events {
        deliver(state, event, &answers);
    }
}

/// Puts one event on the queues of the connections that may have it.
fn deliver(state: &State, event: &ResourceEvent, answers: &HashMap<(Requester, String), bool>) {
    let Ok(mut map) = state.hub.by_topic.lock() else {
        return;
    };
    let mut text: Option<String> = None;
    for topic in topics_of(event) {
        let (Some(list), Some(path)) = (map.get_mut(topic), state.config.topic_path(topic)) else {
            continue;
        };
        list.retain_mut(|l| {
            let allowed = answers
                .get(&(l.channel.owner.clone(), path.to_owned()))
                .copied()
                .unwrap_or(false);
            let due = notify::due(
                &l.channel.subscription,
                l.channel.end_at,
                event.published_ms,
                l.last_sent,
            );
            if !(allowed && due) {
                return true;
            }
            let text = text.get_or_insert_with(|| message_of(event)).clone();
            match l.tx.try_send(text) {
                Ok(()) => {
                    l.last_sent = Some(event.published_ms);
                    metrics::counter!(SENT).increment(1);
                    true
                }
                // A connection that cannot keep up is closed rather than left to grow without
                // bound; its client reconnects and resubscribes.
                Err(mpsc::error::TrySendError::Full(_)) => {
                    metrics::counter!(DROPPED).increment(1);
                    tracing::warn!(channel = %l.channel.id, "closing a connection that does not keep up");
                    metrics::gauge!(OPEN).decrement(1.0);
                    false
                }
                Err(mpsc::error::TrySendError::Closed(_)) => {
                    metrics::gauge!(OPEN).decrement(1.0);
                    false
                }
            }
        });
        if list.is_empty() {
            map.remove(topic);
        }
    }
}
