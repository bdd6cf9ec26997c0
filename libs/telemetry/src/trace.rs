//! Distributed tracing: OpenTelemetry spans exported over OTLP/HTTP when the operator
//! configures an endpoint, and the W3C trace context carried across every hop (HTTP requests
//! in, outbox rows, Kafka message headers, consumers).
//!
//! Configuration is the standard `OTEL_*` set, read by the OpenTelemetry SDK itself:
//! `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) turns export on;
//! `OTEL_EXPORTER_OTLP_PROTOCOL` (`http/protobuf`, the default, or `http/json`),
//! `OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_EXPORTER_OTLP_TIMEOUT`, `OTEL_SERVICE_NAME`,
//! `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_TRACES_SAMPLER(_ARG)` and `OTEL_BSP_*` work as the
//! specification says; `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none` turn it off.
//!
//! Without an endpoint no span leaves the process and no trace context is created or
//! forwarded: the request path pays nothing for tracing it does not use.

use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::TraceContextExt;
use opentelemetry::Context;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// The W3C header (and Kafka message header) that carries the trace context.
pub const TRACEPARENT: &str = "traceparent";

/// Set once an exporter is installed; until then spans carry no trace context.
static ENABLED: AtomicBool = AtomicBool::new(false);

#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    #[error("{0}")]
    Config(String),
    #[error("building the OTLP exporter: {0}")]
    Exporter(String),
}

/// What the operator asked for, read from the environment once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Export {
    Off,
    /// OTLP over HTTP, JSON-encoded when `json`, protobuf otherwise.
    Otlp {
        json: bool,
    },
}

impl Export {
    /// Reads the standard variables from `var` (the process environment in production).
    pub fn from_env(var: impl Fn(&str) -> Option<String>) -> Result<Self, TraceError> {
        let set = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        if set("OTEL_SDK_DISABLED").is_some_and(|v| v.trim().eq_ignore_ascii_case("true")) {
            return Ok(Export::Off);
        }
        match set("OTEL_TRACES_EXPORTER").as_deref().map(str::trim) {
            None | Some("otlp") => {}
            Some("none") => return Ok(Export::Off),
            Some(other) => {
                return Err(TraceError::Config(format!(
                    "OTEL_TRACES_EXPORTER={other} is not supported (otlp or none)"
                )))
            }
        }
        if set("OTEL_EXPORTER_OTLP_ENDPOINT").is_none()
            && set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").is_none()
        {
            return Ok(Export::Off);
        }
        // The signal's own setting wins over the general one.
        let mut json = None;
        for name in [
            "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
            "OTEL_EXPORTER_OTLP_PROTOCOL",
        ] {
            match set(name).as_deref().map(str::trim) {
                None => {}
                Some("http/protobuf") => _ = json.get_or_insert(false),
                Some("http/json") => _ = json.get_or_insert(true),
                // gRPC would add a second HTTP stack (tonic) to every image; collectors
                // accept OTLP/HTTP on 4318 alongside gRPC on 4317.
                Some(other) => {
                    return Err(TraceError::Config(format!(
                        "{name}={other} is not supported: use http/protobuf or http/json \
                         (an OpenTelemetry Collector takes them on port 4318)"
                    )))
                }
            }
        }
        Ok(Export::Otlp {
            json: json.unwrap_or(false),
        })
    }
}

/// Holds the exporter; dropping it flushes the spans still queued (at shutdown).
pub struct Tracing {
    provider: SdkTracerProvider,
}

impl Drop for Tracing {
    fn drop(&mut self) {
        if let Err(e) = self.provider.shutdown() {
            tracing::warn!(error = %e, "flushing traces at shutdown failed");
        }
    }
}

/// The OTLP exporter and the layer that turns `tracing` spans into OpenTelemetry spans.
/// `service` names the service unless `OTEL_SERVICE_NAME` does; `json` is [`Export::Otlp`]'s.
pub fn otlp_layer<S>(
    service: &str,
    json: bool,
) -> Result<
    (
        tracing_opentelemetry::OpenTelemetryLayer<S, opentelemetry_sdk::trace::Tracer>,
        Tracing,
    ),
    TraceError,
>
where
    S: tracing::Subscriber + for<'span> tracing_subscriber::registry::LookupSpan<'span>,
{
    use opentelemetry::trace::TracerProvider as _;
    use opentelemetry_otlp::WithExportConfig as _;
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(if json {
            opentelemetry_otlp::Protocol::HttpJson
        } else {
            opentelemetry_otlp::Protocol::HttpBinary
        })
        .build()
        .map_err(|e| TraceError::Exporter(e.to_string()))?;
    let mut resource = opentelemetry_sdk::Resource::builder();
    if std::env::var_os("OTEL_SERVICE_NAME").is_none() {
        resource = resource.with_service_name(service.to_owned());
    }
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource.build())
        .build();
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    let tracer = provider.tracer("podplane");
    ENABLED.store(true, Ordering::Release);
    Ok((
        tracing_opentelemetry::layer().with_tracer(tracer),
        Tracing { provider },
    ))
}

/// Whether spans carry trace context (an exporter is installed).
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Acquire)
}

/// Makes `span` a child of the trace named by a W3C `traceparent` value (from an HTTP header
/// or a Kafka message header); a missing or malformed value leaves it a new trace's root.
pub fn continue_trace(span: &tracing::Span, traceparent: Option<&str>) {
    let Some(value) = traceparent.filter(|_| enabled()) else {
        return;
    };
    let carrier = HashMap::from([(TRACEPARENT.to_owned(), value.to_owned())]);
    let cx = TraceContextPropagator::new().extract(&carrier);
    if cx.span().span_context().is_valid() {
        let _ = span.set_parent(cx);
    }
}

/// A consumer's span for one event taken off `topic`, continuing the trace of the request
/// that caused it; a span that records nothing when tracing is off.
pub fn consumer_span(topic: &str, event_id: &str, traceparent: Option<&str>) -> tracing::Span {
    if !enabled() {
        return tracing::Span::none();
    }
    let span = tracing::info_span!(
        "process",
        otel.name = %format_args!("{topic} process"),
        otel.kind = "consumer",
        messaging.operation.type = "process",
        messaging.destination.name = %topic,
        messaging.message.id = %event_id,
    );
    continue_trace(&span, traceparent);
    span
}

/// The `traceparent` value of the current span, to carry the trace to the next hop (stored
/// with an outbox row, sent as a Kafka header); `None` when tracing is off.
pub fn current_traceparent() -> Option<String> {
    if !enabled() {
        return None;
    }
    let cx = tracing::Span::current().context();
    traceparent_of(&cx)
}

fn traceparent_of(cx: &Context) -> Option<String> {
    if !cx.span().span_context().is_valid() {
        return None;
    }
    let mut carrier = HashMap::new();
    TraceContextPropagator::new().inject_context(cx, &mut carrier);
    carrier.remove(TRACEPARENT)
}

/// The current trace's id (32 hex digits), for error bodies and logs; `None` when tracing is
/// off.
pub fn current_trace_id() -> Option<String> {
    if !enabled() {
        return None;
    }
    let cx = tracing::Span::current().context();
    let span = cx.span();
    let context = span.span_context();
    context.is_valid().then(|| context.trace_id().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn export_is_off_without_an_endpoint() {
        assert_eq!(Export::from_env(env(&[])).unwrap(), Export::Off);
        assert_eq!(
            Export::from_env(env(&[("OTEL_EXPORTER_OTLP_ENDPOINT", " ")])).unwrap(),
            Export::Off
        );
    }

    #[test]
    fn an_endpoint_turns_export_on_unless_disabled() {
        let on = [("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")];
        assert_eq!(
            Export::from_env(env(&on)).unwrap(),
            Export::Otlp { json: false }
        );
        let traces_only = [(
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            "http://c:4318/v1/traces",
        )];
        assert_eq!(
            Export::from_env(env(&traces_only)).unwrap(),
            Export::Otlp { json: false }
        );
        let disabled = [on[0], ("OTEL_SDK_DISABLED", "TRUE")];
        assert_eq!(Export::from_env(env(&disabled)).unwrap(), Export::Off);
        let none = [on[0], ("OTEL_TRACES_EXPORTER", "none")];
        assert_eq!(Export::from_env(env(&none)).unwrap(), Export::Off);
    }

    #[test]
    fn unsupported_exporters_and_protocols_are_refused_by_name() {
        let on = ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318");
        let grpc = Export::from_env(env(&[on, ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")]));
        assert!(grpc
            .unwrap_err()
            .to_string()
            .contains("OTEL_EXPORTER_OTLP_PROTOCOL=grpc"));
        let zipkin = Export::from_env(env(&[on, ("OTEL_TRACES_EXPORTER", "zipkin")]));
        assert!(zipkin.unwrap_err().to_string().contains("zipkin"));
        let json = [on, ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/json")];
        assert_eq!(
            Export::from_env(env(&json)).unwrap(),
            Export::Otlp { json: true }
        );
    }

    #[tokio::test]
    async fn a_server_error_names_its_trace_and_the_next_hop_continues_it() {
        use opentelemetry::trace::TracerProvider as _;
        use tracing_subscriber::layer::SubscriberExt as _;
        let provider = SdkTracerProvider::builder().build();
        let subscriber = tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
        let _subscriber = tracing::subscriber::set_default(subscriber);
        ENABLED.store(true, Ordering::Release);
        let span = tracing::info_span!("request");
        let trace = "0af7651916cd43dd8448eb211c80319c";
        continue_trace(&span, Some(&format!("00-{trace}-b7ad6b7169203331-01")));
        let _in = span.enter();

        let body = |res: axum::response::Response| async {
            let bytes = axum::body::to_bytes(res.into_body(), 4096).await.unwrap();
            serde_json::from_slice::<serde_json::Value>(&bytes).unwrap()
        };
        let failed = body(crate::problem(axum::http::StatusCode::BAD_GATEWAY, "x")).await;
        assert_eq!(failed["instance"], format!("urn:podplane:trace:{trace}"));
        let refused = body(crate::problem(axum::http::StatusCode::FORBIDDEN, "x")).await;
        assert!(refused.get("instance").is_none(), "{refused}");

        let next = current_traceparent().expect("a trace context");
        assert!(next.starts_with(&format!("00-{trace}-")), "{next}");
        assert!(
            !next.contains("b7ad6b7169203331"),
            "a span of its own: {next}"
        );
    }

    #[test]
    fn a_traceparent_round_trips_through_a_context() {
        let value = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        let carrier = HashMap::from([(TRACEPARENT.to_owned(), value.to_owned())]);
        let cx = TraceContextPropagator::new().extract(&carrier);
        assert_eq!(traceparent_of(&cx).as_deref(), Some(value));
        let bad = HashMap::from([(TRACEPARENT.to_owned(), "00-zz-b7-01".to_owned())]);
        let cx = TraceContextPropagator::new().extract(&bad);
        assert_eq!(traceparent_of(&cx), None);
    }
}
