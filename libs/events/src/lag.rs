//! Consumer lag for /metrics, from librdkafka's own statistics: how many messages of a topic
//! a consumer has yet to read (the broker's high watermark minus the consumer's position,
//! summed over the partitions it reads).

use rdkafka::client::ClientContext;
use rdkafka::consumer::ConsumerContext;
use rdkafka::statistics::Statistics;

/// Messages not yet read, labelled by `consumer` (the group, or `tail`) and `topic` (gauge).
pub const CONSUMER_LAG: &str = "podplane_kafka_consumer_lag";

/// How often librdkafka reports its statistics (milliseconds).
pub(crate) const STATISTICS_INTERVAL_MS: &str = "5000";

/// A consumer's context: librdkafka's default logging, plus its lag as a gauge.
pub(crate) struct LagContext {
    consumer: String,
}

impl LagContext {
    pub(crate) fn new(consumer: &str) -> Self {
        Self {
            consumer: consumer.to_owned(),
        }
    }
}

impl ClientContext for LagContext {
    fn stats(&self, statistics: Statistics) {
        for (name, topic) in &statistics.topics {
            // librdkafka lists an internal partition -1 and reports -1 where the lag is not
            // known yet (no position or no watermark): neither counts.
            let lag: i64 = topic
                .partitions
                .values()
                .filter(|p| p.partition >= 0 && p.consumer_lag >= 0)
                .map(|p| p.consumer_lag)
                .sum();
            metrics::gauge!(
                CONSUMER_LAG,
                "consumer" => self.consumer.clone(),
                "topic" => name.clone()
            )
            .set(lag as f64);
        }
    }
}

impl ConsumerContext for LagContext {}
