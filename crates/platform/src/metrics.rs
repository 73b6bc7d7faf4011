//! Prometheus metrics: the one process-wide recorder, the `/metrics` route, and the HTTP
//! request metrics both services record the same way.
//!
//! The `metrics` facade has one global recorder per process. [`handle`] installs it on first
//! use and every later caller (a second app in the same test process, say) shares it, so a
//! test that starts several apps sees one registry: assert that a series moved, not that it
//! holds an exact value. The exporter's own HTTP listener is left out; each service serves
//! [`render`] from its main router.

use std::{sync::OnceLock, time::Duration};

use axum::{
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use sqlx::PgPool;

/// Latency buckets in seconds: 1 ms to 10 s, dense where an API call and a publish live.
const LATENCY_BUCKETS: &[f64] =
    &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// Cron passes run from milliseconds (nothing due) to minutes (a large backlog).
const PASS_BUCKETS: &[f64] = &[0.005, 0.025, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0];

pub const HTTP_REQUESTS: &str = "http_requests_total";
pub const HTTP_DURATION: &str = "http_request_duration_seconds";
pub const DB_POOL_CONNECTIONS: &str = "db_pool_connections";
pub const DB_POOL_IDLE: &str = "db_pool_idle_connections";
pub const DB_POOL_MAX: &str = "db_pool_max_connections";

/// The process's metrics handle, installing the global recorder on first use. Services call
/// it at start-up: until the recorder is installed, counts go nowhere.
pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_pass_duration_seconds".into()), PASS_BUCKETS)
            .and_then(|b| b.set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS));
        let recorder = match builder {
            Ok(builder) => builder.build_recorder(),
            // Unreachable with the constant, non-empty bucket lists above; summaries then.
            Err(_) => PrometheusBuilder::new().build_recorder(),
        };
        let handle = recorder.handle();
        // Another recorder already installed (an embedding program): this handle then renders
        // only what is recorded through it, which is nothing, but nothing breaks either.
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("a metrics recorder was already installed; /metrics will be empty");
        }
        handle
    })
}

/// The Prometheus text exposition of every metric, after sampling `pool`'s gauges.
pub fn render(pool: &PgPool) -> Response {
    let handle = handle();
    let max = pool.options().get_max_connections();
    metrics::gauge!(DB_POOL_CONNECTIONS).set(f64::from(pool.size()));
    metrics::gauge!(DB_POOL_IDLE).set(pool.num_idle() as f64);
    metrics::gauge!(DB_POOL_MAX).set(f64::from(max));
    // Keeps the histograms' internal buffers bounded between scrapes.
    handle.run_upkeep();
    let mut response = handle.render().into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"));
    response
}

/// Records one HTTP request by route template (never the raw path: bounded cardinality).
pub fn record_http(method: &str, route: &str, status: u16, elapsed: Duration) {
    let labels = [("method", method.to_owned()), ("route", route.to_owned()), ("status", status.to_string())];
    metrics::counter!(HTTP_REQUESTS, &labels).increment(1);
    metrics::histogram!(HTTP_DURATION, &labels).record(elapsed.as_secs_f64());
}

/// The value of the series named `name` whose labels include every `labels` pair, summed over
/// matching series, from a rendered exposition; for tests and the fault harness.
pub fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let (metric, label_text) = match series.split_once('{') {
                Some((metric, rest)) => (metric, rest.trim_end_matches('}')),
                None => (series, ""),
            };
            if metric != name {
                return None;
            }
            let all = labels.iter().all(|(k, v)| label_text.contains(&format!("{k}=\"{v}\"")));
            if all { value.parse::<f64>().ok() } else { None }
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::sample;

    #[test]
    #[expect(clippy::float_cmp, reason = "the samples are whole numbers, which f64 holds exactly")]
    fn samples_sum_matching_series() {
        let text = "# TYPE x counter\nx{a=\"1\",b=\"2\"} 3\nx{a=\"1\",b=\"3\"} 4\nx_sum{a=\"1\"} 9\ny 5\n";
        assert_eq!(sample(text, "x", &[("a", "1")]), 7.0);
        assert_eq!(sample(text, "x", &[("b", "3")]), 4.0);
        assert_eq!(sample(text, "y", &[]), 5.0);
        assert_eq!(sample(text, "z", &[]), 0.0);
    }
}
