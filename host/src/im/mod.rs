//! IM channels: Tencent Cloud IM's wire format and UserSig, the `sendmsg` ingress and
//! the after-send callback, the egress outbox, and the built-in web chat.
//!
//! Must not run flows itself: it hands user input to `sessions`.

pub mod egress;
pub mod ingress;
pub mod usersig;
pub mod webchat;
pub mod wire;

use axum::Router;

use crate::state::AppState;

/// IM's endpoints and the web chat. They answer in their own formats (IM's
/// `ActionStatus` bodies, the page), so they sit beside the JSON API, not in it.
pub fn router() -> Router<AppState> {
    ingress::router().merge(webchat::router())
}
