//! Latency recording and the percentile summary the report prints.
//!
//! Each virtual user keeps its requests as a list of `Sample`s, so the request path takes no
//! lock; the run adds them all to one `Recorder` at the end. A histogram per user and
//! operation would have cost a few hundred KiB each, most of a GiB at 500 users, on the
//! machine being measured. The recorder keeps latencies in microseconds in HDR histograms:
//! three significant digits is 0.1% precision at any magnitude, in fixed memory.

use std::{collections::BTreeMap, time::Duration};

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::workload::Op;

/// Longer than any request may take (the client times out first); larger values saturate.
const MAX_LATENCY_US: u64 = 10 * 60 * 1_000_000;

/// Why a request did not get its expected answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The server answered with another status.
    Status(u16),
    /// No answer: the connection failed, the client timed out, or the body broke off.
    Transport(&'static str),
}

impl Failure {
    fn label(&self) -> String {
        match self {
            Self::Status(code) => format!("http {code}"),
            Self::Transport(kind) => (*kind).to_owned(),
        }
    }
}

/// One timed request.
#[derive(Debug, Clone)]
pub struct Sample {
    pub op: Op,
    pub latency: Duration,
    pub failure: Option<Failure>,
}

#[derive(Debug, Clone)]
pub struct OpStats {
    latency_us: Histogram<u64>,
    errors: u64,
    error_kinds: BTreeMap<String, u64>,
}

impl OpStats {
    pub fn new() -> Self {
        Self {
            latency_us: Histogram::new_with_bounds(1, MAX_LATENCY_US, 3)
                .expect("constant histogram bounds are valid"),
            errors: 0,
            error_kinds: BTreeMap::new(),
        }
    }

    /// Failed requests count in the latency too: a slow 503 is time a user waited.
    pub fn record(&mut self, latency: Duration, failure: Option<&Failure>) {
        let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX).max(1);
        self.latency_us.saturating_record(micros);
        if let Some(failure) = failure {
            self.errors += 1;
            *self.error_kinds.entry(failure.label()).or_default() += 1;
        }
    }

    pub fn merge(&mut self, other: &Self) {
        // Adding fails only when the other histogram's range is wider, and every one here is
        // made by `new` with the same bounds.
        self.latency_us.add(&other.latency_us).expect("histograms share their bounds");
        self.errors += other.errors;
        for (kind, n) in &other.error_kinds {
            *self.error_kinds.entry(kind.clone()).or_default() += n;
        }
    }

    pub fn requests(&self) -> u64 {
        self.latency_us.len()
    }

    /// The figures of one row of the report, with throughput over `elapsed`.
    pub fn summary(&self, elapsed: Duration) -> Summary {
        let ms = |us: u64| us as f64 / 1000.0;
        let empty = self.latency_us.is_empty();
        let quantile = |q: f64| if empty { 0.0 } else { ms(self.latency_us.value_at_quantile(q)) };
        let secs = elapsed.as_secs_f64();
        Summary {
            requests: self.requests(),
            throughput_rps: if secs > 0.0 { self.requests() as f64 / secs } else { 0.0 },
            mean_ms: if empty { 0.0 } else { self.latency_us.mean() / 1000.0 },
            mean_in_flight: if secs > 0.0 {
                self.latency_us.mean() / 1e6 * self.requests() as f64 / secs
            } else {
                0.0
            },
            p50_ms: quantile(0.50),
            p95_ms: quantile(0.95),
            p99_ms: quantile(0.99),
            max_ms: if empty { 0.0 } else { ms(self.latency_us.max()) },
            errors: self.errors,
            error_kinds: self.error_kinds.clone(),
        }
    }
}

impl Default for OpStats {
    fn default() -> Self {
        Self::new()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub requests: u64,
    pub throughput_rps: f64,
    pub mean_ms: f64,
    /// Requests of this kind waiting at an average moment (Little's law: rate × mean time). In
    /// a closed loop these users are not sending anything else, so a slow operation with a
    /// large share here takes load off the others.
    pub mean_in_flight: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub errors: u64,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub error_kinds: BTreeMap<String, u64>,
}

/// Latencies per operation, for one virtual user or, merged, for the whole run.
#[derive(Debug, Clone, Default)]
pub struct Recorder {
    ops: BTreeMap<Op, OpStats>,
}

impl Recorder {
    pub fn record(&mut self, op: Op, latency: Duration, failure: Option<&Failure>) {
        self.ops.entry(op).or_default().record(latency, failure);
    }

    pub fn add(&mut self, samples: &[Sample]) {
        for sample in samples {
            self.record(sample.op, sample.latency, sample.failure.as_ref());
        }
    }

    pub fn ops(&self) -> impl Iterator<Item = (Op, &OpStats)> {
        self.ops.iter().map(|(op, stats)| (*op, stats))
    }

    pub fn get(&self, op: Op) -> Option<&OpStats> {
        self.ops.get(&op)
    }

    /// All operations in one histogram.
    pub fn overall(&self) -> OpStats {
        let mut all = OpStats::new();
        for stats in self.ops.values() {
            all.merge(stats);
        }
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    #[expect(clippy::float_cmp, reason = "a whole number of requests over whole seconds divides exactly")]
    fn percentiles_of_one_to_a_hundred_milliseconds() {
        let mut stats = OpStats::new();
        for n in 1..=100 {
            stats.record(ms(n), None);
        }
        let s = stats.summary(Duration::from_secs(10));
        assert_eq!(s.requests, 100);
        assert_eq!(s.throughput_rps, 10.0);
        // Three significant digits: each value is exact to within 0.1%.
        let close = |actual: f64, expected: f64| (actual - expected).abs() <= expected * 0.001;
        assert!(close(s.p50_ms, 50.0), "p50 {}", s.p50_ms);
        assert!(close(s.p95_ms, 95.0), "p95 {}", s.p95_ms);
        assert!(close(s.p99_ms, 99.0), "p99 {}", s.p99_ms);
        assert!(close(s.max_ms, 100.0), "max {}", s.max_ms);
        assert!(close(s.mean_ms, 50.5), "mean {}", s.mean_ms);
        // 10 requests a second taking 50.5 ms on average: half a request in flight.
        assert!(close(s.mean_in_flight, 0.505), "in flight {}", s.mean_in_flight);
        assert_eq!(s.errors, 0);
    }

    #[test]
    #[expect(clippy::float_cmp, reason = "a whole number of requests over whole seconds divides exactly")]
    fn failures_count_as_errors_by_kind_and_keep_their_latency() {
        let mut recorder = Recorder::default();
        recorder.record(Op::Create, ms(2), None);
        recorder.record(Op::Create, ms(900), Some(&Failure::Status(503)));
        recorder.record(Op::Get, ms(4), Some(&Failure::Transport("timeout")));
        recorder.record(Op::Get, ms(6), Some(&Failure::Status(503)));

        let create = recorder.get(Op::Create).unwrap().summary(Duration::from_secs(1));
        assert_eq!((create.requests, create.errors), (2, 1));
        assert!((create.max_ms - 900.0).abs() < 1.0);

        let all = recorder.overall().summary(Duration::from_secs(2));
        assert_eq!((all.requests, all.errors), (4, 3));
        assert_eq!(all.throughput_rps, 2.0);
        assert_eq!(all.error_kinds.get("http 503"), Some(&2));
        assert_eq!(all.error_kinds.get("timeout"), Some(&1));
    }

    #[test]
    fn the_overall_row_merges_every_operation() {
        let mut recorder = Recorder::default();
        for _ in 0..3 {
            recorder.record(Op::List, ms(10), None);
        }
        recorder.record(Op::List, ms(30), None);
        recorder.record(Op::Delete, ms(1), None);
        let list = recorder.get(Op::List).unwrap().summary(Duration::from_secs(1));
        assert_eq!(list.requests, 4);
        assert!((list.p50_ms - 10.0).abs() < 0.01);
        assert!((list.max_ms - 30.0).abs() < 0.05);
        let all = recorder.overall().summary(Duration::from_secs(1));
        assert_eq!(all.requests, 5);
        assert!((all.p50_ms - 10.0).abs() < 0.01);
        assert!((all.mean_ms - 12.2).abs() < 0.02);
        assert_eq!(recorder.ops().map(|(op, _)| op).collect::<Vec<_>>(), [Op::List, Op::Delete]);
    }

    #[test]
    fn samples_are_recorded_under_their_operation() {
        let mut recorder = Recorder::default();
        recorder.add(&[
            Sample { op: Op::Get, latency: ms(3), failure: None },
            Sample { op: Op::Get, latency: ms(5), failure: Some(Failure::Status(404)) },
        ]);
        let get = recorder.get(Op::Get).unwrap().summary(Duration::from_secs(1));
        assert_eq!((get.requests, get.errors), (2, 1));
        assert_eq!(get.error_kinds.get("http 404"), Some(&1));
    }

    #[test]
    fn an_empty_operation_summarises_to_zeros() {
        let s = OpStats::new().summary(Duration::ZERO);
        assert_eq!((s.requests, s.throughput_rps, s.p99_ms, s.max_ms), (0, 0.0, 0.0, 0.0));
    }
}
