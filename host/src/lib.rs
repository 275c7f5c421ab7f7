//! kefu: an online customer-service server.
//!
//! Where things live (each module's header says what it owns and must not touch):
//! - `http`: routers, extractors, the error type and the OpenAPI document;
//! - `auth`: passwords, access tokens, refresh tokens, login throttling;
//! - `directory`: agents and skill groups as admins manage them (domain rules);
//! - `store`: the database, sea-orm entities and tenant-scoped repositories;
//! - `cache`: short-lived copies of rows every message reads;
//! - `turns`: one-at-a-time work per key on this node (a user, a queue);
//! - `config`, `app`, `cli`, `state`, `telemetry`: configuration, wiring, start-up;
//! - `demo`: the demo tenant;
//! - `web`: the pages kefu serves (the agent workbench), embedded in the binary;
//! - `records`: service records, statistics and live figures (read models);
//! - `webhooks`: endpoints, the delivery outbox's events, signing, the delivery worker;
//! - `metrics`: Prometheus metrics.

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
