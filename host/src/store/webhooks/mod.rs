//! Webhook endpoints and their delivery outbox.
//!
//! [`enqueue`] runs inside the transaction of the change that made the events: one
//! statement puts a row per event and interested endpoint in `webhook_deliveries`, so
//! an event exists exactly when its change does. The worker claims an endpoint's first
//! pending deliveries in order under a lease (another node takes them over only when
//! the lease ends), and an endpoint whose first delivery failed is left alone until
//! its retry (`retry_at`), so a dead endpoint costs the others nothing.
//!
//! One file a part: `endpoints` (the endpoints' settings), `deliveries` (the outbox as
//! events and the API see it) and `leases` (the worker's claims and attempts). This
//! folder owns the two webhook tables and nothing else: signing and sending are
//! `crate::webhooks`', the HTTP shapes `crate::http::webhooks`'.

mod deliveries;
mod endpoints;
mod leases;

pub(crate) use deliveries::enqueue_statement;
pub use deliveries::{deliveries, enqueue, enqueue_to, pending_count, purge, redeliver};
pub use endpoints::{
    EndpointChange, NewEndpoint, StoredEndpoint, create, delete, get, list, ready_endpoints,
    rotate, update,
};
pub use leases::{Due, Outcome, claim, finish, release};
