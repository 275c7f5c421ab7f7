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
//! slow or down delays only itself; the task sends to several users at once, each
//! user's replies one after the other. The base URL is the tenant's choice, so requests
//! go through `outbound` (public addresses only, no redirects, bounded answers).

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use futures_util::stream::FuturesUnordered;
use tokio::sync::{Notify, Semaphore, mpsc};
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
/// How long the worker lets replies gather once told of one, before it claims: the
/// turns committed meanwhile go out in the same claim, instead of a claim (a write)
/// and a sent mark each. A reply leaves at most this much later.
const GATHER: Duration = Duration::from_millis(5);
/// Replies one tenant's task holds waiting to be sent; more are left for later.
const TENANT_QUEUE: usize = 200;
/// Calls to IM in flight at once, over all tenants.
const MAX_IN_FLIGHT: usize = 64;
/// Calls to IM in flight at once for one tenant (to as many users): a tenant whose IM
/// is slow holds a quarter of the node's at most.
const TENANT_SENDS: usize = 16;
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
    // Told by a tenant's task that it took all it was handed.
    let room = Arc::new(Notify::new());
    let mut tenants: HashMap<Uuid, mpsc::Sender<Delivery>> = HashMap::new();
    loop {
        // A tenant had more than it could take: what it could not was given back,
        // and claiming waits until it has room rather than claiming the same rows
        // again at every new reply.
        let mut full = false;
        while !full {
            let claimed = match store::claim_deliveries(
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
            if claimed.deliveries.is_empty() {
                break;
            }
            tenants.retain(|_, tx| !tx.is_closed());
            for delivery in claimed.deliveries {
                let tx = tenants.entry(delivery.tenant_id).or_insert_with(|| {
                    spawn_tenant(
                        state.clone(),
                        client.clone(),
                        in_flight.clone(),
                        room.clone(),
                    )
                });
                if let Err(e) = tx.try_send(delivery) {
                    // That tenant has more than it can send now: the row waits.
                    let delivery = match e {
                        mpsc::error::TrySendError::Full(d)
                        | mpsc::error::TrySendError::Closed(d) => d,
                    };
                    release(&state, &delivery).await;
                    full = true;
                }
            }
            // The claim read every row due then: those committed since told the
            // signal, and are claimed together after a while (see `GATHER`).
            if !claimed.more {
                break;
            }
        }
        if full {
            tokio::select! {
                () = room.notified() => {}
                () = tokio::time::sleep(IDLE_POLL) => {}
            }
        } else {
            tokio::select! {
                () = signal.notified() => tokio::time::sleep(GATHER).await,
                () = tokio::time::sleep(IDLE_POLL) => {}
            }
        }
    }
}

/// Starts the task that sends one tenant's replies (see [`Tenant`]).
fn spawn_tenant(
    state: AppState,
    client: reqwest::Client,
    in_flight: Arc<Semaphore>,
    room: Arc<Notify>,
) -> mpsc::Sender<Delivery> {
    let (tx, rx) = mpsc::channel::<Delivery>(TENANT_QUEUE);
    let tenant = Tenant {
        state,
        client,
        in_flight,
        room,
        sender: Sender::default(),
        busy: HashMap::new(),
        waiting: 0,
        blocked: HashSet::new(),
        sending: FuturesUnordered::new(),
    };
    tokio::spawn(tenant.run(rx));
    tx
}

/// A user of a channel, as replies are addressed.
type Recipient = (Uuid, String);

/// The user `delivery` goes to.
fn recipient(delivery: &Delivery) -> Recipient {
    (delivery.channel_id, delivery.to_account.clone())
}

/// An attempt on its way, and what it gave.
type Attempt = BoxFuture<'static, (Delivery, Result<(), String>)>;

/// One tenant's replies as they go out: up to [`TENANT_SENDS`] at once, to different
/// users, and each user's one after the other in the order claimed. A call to IM
/// takes tens of milliseconds, so one at a time would hold a busy tenant to a few
/// dozen replies a second.
struct Tenant {
    state: AppState,
    client: reqwest::Client,
    in_flight: Arc<Semaphore>,
    /// Told when the task took all it was handed.
    room: Arc<Notify>,
    sender: Sender,
    /// Users with a reply on its way, and their later replies handed over meanwhile.
    busy: HashMap<Recipient, VecDeque<Delivery>>,
    /// How many replies `busy` holds.
    waiting: usize,
    /// Users whose reply failed since the task last had nothing at hand: their later
    /// replies handed over meanwhile go back to the outbox, which holds them until the
    /// failed one is sent.
    blocked: HashSet<Recipient>,
    sending: FuturesUnordered<Attempt>,
}

impl Tenant {
    async fn run(mut self, mut handed: mpsc::Receiver<Delivery>) {
        let mut open = true;
        loop {
            if self.sending.is_empty() {
                if !open {
                    break;
                }
                match tokio::time::timeout(TENANT_IDLE, handed.recv()).await {
                    Ok(Some(delivery)) => self.take(delivery).await,
                    // Idle for long, or the worker is gone.
                    _ => break,
                }
            } else {
                let room = self.sending.len() < TENANT_SENDS && self.waiting < TENANT_QUEUE;
                tokio::select! {
                    Some((delivery, result)) = self.sending.next() => {
                        self.done(delivery, result).await;
                    }
                    got = handed.recv(), if open && room => match got {
                        Some(delivery) => self.take(delivery).await,
                        None => open = false,
                    },
                }
            }
            // Told at every pass with nothing handed over, not only when the queue
            // empties: a `Notify` keeps one permit, and a worker that took a stale one
            // claims again at once and must hear of room as soon as there is some. Told
            // once only, the outbox fell tens of seconds behind in the ingress
            // benchmark, its rows claimed and given back over and over.
            if handed.is_empty() {
                self.room.notify_one();
            }
            // What was handed over has been dealt with; the outbox itself holds a
            // user's later replies back until the failed one is sent.
            if self.sending.is_empty() && handed.is_empty() {
                self.blocked.clear();
                self.sender.record_sent(&self.state).await;
            } else if self.sender.sent.len() >= BATCH as usize {
                self.sender.record_sent(&self.state).await;
            }
        }
        self.sender.record_sent(&self.state).await;
    }

    /// A reply handed over by the worker: sent now, or after the user's earlier one.
    async fn take(&mut self, delivery: Delivery) {
        let recipient = recipient(&delivery);
        if self.blocked.contains(&recipient) {
            release(&self.state, &delivery).await;
        } else if let Some(queue) = self.busy.get_mut(&recipient) {
            queue.push_back(delivery);
            self.waiting += 1;
        } else {
            self.busy.insert(recipient, VecDeque::new());
            self.start(delivery).await;
        }
    }

    /// Starts an attempt at `delivery`, whose user is busy with it; when its channel
    /// is gone, gives it up and goes on with the user's next.
    async fn start(&mut self, mut delivery: Delivery) {
        loop {
            match self.sender.channel(&self.state, &delivery).await {
                Ok((channel, sig)) => {
                    let (state, client) = (self.state.clone(), self.client.clone());
                    let in_flight = self.in_flight.clone();
                    self.sending.push(Box::pin(async move {
                        let result = match in_flight.acquire_owned().await {
                            Ok(_permit) => {
                                attempt(&state, &client, &channel, &sig, &delivery).await
                            }
                            Err(_) => Err("the sender is shutting down".into()),
                        };
                        (delivery, result)
                    }));
                    return;
                }
                Err(e) => {
                    tracing::warn!(delivery = %delivery.id, error = %e, "the channel of a reply is gone");
                    let outcome = DeliveryOutcome::GiveUp {
                        error: "channel not found",
                    };
                    finish(&self.state, &delivery, outcome).await;
                    match self.next_of(&delivery) {
                        Some(next) => delivery = next,
                        None => return,
                    }
                }
            }
        }
    }

    /// The user's next reply waiting behind `delivery`; none frees the user.
    fn next_of(&mut self, delivery: &Delivery) -> Option<Delivery> {
        let recipient = recipient(delivery);
        let next = self.busy.get_mut(&recipient).and_then(VecDeque::pop_front);
        match &next {
            Some(_) => self.waiting -= 1,
            None => {
                self.busy.remove(&recipient);
            }
        }
        next
    }

    /// Records what an attempt gave, and goes on with the user's next reply or, when
    /// it will be retried, gives the user's later ones back to the outbox.
    async fn done(&mut self, delivery: Delivery, result: Result<(), String>) {
        let over = match result {
            Ok(()) => {
                tracing::debug!(delivery = %delivery.id, to = %delivery.to_account, "reply delivered to IM");
                crate::metrics::im_egress("sent");
                self.sender.sent.push(delivery.id);
                true
            }
            Err(error) => {
                let attempts = delivery.attempts + 1;
                if attempts >= self.state.config.im.egress_max_attempts {
                    tracing::error!(
                        delivery = %delivery.id, to = %delivery.to_account, attempts, error = %error,
                        "giving up delivering a reply to IM"
                    );
                    finish(
                        &self.state,
                        &delivery,
                        DeliveryOutcome::GiveUp { error: &error },
                    )
                    .await;
                    true
                } else {
                    let backoff =
                        backoff_secs(attempts, self.state.config.im.egress_max_backoff_secs);
                    tracing::warn!(
                        delivery = %delivery.id, attempts, retry_in_secs = backoff, error = %error,
                        "delivering a reply to IM failed; will retry"
                    );
                    let at = Utc::now() + chrono::Duration::seconds(backoff as i64);
                    let outcome = DeliveryOutcome::Retry { at, error: &error };
                    finish(&self.state, &delivery, outcome).await;
                    false
                }
            }
        };
        if over {
            if let Some(next) = self.next_of(&delivery) {
                self.start(next).await;
            }
            return;
        }
        let recipient = recipient(&delivery);
        let later = self.busy.remove(&recipient).unwrap_or_default();
        self.waiting -= later.len();
        for d in &later {
            release(&self.state, d).await;
        }
        self.blocked.insert(recipient);
    }
}

/// Gives a reply handed over back to the outbox, due again at once.
async fn release(state: &AppState, delivery: &Delivery) {
    if let Err(e) = store::release_delivery(&state.db, delivery.id).await {
        tracing::warn!(delivery = %delivery.id, error = %e, "releasing a delivery failed");
    }
}

/// What a tenant's task keeps between deliveries.
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
