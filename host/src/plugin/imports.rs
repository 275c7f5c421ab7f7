//! The `kefu:flow/host` imports, and a WASI clock that never sleeps.
//!
//! What a module buys from the host must cost it what it costs kefu: every import
//! charges fuel (a fixed price per call, plus one unit per byte it hands over) and
//! fails the call once its deadline has passed, so a loop of cheap-looking host calls
//! runs out like any other loop. The imports are defined by hand rather than through
//! `bindgen!`'s host trait so that they can see the store: its fuel, and a log
//! message in the module's own memory, which is read up to the length kept instead
//! of being copied whole.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use wasmtime::component::{Linker, Resource, ResourceTable, WasmStr};
use wasmtime::{StoreContextMut, Trap};
use wasmtime_wasi::p2::DynPollable;
use wasmtime_wasi::p2::bindings::clocks::monotonic_clock;

use super::bindings::{StepState, local_time, wit};
use super::logs::LINE_BYTES;

/// Fuel one `log` call costs before its bytes (formatting and writing a line).
const LOG_FUEL: u64 = 20_000;
/// Fuel one `now` call costs.
const NOW_FUEL: u64 = 2_000;
/// Fuel one `skill-group-queue` call costs (it may read the database).
const QUEUE_FUEL: u64 = 200_000;
/// Distinct skill groups one call may ask about; a module needs one or two.
pub const QUEUE_LOOKUPS: usize = 8;
/// Longest skill group id worth looking up (a UUID is 36 bytes).
const GROUP_ID_BYTES: usize = 64;

/// Wall-clock accounting of one call into a module.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    pub started: Instant,
    pub deadline: Duration,
    /// Time spent waiting on kefu (a queue lookup). Given back up to one deadline,
    /// so that a busy database does not fail a well-behaved module, but never more.
    pub host_wait: Duration,
    /// Time the module spent yielded, waiting for a thread while other work ran: on a
    /// busy server a step must not fail for time it was not running.
    parked: Duration,
    yielded_at: Option<Instant>,
}

/// The resolution of deadlines (the engine's epoch tick).
pub const TICK: Duration = Duration::from_millis(2);

impl Timing {
    pub fn new(deadline: Duration) -> Self {
        Self {
            started: Instant::now(),
            deadline,
            host_wait: Duration::ZERO,
            parked: Duration::ZERO,
            yielded_at: None,
        }
    }

    /// The module yields its thread now.
    pub fn yielded(&mut self) {
        self.yielded_at = Some(Instant::now());
    }

    /// The module runs again (seen at its next tick or host call): the time since it
    /// yielded, less the tick it may have run since, was spent waiting.
    pub fn running(&mut self) {
        if let Some(at) = self.yielded_at.take() {
            self.parked += at.elapsed().saturating_sub(TICK);
        }
    }

    /// The module's own time so far.
    pub fn own(&self) -> Duration {
        self.started
            .elapsed()
            .saturating_sub(self.host_wait.min(self.deadline))
            .saturating_sub(self.parked)
    }

    pub fn left(&self) -> Duration {
        self.deadline.saturating_sub(self.own())
    }

    /// How long the call may take in all, whatever the module does and however busy
    /// the server is: three deadlines (its own time, host waiting given back, waiting
    /// for a thread) and a little for the host's own work.
    pub fn hard_limit(deadline: Duration) -> Duration {
        deadline * 3 + Duration::from_millis(200)
    }
}

/// Takes `fuel` from the store, and fails the call when it has none left or its
/// deadline has passed.
fn charge(store: &mut StoreContextMut<'_, StepState>, fuel: u64) -> wasmtime::Result<()> {
    let left = store.get_fuel()?;
    if left < fuel {
        store.set_fuel(0)?;
        return Err(Trap::OutOfFuel.into());
    }
    store.set_fuel(left - fuel)?;
    store.data_mut().timing.running();
    if store.data().timing.left().is_zero() {
        return Err(Trap::Interrupt.into());
    }
    Ok(())
}

/// Adds `kefu:flow/types` and `kefu:flow/host` to the linker.
pub fn add_to_linker(linker: &mut Linker<StepState>) -> wasmtime::Result<()> {
    linker.instance("kefu:flow/types@0.1.0")?;
    let mut host = linker.instance("kefu:flow/host@0.1.0")?;
    host.func_wrap(
        "log",
        |mut store: StoreContextMut<'_, StepState>, (level, message): (wit::LogLevel, WasmStr)| {
            log(&mut store, level, &message)
        },
    )?;
    host.func_wrap("now", |mut store: StoreContextMut<'_, StepState>, ()| {
        charge(&mut store, NOW_FUEL)?;
        let state = store.data();
        Ok((local_time(state.services.now(), &state.ctx.time_zone),))
    })?;
    host.func_wrap_async(
        "skill-group-queue",
        |mut store: StoreContextMut<'_, StepState>, (id,): (WasmStr,)| {
            Box::new(async move { skill_group_queue(&mut store, &id).await.map(|q| (q,)) })
        },
    )?;
    Ok(())
}

fn log(
    store: &mut StoreContextMut<'_, StepState>,
    level: wit::LogLevel,
    message: &WasmStr,
) -> wasmtime::Result<()> {
    let (len, kept) = {
        let text = message.to_str(&*store)?;
        let mut cut = text.len().min(LINE_BYTES);
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        (text.len() as u64, text[..cut].to_owned())
    };
    charge(store, LOG_FUEL + len)?;
    let state = store.data_mut();
    let bytes = kept.len() as u64;
    if !(state.step_log.take(bytes)
        && state.ctx.turn_log.as_ref().is_none_or(|t| t.take(bytes))
        && state.log_rate.take(bytes))
    {
        state.logs_dropped += 1;
        return Ok(());
    }
    let (module, session, node) = (&*state.label, &state.ctx.session_id, &state.ctx.node_id);
    match level {
        wit::LogLevel::Trace => {
            tracing::trace!(target: "kefu::module", module, session, node, "{kept}")
        }
        wit::LogLevel::Debug => {
            tracing::debug!(target: "kefu::module", module, session, node, "{kept}")
        }
        wit::LogLevel::Info => {
            tracing::info!(target: "kefu::module", module, session, node, "{kept}")
        }
        wit::LogLevel::Warn => {
            tracing::warn!(target: "kefu::module", module, session, node, "{kept}")
        }
        wit::LogLevel::Error => {
            tracing::error!(target: "kefu::module", module, session, node, "{kept}")
        }
    }
    Ok(())
}

/// Answers from what this call already asked, then from kefu, within the call's
/// deadline: the wait counts (up to the grace) and a lookup that outlasts the time
/// left ends the call. More than [`QUEUE_LOOKUPS`] groups in one call is a trap.
async fn skill_group_queue(
    store: &mut StoreContextMut<'_, StepState>,
    id: &WasmStr,
) -> wasmtime::Result<Option<wit::QueueStatus>> {
    charge(store, QUEUE_FUEL)?;
    let id = {
        let id = id.to_str(&*store)?;
        if id.len() > GROUP_ID_BYTES {
            return Ok(None);
        }
        id.into_owned()
    };
    let state = store.data_mut();
    if let Some(known) = state.queues.get(&id) {
        return Ok(*known);
    }
    if state.queues.len() >= QUEUE_LOOKUPS {
        return Err(wasmtime::Error::msg(format!(
            "asked for more than {QUEUE_LOOKUPS} skill groups' queues in one call"
        )));
    }
    let services = state.services.clone();
    let tenant = state.ctx.tenant_id.clone();
    let left = state.timing.left() + state.timing.deadline.saturating_sub(state.timing.host_wait);
    let asked = Instant::now();
    let status = tokio::time::timeout(left, services.queue_status(&tenant, &id)).await;
    let state = store.data_mut();
    state.timing.host_wait += asked.elapsed();
    let Ok(status) = status else {
        return Err(Trap::Interrupt.into());
    };
    let status = status.map(|s| wit::QueueStatus {
        agents_online: s.agents_online,
        agents_free: s.agents_free,
        sessions_waiting: s.sessions_waiting,
        estimated_wait_secs: s.estimated_wait_secs,
    });
    state.queues.insert(id, status);
    Ok(status)
}

/// Queue answers of one call, by group id.
pub type QueueMemo = HashMap<String, Option<wit::QueueStatus>>;

/// `wasi:clocks/monotonic-clock` on a stopped clock. Time does not pass for a
/// module, so a subscription to a later instant is ready at once: `sleep` returns
/// immediately instead of holding an instance (and its user's turn) in the host,
/// and a loop waiting for time to pass spins until its fuel or deadline runs out.
pub struct StoppedClock<'a>(pub &'a mut ResourceTable);

impl monotonic_clock::Host for StoppedClock<'_> {
    fn now(&mut self) -> wasmtime::Result<monotonic_clock::Instant> {
        Ok(0)
    }

    fn resolution(&mut self) -> wasmtime::Result<monotonic_clock::Duration> {
        Ok(1_000_000_000)
    }

    fn subscribe_instant(
        &mut self,
        _when: monotonic_clock::Instant,
    ) -> wasmtime::Result<Resource<DynPollable>> {
        ready(self.0)
    }

    fn subscribe_duration(
        &mut self,
        _duration: monotonic_clock::Duration,
    ) -> wasmtime::Result<Resource<DynPollable>> {
        ready(self.0)
    }
}

/// A pollable that is always ready.
struct Ready;

#[async_trait::async_trait]
impl wasmtime_wasi_io::poll::Pollable for Ready {
    async fn ready(&mut self) {}
}

fn ready(table: &mut ResourceTable) -> wasmtime::Result<Resource<DynPollable>> {
    let ready = table.push(Ready)?;
    wasmtime_wasi_io::poll::subscribe(table, ready)
}
