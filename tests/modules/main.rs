//! The built-in flow modules of `plugins/`, each loaded as a real component into
//! kefu's plugin runtime and driven through scripted conversations: every exit,
//! timeouts, retries, and bad configuration refused with a precise message.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod branch;
mod collect_input;
mod end;
mod send_message;
mod service_time;
mod shapes;
mod survey;
mod text_bot;
mod transfer;
