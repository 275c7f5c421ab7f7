//! kefu: an online customer-service server.
//!
//! Where things live (each module's header says what it owns and must not touch):
//! - `http`: routers, extractors, the error type and the OpenAPI document;
//! - `auth`: passwords, access tokens, refresh tokens, login throttling;
//! - `directory`: agents, skill groups and channels as admins manage them (domain rules);
//! - `flow`: the vocabulary of a step, flow graphs and their checks, drafts and
//!   revisions, the engine that runs one turn;
//! - `plugin`: the WebAssembly runtime of flow modules, their limits and registry;
//! - `sessions`: a session's life, its turns, durable timers and transcript;
//! - `routing`: agents' status, queues' rules, offers, the router, workbench events;
//! - `im`: Tencent IM's wire format, UserSig, ingress, egress, and the web chat;
//! - `records`: service records, statistics and live figures (read models);
//! - `webhooks`: endpoints, the events pushed to them, signing, the delivery worker;
//! - `store`: the database: entities, migrations run at start-up, and the statements
//!   (guarded writes, reads and row mapping) the folders above call;
//! - `web`: the pages kefu serves (workbench, console, web chat), embedded in the binary;
//! - `metrics`: Prometheus metrics;
//! - `outbound`: requests to addresses tenants give (IM egress, webhooks);
//! - `cache`, `feeds`, `turns`: short-lived copies of rows every message reads, live
//!   feeds per key, one-at-a-time work per key on this node;
//! - `config`, `app`, `cli`, `cli_module`, `state`, `telemetry`: configuration, wiring,
//!   start-up, the command line (including `kefu module …`);
//! - `demo`: the demo tenant.

/// Every binary linking kefu (the server, its tests and benchmarks) allocates with
/// mimalloc: a message's turn makes many small, short-lived allocations (JSON, SQL,
/// rows) on threads that hand them to one another. Against the C library's allocator,
/// the ingress benchmark spends about a tenth less CPU on a message; the sockets
/// benchmark holds about 15 % more resident memory (see the README).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub mod app;
pub mod auth;
pub mod cache;
pub mod cli;
pub mod cli_module;
pub mod config;
pub mod demo;
pub mod directory;
pub mod feeds;
pub mod flow;
pub mod http;
pub mod im;
pub mod metrics;
pub mod outbound;
pub mod plugin;
pub mod records;
pub mod routing;
pub mod sessions;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod turns;
pub mod web;
pub mod webhooks;

/// Paths of the built-in flow modules compiled from `plugins/` by the build script.
pub mod builtin_plugins {
    include!(concat!(env!("OUT_DIR"), "/builtin_plugins.rs"));
}
