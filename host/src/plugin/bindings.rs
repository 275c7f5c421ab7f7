//! The one place that runs `bindgen!` for the `kefu:flow` world, and the per-step host
//! state that implements its imports.
//!
//! Each call gets a fresh `Store<StepState>`: its own WASI context (no files, no
//! network, no environment, stopped clocks and a deterministic random source), its
//! own memory limits, deadline and log allowance. Nothing survives the call. The
//! `kefu:flow/host` imports themselves are in `imports.rs`.

use std::sync::Arc;

use chrono::{Datelike, Offset, TimeZone, Timelike, Utc};
use wasmtime::StoreLimits;
use wasmtime::component::{HasData, Linker, ResourceTable};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::HostServices;
use super::imports::{self, QueueMemo, StoppedClock, Timing};
use super::logs::{self, LogBudget, LogRate};

wasmtime::component::bindgen!({
    path: "../wit",
    world: "kefu:flow/flow-module",
    exports: { default: async },
});

pub use self::exports::kefu::flow::module as guest;
pub use self::kefu::flow::types as wit;

/// What a module's stdout/stderr may hold per step (a panic message, say).
pub const STDIO_BYTES: usize = 4096;

/// Where a step runs: the identity the host imports act for.
#[derive(Debug, Clone, Default)]
pub struct StepContext {
    pub tenant_id: String,
    /// The tenant's IANA time zone, for `now`.
    pub time_zone: String,
    pub session_id: String,
    pub node_id: String,
    /// The exits the node may leave by, as `validate-config` answered for its
    /// configuration; `None` means the module's own exits from `describe`.
    pub exits: Option<Arc<[String]>>,
    /// What the session's turn may still log, shared by its steps; `None` outside a
    /// turn (installation, checks, dry runs).
    pub turn_log: Option<Arc<LogBudget>>,
}

/// The data of one call's store.
pub struct StepState {
    /// Built on the module's first WASI call: most steps make none, and a step should
    /// not pay for what it does not use.
    wasi: Option<WasiCtx>,
    table: ResourceTable,
    pub(super) limits: StoreLimits,
    pub(super) services: Arc<dyn HostServices>,
    pub(super) ctx: StepContext,
    pub(super) label: Arc<str>,
    pub(super) step_log: LogBudget,
    pub(super) log_rate: Arc<LogRate>,
    /// Log lines dropped for want of allowance.
    pub(super) logs_dropped: u64,
    pub(super) stderr: MemoryOutputPipe,
    pub(super) timing: Timing,
    pub(super) queues: QueueMemo,
}

impl StepState {
    pub fn new(
        services: Arc<dyn HostServices>,
        ctx: StepContext,
        module: &super::Module,
        limits: StoreLimits,
        deadline: std::time::Duration,
    ) -> Self {
        Self {
            wasi: None,
            table: ResourceTable::new(),
            limits,
            services,
            ctx,
            label: module.label.clone(),
            step_log: LogBudget::new(logs::PER_STEP),
            log_rate: module.log_rate.clone(),
            logs_dropped: 0,
            stderr: MemoryOutputPipe::new(STDIO_BYTES),
            timing: Timing::new(deadline),
            queues: QueueMemo::new(),
        }
    }
}

/// The WASI context of a step: stdout and stderr into a small buffer, no files, no
/// network, no environment, frozen clocks and deterministic randomness.
fn wasi_context(stdio: &MemoryOutputPipe) -> WasiCtx {
    let mut wasi = WasiCtx::builder();
    wasi.stdout(stdio.clone())
        .stderr(stdio.clone())
        .wall_clock(FrozenClock)
        .secure_random(wasmtime_wasi::Deterministic::new(vec![
            0x6b, 0x65, 0x66, 0x75,
        ]))
        .insecure_random(wasmtime_wasi::Deterministic::new(vec![
            0x66, 0x6c, 0x6f, 0x77,
        ]))
        .insecure_random_seed(0);
    wasi.build()
}

impl WasiView for StepState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        let stdio = &self.stderr;
        WasiCtxView {
            ctx: self.wasi.get_or_insert_with(|| wasi_context(stdio)),
            table: &mut self.table,
        }
    }
}

/// WASI's wall clock, stopped at the Unix epoch: a module learns the time only through
/// `host.now`, in the tenant's time zone, and cannot time the host. The monotonic
/// clock is stopped too (`imports::StoppedClock`).
struct FrozenClock;

impl wasmtime_wasi::HostWallClock for FrozenClock {
    fn resolution(&self) -> std::time::Duration {
        std::time::Duration::from_secs(1)
    }

    fn now(&self) -> std::time::Duration {
        std::time::Duration::ZERO
    }
}

/// `now` in an IANA time zone; an unknown zone falls back to UTC.
pub fn local_time(now: chrono::DateTime<Utc>, zone: &str) -> wit::LocalTime {
    let tz: chrono_tz::Tz = zone.parse().unwrap_or(chrono_tz::UTC);
    let local = tz.from_utc_datetime(&now.naive_utc());
    let clamp = |v: u32| u8::try_from(v).unwrap_or(u8::MAX);
    wit::LocalTime {
        unix_ms: now.timestamp_millis(),
        time_zone: tz.name().to_owned(),
        utc_offset_secs: local.offset().fix().local_minus_utc(),
        year: local.year(),
        month: clamp(local.month()),
        day: clamp(local.day()),
        hour: clamp(local.hour()),
        minute: clamp(local.minute()),
        second: clamp(local.second()),
        weekday: clamp(local.weekday().number_from_monday()),
    }
}

/// The WASI interfaces kefu provides, and only those: streams and polling (for
/// stdio), stdio itself (into a small buffer), an empty environment, exit, stopped
/// clocks (nothing can sleep), deterministic randomness, and a file system with
/// nothing in it — what a Rust `std` guest links against. No sockets: a module that imports them is refused
/// at installation.
pub fn linker(engine: &wasmtime::Engine) -> wasmtime::Result<Linker<StepState>> {
    use wasmtime_wasi::p2::bindings::{cli, clocks, filesystem, random};

    let mut linker = Linker::<StepState>::new(engine);
    let l = &mut linker;
    wasmtime_wasi_io::bindings::wasi::io::error::add_to_linker::<StepState, Io>(l, |s| {
        &mut s.table
    })?;
    wasmtime_wasi_io::bindings::wasi::io::poll::add_to_linker::<StepState, Io>(l, |s| {
        &mut s.table
    })?;
    wasmtime_wasi_io::bindings::wasi::io::streams::add_to_linker::<StepState, Io>(l, |s| {
        &mut s.table
    })?;
    clocks::wall_clock::add_to_linker::<StepState, wasmtime_wasi::clocks::WasiClocks>(
        l,
        wasmtime_wasi::clocks::WasiClocksView::clocks,
    )?;
    clocks::monotonic_clock::add_to_linker::<StepState, Clock>(l, |s| StoppedClock(&mut s.table))?;
    random::random::add_to_linker::<StepState, wasmtime_wasi::random::WasiRandom>(l, |s| {
        WasiView::ctx(s).ctx.random()
    })?;
    random::insecure::add_to_linker::<StepState, wasmtime_wasi::random::WasiRandom>(l, |s| {
        WasiView::ctx(s).ctx.random()
    })?;
    random::insecure_seed::add_to_linker::<StepState, wasmtime_wasi::random::WasiRandom>(l, |s| {
        WasiView::ctx(s).ctx.random()
    })?;
    macro_rules! cli {
        ($($iface:ident),*) => {$(
            cli::$iface::add_to_linker::<StepState, wasmtime_wasi::cli::WasiCli>(l, |s| {
                wasmtime_wasi::cli::WasiCliView::cli(s)
            })?;
        )*};
    }
    cli!(
        exit,
        environment,
        stdin,
        stdout,
        stderr,
        terminal_input,
        terminal_output,
        terminal_stdin,
        terminal_stdout,
        terminal_stderr
    );
    filesystem::types::add_to_linker::<StepState, wasmtime_wasi::filesystem::WasiFilesystem>(
        l,
        wasmtime_wasi::filesystem::WasiFilesystemView::filesystem,
    )?;
    filesystem::preopens::add_to_linker::<StepState, wasmtime_wasi::filesystem::WasiFilesystem>(
        l,
        wasmtime_wasi::filesystem::WasiFilesystemView::filesystem,
    )?;
    imports::add_to_linker(l)?;
    Ok(linker)
}

struct Io;

struct Clock;

impl HasData for Clock {
    type Data<'a> = StoppedClock<'a>;
}

impl HasData for Io {
    type Data<'a> = &'a mut ResourceTable;
}
