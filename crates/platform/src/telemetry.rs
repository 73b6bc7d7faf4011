//! Structured logging, and OpenTelemetry trace export when an OTLP endpoint is configured. One
//! place decides the format and the default filter for every service; request and event spans
//! carry the correlation id so every line has it.
//!
//! Export is off unless `OTEL_EXPORTER_OTLP_ENDPOINT` is set: then a tracing-opentelemetry
//! layer sends every span to `<endpoint>/v1/traces` over OTLP/HTTP (protobuf) from a batch
//! processor. Unset, nothing extra is installed: no exporter thread and no per-span cost.
//! The W3C `traceparent` stays the source of truth for trace ids ([`crate::trace`]); spans join
//! it with [`crate::trace::join`].

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::{Resource, trace::SdkTracerProvider};
use tracing_subscriber::{EnvFilter, fmt, layer::SubscriberExt, util::SubscriberInitExt};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Json,
    Pretty,
}

/// Where and as whom spans are exported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtlpConfig {
    /// The full traces URL; `None` lets the exporter resolve the standard variables itself
    /// (`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, else `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`).
    traces_endpoint: Option<String>,
    service_name: String,
}

impl OtlpConfig {
    /// Export to a collector's OTLP/HTTP base URL (e.g. `http://otel-collector:4318`).
    pub fn new(endpoint: &str, service_name: impl Into<String>) -> Self {
        Self {
            traces_endpoint: Some(format!("{}/v1/traces", endpoint.trim_end_matches('/'))),
            service_name: service_name.into(),
        }
    }

    /// The standard variables: `None` unless `OTEL_EXPORTER_OTLP_ENDPOINT` is set and not empty.
    /// The service name is `OTEL_SERVICE_NAME`, else the binary's name.
    pub fn from_env() -> Option<Self> {
        let set = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        set("OTEL_EXPORTER_OTLP_ENDPOINT")?;
        let service_name = set("OTEL_SERVICE_NAME").unwrap_or_else(binary_name);
        Some(Self { traces_endpoint: None, service_name })
    }
}

fn binary_name() -> String {
    std::env::current_exe()
        .ok()
        .and_then(|path| path.file_stem().map(|stem| stem.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "todo".to_owned())
}

/// Keeps the trace exporter alive; dropping it flushes the spans still queued and stops the
/// exporter thread. Hold it in `main` for the life of the process.
#[must_use = "dropping the guard shuts the trace exporter down at once"]
#[derive(Debug, Default)]
pub struct TelemetryGuard {
    provider: Option<SdkTracerProvider>,
}

impl TelemetryGuard {
    /// Whether spans are being exported.
    pub fn exporting(&self) -> bool {
        self.provider.is_some()
    }

    /// Sends every finished span now (blocking). Spans still open are not included.
    pub fn flush(&self) {
        if let Some(provider) = &self.provider
            && let Err(e) = provider.force_flush()
        {
            tracing::warn!(error.message = %e, "flushing traces to the OTLP endpoint failed");
        }
    }
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take()
            && let Err(e) = provider.shutdown()
        {
            // The subscriber may be the only reporter left; stderr is certain to be seen.
            eprintln!("shutting down the trace exporter failed: {e}");
        }
    }
}

/// Installs the global subscriber, exporting spans when `OTEL_EXPORTER_OTLP_ENDPOINT` is set.
/// `RUST_LOG` overrides `default_filter` (and so also decides which spans are exported).
pub fn init(format: LogFormat, default_filter: &str) -> TelemetryGuard {
    init_with(format, default_filter, OtlpConfig::from_env())
}

/// [`init`] with the export settings given rather than read from the environment.
pub fn init_with(format: LogFormat, default_filter: &str, otlp: Option<OtlpConfig>) -> TelemetryGuard {
    let provider = otlp.and_then(|config| match tracer_provider(&config) {
        Ok(provider) => Some((provider, config.service_name)),
        // Losing traces must not stop the service; the error shows once logging is up.
        Err(e) => {
            eprintln!("OpenTelemetry trace export is off: {e:#}");
            None
        }
    });
    let otel_layer = provider.as_ref().map(|(provider, service)| {
        tracing_opentelemetry::layer().with_tracer(provider.tracer(service.clone()))
    });
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let registry = tracing_subscriber::registry().with(filter).with(otel_layer);
    // `try_init`: tests and embedding programs may already have a subscriber.
    let installed = match format {
        LogFormat::Json => registry
            .with(fmt::layer().json().flatten_event(true).with_current_span(true).with_span_list(false))
            .try_init(),
        LogFormat::Pretty => registry.with(fmt::layer()).try_init(),
    };
    if installed.is_err() {
        // Another subscriber won, so this provider would never see a span.
        return TelemetryGuard::default();
    }
    if let Some((_, service)) = &provider {
        tracing::info!(service, "exporting traces over OTLP/HTTP");
    }
    TelemetryGuard { provider: provider.map(|(provider, _)| provider) }
}

fn tracer_provider(config: &OtlpConfig) -> anyhow::Result<SdkTracerProvider> {
    let mut exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(opentelemetry_otlp::Protocol::HttpBinary);
    if let Some(endpoint) = &config.traces_endpoint {
        exporter = exporter.with_endpoint(endpoint.clone());
    }
    let exporter = exporter.build()?;
    let resource = Resource::builder().with_service_name(config.service_name.clone()).build();
    Ok(SdkTracerProvider::builder().with_batch_exporter(exporter).with_resource(resource).build())
}
