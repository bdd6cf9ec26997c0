//! podplane events: what happened to resources and pods, as JSON, and the buses that carry it.
//!
//! This crate owns the event types (the wire format other services consume) and the
//! [`EventBus`] abstraction with its two implementations: in-process (embedded mode) and Kafka
//! (distributed mode), plus the Kafka consumer helper services use. It must not know
//! about HTTP or storage; the transactional outbox that feeds a bus lives in `podplane-store`.

mod audit;
mod bus;
mod context;
mod kafka;
mod kafka_config;
mod lag;
mod types;

pub use audit::{
    AuditEvent, AuditName, Audited, Emitter, Generator, Outcome, Subject, Thing, AUDIT_CONTEXT,
    AUDIT_TOPIC,
};
pub use bus::{EventBus, EventError, InProcessBus};
pub use context::MSK_IAM_TOKENS;
pub use kafka::{consume, ensure_topics, tail, KafkaBus, TailPositions};
pub use kafka_config::{KafkaConfig, KafkaConfigError, Sasl, SecurityProtocol, Tls};
pub use lag::CONSUMER_LAG;
pub use types::{
    Envelope, PodEvent, PodEventKind, ResourceEvent, ResourceEventKind, POD_TOPIC, RESOURCE_TOPIC,
};
