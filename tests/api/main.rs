//! The API suite: every test boots the real server on an ephemeral port against a
//! fresh database (SQLite, or PostgreSQL when `KEFU_TEST_DATABASE_URL` is set) and
//! talks HTTP to it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod access;
mod agents;
mod auth;
mod examples;
mod flow_try;
mod flows;
mod fuzzed;
mod health;
mod hostile;
mod hostile_flows;
mod im;
mod metrics;
mod migrations;
mod openapi;
mod plugins;
mod records;
mod routing;
mod security;
mod skill_groups;
mod stats;
mod tenancy;
mod web;
mod webhooks;
mod workbench_desk;
