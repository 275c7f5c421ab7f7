//! `GET /api/v1/agent/ws?token=…&after=…`: the workbench's live feed. While a socket
//! is open (and answers pings) its agent is online. Every stored event reaches it in
//! order, numbered; a workbench that reconnects with the last number it saw gets
//! exactly what it missed. Queue figures come as unnumbered snapshots.

use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::extract::ws::{Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;
use serde_json::json;
use tokio::sync::broadcast::error::RecvError;
use uuid::Uuid;

use super::error::{Error, Result};
use super::extract::Query;
use crate::directory::FieldErrors;
use crate::state::AppState;
use crate::store::presence;
use crate::store::{TenantId, auth_sessions};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/agent/ws", get(upgrade))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WsQuery {
    /// An access token (browsers cannot set headers on a WebSocket).
    token: Option<String>,
    /// The last event number the workbench saw.
    after: Option<i64>,
}

/// Largest frame a workbench may send.
const MAX_FRAME: usize = 4 * 1024;
/// Bytes read from a workbench's socket at a time (one largest frame).
const READ_BUFFER: usize = MAX_FRAME;
/// Events read from the database at a time when catching up.
const PAGE: u64 = 500;

async fn upgrade(
    State(state): State<AppState>,
    Query(q): Query<WsQuery>,
    ws: WebSocketUpgrade,
) -> Result<Response> {
    let token = q
        .token
        .filter(|t| !t.is_empty() && t.len() <= 4096)
        .ok_or_else(|| {
            Error::unauthorized("missing_token", "an access token is required (?token=…)")
        })?;
    let claims = state.auth.keys().verify(&token)?;
    let tenant = TenantId(claims.tenant);
    auth_sessions::live(&state.db, tenant, claims.sid, claims.sub)
        .await?
        .ok_or_else(|| {
            Error::unauthorized("token_revoked", "this sign-in has ended; log in again")
        })?;
    if q.after.is_some_and(|a| a < 0) {
        return Err(Error::Validation(FieldErrors::single(
            "after",
            "must be 0 or more",
        )));
    }
    let (agent, sid, after) = (claims.sub, claims.sid, q.after);
    Ok(ws
        .max_message_size(MAX_FRAME)
        // A workbench only ever sends pings: a small read buffer, which the socket
        // library clears on every read, rather than its 128 KiB default.
        .read_buffer_size(READ_BUFFER)
        .on_upgrade(move |socket| serve(state, socket, tenant, agent, sid, after)))
}

struct Feed {
    state: AppState,
    agent: Uuid,
    /// The number of the last event sent.
    last: i64,
}

impl Feed {
    /// Sends every stored event after `last`.
    async fn catch_up(&mut self, tx: &mut WebSocket) -> bool {
        loop {
            let events = match presence::events_after(&self.state.db, self.agent, self.last, PAGE)
                .await
            {
                Ok(e) => e,
                Err(e) => {
                    tracing::warn!(agent = %self.agent, error = %e, "reading agent events failed");
                    return false;
                }
            };
            let n = events.len();
            for (seq, frame) in events {
                if tx.send(WsMessage::Text(frame.into())).await.is_err() {
                    return false;
                }
                self.last = seq;
            }
            if (n as u64) < PAGE {
                return true;
            }
        }
    }
}

async fn serve(
    state: AppState,
    mut tx: WebSocket,
    tenant: TenantId,
    agent: Uuid,
    sid: Uuid,
    after: Option<i64>,
) {
    // Subscribed before anything is read, so nothing stored meanwhile is missed.
    let mut feed_rx = state.router.signals().hub.subscribe(agent);
    let (connection, close) = match state.router.connect(tenant, agent, sid).await {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(agent = %agent, error = %e, "registering a workbench failed");
            return;
        }
    };
    let cutoff = state.router.signals().cutoff(chrono::Utc::now());
    let current = match presence::load(&state.db, tenant, agent, cutoff).await {
        Ok(Some(p)) => p,
        _ => {
            state.router.disconnect(tenant, agent, connection).await;
            return;
        }
    };
    let ready = json!({"type": "ready", "seq": current.event_seq, "agent_id": agent, "status": current.view()});
    let mut feed = Feed {
        state: state.clone(),
        agent,
        last: current.event_seq,
    };
    let mut open = tx
        .send(WsMessage::Text(ready.to_string().into()))
        .await
        .is_ok();
    if open && let Some(after) = after.filter(|a| *a < current.event_seq) {
        let first = presence::first_kept_event(&state.db, agent)
            .await
            .ok()
            .flatten();
        if first.is_some_and(|f| f <= after + 1) {
            feed.last = after;
            open = feed.catch_up(&mut tx).await;
        } else {
            let resync = json!({"type": "resync", "seq": current.event_seq});
            open = tx
                .send(WsMessage::Text(resync.to_string().into()))
                .await
                .is_ok();
        }
    }
    if open && let Ok(queues) = state.router.queues_of(tenant, agent).await {
        let frame = json!({"type": "queues", "seq": feed.last, "items": queues});
        open = tx
            .send(WsMessage::Text(frame.to_string().into()))
            .await
            .is_ok();
    }
    let timeout = state.router.signals().config.heartbeat_timeout;
    let mut beat = tokio::time::interval((timeout / 3).max(Duration::from_millis(500)));
    beat.tick().await;
    let mut heard = Instant::now();
    while open {
        tokio::select! {
            frame = feed_rx.recv() => match frame {
                Ok((0, items)) => {
                    let frame = format!(r#"{{"type":"queues","seq":{},"items":{}}}"#, feed.last, items);
                    open = tx.send(WsMessage::Text(frame.into())).await.is_ok();
                }
                Ok((seq, frame)) if seq == feed.last + 1 && !frame.is_empty() => {
                    open = tx.send(WsMessage::Text(frame.to_string().into())).await.is_ok();
                    feed.last = seq;
                }
                Ok((seq, _)) if seq <= feed.last => {}
                // A gap (an event stored on another node, or one this socket missed).
                Ok(_) | Err(RecvError::Lagged(_)) => open = feed.catch_up(&mut tx).await,
                Err(RecvError::Closed) => open = false,
            },
            msg = tx.recv() => {
                heard = Instant::now();
                match msg {
                    Some(Ok(WsMessage::Text(text))) => {
                        let reply = match serde_json::from_str::<serde_json::Value>(&text) {
                            Ok(v) if v["type"] == "ping" => json!({"type": "pong"}),
                            _ => json!({"type": "error", "code": "unknown_frame", "message": "the only frame a workbench sends is {\"type\":\"ping\"}"}),
                        };
                        open = tx.send(WsMessage::Text(reply.to_string().into())).await.is_ok();
                    }
                    Some(Ok(WsMessage::Binary(_))) => {
                        let reply = json!({"type": "error", "code": "unknown_frame", "message": "frames are JSON text"});
                        open = tx.send(WsMessage::Text(reply.to_string().into())).await.is_ok();
                    }
                    Some(Ok(WsMessage::Ping(_) | WsMessage::Pong(_))) => {}
                    Some(Ok(WsMessage::Close(_))) | Some(Err(_)) | None => open = false,
                }
            }
            _ = beat.tick() => {
                if heard.elapsed() > timeout {
                    tracing::info!(agent = %agent, "a workbench stopped answering");
                    break;
                }
                if tx.send(WsMessage::Ping(Vec::new().into())).await.is_err() {
                    break;
                }
            }
            // The sign-in ended (sign-out, password change) or the server is stopping.
            () = close.notified() => {
                let _ = tx.send(WsMessage::Close(None)).await;
                break;
            }
        }
    }
    drop(feed_rx);
    state.router.disconnect(tenant, agent, connection).await;
    if !state.router.signals().hub.has(agent) {
        state.router.forget(agent);
    }
}
