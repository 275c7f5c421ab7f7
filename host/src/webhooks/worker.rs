//! The delivery worker: claims each ready endpoint's first pending deliveries (in
//! event order, under a lease) and hands them to a task of that endpoint, which sends
//! them one after the other.
//!
//! - Success is a 2xx answer; nothing else is. A failed delivery is tried again after
//!   the next pause of `webhooks.retry_delays_secs` (±20% jitter, or the endpoint's
//!   `Retry-After` on 429 and 503 when longer), and the endpoint sends nothing else
//!   meanwhile, so receivers see events in order; once the pauses are used up the
//!   delivery has failed and the endpoint moves on. 410 Gone disables the endpoint.
//! - Each endpoint has its own task and each tenant a few deliveries in flight at
//!   most, so a slow or dead endpoint delays only itself.
//! - Requests go through `outbound`: http(s) only, public addresses unless allowed,
//!   no redirects, a bounded answer, and `webhooks.timeout_ms` for the whole attempt.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chrono::Utc;
use tokio::sync::{Notify, Semaphore, mpsc};
use uuid::Uuid;

use super::WebhooksConfig;
use super::sign::signature;
use crate::outbound;
use crate::state::AppState;
use crate::store::TenantId;
use crate::store::webhooks::{self as store, Due, Outcome, StoredEndpoint};

/// How often endpoints are looked at when nothing else wakes the worker.
const POLL: Duration = Duration::from_millis(250);
/// Deliveries of one endpoint claimed at once.
const PER_ENDPOINT: u64 = 20;
/// An endpoint's task ends after this long without work.
const IDLE: Duration = Duration::from_secs(60);
/// How often old deliveries are forgotten.
const PURGE_EVERY: Duration = Duration::from_secs(3600);

/// An endpoint's task, as the dispatcher holds it.
struct EndpointTask {
    batches: mpsc::Sender<Vec<Due>>,
    /// A batch is being sent: the endpoint's next deliveries wait for it.
    busy: Arc<AtomicBool>,
}

/// Delivers webhooks until the task is dropped.
pub async fn run(state: AppState) {
    let config = state.config.webhooks.clone();
    let client = match outbound::client(
        &state.config.outbound,
        Duration::from_millis(config.timeout_ms),
    ) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "cannot build the HTTP client for webhooks");
            return;
        }
    };
    let wake = Arc::new(Notify::new());
    let mut tasks: HashMap<Uuid, EndpointTask> = HashMap::new();
    let mut tenants: HashMap<Uuid, Arc<Semaphore>> = HashMap::new();
    let mut purged = Instant::now();
    loop {
        tasks.retain(|_, t| !t.batches.is_closed());
        if let Err(e) = dispatch(&state, &client, &wake, &mut tasks, &mut tenants).await {
            tracing::warn!(error = %e, "looking for webhook deliveries failed");
        }
        if purged.elapsed() >= PURGE_EVERY {
            purged = Instant::now();
            let before = Utc::now() - chrono::Duration::days(i64::from(config.keep_days));
            if let Err(e) = store::purge(&state.db, before).await {
                tracing::warn!(error = %e, "forgetting old webhook deliveries failed");
            }
        }
        tokio::select! {
            () = wake.notified() => {}
            () = tokio::time::sleep(POLL) => {}
        }
    }
}

async fn dispatch(
    state: &AppState,
    client: &reqwest::Client,
    wake: &Arc<Notify>,
    tasks: &mut HashMap<Uuid, EndpointTask>,
    tenants: &mut HashMap<Uuid, Arc<Semaphore>>,
) -> Result<(), crate::store::StoreError> {
    let config = &state.config.webhooks;
    let now = Utc::now();
    let ready: Vec<Uuid> = store::ready_endpoints(&state.db, now)
        .await?
        .into_iter()
        .map(|e| e.id)
        .filter(|id| {
            !tasks
                .get(id)
                .is_some_and(|t| t.busy.load(Ordering::Acquire))
        })
        .collect();
    if ready.is_empty() {
        return Ok(());
    }
    let claimed = store::claim(
        &state.db,
        &ready,
        now,
        chrono::Duration::seconds(config.lease_secs as i64),
        chrono::Duration::milliseconds(config.timeout_ms as i64),
        PER_ENDPOINT,
    )
    .await?;
    let mut batches: HashMap<Uuid, Vec<Due>> = HashMap::new();
    for d in claimed {
        batches.entry(d.endpoint_id).or_default().push(d);
    }
    for (endpoint, batch) in batches {
        let Some(first) = batch.first() else { continue };
        let tenant = first.tenant_id;
        let limit = tenants
            .entry(tenant)
            .or_insert_with(|| Arc::new(Semaphore::new(config.max_in_flight_per_tenant as usize)))
            .clone();
        let task = tasks.entry(endpoint).or_insert_with(|| {
            spawn(
                state.clone(),
                client.clone(),
                TenantId(tenant),
                endpoint,
                limit,
                wake.clone(),
            )
        });
        task.busy.store(true, Ordering::Release);
        if let Err(e) = task.batches.try_send(batch) {
            // The task just ended: its deliveries go back, for the next round.
            task.busy.store(false, Ordering::Release);
            let batch = match e {
                mpsc::error::TrySendError::Full(b) | mpsc::error::TrySendError::Closed(b) => b,
            };
            release_all(state, &batch).await;
        }
    }
    Ok(())
}

fn spawn(
    state: AppState,
    client: reqwest::Client,
    tenant: TenantId,
    endpoint: Uuid,
    limit: Arc<Semaphore>,
    wake: Arc<Notify>,
) -> EndpointTask {
    let (tx, mut rx) = mpsc::channel::<Vec<Due>>(1);
    let busy = Arc::new(AtomicBool::new(false));
    let flag = busy.clone();
    tokio::spawn(async move {
        while let Ok(Some(batch)) = tokio::time::timeout(IDLE, rx.recv()).await {
            send_batch(&state, &client, tenant, endpoint, &limit, batch).await;
            flag.store(false, Ordering::Release);
            // Its next deliveries may be waiting already.
            wake.notify_one();
        }
    });
    EndpointTask { batches: tx, busy }
}

/// Sends a batch in order; after a delivery that must be retried (or an endpoint that
/// is gone), the rest go back to wait.
async fn send_batch(
    state: &AppState,
    client: &reqwest::Client,
    tenant: TenantId,
    endpoint: Uuid,
    limit: &Semaphore,
    batch: Vec<Due>,
) {
    let ep = match store::get(&state.db, tenant, endpoint).await {
        Ok(e) if e.enabled => e,
        Ok(_) | Err(crate::store::StoreError::NotFound) => {
            release_all(state, &batch).await;
            return;
        }
        Err(e) => {
            tracing::warn!(endpoint = %endpoint, error = %e, "reading a webhook endpoint failed");
            release_all(state, &batch).await;
            return;
        }
    };
    for (i, d) in batch.iter().enumerate() {
        let Ok(_permit) = limit.acquire().await else {
            return;
        };
        let (status, latency_ms, result) = attempt(state, client, &ep, d).await;
        let outcome = decide(&state.config.webhooks, d.attempts + 1, status, result);
        crate::metrics::webhook_delivery(&outcome);
        if let Err(e) = store::finish(&state.db, d, status, latency_ms, &outcome).await {
            // The lease runs out and the delivery is made again: at least once.
            tracing::warn!(endpoint = %endpoint, event = %d.event_id, error = %e, "recording a webhook delivery failed");
        }
        if matches!(outcome, Outcome::Retry { .. } | Outcome::Gone) {
            release_all(state, &batch[i + 1..]).await;
            return;
        }
    }
}

async fn release_all(state: &AppState, batch: &[Due]) {
    for d in batch {
        if let Err(e) = store::release(&state.db, d).await {
            tracing::warn!(event = %d.event_id, error = %e, "releasing a webhook delivery failed");
        }
    }
}

/// Why an attempt did not succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub message: String,
    /// What the endpoint asked for with `Retry-After` (429 and 503 only).
    pub retry_after_secs: Option<u64>,
}

/// One POST of a delivery: the answer's status (if any), the time it took, and
/// whether it succeeded.
async fn attempt(
    state: &AppState,
    client: &reqwest::Client,
    ep: &StoredEndpoint,
    d: &Due,
) -> (Option<u16>, u32, Result<(), Failure>) {
    let fail = |message: String| Failure {
        message,
        retry_after_secs: None,
    };
    if let Err(e) = outbound::check_url(&ep.url, &state.config.outbound) {
        return (None, 0, Err(fail(e.to_string())));
    }
    let now = Utc::now();
    let id = d.event_id.to_string();
    let secrets = ep.signing_secrets(now);
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    let signed = match signature(&secrets, &id, now.timestamp(), d.body.as_bytes()) {
        Ok(s) => s,
        Err(e) => return (None, 0, Err(fail(e.to_string()))),
    };
    let started = Instant::now();
    let sent = client
        .post(&ep.url)
        .header("content-type", "application/json")
        .header(
            "user-agent",
            concat!("kefu-webhooks/", env!("CARGO_PKG_VERSION")),
        )
        .header("webhook-id", &id)
        .header("webhook-timestamp", now.timestamp().to_string())
        .header("webhook-signature", signed)
        .body(d.body.clone())
        .send()
        .await;
    let response = match sent {
        Ok(r) => r,
        Err(e) => {
            let latency = elapsed_ms(started);
            return (
                None,
                latency,
                Err(fail(format!("unreachable: {}", outbound::error_chain(&e)))),
            );
        }
    };
    let status = response.status();
    let retry_after = retry_after(&response);
    // The answer is read (bounded) so that the connection can be reused; its content
    // is not kefu's business.
    let read = outbound::read_limited(response, state.config.outbound.max_response_bytes).await;
    let latency = elapsed_ms(started);
    let code = Some(status.as_u16());
    if status.is_success() {
        return (code, latency, Ok(()));
    }
    let mut failure = fail(format!("the endpoint answered HTTP {status}"));
    if matches!(status.as_u16(), 429 | 503) {
        failure.retry_after_secs = retry_after;
    }
    if let Err(e) = read {
        failure.message.push_str(&format!(" ({e})"));
    }
    (code, latency, Err(failure))
}

fn elapsed_ms(started: Instant) -> u32 {
    started.elapsed().as_millis().min(u128::from(u32::MAX)) as u32
}

/// `Retry-After` in seconds: a number, or an HTTP date.
fn retry_after(response: &reqwest::Response) -> Option<u64> {
    let value = response.headers().get("retry-after")?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(secs);
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    Some((at.with_timezone(&Utc) - Utc::now()).num_seconds().max(0) as u64)
}

/// What follows attempt number `attempt` (1 for the first).
pub fn decide(
    config: &WebhooksConfig,
    attempt: u32,
    status: Option<u16>,
    result: Result<(), Failure>,
) -> Outcome {
    let failure = match result {
        Ok(()) => return Outcome::Delivered,
        Err(_) if status == Some(410) => return Outcome::Gone,
        Err(f) => f,
    };
    let Some(pause) = config
        .retry_delays_secs
        .get(attempt.saturating_sub(1) as usize)
    else {
        return Outcome::Failed {
            error: failure.message,
        };
    };
    let jittered = jitter(*pause);
    let wait = match failure.retry_after_secs {
        Some(asked) => jittered.max(asked.min(86_400)),
        None => jittered,
    };
    Outcome::Retry {
        at: Utc::now() + chrono::Duration::milliseconds(wait as i64 * 1000),
        error: failure.message,
    }
}

/// `secs` ± up to 20%, so that endpoints that failed together are not retried
/// together.
fn jitter(secs: u64) -> u64 {
    let r = u64::from(crate::auth::service::random_u32() % 401); // 0..=400
    (secs * (800 + r)).div_ceil(1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(retry_after: Option<u64>) -> Result<(), Failure> {
        Err(Failure {
            message: "no".into(),
            retry_after_secs: retry_after,
        })
    }

    #[test]
    fn retries_follow_the_pauses_then_give_up() {
        let config = WebhooksConfig {
            retry_delays_secs: vec![10, 100],
            ..WebhooksConfig::default()
        };
        let now = Utc::now();
        let Outcome::Retry { at, .. } = decide(&config, 1, Some(500), failed(None)) else {
            panic!("a first failure is retried");
        };
        let secs = (at - now).num_milliseconds();
        assert!((7_900..=12_100).contains(&secs), "{secs}");
        let Outcome::Retry { at, .. } = decide(&config, 2, None, failed(None)) else {
            panic!("a second failure is retried");
        };
        assert!((at - now).num_seconds() >= 79);
        assert!(matches!(
            decide(&config, 3, Some(500), failed(None)),
            Outcome::Failed { .. }
        ));
        assert!(matches!(
            decide(&config, 1, Some(410), failed(None)),
            Outcome::Gone
        ));
        assert!(matches!(
            decide(&config, 3, Some(200), Ok(())),
            Outcome::Delivered
        ));
        let Outcome::Retry { at, .. } = decide(&config, 1, Some(429), failed(Some(3600))) else {
            panic!("429 is retried");
        };
        assert!((at - now).num_seconds() >= 3599, "Retry-After is honoured");
    }
}
