//! Kafka: distributed mode's event bus (any Kafka-protocol broker).
//!
//! The producer is idempotent with `acks=all`, keyed by the envelope key so each resource's
//! events stay in one partition, in order. Topics are created at start-up when missing,
//! because a broker may not auto-create them. [`consume`] is the consumer side every service
//! uses: offsets are committed only after the handler succeeded, and redelivered envelopes
//! (same event id) are skipped.

use crate::bus::{EventBus, EventError};
use crate::context::KafkaContext;
use crate::kafka_config::KafkaConfig;
use crate::lag::STATISTICS_INTERVAL_MS;
use crate::types::Envelope;
use futures_util::StreamExt;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::error::RDKafkaErrorCode;
use rdkafka::message::{Header, Headers, Message, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use std::collections::{HashSet, VecDeque};
use std::sync::RwLock;
use std::time::Duration;
use uuid::Uuid;

const EVENT_ID_HEADER: &str = "podplane-event-id";
/// The W3C trace context header, under its HTTP name (as OpenTelemetry's Kafka
/// instrumentations name it).
const TRACEPARENT_HEADER: &str = "traceparent";

fn unavailable(e: impl std::fmt::Display) -> EventError {
    EventError::Unavailable(e.to_string())
}

pub struct KafkaBus {
    kafka: KafkaConfig,
    /// Replaced when the broker stops serving it (see [`EventBus::publish`]); the number
    /// counts replacements, so the failures of one batch replace it once.
    producer: RwLock<(u64, AnyProducer)>,
    /// How long one publish may wait for the broker before the relay backs off and retries.
    timeout: Duration,
}

impl KafkaBus {
    pub fn connect(kafka: &KafkaConfig) -> Result<Self, EventError> {
        Ok(Self {
            kafka: kafka.clone(),
            producer: RwLock::new((0, new_producer(kafka)?)),
            timeout: Duration::from_secs(10),
        })
    }
}

/// A producer of either context type (see `context`: whether it makes MSK IAM tokens is part
/// of its type).
#[derive(Clone)]
enum AnyProducer {
    Plain(FutureProducer<KafkaContext<false>>),
    MskIam(FutureProducer<KafkaContext<true>>),
}

impl AnyProducer {
    async fn send(
        &self,
        record: FutureRecord<'_, String, Vec<u8>>,
        timeout: Duration,
    ) -> rdkafka::producer::future_producer::OwnedDeliveryResult {
        match self {
            AnyProducer::Plain(p) => p.send(record, timeout).await,
            AnyProducer::MskIam(p) => p.send(record, timeout).await,
        }
    }

    fn failed_fatally(&self) -> bool {
        match self {
            AnyProducer::Plain(p) => p.client().fatal_error().is_some(),
            AnyProducer::MskIam(p) => p.client().fatal_error().is_some(),
        }
    }
}

fn new_producer(kafka: &KafkaConfig) -> Result<AnyProducer, EventError> {
    let mut config = kafka.client();
    config
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("message.timeout.ms", "10000");
    match kafka.msk_iam_region() {
        Some(region) => config
            .create_with_context(KafkaContext::new(None, Some(region)))
            .map(AnyProducer::MskIam),
        None => config
            .create_with_context(KafkaContext::new(None, None))
            .map(AnyProducer::Plain),
    }
    .map_err(unavailable)
}

#[async_trait::async_trait]
impl EventBus for KafkaBus {
    async fn publish(&self, envelope: &Envelope) -> Result<(), EventError> {
        let id = envelope.id.to_string();
        let mut headers = OwnedHeaders::new().insert(Header {
            key: EVENT_ID_HEADER,
            value: Some(&id),
        });
        if let Some(traceparent) = &envelope.traceparent {
            headers = headers.insert(Header {
                key: TRACEPARENT_HEADER,
                value: Some(traceparent),
            });
        }
        let record = FutureRecord::to(&envelope.topic)
            .key(&envelope.key)
            .payload(&envelope.payload)
            .headers(headers);
        let (generation, producer) = self.producer.read().map_err(unavailable)?.clone();
        let Err((e, _)) = producer.send(record, self.timeout).await else {
            return Ok(());
        };
        // An idempotent producer whose broker lost its state (a restarted broker, a lost
        // partition leader) either fails fatally or waits forever for a producer id the broker
        // no longer grants, so every later message fails or times out: without a new producer
        // the outbox would never drain. During a plain outage a new one costs nothing more.
        // Its successor may resend what the broker already has; consumers drop such
        // duplicates by event id.
        let timed_out = e.rdkafka_error_code() == Some(RDKafkaErrorCode::MessageTimedOut);
        if timed_out || producer.failed_fatally() {
            let mut current = self.producer.write().map_err(unavailable)?;
            if current.0 == generation {
                *current = (generation + 1, new_producer(&self.kafka)?);
            }
        }
        Err(unavailable(e))
    }
}

/// Creates the topics that do not exist yet (with the configured partitions and replication);
/// topics that exist are kept as they are.
pub async fn ensure_topics(kafka: &KafkaConfig, topics: &[&str]) -> Result<(), EventError> {
    match kafka.msk_iam_region() {
        Some(_) => create_topics::<true>(kafka, topics).await,
        None => create_topics::<false>(kafka, topics).await,
    }
}

async fn create_topics<const MSK_IAM: bool>(
    kafka: &KafkaConfig,
    topics: &[&str],
) -> Result<(), EventError> {
    let admin: AdminClient<KafkaContext<MSK_IAM>> = kafka
        .client()
        .create_with_context(KafkaContext::new(None, kafka.msk_iam_region()))
        .map_err(unavailable)?;
    let new: Vec<NewTopic> = topics
        .iter()
        .map(|t| {
            let replication = TopicReplication::Fixed(kafka.replication_factor);
            NewTopic::new(t, kafka.partitions, replication)
        })
        .collect();
    let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
    for result in admin
        .create_topics(&new, &options)
        .await
        .map_err(unavailable)?
    {
        match result {
            Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((topic, code)) => {
                return Err(unavailable(format!("creating topic {topic}: {code}")))
            }
        }
    }
    Ok(())
}

/// Remembers the last `capacity` event ids to drop redeliveries (at-least-once delivery means
/// a consumer may see an event again after a rebalance or a relay retry).
struct RecentIds {
    set: HashSet<Uuid>,
    order: VecDeque<Uuid>,
    capacity: usize,
}

impl RecentIds {
    fn new(capacity: usize) -> Self {
        Self {
            set: HashSet::new(),
            order: VecDeque::new(),
            capacity,
        }
    }

    /// True the first time an id is seen.
    fn first_time(&mut self, id: Uuid) -> bool {
        if !self.set.insert(id) {
            return false;
        }
        self.order.push_back(id);
        if self.order.len() > self.capacity {
            if let Some(old) = self.order.pop_front() {
                self.set.remove(&old);
            }
        }
        true
    }

    fn forget(&mut self, id: &Uuid) {
        self.set.remove(id);
    }
}

/// Consumes `topics` as consumer group `group` until `handler` fails or `stop` resolves. Each
/// envelope's offset is committed (within a second) after `handler` returned Ok; an envelope
/// whose event id was already handled is skipped (and committed).
pub async fn consume<F, Fut>(
    kafka: &KafkaConfig,
    group: &str,
    topics: &[&str],
    handler: F,
    stop: impl std::future::Future<Output = ()>,
) -> Result<(), EventError>
where
    F: FnMut(Envelope) -> Fut,
    Fut: std::future::Future<Output = Result<(), EventError>>,
{
    match kafka.msk_iam_region() {
        Some(_) => consume_with::<true, _, _>(kafka, group, topics, handler, stop).await,
        None => consume_with::<false, _, _>(kafka, group, topics, handler, stop).await,
    }
}

async fn consume_with<const MSK_IAM: bool, F, Fut>(
    kafka: &KafkaConfig,
    group: &str,
    topics: &[&str],
    mut handler: F,
    stop: impl std::future::Future<Output = ()>,
) -> Result<(), EventError>
where
    F: FnMut(Envelope) -> Fut,
    Fut: std::future::Future<Output = Result<(), EventError>>,
{
    let consumer: StreamConsumer<KafkaContext<MSK_IAM>> = kafka
        .client()
        .set("group.id", group)
        // At least once without a commit request per message: an offset is stored once its
        // handler returned Ok, and librdkafka commits what is stored every second (and when
        // the consumer closes). Per-message commits swamped the group coordinator: thousands
        // in flight, sessions of other groups timing out behind them.
        .set("enable.auto.commit", "true")
        .set("enable.auto.offset.store", "false")
        .set("auto.commit.interval.ms", "1000")
        .set("auto.offset.reset", "earliest")
        // A member that died (SIGKILL, lost node) gives its partitions up within 10 s.
        .set("session.timeout.ms", "10000")
        .set("heartbeat.interval.ms", "2000")
        .set("statistics.interval.ms", STATISTICS_INTERVAL_MS)
        .create_with_context(KafkaContext::new(Some(group), kafka.msk_iam_region()))
        .map_err(unavailable)?;
    consumer.subscribe(topics).map_err(unavailable)?;
    let mut seen = RecentIds::new(100_000);
    let mut stream = consumer.stream();
    tokio::pin!(stop);
    loop {
        let message = tokio::select! {
            _ = &mut stop => return Ok(()),
            m = stream.next() => match m {
                Some(m) => m.map_err(unavailable)?,
                None => return Ok(()),
            },
        };
        let (envelope, id) = envelope_of(&message);
        let fresh = id.is_none_or(|id| seen.first_time(id));
        if fresh {
            if let Err(e) = handler(envelope).await {
                if let Some(id) = id {
                    seen.forget(&id);
                }
                return Err(e);
            }
        }
        // Committed with the next periodic commit: after a crash the worst case is a
        // redelivery of the last second's events, which consumers drop by event id.
        consumer
            .store_offset_from_message(&message)
            .map_err(unavailable)?;
    }
}

/// The envelope an rdkafka message carries, and its event id when it has one.
fn envelope_of(message: &rdkafka::message::BorrowedMessage<'_>) -> (Envelope, Option<Uuid>) {
    let header = |name: &str| {
        message
            .headers()
            .and_then(|h| h.iter().find(|h| h.key == name).and_then(|h| h.value))
            .and_then(|v| std::str::from_utf8(v).ok())
    };
    let id = header(EVENT_ID_HEADER).and_then(|v| Uuid::parse_str(v).ok());
    let envelope = Envelope {
        id: id.unwrap_or_else(Uuid::nil),
        topic: message.topic().to_owned(),
        key: message
            .key()
            .map(|k| String::from_utf8_lossy(k).into_owned())
            .unwrap_or_default(),
        payload: message.payload().map(<[u8]>::to_vec).unwrap_or_default(),
        traceparent: header(TRACEPARENT_HEADER).map(str::to_owned),
    };
    (envelope, id)
}

/// Where a [`tail`] has got to: the next offset of each partition it has read.
pub type TailPositions = std::collections::HashMap<i32, i64>;

/// Reads every partition of `topic` outside any consumer group, until `stop` resolves: what a
/// process that pushes to connections it holds needs (each replica sees every event). A
/// partition starts where `positions` says (so a tail restarted after a broker outage misses
/// nothing published meanwhile) or, the first time, at its current end (a replica that
/// starts late starts from now); `positions` follows what was read. `ready` is called once
/// the starting offsets are fixed, so nothing published after it is missed.
pub async fn tail<F>(
    kafka: &KafkaConfig,
    topic: &str,
    positions: &mut TailPositions,
    handler: F,
    ready: impl FnOnce(),
    stop: impl std::future::Future<Output = ()>,
) -> Result<(), EventError>
where
    F: FnMut(Envelope),
{
    match kafka.msk_iam_region() {
        Some(_) => tail_with::<true, _>(kafka, topic, positions, handler, ready, stop).await,
        None => tail_with::<false, _>(kafka, topic, positions, handler, ready, stop).await,
    }
}

async fn tail_with<const MSK_IAM: bool, F>(
    kafka: &KafkaConfig,
    topic: &str,
    positions: &mut TailPositions,
    mut handler: F,
    ready: impl FnOnce(),
    stop: impl std::future::Future<Output = ()>,
) -> Result<(), EventError>
where
    F: FnMut(Envelope),
{
    use rdkafka::{Offset, TopicPartitionList};
    let consumer: StreamConsumer<KafkaContext<MSK_IAM>> = kafka
        .client()
        // Required by the client even without group membership; never joined or committed.
        .set("group.id", "podplane-tail")
        // An offset the broker no longer has (retention, or a broker that lost its log while
        // this tail read) restarts at the log's start: events twice rather than none at all
        // (librdkafka's default would jump to the end and skip them).
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        // Pushing to connections is latency-bound: ask the broker for what it has at once.
        .set("fetch.wait.max.ms", "10")
        .set("statistics.interval.ms", STATISTICS_INTERVAL_MS)
        .create_with_context(KafkaContext::new(Some("tail"), kafka.msk_iam_region()))
        .map_err(unavailable)?;
    let timeout = Duration::from_secs(10);
    let metadata = consumer
        .fetch_metadata(Some(topic), timeout)
        .map_err(unavailable)?;
    let partitions: Vec<i32> = metadata
        .topics()
        .iter()
        .filter(|t| t.name() == topic)
        .flat_map(|t| t.partitions().iter().map(|p| p.id()))
        .collect();
    if partitions.is_empty() {
        return Err(unavailable(format!("topic {topic} has no partitions yet")));
    }
    let mut assignment = TopicPartitionList::new();
    for p in partitions {
        let (low, high) = consumer
            .fetch_watermarks(topic, p, timeout)
            .map_err(unavailable)?;
        let start = tail_start(positions.get(&p).copied(), low, high);
        if let Some(gap) = start.gap {
            tracing::warn!(
                topic,
                partition = p,
                was_at = positions.get(&p).copied(),
                low,
                high,
                "{gap}: this tail resumes at offset {} (its connections may see events twice)",
                start.offset
            );
            metrics::counter!("podplane_kafka_tail_gaps_total", "topic" => topic.to_owned(), "reason" => gap.reason())
                .increment(1);
        }
        positions.insert(p, start.offset);
        let start = start.offset;
        assignment
            .add_partition_offset(topic, p, Offset::Offset(start))
            .map_err(unavailable)?;
    }
    consumer.assign(&assignment).map_err(unavailable)?;
    ready();
    let mut stream = consumer.stream();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => return Ok(()),
            m = stream.next() => match m {
                Some(m) => {
                    let m = m.map_err(unavailable)?;
                    positions.insert(m.partition(), m.offset() + 1);
                    handler(envelope_of(&m).0);
                }
                None => return Ok(()),
            },
        }
    }
}

/// Where a tail resumes reading one partition, and why that is not where it was.
#[derive(Debug, PartialEq, Eq)]
struct TailStart {
    offset: i64,
    gap: Option<TailGap>,
}

#[derive(Debug, PartialEq, Eq, Clone, Copy)]
enum TailGap {
    /// The log ends below where this tail was: the broker lost or rewrote it (it restarted
    /// without its data), and what it holds now was written since.
    Rewound,
    /// The log starts above where this tail was: retention removed events never read.
    Expired,
}

impl TailGap {
    fn reason(self) -> &'static str {
        match self {
            TailGap::Rewound => "rewound",
            TailGap::Expired => "expired",
        }
    }
}

impl std::fmt::Display for TailGap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TailGap::Rewound => "the broker's log of this partition ends below where this tail was: it lost its data",
            TailGap::Expired => "retention removed events of this partition before this tail read them",
        })
    }
}

/// `next`: where the tail was (none the first time: start from now). `low`/`high`: the
/// partition's watermarks now. A rewound log is read from its start: everything in it was
/// written after the loss, which this tail has not seen.
fn tail_start(next: Option<i64>, low: i64, high: i64) -> TailStart {
    match next {
        None => TailStart {
            offset: high,
            gap: None,
        },
        Some(next) if next > high => TailStart {
            offset: low,
            gap: Some(TailGap::Rewound),
        },
        Some(next) if next < low => TailStart {
            offset: low,
            gap: Some(TailGap::Expired),
        },
        Some(next) => TailStart {
            offset: next,
            gap: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tail_starts_at_the_end_and_resumes_where_it_was() {
        assert_eq!(
            tail_start(None, 3, 10),
            TailStart {
                offset: 10,
                gap: None
            }
        );
        assert_eq!(
            tail_start(Some(7), 3, 10),
            TailStart {
                offset: 7,
                gap: None
            }
        );
        assert_eq!(
            tail_start(Some(10), 3, 10),
            TailStart {
                offset: 10,
                gap: None
            }
        );
        assert_eq!(
            tail_start(Some(3), 3, 10),
            TailStart {
                offset: 3,
                gap: None
            }
        );
    }

    #[test]
    fn a_tail_reads_a_rewound_log_from_its_start_and_an_expired_one_from_what_is_left() {
        assert_eq!(
            tail_start(Some(20), 0, 4),
            TailStart {
                offset: 0,
                gap: Some(TailGap::Rewound)
            }
        );
        assert_eq!(
            tail_start(Some(2), 5, 9),
            TailStart {
                offset: 5,
                gap: Some(TailGap::Expired)
            }
        );
    }

    #[test]
    fn recent_ids_forget_the_oldest() {
        let mut r = RecentIds::new(2);
        let (a, b, c) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        assert!(r.first_time(a) && r.first_time(b));
        assert!(!r.first_time(a));
        assert!(r.first_time(c));
        assert!(r.first_time(a), "a fell out of the window");
    }
}
