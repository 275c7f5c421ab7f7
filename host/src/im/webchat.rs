//! The built-in web chat: an end-user page and its WebSocket, so that a channel can
//! be reached with nothing but a browser.
//!
//! - `GET /chat/{channel_id}`: the page (`webchat.html`, self-contained).
//! - `GET /chat/{channel_id}/info`: the channel's public name and account.
//! - `GET /chat/{channel_id}/ws?visitor=…&nickname=…`: the conversation.
//!
//! A visitor is a random id the page keeps in its storage; it is the visitor's
//! account on the channel (`web_<id>`). On connecting, the server answers `ready` and
//! the `history` of the visitor's newest session, then every new message and status
//! change of it. The page sends `message` frames (`client_id`, `text`), each
//! acknowledged with the stored message's id; a retried `client_id` is acknowledged
//! again, not stored twice. A visitor who never had a session starts the flow by
//! opening the page, so the welcome is waiting for them.

use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::ws::{Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::sync::broadcast::error::RecvError;
use uuid::Uuid;

use crate::directory::Channel;
use crate::flow::MessageElement;
use crate::http::Error;
use crate::sessions::{EndUser, EventKind, Inbound, SessionError, Source, Status};
use crate::state::AppState;
use crate::store::sessions as store;
use crate::store::{StoreError, channels};

/// The page, embedded in the binary.
const PAGE: &str = include_str!("webchat.html");
/// Longest message a visitor may send, in characters.
pub const MAX_TEXT_CHARS: usize = 2000;
/// Largest frame accepted from a page.
const MAX_FRAME_BYTES: usize = 16 * 1024;
/// Messages of the history sent on connecting.
const HISTORY: u64 = 100;
/// Messages a page may send per [`RATE_WINDOW`].
const RATE_MESSAGES: usize = 20;
const RATE_WINDOW: Duration = Duration::from_secs(10);

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/chat/{channel_id}", get(page))
        .route("/chat/{channel_id}/", get(page))
        .route("/chat/{channel_id}/info", get(info))
        .route("/chat/{channel_id}/ws", get(connect))
}

async fn page(Path(channel_id): Path<String>) -> Response {
    if Uuid::parse_str(&channel_id).is_err() {
        return Error::NotFound("channel").into_response();
    }
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8")),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(
                    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self' ws: wss:; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors *",
                ),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        PAGE,
    )
        .into_response()
}

/// The channel of a web chat address, when it exists and has web chat on.
async fn webchat_channel(state: &AppState, channel_id: &str) -> Result<Channel, Error> {
    let id = Uuid::parse_str(channel_id).map_err(|_| Error::NotFound("channel"))?;
    match channels::get_public(&state.db, id).await {
        Ok(c) if c.webchat_enabled => Ok(c),
        Ok(_) | Err(StoreError::NotFound) => Err(Error::NotFound("channel")),
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Serialize)]
struct ChannelInfo {
    channel_id: Uuid,
    name: String,
    account: String,
}

async fn info(
    State(state): State<AppState>,
    Path(channel_id): Path<String>,
) -> Result<axum::Json<ChannelInfo>, Error> {
    let c = webchat_channel(&state, &channel_id).await?;
    Ok(axum::Json(ChannelInfo {
        channel_id: c.id,
        name: c.name,
        account: c.account,
    }))
}

#[derive(Debug, Deserialize)]
struct ConnectQuery {
    visitor: String,
    #[serde(default)]
    nickname: String,
}

/// A visitor id: 16–64 letters, digits, `-` or `_`.
fn valid_visitor(id: &str) -> bool {
    (16..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

async fn connect(
    State(state): State<AppState>,
    Path(channel_id): Path<String>,
    Query(q): Query<ConnectQuery>,
    ws: WebSocketUpgrade,
) -> Result<Response, Error> {
    let channel = webchat_channel(&state, &channel_id).await?;
    if !valid_visitor(&q.visitor) {
        return Err(Error::Validation(crate::directory::FieldErrors::single(
            "visitor",
            "must be 16 to 64 letters, digits, `-` or `_`",
        )));
    }
    let nickname: String = q
        .nickname
        .trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(32)
        .collect();
    let user = EndUser {
        id: format!("web_{}", q.visitor),
        nickname,
        source: Source::Webchat,
    };
    Ok(ws
        .max_message_size(MAX_FRAME_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
        // The socket library clears its read buffer on every read: keep it to the
        // size of a frame rather than its 128 KiB default.
        .read_buffer_size(MAX_FRAME_BYTES)
        .on_upgrade(move |socket| async move {
            let visitor = q.visitor;
            if let Err(e) = converse(state, channel, user, visitor, socket).await {
                tracing::debug!(error = %e, "web chat connection closed");
            }
        }))
}

/// A frame from the page.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum FromPage {
    Message { client_id: String, text: String },
    Ping,
}

fn frame(value: serde_json::Value) -> WsMessage {
    WsMessage::Text(value.to_string().into())
}

fn session_json(id: Uuid, status: Status, end_status: Option<u16>) -> serde_json::Value {
    json!({"id": id, "status": status, "end_status": end_status})
}

async fn converse(
    state: AppState,
    channel: Channel,
    user: EndUser,
    visitor: String,
    mut socket: WebSocket,
) -> anyhow::Result<()> {
    // Subscribe first: nothing that happens from here on can be missed.
    let mut events = state.sessions.subscribe();
    let opened = state
        .sessions
        .handle(&channel, &user, Inbound::Opened, None)
        .await;
    let session = match opened {
        Ok(d) => d.session,
        Err(e) => {
            tracing::warn!(error = %e, "opening a web chat session failed");
            None
        }
    };
    let session = match session {
        Some(s) => Some(s),
        None => store::latest_for_user(&state.db, channel.id, &user.id).await?,
    };
    let history = match &session {
        Some(s) => store::messages(&state.db, s.id, HISTORY, 0, true)
            .await?
            .into_iter()
            .rev()
            .collect(),
        None => vec![],
    };
    socket
        .send(frame(json!({
            "type": "ready",
            "visitor": visitor,
            "session": session.as_ref().map(|s| session_json(s.id, s.status, s.end_status)),
        })))
        .await?;
    socket
        .send(frame(json!({"type": "history", "messages": history})))
        .await?;
    let mut sent: Vec<Instant> = Vec::new();
    loop {
        tokio::select! {
            incoming = socket.recv() => {
                let Some(incoming) = incoming else { return Ok(()) };
                let text = match incoming? {
                    WsMessage::Text(t) => t,
                    WsMessage::Close(_) => return Ok(()),
                    _ => continue,
                };
                let reply = on_frame(&state, &channel, &user, &text, &mut sent).await;
                socket.send(frame(reply)).await?;
            }
            event = events.recv() => {
                let event = match event {
                    Ok(e) => e,
                    Err(RecvError::Lagged(_)) => {
                        // Too slow to follow: the page reconnects and resyncs.
                        socket.send(WsMessage::Close(None)).await.ok();
                        return Ok(());
                    }
                    Err(RecvError::Closed) => return Ok(()),
                };
                if event.channel_id != channel.id || event.user_id != user.id {
                    continue;
                }
                let value = match event.kind {
                    EventKind::Message(m) => json!({"type": "message", "message": m}),
                    EventKind::Status { session_id, status, end_status } => json!({
                        "type": "session",
                        "session": session_json(session_id, status, end_status),
                    }),
                };
                socket.send(frame(value)).await?;
            }
        }
    }
}

fn page_error(code: &str, message: &str, client_id: Option<&str>) -> serde_json::Value {
    json!({"type": "error", "code": code, "message": message, "client_id": client_id})
}

/// Handles one frame from the page and answers it.
async fn on_frame(
    state: &AppState,
    channel: &Channel,
    user: &EndUser,
    text: &str,
    sent: &mut Vec<Instant>,
) -> serde_json::Value {
    let parsed: FromPage = match serde_json::from_str(text) {
        Ok(p) => p,
        Err(_) => return page_error("invalid_frame", "not a frame this chat understands", None),
    };
    let (client_id, text) = match parsed {
        FromPage::Ping => return json!({"type": "pong"}),
        FromPage::Message { client_id, text } => (client_id, text),
    };
    if client_id.is_empty()
        || client_id.len() > 64
        || !client_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return page_error(
            "invalid_client_id",
            "client_id must be 1 to 64 letters, digits, `-` or `_`",
            None,
        );
    }
    let text = text.trim();
    if text.is_empty() {
        return page_error("empty_message", "the message is empty", Some(&client_id));
    }
    if text.chars().count() > MAX_TEXT_CHARS {
        return page_error(
            "message_too_long",
            &format!("a message is at most {MAX_TEXT_CHARS} characters"),
            Some(&client_id),
        );
    }
    let now = Instant::now();
    sent.retain(|t| now.duration_since(*t) < RATE_WINDOW);
    if sent.len() >= RATE_MESSAGES {
        return page_error(
            "rate_limited",
            "too many messages; wait a moment",
            Some(&client_id),
        );
    }
    sent.push(now);
    let inbound = Inbound::Message {
        elements: vec![MessageElement::Text(text.to_owned())],
        client_id: Some(client_id.clone()),
    };
    match state.sessions.handle(channel, user, inbound, None).await {
        Ok(d) => {
            let id = d
                .messages
                .iter()
                .find(|m| m.client_id.as_deref() == Some(client_id.as_str()))
                .map(|m| m.id);
            json!({"type": "ack", "client_id": client_id, "message_id": id})
        }
        Err(SessionError::Busy) => page_error("busy", "please send again", Some(&client_id)),
        Err(e) => {
            tracing::error!(error = %e, "a web chat message failed");
            page_error(
                "internal",
                "the message could not be stored",
                Some(&client_id),
            )
        }
    }
}
