//! Egress to Tencent IM: the outbox worker.
//!
//! A turn that answers an IM user writes its replies to the `im_outbox` table in the
//! same transaction as the session's new state. This worker claims due rows (a lease,
//! so that two nodes never send one row at once and a crashed sender's rows come
//! back), sends each to the channel's IM at `{im_base_url}/v4/openim/sendmsg` as the
//! administrator — `From_Account` the virtual account, a fresh UserSig, and the row's
//! own `MsgRandom` on every attempt, so that IM deduplicates a resend — and records
//! the outcome. Failures are retried with exponential backoff (1 s, 2 s, 4 s … up to
//! `im.egress_max_backoff_secs`) until `im.egress_max_attempts`, then given up and
//! logged. Delivery is therefore at least once, and in order per user: a reply waits
//! while an older one to the same user is still pending.
//!
//! Each tenant's replies go out from a task of their own, so a tenant whose IM is
//! slow or down delays only itself. The base URL is the tenant's choice, so requests
//! go through `outbound` (public addresses only, no redirects, bounded answers).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::{Semaphore, mpsc};
use uuid::Uuid;

use super::usersig;
use super::wire::{self, SendMsgRequest, SendMsgResponse};
use crate::directory::Channel;
use crate::outbound;
use crate::state::AppState;
use crate::store::outbox::{self as store, Delivery, DeliveryOutcome};
use crate::store::{TenantId, channels};

/// Rows claimed at once.
const BATCH: u64 = 50;
/// How often the outbox is looked at when nothing signals it.
const IDLE_POLL: Duration = Duration::from_secs(1);
/// Replies one tenant's task holds waiting to be sent; more are left for later.
const TENANT_QUEUE: usize = 200;
/// Calls to IM in flight at once, over all tenants.
const MAX_IN_FLIGHT: usize = 64;
/// A tenant's task ends after this long without work.
const TENANT_IDLE: Duration = Duration::from_secs(30);

/// Sends due replies until the task is dropped.
pub async fn run(state: AppState) {
    let client = match outbound::client(
        &state.config.outbound,
        Duration::from_millis(state.config.im.egress_timeout_ms),
    ) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "cannot build the HTTP client for IM egress");
            return;
        }
    };
    let in_flight = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    let signal = state.sessions.outbox_signal();
    let mut tenants: HashMap<Uuid, mpsc::Sender<Delivery>> = HashMap::new();
    loop {
        loop {
            let batch = match store::claim_deliveries(
                &state.db,
                Utc::now(),
                chrono::Duration::seconds(state.config.im.egress_lease_secs as i64),
                BATCH,
            )
            .await
            {
                Ok(b) => b,
                Err(e) => {
                    tracing::warn!(error = %e, "reading the IM outbox failed");
                    break;
                }
            };
            if batch.is_empty() {
                break;
            }
            tenants.retain(|_, tx| !tx.is_closed());
            for delivery in batch {
                let tx = tenants.entry(delivery.tenant_id).or_insert_with(|| {
                    spawn_tenant(state.clone(), client.clone(), in_flight.clone())
                });
                if let Err(e) = tx.try_send(delivery) {
                    // That tenant has more than it can send now: the row waits.
                    let delivery = match e {
                        mpsc::error::TrySendError::Full(d)
                        | mpsc::error::TrySendError::Closed(d) => d,
                    };
                    if let Err(e) = store::release_delivery(&state.db, delivery.id).await {
                        tracing::warn!(delivery = %delivery.id, error = %e, "releasing a delivery failed");
                    }
                }
            }
        }
        tokio::select! {
            () = signal.notified() => {}
            () = tokio::time::sleep(IDLE_POLL) => {}
        }
    }
}

/// A task sending one tenant's replies one after the other, in the order claimed.
fn spawn_tenant(
    state: AppState,
    client: reqwest::Client,
    in_flight: Arc<Semaphore>,
) -> mpsc::Sender<Delivery> {
    let (tx, mut rx) = mpsc::channel::<Delivery>(TENANT_QUEUE);
    tokio::spawn(async move {
        // In order per user: once one reply to a user fails, that user's later replies
        // already handed over wait for it.
        let mut blocked: Vec<(Uuid, String)> = Vec::new();
        let mut sender = Sender::default();
        while let Ok(Some(delivery)) = tokio::time::timeout(TENANT_IDLE, rx.recv()).await {
            let recipient = (delivery.channel_id, delivery.to_account.clone());
            if blocked.contains(&recipient) {
                if let Err(e) = store::release_delivery(&state.db, delivery.id).await {
                    tracing::warn!(delivery = %delivery.id, error = %e, "releasing a delivery failed");
                }
            } else {
                let Ok(_permit) = in_flight.acquire().await else {
                    return;
                };
                if !sender.deliver(&state, &client, delivery).await {
                    blocked.push(recipient);
                }
            }
            // What was handed over together has been dealt with; the outbox itself
            // holds a user's later replies back until the failed one is sent.
            if rx.is_empty() {
                blocked.clear();
                sender.record_sent(&state).await;
            } else if sender.sent.len() >= BATCH as usize {
                sender.record_sent(&state).await;
            }
        }
        sender.record_sent(&state).await;
    });
    tx
}

/// What one tenant's task keeps between deliveries.
#[derive(Default)]
struct Sender {
    /// Channels as read, with the administrator's UserSig made for them: each used
    /// for a second at most, like every copy of a channel, and dropped when a channel
    /// is changed on this node.
    channels: HashMap<Uuid, (std::time::Instant, Arc<Channel>, String)>,
    /// The node's count of channel changes when they were read.
    generation: u64,
    /// Deliveries sent and not yet recorded: recorded together, once the task has
    /// nothing more at hand or a batch is full. Until then each row's lease keeps it
    /// from being sent again, and the user's later replies wait behind it.
    sent: Vec<Uuid>,
}

impl Sender {
    /// The channel of a delivery and a UserSig for its administrator.
    async fn channel(
        &mut self,
        state: &AppState,
        delivery: &Delivery,
    ) -> Result<(Arc<Channel>, String), crate::store::StoreError> {
        let generation = state
            .channels_generation
            .load(std::sync::atomic::Ordering::Relaxed);
        if generation != self.generation {
            self.channels.clear();
            self.generation = generation;
        }
        if let Some((at, channel, sig)) = self.channels.get(&delivery.channel_id)
            && at.elapsed() < crate::cache::FRESH
        {
            return Ok((channel.clone(), sig.clone()));
        }
        let channel = Arc::new(
            channels::get(&state.db, TenantId(delivery.tenant_id), delivery.channel_id).await?,
        );
        let sig = usersig::generate(
            channel.sdkappid,
            &channel.secret_key,
            &channel.admin_identifier,
            state.config.im.usersig_ttl_secs,
            Utc::now().timestamp().max(0) as u64,
        );
        self.channels.insert(
            delivery.channel_id,
            (std::time::Instant::now(), channel.clone(), sig.clone()),
        );
        Ok((channel, sig))
    }

    /// Makes one attempt at a delivery and records its outcome; `true` when it was
    /// sent (or given up for good).
    async fn deliver(
        &mut self,
        state: &AppState,
        client: &reqwest::Client,
        delivery: Delivery,
    ) -> bool {
        let (channel, sig) = match self.channel(state, &delivery).await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(delivery = %delivery.id, error = %e, "the channel of a reply is gone");
                finish(
                    state,
                    &delivery,
                    DeliveryOutcome::GiveUp {
                        error: "channel not found",
                    },
                )
                .await;
                return true;
            }
        };
        match attempt(state, client, &channel, &sig, &delivery).await {
            Ok(()) => {
                tracing::debug!(delivery = %delivery.id, to = %delivery.to_account, "reply delivered to IM");
                crate::metrics::im_egress("sent");
                self.sent.push(delivery.id);
                true
            }
            Err(error) => {
                let attempts = delivery.attempts + 1;
                if attempts >= state.config.im.egress_max_attempts {
                    tracing::error!(
                        delivery = %delivery.id, to = %delivery.to_account, attempts, error = %error,
                        "giving up delivering a reply to IM"
                    );
                    finish(state, &delivery, DeliveryOutcome::GiveUp { error: &error }).await;
                    true
                } else {
                    let backoff = backoff_secs(attempts, state.config.im.egress_max_backoff_secs);
                    tracing::warn!(
                        delivery = %delivery.id, attempts, retry_in_secs = backoff, error = %error,
                        "delivering a reply to IM failed; will retry"
                    );
                    let at = Utc::now() + chrono::Duration::seconds(backoff as i64);
                    finish(
                        state,
                        &delivery,
                        DeliveryOutcome::Retry { at, error: &error },
                    )
                    .await;
                    false
                }
            }
        }
    }

    /// Records the deliveries sent since the last time.
    async fn record_sent(&mut self, state: &AppState) {
        if self.sent.is_empty() {
            return;
        }
        if let Err(e) = store::finish_sent(&state.db, &self.sent).await {
            // Their leases run out and they are sent again: at least once, and IM
            // drops the copies by their `MsgRandom`.
            tracing::warn!(error = %e, count = self.sent.len(), "recording sent deliveries failed");
        }
        self.sent.clear();
    }
}

async fn finish(state: &AppState, delivery: &Delivery, outcome: DeliveryOutcome<'_>) {
    crate::metrics::im_egress(match outcome {
        DeliveryOutcome::Retry { .. } => "retry",
        DeliveryOutcome::GiveUp { .. } => "failed",
    });
    if let Err(e) = store::finish_delivery(&state.db, delivery.id, outcome).await {
        // The lease runs out and the row is tried again: at least once.
        tracing::warn!(delivery = %delivery.id, error = %e, "recording a delivery failed");
    }
}

/// The pause before attempt `attempts + 1`: 1 s, 2 s, 4 s … at most `max`.
pub fn backoff_secs(attempts: u32, max: u64) -> u64 {
    1u64.checked_shl(attempts.saturating_sub(1))
        .unwrap_or(u64::MAX)
        .min(max.max(1))
}

/// The `sendmsg` request for a delivery.
pub fn request(channel: &Channel, delivery: &Delivery) -> SendMsgRequest {
    let body = delivery
        .elements
        .iter()
        .filter_map(|e| e.to_outgoing())
        .flat_map(|o| wire::outgoing_to_msg_body(&o))
        .collect();
    let mut request = SendMsgRequest::new(delivery.to_account.clone(), delivery.msg_random, body);
    request.from_account = Some(channel.account.clone());
    request.sync_other_machine = Some(1);
    request
}

async fn attempt(
    state: &AppState,
    client: &reqwest::Client,
    channel: &Channel,
    sig: &str,
    delivery: &Delivery,
) -> Result<(), String> {
    let Some(base) = &channel.im_base_url else {
        return Err("the channel has no IM base URL".into());
    };
    outbound::check_url(base, &state.config.outbound).map_err(|e| e.to_string())?;
    let url = format!(
        "{}{}?{}",
        base.trim_end_matches('/'),
        wire::SENDMSG_PATH,
        wire::sendmsg_query_string(
            channel.sdkappid,
            &channel.admin_identifier,
            sig,
            crate::auth::service::random_u32()
        )
    );
    let response = client
        .post(&url)
        .json(&request(channel, delivery))
        .send()
        .await
        .map_err(|e| format!("IM unreachable: {}", outbound::error_chain(&e)))?;
    let status = response.status();
    if !status.is_success() {
        return Err(format!("IM answered HTTP {status}"));
    }
    let body = outbound::read_limited(response, state.config.outbound.max_response_bytes)
        .await
        .map_err(|e| format!("IM's answer is unreadable: {e}"))?;
    let answer: SendMsgResponse =
        serde_json::from_slice(&body).map_err(|e| format!("IM's answer is unreadable: {e}"))?;
    match answer.error() {
        None => Ok(()),
        Some(e) => Err(format!("IM refused the message: {} {}", e.code, e.info)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_ceiling() {
        let waits: Vec<u64> = (1..=10).map(|a| backoff_secs(a, 60)).collect();
        assert_eq!(waits, vec![1, 2, 4, 8, 16, 32, 60, 60, 60, 60]);
        assert_eq!(backoff_secs(200, 300), 300);
    }
}
