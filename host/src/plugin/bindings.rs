//! The one place that runs `bindgen!` for the `kefu:flow` world, and the per-step host
//! state that implements its imports.
//!
//! Each step gets a fresh `Store<StepState>`: its own WASI context (no files, no
//! network, no environment, a frozen clock and a deterministic random source), its
//! own memory limits and its own log budget. Nothing survives the step.

use std::sync::Arc;

use chrono::{Datelike, Offset, TimeZone, Timelike, Utc};
use wasmtime::StoreLimits;
use wasmtime::component::{HasData, Linker, ResourceTable};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::HostServices;

wasmtime::component::bindgen!({
    path: "../wit",
    world: "kefu:flow/flow-module",
    imports: {
        "kefu:flow/host.skill-group-queue": async,
        default: tracing,
    },
    exports: { default: async },
});

pub use self::exports::kefu::flow::module as guest;
pub use self::kefu::flow::types as wit;

/// Log lines a module may write per step; more are dropped (and counted).
const LOG_LINES_PER_STEP: u32 = 50;
/// Longest log line kept.
const LOG_LINE_BYTES: usize = 2048;
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
}

/// The data of one step's store.
pub struct StepState {
    /// Built on the module's first WASI call: most steps make none, and a step should
    /// not pay for what it does not use.
    wasi: Option<WasiCtx>,
    table: ResourceTable,
    pub(super) limits: StoreLimits,
    services: Arc<dyn HostServices>,
    ctx: StepContext,
    module: Arc<str>,
    log_lines: u32,
    pub(super) stderr: MemoryOutputPipe,
    /// When the step started, and how long it has waited on kefu in host calls: the
    /// deadline counts the module's own time, not time kefu takes to answer it (a
    /// busy database must not fail a well-behaved module).
    pub(super) started: std::time::Instant,
    pub(super) host_wait: std::time::Duration,
}

impl StepState {
    pub fn new(
        services: Arc<dyn HostServices>,
        ctx: StepContext,
        module: Arc<str>,
        limits: StoreLimits,
    ) -> Self {
        Self {
            wasi: None,
            table: ResourceTable::new(),
            limits,
            services,
            ctx,
            module,
            log_lines: 0,
            stderr: MemoryOutputPipe::new(STDIO_BYTES),
            started: std::time::Instant::now(),
            host_wait: std::time::Duration::ZERO,
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
        .monotonic_clock(FrozenClock)
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

/// WASI's clocks, stopped at the Unix epoch: a module learns the time only through
/// `host.now`, in the tenant's time zone, and cannot time the host.
struct FrozenClock;

impl wasmtime_wasi::HostWallClock for FrozenClock {
    fn resolution(&self) -> std::time::Duration {
        std::time::Duration::from_secs(1)
    }

    fn now(&self) -> std::time::Duration {
        std::time::Duration::ZERO
    }
}

impl wasmtime_wasi::HostMonotonicClock for FrozenClock {
    fn resolution(&self) -> u64 {
        1_000_000_000
    }

    fn now(&self) -> u64 {
        0
    }
}

impl wit::Host for StepState {}

impl self::kefu::flow::host::Host for StepState {
    fn log(&mut self, level: wit::LogLevel, message: String) {
        self.log_lines += 1;
        if self.log_lines > LOG_LINES_PER_STEP {
            return;
        }
        let mut message = message;
        if message.len() > LOG_LINE_BYTES {
            let mut cut = LOG_LINE_BYTES;
            while !message.is_char_boundary(cut) {
                cut -= 1;
            }
            message.truncate(cut);
        }
        let (module, session, node) = (&*self.module, &self.ctx.session_id, &self.ctx.node_id);
        match level {
            wit::LogLevel::Trace => {
                tracing::trace!(target: "kefu::module", module, session, node, "{message}")
            }
            wit::LogLevel::Debug => {
                tracing::debug!(target: "kefu::module", module, session, node, "{message}")
            }
            wit::LogLevel::Info => {
                tracing::info!(target: "kefu::module", module, session, node, "{message}")
            }
            wit::LogLevel::Warn => {
                tracing::warn!(target: "kefu::module", module, session, node, "{message}")
            }
            wit::LogLevel::Error => {
                tracing::error!(target: "kefu::module", module, session, node, "{message}")
            }
        }
    }

    fn now(&mut self) -> wit::LocalTime {
        local_time(self.services.now(), &self.ctx.time_zone)
    }

    async fn skill_group_queue(&mut self, skill_group_id: String) -> Option<wit::QueueStatus> {
        let asked = std::time::Instant::now();
        let status = self
            .services
            .queue_status(&self.ctx.tenant_id, &skill_group_id)
            .await;
        self.host_wait += asked.elapsed();
        let status = status?;
        Some(wit::QueueStatus {
            agents_online: status.agents_online,
            agents_free: status.agents_free,
            sessions_waiting: status.sessions_waiting,
            estimated_wait_secs: status.estimated_wait_secs,
        })
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

/// Gives the bindings access to the whole `StepState`.
struct Everything;

impl HasData for Everything {
    type Data<'a> = &'a mut StepState;
}

/// The WASI interfaces kefu provides, and only those: streams and polling (for
/// stdio), stdio itself (into a small buffer), an empty environment, exit, frozen
/// clocks, deterministic randomness, and a file system with nothing in it — what a
/// Rust `std` guest links against. No sockets: a module that imports them is refused
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
    clocks::monotonic_clock::add_to_linker::<StepState, wasmtime_wasi::clocks::WasiClocks>(
        l,
        wasmtime_wasi::clocks::WasiClocksView::clocks,
    )?;
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
    FlowModule::add_to_linker::<StepState, Everything>(l, |s| s)?;
    Ok(linker)
}

struct Io;

impl HasData for Io {
    type Data<'a> = &'a mut ResourceTable;
}
