//! The Solid Notifications Protocol (0.2/0.4) as pure functions: subscription requests, their
//! features, the channel description answered to them, the subscription services listed in a
//! storage description, and the Activity Streams message sent for a change.
//!
//! It must not know how channels are stored or delivered, nor read a clock: callers pass
//! "now" in milliseconds since the Unix epoch.

use crate::error::SolidError;
use crate::vocab;
use oxrdf::{NamedNode, NamedNodeRef, Triple};
use serde_json::{json, Map, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

pub const NOTIFY: &str = "http://www.w3.org/ns/solid/notifications#";
pub const NOTIFY_SUBSCRIPTION: &str = "http://www.w3.org/ns/solid/notifications#subscription";
pub const NOTIFY_CHANNEL_TYPE: &str = "http://www.w3.org/ns/solid/notifications#channelType";
pub const NOTIFY_FEATURE: &str = "http://www.w3.org/ns/solid/notifications#feature";
/// The JSON-LD context of subscriptions, channels and messages.
pub const NOTIFICATION_CONTEXT: &str = "https://www.w3.org/ns/solid/notification/v1";
pub const ACTIVITY_STREAMS_CONTEXT: &str = "https://www.w3.org/ns/activitystreams";
/// The per-resource Link relation of the Streaming HTTP channel.
pub const STREAMING_HTTP_REL: &str = "http://www.w3.org/ns/solid/terms#updatesViaStreamingHttp2023";
/// The only serialization notifications are sent in.
pub const MESSAGE_MEDIA_TYPE: &str = "application/ld+json";

/// The channel types podplane delivers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChannelType {
    WebSocket,
    StreamingHttp,
    Webhook,
}

impl ChannelType {
    pub const SUBSCRIBABLE: [ChannelType; 2] = [ChannelType::WebSocket, ChannelType::Webhook];

    /// The compact name (the term of the notification context), also the path segment of its
    /// subscription service.
    pub fn name(self) -> &'static str {
        match self {
            ChannelType::WebSocket => "WebSocketChannel2023",
            ChannelType::StreamingHttp => "StreamingHTTPChannel2023",
            ChannelType::Webhook => "WebhookChannel2023",
        }
    }

    /// Accepts the compact term, the `notify:` CURIE and the full IRI.
    pub fn parse(text: &str) -> Option<ChannelType> {
        let local = text
            .strip_prefix(NOTIFY)
            .or_else(|| text.strip_prefix("notify:"))
            .unwrap_or(text);
        [
            ChannelType::WebSocket,
            ChannelType::StreamingHttp,
            ChannelType::Webhook,
        ]
        .into_iter()
        .find(|t| t.name() == local)
    }

    /// The features a subscriber may ask for on this channel type.
    pub fn features(self) -> &'static [&'static str] {
        match self {
            ChannelType::WebSocket => &["accept", "endAt", "rate", "startAt", "state"],
            // Each delivery is posted on its own: no rate to keep.
            ChannelType::Webhook => &["accept", "endAt", "startAt", "state"],
            ChannelType::StreamingHttp => &[],
        }
    }
}

/// A subscription request, validated. Times are milliseconds since the Unix epoch.
#[derive(Debug, Clone, PartialEq)]
pub struct Subscription {
    pub channel_type: ChannelType,
    pub topic: String,
    /// Webhook target.
    pub send_to: Option<String>,
    /// The subscriber's idea of the topic's current ETag: a different state is reported at
    /// once.
    pub state: Option<String>,
    pub start_at: Option<i64>,
    pub end_at: Option<i64>,
    /// Least time between two notifications, in milliseconds.
    pub rate_ms: Option<i64>,
}

fn unprocessable(m: impl Into<String>) -> SolidError {
    SolidError::UnprocessableSubscription(m.into())
}

/// A JSON-LD node reference: a string, or an object with `id`/`@id`.
fn iri_of(value: &Value) -> Option<&str> {
    match value {
        Value::String(s) => Some(s),
        Value::Object(o) => o.get("id").or_else(|| o.get("@id")).and_then(Value::as_str),
        Value::Array(a) if a.len() == 1 => iri_of(&a[0]),
        _ => None,
    }
}

/// A member under its compact name or its full notify: IRI.
fn member<'a>(body: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    body.get(name)
        .or_else(|| body.get(&format!("{NOTIFY}{name}")))
        .or_else(|| body.get(&format!("notify:{name}")))
}

fn string_member(body: &Map<String, Value>, name: &str) -> Result<Option<String>, SolidError> {
    match member(body, name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v {
            Value::String(s) => Ok(Some(s.clone())),
            Value::Object(o) => o
                .get("@value")
                .and_then(Value::as_str)
                .map(|s| Some(s.to_owned()))
                .ok_or_else(|| unprocessable(format!("{name} must be a string"))),
            _ => Err(unprocessable(format!("{name} must be a string"))),
        },
    }
}

/// Parses a subscription request body (`application/ld+json`). `channel_type` is the type of
/// the service it was sent to: a body naming another type is unprocessable. `now_ms` dates
/// the checks on `endAt`.
pub fn parse_subscription(
    body: &[u8],
    channel_type: ChannelType,
    now_ms: i64,
) -> Result<Subscription, SolidError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| unprocessable(format!("the body is not JSON: {e}")))?;
    let Value::Object(body) = value else {
        return Err(unprocessable("the body must be a JSON-LD object"));
    };
    let asked = body
        .get("type")
        .or_else(|| body.get("@type"))
        .ok_or_else(|| unprocessable("the subscription has no type"))?;
    let asked = match asked {
        Value::String(s) => s.as_str(),
        Value::Array(a) if a.len() == 1 => a[0].as_str().unwrap_or_default(),
        _ => return Err(unprocessable("type must name one channel type")),
    };
    match ChannelType::parse(asked) {
        Some(t) if t == channel_type => {}
        Some(t) => {
            return Err(unprocessable(format!(
                "this service subscribes to {}, not {}",
                channel_type.name(),
                t.name()
            )))
        }
        None => return Err(unprocessable(format!("unknown channel type {asked:?}"))),
    }
    let topic = member(&body, "topic")
        .and_then(iri_of)
        .ok_or_else(|| unprocessable("the subscription has no topic"))?;
    if !(topic.starts_with("http://") || topic.starts_with("https://")) {
        return Err(unprocessable("topic must be an http(s) IRI"));
    }
    let send_to = match member(&body, "sendTo").map(iri_of) {
        None => None,
        Some(Some(iri)) => Some(iri.to_owned()),
        Some(None) => return Err(unprocessable("sendTo must be an IRI")),
    };
    match (channel_type, &send_to) {
        (ChannelType::Webhook, None) => {
            return Err(unprocessable("a webhook subscription needs sendTo"))
        }
        (ChannelType::Webhook, Some(url))
            if !(url.starts_with("https://") || url.starts_with("http://")) =>
        {
            return Err(unprocessable("sendTo must be an http(s) URL"))
        }
        (ChannelType::Webhook, _) => {}
        (_, Some(_)) => return Err(unprocessable("sendTo is only for webhook channels")),
        _ => {}
    }
    if let Some(accept) = string_member(&body, "accept")? {
        let essence = accept.split(';').next().unwrap_or_default().trim();
        if !essence.eq_ignore_ascii_case(MESSAGE_MEDIA_TYPE) && essence != "*/*" {
            return Err(unprocessable(format!(
                "notifications are sent as {MESSAGE_MEDIA_TYPE}, not {accept}"
            )));
        }
    }
    let start_at = string_member(&body, "startAt")?
        .map(|s| parse_datetime(&s))
        .transpose()?;
    let end_at = string_member(&body, "endAt")?
        .map(|s| parse_datetime(&s))
        .transpose()?;
    if let Some(end) = end_at {
        if end <= now_ms {
            return Err(unprocessable("endAt is in the past"));
        }
        if start_at.is_some_and(|start| start >= end) {
            return Err(unprocessable("startAt must come before endAt"));
        }
    }
    let rate_ms = string_member(&body, "rate")?
        .map(|s| parse_duration_ms(&s))
        .transpose()?;
    Ok(Subscription {
        channel_type,
        topic: topic.to_owned(),
        send_to,
        state: string_member(&body, "state")?,
        start_at,
        end_at,
        rate_ms,
    })
}

/// An `xsd:dateTime` with a time zone, as milliseconds since the Unix epoch.
pub fn parse_datetime(text: &str) -> Result<i64, SolidError> {
    let t = OffsetDateTime::parse(text.trim(), &Rfc3339)
        .map_err(|e| unprocessable(format!("{text:?} is not an xsd:dateTime with a zone: {e}")))?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000)
        .map_err(|_| unprocessable(format!("{text:?} is out of range")))
}

/// Milliseconds since the epoch as an `xsd:dateTime` in UTC.
pub fn format_datetime(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

/// An `xsd:duration` of days, hours, minutes and seconds (`P1DT2H`, `PT0.5S`), in
/// milliseconds. Years and months have no fixed length and are refused.
pub fn parse_duration_ms(text: &str) -> Result<i64, SolidError> {
    let bad = || unprocessable(format!("{text:?} is not an xsd:duration such as PT10S"));
    let rest = text.trim().strip_prefix('P').ok_or_else(bad)?;
    let (date, time) = match rest.split_once('T') {
        Some((d, t)) if !t.is_empty() => (d, Some(t)),
        Some(_) => return Err(bad()),
        None => (rest, None),
    };
    if date.is_empty() && time.is_none() {
        return Err(bad());
    }
    let mut total = 0f64;
    let mut add = |part: &str, units: &[(char, f64)]| -> Result<(), SolidError> {
        let mut number = String::new();
        let mut last_unit = 0;
        for c in part.chars() {
            if c.is_ascii_digit() || c == '.' {
                number.push(c);
                continue;
            }
            let idx = units.iter().position(|(u, _)| *u == c).ok_or_else(bad)?;
            // Units appear at most once, in order.
            if idx < last_unit || number.is_empty() {
                return Err(bad());
            }
            last_unit = idx + 1;
            let n: f64 = number.parse().map_err(|_| bad())?;
            total += n * units[idx].1;
            number.clear();
        }
        if number.is_empty() {
            Ok(())
        } else {
            Err(bad())
        }
    };
    if date.contains('Y') || date.contains('M') || date.contains('W') {
        return Err(unprocessable(format!(
            "{text:?}: give the rate in days, hours, minutes or seconds"
        )));
    }
    add(date, &[('D', 86_400_000.0)])?;
    if let Some(time) = time {
        add(time, &[('H', 3_600_000.0), ('M', 60_000.0), ('S', 1_000.0)])?;
    }
    if !total.is_finite() || total > 1e15 {
        return Err(bad());
    }
    Ok(total.round() as i64)
}

/// `PT{seconds}S` for a rate in milliseconds.
pub fn format_duration(ms: i64) -> String {
    if ms % 1000 == 0 {
        format!("PT{}S", ms / 1000)
    } else {
        format!("PT{}.{:03}S", ms / 1000, ms % 1000)
    }
}

/// What a subscriber is told about the channel it got. `endpoint` is `receiveFrom` for a
/// WebSocket channel and `sender` for a webhook.
pub struct ChannelDescription<'a> {
    pub id: &'a str,
    pub subscription: &'a Subscription,
    pub receive_from: Option<&'a str>,
    pub sender: Option<&'a str>,
    pub end_at: i64,
}

pub fn channel_json(c: &ChannelDescription<'_>) -> Value {
    let s = c.subscription;
    let mut out = Map::new();
    out.insert("@context".into(), json!([NOTIFICATION_CONTEXT]));
    out.insert("id".into(), json!(c.id));
    out.insert("type".into(), json!(s.channel_type.name()));
    out.insert("topic".into(), json!(s.topic));
    if let Some(r) = c.receive_from {
        out.insert("receiveFrom".into(), json!(r));
    }
    if let Some(to) = &s.send_to {
        out.insert("sendTo".into(), json!(to));
    }
    if let Some(sender) = c.sender {
        out.insert("sender".into(), json!(sender));
    }
    if let Some(state) = &s.state {
        out.insert("state".into(), json!(state));
    }
    if let Some(start) = s.start_at {
        out.insert("startAt".into(), json!(format_datetime(start)));
    }
    out.insert("endAt".into(), json!(format_datetime(c.end_at)));
    if let Some(rate) = s.rate_ms {
        out.insert("rate".into(), json!(format_duration(rate)));
    }
    out.insert("accept".into(), json!(MESSAGE_MEDIA_TYPE));
    Value::Object(out)
}

/// The subscription services of a storage, for its description resource: each service's
/// IRI is `{services_base}{ChannelType::name()}/`.
pub fn description_triples(storage: &str, services_base: &str) -> Vec<Triple> {
    let node = |iri: String| NamedNode::new_unchecked(iri);
    let mut out = vec![Triple::new(
        node(storage.to_owned()),
        NamedNodeRef::new_unchecked(vocab::RDF_TYPE),
        NamedNodeRef::new_unchecked(vocab::PIM_STORAGE),
    )];
    for t in ChannelType::SUBSCRIBABLE {
        let service = node(format!("{services_base}{}/", t.name()));
        out.push(Triple::new(
            node(storage.to_owned()),
            NamedNodeRef::new_unchecked(NOTIFY_SUBSCRIPTION),
            service.clone(),
        ));
        out.push(Triple::new(
            service.clone(),
            NamedNodeRef::new_unchecked(NOTIFY_CHANNEL_TYPE),
            node(format!("{NOTIFY}{}", t.name())),
        ));
        for f in t.features() {
            out.push(Triple::new(
                service.clone(),
                NamedNodeRef::new_unchecked(NOTIFY_FEATURE),
                node(format!("{NOTIFY}{f}")),
            ));
        }
    }
    out
}

/// One change, as the notification message says it.
pub struct Change<'a> {
    /// `urn:uuid:…` of the event, the same for every channel and every redelivery, so
    /// receivers can drop duplicates.
    pub id: &'a str,
    /// Create, Update, Delete, Add or Remove.
    pub kind: &'a str,
    pub object: &'a str,
    /// The container, for Add and Remove.
    pub target: Option<&'a str>,
    pub state: Option<&'a str>,
    pub actor: Option<&'a str>,
    pub published_ms: i64,
}

/// The Activity Streams 2.0 message for a change.
pub fn message(c: &Change<'_>) -> Value {
    let mut out = Map::new();
    out.insert(
        "@context".into(),
        json!([ACTIVITY_STREAMS_CONTEXT, NOTIFICATION_CONTEXT]),
    );
    out.insert("id".into(), json!(c.id));
    out.insert("type".into(), json!(c.kind));
    out.insert("object".into(), json!(c.object));
    if let Some(t) = c.target {
        out.insert("target".into(), json!(t));
    }
    if let Some(s) = c.state {
        out.insert("state".into(), json!(s));
    }
    if let Some(a) = c.actor {
        out.insert("actor".into(), json!([a]));
    }
    out.insert("published".into(), json!(format_datetime(c.published_ms)));
    Value::Object(out)
}

/// Whether a change with `published_ms` may go out on a channel now: inside its
/// `startAt`..`endAt` window and at least `rate` after the previous message (`last_sent_ms`).
pub fn due(sub: &Subscription, end_at: i64, published_ms: i64, last_sent_ms: Option<i64>) -> bool {
    if sub.start_at.is_some_and(|s| published_ms < s) || published_ms >= end_at {
        return false;
    }
    match (sub.rate_ms, last_sent_ms) {
        (Some(rate), Some(last)) => published_ms.saturating_sub(last) >= rate,
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_700_000_000_000;

    fn parse(body: &str) -> Result<Subscription, SolidError> {
        parse_subscription(body.as_bytes(), ChannelType::WebSocket, NOW)
    }

    #[test]
    fn accepts_compact_curie_and_full_type_names() {
        for t in [
            "WebSocketChannel2023",
            "notify:WebSocketChannel2023",
            "http://www.w3.org/ns/solid/notifications#WebSocketChannel2023",
        ] {
            let s = parse(&format!(r#"{{"type":"{t}","topic":"https://x/a"}}"#)).unwrap();
            assert_eq!(s.topic, "https://x/a");
        }
    }

    #[test]
    fn unknown_or_other_channel_types_are_unprocessable() {
        for t in ["FooChannel", "WebhookChannel2023"] {
            let e = parse(&format!(r#"{{"type":"{t}","topic":"https://x/a"}}"#)).unwrap_err();
            assert!(matches!(e, SolidError::UnprocessableSubscription(_)), "{t}");
        }
    }

    #[test]
    fn refuses_bodies_that_are_not_subscriptions() {
        for body in [
            "",
            "[]",
            "{}",
            r#"{"type":"WebSocketChannel2023"}"#,
            r#"{"type":"WebSocketChannel2023","topic":"urn:x"}"#,
            r#"{"type":"WebSocketChannel2023","topic":"https://x/","accept":"text/turtle"}"#,
            r#"{"type":"WebSocketChannel2023","topic":"https://x/","rate":"P1M"}"#,
            r#"{"type":"WebSocketChannel2023","topic":"https://x/","rate":7}"#,
            r#"{"type":"WebSocketChannel2023","topic":"https://x/","endAt":"2001-01-01T00:00:00Z"}"#,
            r#"{"type":"WebSocketChannel2023","topic":"https://x/","sendTo":"https://h/"}"#,
        ] {
            assert!(parse(body).is_err(), "{body}");
        }
        let hook = parse_subscription(
            br#"{"type":"WebhookChannel2023","topic":"https://x/"}"#,
            ChannelType::Webhook,
            NOW,
        );
        assert!(hook.is_err(), "a webhook needs sendTo");
    }

    #[test]
    fn reads_every_feature() {
        let s = parse(
            r#"{"@context":["https://www.w3.org/ns/solid/notification/v1"],
                "type":"WebSocketChannel2023","topic":{"id":"https://x/a"},
                "state":"\"e1\"","startAt":"2030-01-01T00:00:00Z",
                "endAt":"2030-01-02T00:00:00.5Z","rate":"PT1M30.5S",
                "accept":"application/ld+json"}"#,
        )
        .unwrap();
        assert_eq!(s.state.as_deref(), Some("\"e1\""));
        assert_eq!(s.start_at, Some(1_893_456_000_000));
        assert_eq!(s.end_at, Some(1_893_542_400_500));
        assert_eq!(s.rate_ms, Some(90_500));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration_ms("PT10S").unwrap(), 10_000);
        assert_eq!(parse_duration_ms("P1DT1H").unwrap(), 90_000_000);
        assert_eq!(parse_duration_ms("PT0.25S").unwrap(), 250);
        for bad in [
            "", "P", "PT", "10S", "PT10", "PTS", "PT1S1M", "P1Y", "PT1.2.3S",
        ] {
            assert!(parse_duration_ms(bad).is_err(), "{bad}");
        }
        assert_eq!(format_duration(90_500), "PT90.500S");
        assert_eq!(parse_duration_ms(&format_duration(90_500)).unwrap(), 90_500);
    }

    #[test]
    fn datetimes_round_trip() {
        let ms = parse_datetime("2030-01-02T00:00:00.5Z").unwrap();
        assert_eq!(parse_datetime(&format_datetime(ms)).unwrap(), ms);
        assert!(parse_datetime("2030-01-02").is_err());
    }

    #[test]
    fn messages_follow_activity_streams() {
        let m = message(&Change {
            id: "urn:uuid:1",
            kind: "Add",
            object: "https://x/c/a",
            target: Some("https://x/c/"),
            state: Some("\"s\""),
            actor: Some("https://id/me"),
            published_ms: 0,
        });
        assert_eq!(m["@context"][0], ACTIVITY_STREAMS_CONTEXT);
        assert_eq!(m["type"], "Add");
        assert_eq!(m["target"], "https://x/c/");
        assert_eq!(m["actor"][0], "https://id/me");
        assert_eq!(m["published"], "1970-01-01T00:00:00Z");
    }

    #[test]
    fn due_respects_window_and_rate() {
        let mut s = parse(r#"{"type":"WebSocketChannel2023","topic":"https://x/"}"#).unwrap();
        assert!(due(&s, 100, 50, None));
        assert!(!due(&s, 100, 100, None), "at endAt the channel is over");
        s.start_at = Some(60);
        assert!(!due(&s, 100, 50, None));
        s.start_at = None;
        s.rate_ms = Some(10);
        assert!(!due(&s, 100, 55, Some(50)));
        assert!(due(&s, 100, 60, Some(50)));
    }

    #[test]
    fn description_lists_a_service_per_channel_type() {
        let t = description_triples("https://x/p/", "https://x/.notifications/");
        let services: Vec<_> = t
            .iter()
            .filter(|t| t.predicate.as_str() == NOTIFY_SUBSCRIPTION)
            .map(|t| t.object.to_string())
            .collect();
        assert_eq!(
            services,
            [
                "<https://x/.notifications/WebSocketChannel2023/>",
                "<https://x/.notifications/WebhookChannel2023/>"
            ]
        );
    }
}
