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
    let id = envelope.id.to_string();
    let span = consumer_span(&envelope.topic, &id, envelope.traceparent.as_deref());
    deliver_in_span(state, envelope).instrument(span).await
}

async fn deliver_in_span(state: &State, envelope: &Envelope) -> NotifyResult<()> {
    let Ok(event) = serde_json::from_slice::<ResourceEvent>(&envelope.payload) else {
        return Ok(());
    };
    // Events of another storage (sharing the broker) concern no channel of ours.
    let topics: Vec<&str> = topics_of(&event)
        .into_iter()
        .filter(|t| state.config.topic_path(t).is_some())
        .collect();
    if topics.is_empty() {
        return Ok(());
    }
    let channels = state
        .channels
        .on_topics(ChannelType::Webhook, &topics, now_ms())
        .await?;
    let payload = message_of(&event);
    let results = futures_util::future::join_all(
        channels
            .iter()
            .filter(|c| notify::due(&c.subscription, c.end_at, event.published_ms, None))
            .map(|c| deliver_to(state, c, &event, &payload)),
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
