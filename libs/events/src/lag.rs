//! Consumer lag for /metrics, from librdkafka's own statistics: how many messages of a topic
//! a consumer has yet to read (the broker's high watermark minus the consumer's position,
//! summed over the partitions it reads).

use rdkafka::statistics::Statistics;

/// Messages not yet read, labelled by `consumer` (the group, or `tail`) and `topic` (gauge).
pub const CONSUMER_LAG: &str = "podplane_kafka_consumer_lag";

/// How often librdkafka reports its statistics (milliseconds).
pub(crate) const STATISTICS_INTERVAL_MS: &str = "5000";

/// Sets the lag gauge of `consumer` from one statistics report.
pub(crate) fn record(consumer: &str, statistics: &Statistics) {
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
            "consumer" => consumer.to_owned(),
            "topic" => name.clone()
        )
        .set(lag as f64);
    }
}
