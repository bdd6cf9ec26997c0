//! The process's `tracing` subscriber: logs on stderr (text or JSON lines, filtered by
//! `PODPLANE_LOG`) and, when configured, OpenTelemetry spans (see [`crate::trace`]).

use crate::trace::{otlp_layer, Export, TraceError, Tracing};
use tracing::Level;
use tracing_subscriber::filter::{EnvFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::Layer;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Installs the subscriber for the whole process; the returned value, when there is one, must
/// live until the process ends (dropping it flushes the spans still queued). `service` names
/// the service in traces unless `OTEL_SERVICE_NAME` does; `None` (a one-shot command) exports
/// no traces.
pub fn init(format: LogFormat, service: Option<&str>) -> Result<Option<Tracing>, TraceError> {
    let filter = EnvFilter::try_from_env("PODPLANE_LOG").unwrap_or_else(|_| "info".into());
    let logs = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let logs = match format {
        LogFormat::Text => logs.boxed(),
        LogFormat::Json => logs.json().boxed(),
    };
    let registry = tracing_subscriber::registry().with(logs.with_filter(filter));
    let export = match service {
        Some(service) => match Export::from_env(|name| std::env::var(name).ok())? {
            Export::Otlp { json } => Some((service, json)),
            Export::Off => None,
        },
        None => None,
    };
    match export {
        None => {
            registry.init();
            Ok(None)
        }
        Some((service, json)) => {
            let (spans, guard) = otlp_layer(service, json)?;
            // Spans are chosen on their own, not by the log level: a quiet log must not cut
            // traces short. podplane's spans only; libraries' (sqlx, the AWS SDK) would
            // multiply every request's span count.
            let chosen = Targets::new()
                .with_target("podplane", Level::INFO)
                .with_default(Level::WARN);
            registry.with(spans.with_filter(chosen)).init();
            Ok(Some(guard))
        }
    }
}
