//! Prometheus metrics (`prometheus-client`): counters and histograms of what happens,
//! kept for the process and fed by one call where it happens, and gauges read from
//! the database when `/metrics` is scraped (queues, agents, outboxes, the pool).
//!
//! Names follow Prometheus' conventions: the `kefu_` prefix, base units (seconds),
//! counters ending in `_total` (the encoder adds it), and labels with few values only
//! — routes, statuses, module names, skill groups — never users, sessions or agents.
//! Served by `http::metrics` when `metrics.enabled` is set.

use std::sync::LazyLock;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;
use serde::{Deserialize, Serialize};

use crate::plugin::FailureKind;
use crate::sessions::{Session, Status};
use crate::store::webhooks::Outcome;

/// How metrics are served (`metrics.*`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct MetricsConfig {
    /// Serve `GET /metrics`. Off by default.
    pub enabled: bool,
    /// Serve it on this address instead of the API's (e.g. `127.0.0.1:9464`).
    pub listen: Option<std::net::SocketAddr>,
    /// Ask scrapers for `Authorization: Bearer <token>`.
    pub bearer_token: Option<String>,
}

impl MetricsConfig {
    pub fn validate(&self) -> Result<(), String> {
        if self.bearer_token.as_ref().is_some_and(|t| t.len() < 16) {
            return Err("metrics.bearer_token must be at least 16 characters".into());
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabels {
    pub method: String,
    pub route: String,
    pub status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub method: String,
    pub route: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ResultLabels {
    pub result: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct IngressLabels {
    pub endpoint: &'static str,
    pub result: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EndLabels {
    pub end_status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OfferLabels {
    pub event: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ModuleLabels {
    pub module: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct FailureLabels {
    pub module: String,
    pub kind: &'static str,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

fn http_buckets() -> Histogram {
    Histogram::new([
        0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
    ])
}

fn step_buckets() -> Histogram {
    Histogram::new([
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
    ])
}

fn db_buckets() -> Histogram {
    Histogram::new([
        0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5, 2.5,
    ])
}

fn wait_buckets() -> Histogram {
    Histogram::new([
        1.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0,
    ])
}

/// The process's counters and histograms.
#[derive(Debug)]
pub struct Metrics {
    pub http_requests: Family<HttpLabels, Counter>,
    pub http_duration: Histograms<RouteLabels>,
    pub im_ingress: Family<IngressLabels, Counter>,
    pub im_egress: Family<ResultLabels, Counter>,
    pub sessions_opened: Counter,
    pub sessions_ended: Family<EndLabels, Counter>,
    pub offers: Family<OfferLabels, Counter>,
    pub queue_wait: Histogram,
    pub flow_steps: Family<ModuleLabels, Counter>,
    pub flow_failures: Family<FailureLabels, Counter>,
    pub flow_step_duration: Histograms<ModuleLabels>,
    pub webhook_deliveries: Family<ResultLabels, Counter>,
    pub db_statements: Family<ResultLabels, Counter>,
    pub db_statement_duration: Histogram,
    pub sqlite_writer_busy: Counter<f64, AtomicU64>,
    pub sqlite_commits: Counter,
    pub sqlite_grouped_writes: Counter,
}

pub static METRICS: LazyLock<Metrics> = LazyLock::new(|| Metrics {
    http_requests: Family::default(),
    http_duration: Family::new_with_constructor(http_buckets),
    im_ingress: Family::default(),
    im_egress: Family::default(),
    sessions_opened: Counter::default(),
    sessions_ended: Family::default(),
    offers: Family::default(),
    queue_wait: wait_buckets(),
    flow_steps: Family::default(),
    flow_failures: Family::default(),
    flow_step_duration: Family::new_with_constructor(step_buckets),
    webhook_deliveries: Family::default(),
    db_statements: Family::default(),
    db_statement_duration: db_buckets(),
    sqlite_writer_busy: Counter::default(),
    sqlite_commits: Counter::default(),
    sqlite_grouped_writes: Counter::default(),
});

impl Metrics {
    /// Registers the process's metrics in `registry` (they are shared, not copied).
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "kefu_build",
            "The kefu version serving",
            Info::new(vec![("version", env!("CARGO_PKG_VERSION"))]),
        );
        registry.register(
            "kefu_http_requests",
            "HTTP requests answered, by route and status",
            self.http_requests.clone(),
        );
        registry.register(
            "kefu_http_request_duration_seconds",
            "Time to answer an HTTP request, by route",
            self.http_duration.clone(),
        );
        registry.register(
            "kefu_im_ingress_requests",
            "Requests from Tencent IM (sendmsg, callback), by result",
            self.im_ingress.clone(),
        );
        registry.register(
            "kefu_im_egress_attempts",
            "Attempts to deliver a reply to IM, by result",
            self.im_egress.clone(),
        );
        registry.register(
            "kefu_sessions_opened",
            "Session legs opened (a transfer between agents opens one)",
            self.sessions_opened.clone(),
        );
        registry.register(
            "kefu_sessions_ended",
            "Session legs ended, by TCCC end status",
            self.sessions_ended.clone(),
        );
        registry.register(
            "kefu_offers",
            "Sessions offered to agents and what became of the offers (made, accepted, declined, expired, withdrawn)",
            self.offers.clone(),
        );
        registry.register(
            "kefu_queue_wait_seconds",
            "Time sessions waited in a queue before reaching an agent",
            self.queue_wait.clone(),
        );
        registry.register(
            "kefu_flow_steps",
            "Flow steps run, by module (tenants' own modules as `custom`)",
            self.flow_steps.clone(),
        );
        registry.register(
            "kefu_flow_step_failures",
            "Flow steps that failed, by module and kind",
            self.flow_failures.clone(),
        );
        registry.register(
            "kefu_flow_step_duration_seconds",
            "Time a flow step took, by module",
            self.flow_step_duration.clone(),
        );
        registry.register(
            "kefu_webhook_deliveries",
            "Webhook delivery attempts, by result (delivered, retry, failed, gone)",
            self.webhook_deliveries.clone(),
        );
        registry.register(
            "kefu_db_statements",
            "Database statements run (inside transactions too; not their begin and commit; a batch sent in one call counts once), by result (ok, failed)",
            self.db_statements.clone(),
        );
        registry.register(
            "kefu_db_statement_duration_seconds",
            "Time a database statement took, waiting for the driver included",
            self.db_statement_duration.clone(),
        );
        registry.register(
            "kefu_sqlite_writer_busy_seconds",
            "Time SQLite's one writer was taken (by a shared commit or a write of its own); near one second a second, writes queue",
            self.sqlite_writer_busy.clone(),
        );
        registry.register(
            "kefu_sqlite_grouped_commits",
            "Commits that SQLite's writer made for grouped writes (a session's turn), each for one or more of them",
            self.sqlite_commits.clone(),
        );
        registry.register(
            "kefu_sqlite_grouped_writes",
            "Grouped writes (a session's turn) committed or failed on SQLite; divided by kefu_sqlite_grouped_commits, how many shared a commit",
            self.sqlite_grouped_writes.clone(),
        );
    }
}

/// An HTTP request was answered.
pub fn http_request(method: &str, route: &str, status: u16, took: Duration) {
    let route = route.to_owned();
    METRICS
        .http_requests
        .get_or_create(&HttpLabels {
            method: method.to_owned(),
            route: route.clone(),
            status,
        })
        .inc();
    METRICS
        .http_duration
        .get_or_create(&RouteLabels {
            method: method.to_owned(),
            route,
        })
        .observe(took.as_secs_f64());
}

/// IM's `sendmsg` (or callback) was answered OK or with an error code.
pub fn im_ingress(endpoint: &'static str, ok: bool) {
    let result = if ok { "ok" } else { "refused" };
    METRICS
        .im_ingress
        .get_or_create(&IngressLabels { endpoint, result })
        .inc();
}

/// A database statement ran (sea-orm's metric callback on every connection kefu
/// opens: `store::observe_statements`).
pub fn db_statement(took: Duration, failed: bool) {
    let result = if failed { "failed" } else { "ok" };
    METRICS
        .db_statements
        .get_or_create(&ResultLabels { result })
        .inc();
    METRICS.db_statement_duration.observe(took.as_secs_f64());
}

/// SQLite's writer was taken for `took`: by a commit shared by `grouped` writes, or
/// (`grouped` 0) by a write of its own.
pub fn sqlite_writer_busy(took: Duration, grouped: usize) {
    METRICS.sqlite_writer_busy.inc_by(took.as_secs_f64());
    if grouped > 0 {
        METRICS.sqlite_commits.inc();
        METRICS.sqlite_grouped_writes.inc_by(grouped as u64);
    }
}

/// An attempt to deliver a reply to IM: `sent`, `retry` or `failed`.
pub fn im_egress(result: &'static str) {
    METRICS
        .im_egress
        .get_or_create(&ResultLabels { result })
        .inc();
}

/// A turn committed: the session (leg) may have opened, ended, or reached agents.
pub fn session_turn(is_new: bool, before: Status, after: &Session) {
    if is_new {
        METRICS.sessions_opened.inc();
    }
    if after.status == Status::Ended && before != Status::Ended {
        session_ended(after);
    }
}

/// A leg ended.
pub fn session_ended(s: &Session) {
    METRICS
        .sessions_ended
        .get_or_create(&EndLabels {
            end_status: s.end_status.unwrap_or(0),
        })
        .inc();
}

/// Routing gave sessions to agents: offered, or assigned at once (made and accepted).
pub fn routed(sessions: &[Session]) {
    for s in sessions {
        offer("made");
        if s.status == Status::WithAgent {
            offer("accepted");
        }
        if let (Some(queued), Some(offered)) = (s.queued_at, s.offered_at) {
            METRICS
                .queue_wait
                .observe((offered - queued).num_milliseconds().max(0) as f64 / 1000.0);
        }
    }
}

/// What became of an offer: `made`, `accepted`, `declined`, `expired`, `withdrawn`.
pub fn offer(event: &'static str) {
    METRICS.offers.get_or_create(&OfferLabels { event }).inc();
}

/// A flow step ran.
pub fn flow_step(module: &str, builtin: bool, took: Duration, failure: Option<FailureKind>) {
    let module = if builtin { module } else { "custom" }.to_owned();
    METRICS
        .flow_steps
        .get_or_create(&ModuleLabels {
            module: module.clone(),
        })
        .inc();
    if let Some(kind) = failure {
        METRICS
            .flow_failures
            .get_or_create(&FailureLabels {
                module: module.clone(),
                kind: kind.as_str(),
            })
            .inc();
    }
    METRICS
        .flow_step_duration
        .get_or_create(&ModuleLabels { module })
        .observe(took.as_secs_f64());
}

/// A webhook delivery attempt ended.
pub fn webhook_delivery(outcome: &Outcome) {
    let result = match outcome {
        Outcome::Delivered => "delivered",
        Outcome::Retry { .. } => "retry",
        Outcome::Failed { .. } => "failed",
        Outcome::Gone => "gone",
    };
    METRICS
        .webhook_deliveries
        .get_or_create(&ResultLabels { result })
        .inc();
}

/// The gauges read from the database at a scrape, in a registry of their own.
#[derive(Debug, Default)]
pub struct Scraped {
    pub queue_sessions: Family<QueueLabels, Gauge>,
    pub queue_oldest: Family<QueueLabels, Gauge<f64, std::sync::atomic::AtomicU64>>,
    pub agents: Family<StatusLabels, Gauge>,
    pub im_outbox: Gauge,
    pub webhook_outbox: Gauge,
    pub pool: Family<PoolLabels, Gauge>,
    pub pool_max: Gauge,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct QueueLabels {
    pub tenant: String,
    pub skill_group: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StatusLabels {
    pub status: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PoolLabels {
    pub state: &'static str,
}

impl Scraped {
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "kefu_queue_sessions",
            "Sessions waiting for an agent (queued or offered), by skill group",
            self.queue_sessions.clone(),
        );
        registry.register(
            "kefu_queue_oldest_wait_seconds",
            "How long the session waiting longest has waited, by skill group",
            self.queue_oldest.clone(),
        );
        registry.register(
            "kefu_agents",
            "Active agents by the status shown",
            self.agents.clone(),
        );
        registry.register(
            "kefu_im_outbox_pending",
            "Replies to IM users waiting to be delivered",
            self.im_outbox.clone(),
        );
        registry.register(
            "kefu_webhook_outbox_pending",
            "Webhook deliveries waiting to be made",
            self.webhook_outbox.clone(),
        );
        registry.register(
            "kefu_db_pool_connections",
            "Database connections of this node's pool, idle or in use",
            self.pool.clone(),
        );
        registry.register(
            "kefu_db_pool_max_connections",
            "The most connections this node's pool opens",
            self.pool_max.clone(),
        );
    }
}
