//! Webhook delivery: each resource event is posted, signed, to every webhook channel on its
//! topics, once. The delivery record (`deliveries`, keyed by channel and event id) is written
//! before the first attempt and settled after the last, so a redelivered event (a consumer
//! restart, another replica taking over the partition) is never sent twice once it
//! succeeded, and the caller commits the event's offset only after this returns.

use crate::error::NotifyResult;
use crate::hub::{message_of, topics_of};
use crate::store::{Channel, DeliveryStatus};
use crate::{now_ms, State};
use podplane_events::{Envelope, ResourceEvent};
use podplane_solid::notify::{self, ChannelType, MESSAGE_MEDIA_TYPE};
use podplane_telemetry::trace::consumer_span;
use tracing::Instrument;

pub const DELIVERED: &str = "podplane_webhook_deliveries_total";

/// Delivers one event to the webhook channels on its topics, in a span of the trace that
/// produced the event. Errs only when the notifications database cannot be reached (nothing
/// was settled: the event must be seen again).
pub async fn deliver(state: &State, envelope: &Envelope) -> NotifyResult<()> {
    deliver_all(state, std::slice::from_ref(envelope)).await
}

/// Delivers `envelopes` in order, each as [`deliver`] does, with one lookup of the channels
/// on all their topics (most events concern no webhook; a lookup per event would make the
/// lookups the cost of a write-heavy load).
pub async fn deliver_all(state: &State, envelopes: &[Envelope]) -> NotifyResult<()> {
    let events: Vec<(&Envelope, ResourceEvent)> = envelopes
        .iter()
        .filter_map(|e| Some((e, serde_json::from_slice(&e.payload).ok()?)))
        .collect();
    // Events of another storage (sharing the broker) concern no channel of ours.
    let mut topics: Vec<&str> = events
        .iter()
        .flat_map(|(_, event)| topics_of(event))
        .filter(|t| state.config.topic_path(t).is_some())
        .collect();
    topics.sort_unstable();
    topics.dedup();
    if topics.is_empty() {
        return Ok(());
    }
    let channels = state
        .channels
        .on_topics(ChannelType::Webhook, &topics, now_ms())
        .await?;
    if channels.is_empty() {
        return Ok(());
    }
    // One event's failure does not keep the others from their deliveries; the first error is
    // the batch's.
    let mut outcome = Ok(());
    for (envelope, event) in &events {
        let id = envelope.id.to_string();
        let span = consumer_span(&envelope.topic, &id, envelope.traceparent.as_deref());
        let delivered = deliver_event(state, event, &channels)
            .instrument(span)
            .await;
        if outcome.is_ok() {
            outcome = delivered;
        }
    }
    outcome
}

/// Delivers `event` to those of `channels` on its topics.
async fn deliver_event(
    state: &State,
    event: &ResourceEvent,
    channels: &[Channel],
) -> NotifyResult<()> {
    let topics = topics_of(event);
    let due: Vec<&Channel> = channels
        .iter()
        .filter(|c| topics.contains(&c.subscription.topic.as_str()))
        .filter(|c| notify::due(&c.subscription, c.end_at, event.published_ms, None))
        .collect();
    if due.is_empty() {
        return Ok(());
    }
    let payload = message_of(event);
    let results = futures_util::future::join_all(
        due.into_iter()
            .map(|c| deliver_to(state, c, event, &payload)),
    )
    .await;
    results.into_iter().collect()
}

async fn deliver_to(
    state: &State,
    channel: &Channel,
    event: &ResourceEvent,
    payload: &str,
) -> NotifyResult<()> {
    let event_id = event.id.to_string();
    let store = &state.channels;
    match store
        .claim_delivery(&channel.id, &event_id, payload, now_ms())
        .await?
    {
        DeliveryStatus::Delivered | DeliveryStatus::Failed => return Ok(()),
        DeliveryStatus::Pending => {}
    }
    let topic = &channel.subscription.topic;
    let readable = match state.config.topic_path(topic) {
        Some(path) => state.access.view(&channel.owner, path).await?.readable,
        None => false,
    };
    let (status, attempts, error) = if readable {
        post_with_retries(state, channel, payload).await
    } else {
        (
            DeliveryStatus::Failed,
            0,
            Some("the subscriber may no longer read the topic".to_owned()),
        )
    };
    let outcome = if status == DeliveryStatus::Delivered {
        "delivered"
    } else {
        "failed"
    };
    metrics::counter!(DELIVERED, "outcome" => outcome).increment(1);
    store
        .finish_delivery(
            &channel.id,
            &event_id,
            status,
            attempts,
            error.as_deref(),
            now_ms(),
        )
        .await
}

async fn post_with_retries(
    state: &State,
    channel: &Channel,
    payload: &str,
) -> (DeliveryStatus, u32, Option<String>) {
    let Some(url) = channel.subscription.send_to.as_deref() else {
        return (DeliveryStatus::Failed, 0, Some("no sendTo".into()));
    };
    let config = &state.config;
    let mut backoff = config.webhook_backoff;
    let mut last_error = None;
    for attempt in 1..=config.webhook_attempts.max(1) {
        let created = now_ms() / 1000;
        match state
            .signer
            .sign(url, MESSAGE_MEDIA_TYPE, payload.as_bytes(), created)
        {
            Ok(signed) => {
                let headers = [
                    ("content-type", MESSAGE_MEDIA_TYPE),
                    ("content-digest", signed.content_digest.as_str()),
                    ("signature-input", signed.signature_input.as_str()),
                    ("signature", signed.signature.as_str()),
                ];
                match state
                    .webhooks
                    .post(url, &headers, payload.as_bytes().to_vec())
                    .await
                {
                    Ok(status) if status.is_success() => {
                        return (DeliveryStatus::Delivered, attempt, None)
                    }
                    Ok(status) => last_error = Some(format!("{url} answered {status}")),
                    Err(e) => last_error = Some(e),
                }
            }
            Err(e) => last_error = Some(e.to_string()),
        }
        if attempt < config.webhook_attempts {
            tokio::time::sleep(backoff).await;
            backoff = backoff.saturating_mul(2);
        }
    }
    tracing::warn!(channel = %channel.id, error = ?last_error, "webhook delivery failed");
    (
        DeliveryStatus::Failed,
        config.webhook_attempts.max(1),
        last_error,
    )
}
