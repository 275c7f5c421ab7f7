//! The built-in web chat: an end-user page and its WebSocket, so that a channel can
//! be reached with nothing but a browser.
//!
//! - `GET /chat/{channel_id}`: the page (served by `web`, from `web/files/chat/`).
//! - `GET /chat/{channel_id}/info`: the channel's public name and account.
//! - `GET /chat/{channel_id}/ws`: the conversation.
//!
//! The page's first frame is `hello`: the visitor's secret token (which only their
//! browser keeps), or an identity token from the site that embeds the chat, and a
//! nickname (`identity.rs` says who that makes them). The server answers `ready` (with
//! the visitor's account on the channel, never the token) and the `history` of the
//! visitor's newest session, then every new message and status change of it. The page
//! sends `message` frames (`client_id`, `text`), each acknowledged with the stored
//! message's id; a retried `client_id` is acknowledged again, not stored twice. A
//! visitor who never had a session starts the flow by opening the page, so the
//! welcome is waiting for them. One client address may hold and open only so many
//! sockets (`guard.rs`).

mod guard;
pub mod identity;

pub use guard::AddressGuard;

use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::ws::{Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::sync::broadcast::error::RecvError;
use uuid::Uuid;

use self::guard::{Admitted, Refusal};
use self::identity::Visitor;
use crate::directory::Channel;
use crate::flow::MessageElement;
use crate::http::Error;
use crate::http::extract::ClientOrigin;
use crate::sessions::{EndUser, EventKind, Inbound, SessionError, Source, Status};
use crate::state::AppState;
use crate::store::sessions as store;
use crate::store::{StoreError, channels};

/// Longest message a visitor may send, in characters.
pub const MAX_TEXT_CHARS: usize = 2000;
/// Largest frame accepted from a page.
const MAX_FRAME_BYTES: usize = 16 * 1024;
/// Messages of the history sent on connecting.
const HISTORY: u64 = 100;
/// Messages a page may send per [`RATE_WINDOW`].
const RATE_MESSAGES: usize = 20;
const RATE_WINDOW: Duration = Duration::from_secs(10);
/// How long a new socket may take to say `hello`.
const HELLO_WITHIN: Duration = Duration::from_secs(10);

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/chat/{channel_id}/info", get(info))
        .route("/chat/{channel_id}/ws", get(connect))
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

async fn connect(
    State(state): State<AppState>,
    Path(channel_id): Path<String>,
    ClientOrigin(origin): ClientOrigin,
    ws: WebSocketUpgrade,
) -> Result<Response, Error> {
    let channel = webchat_channel(&state, &channel_id).await?;
    let address = origin.client_ip.unwrap_or_default();
    let admitted = state.webchat.admit(&address).map_err(|r| {
        let message = match r {
            Refusal::TooManyOpen => "too many chat windows are open from this address",
            Refusal::TooManyNew => "too many chats were opened from this address; wait a minute",
        };
        Error::bad_request_status(
            axum::http::StatusCode::TOO_MANY_REQUESTS,
            "too_many_chats",
            message,
        )
    })?;
    Ok(ws
        .max_message_size(MAX_FRAME_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
        // The socket library clears its read buffer on every read: keep it to the
        // size of a frame rather than its 128 KiB default.
        .read_buffer_size(MAX_FRAME_BYTES)
        .on_upgrade(move |socket| async move {
            if let Err(e) = converse(state, channel, socket, admitted).await {
                tracing::debug!(error = %e, "web chat connection closed");
            }
        }))
}

/// A frame from the page.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum FromPage {
    /// The first frame: who the visitor is.
    Hello {
        /// The browser's own secret (anonymous visitors).
        #[serde(default)]
        token: Option<String>,
        /// A token from the site that embeds the chat, vouching for its user.
        #[serde(default)]
        identity: Option<String>,
        #[serde(default)]
        nickname: String,
    },
    Message {
        client_id: String,
        text: String,
    },
    Ping,
}

fn frame(value: serde_json::Value) -> WsMessage {
    WsMessage::Text(value.to_string().into())
}

fn session_json(id: Uuid, status: Status, end_status: Option<u16>) -> serde_json::Value {
    json!({"id": id, "status": status, "end_status": end_status})
}

/// Waits for the page's `hello` and says who the visitor is; `None` when the page
/// went away, said something else, or was refused (it has been told why).
async fn greet(socket: &mut WebSocket, channel: &Channel) -> anyhow::Result<Option<Visitor>> {
    let first = match tokio::time::timeout(HELLO_WITHIN, socket.recv()).await {
        Ok(Some(Ok(WsMessage::Text(t)))) => t,
        Ok(_) => return Ok(None),
        Err(_) => {
            let error = page_error("hello_expected", "say hello first", None);
            socket.send(frame(error)).await?;
            return Ok(None);
        }
    };
    let Ok(FromPage::Hello {
        token,
        identity,
        nickname,
    }) = serde_json::from_str::<FromPage>(&first)
    else {
        let error = page_error("hello_expected", "the first frame must be `hello`", None);
        socket.send(frame(error)).await?;
        return Ok(None);
    };
    let now = chrono::Utc::now().timestamp().max(0) as u64;
    match identity::identify(
        channel,
        token.as_deref(),
        identity.as_deref(),
        &nickname,
        now,
    ) {
        Ok(v) => Ok(Some(v)),
        Err(refused) => {
            socket
                .send(frame(page_error(refused.code, refused.message, None)))
                .await?;
            Ok(None)
        }
    }
}

async fn converse(
    state: AppState,
    channel: Channel,
    mut socket: WebSocket,
    _admitted: Admitted,
) -> anyhow::Result<()> {
    let Some(visitor) = greet(&mut socket, &channel).await? else {
        socket.send(WsMessage::Close(None)).await.ok();
        return Ok(());
    };
    let user = EndUser {
        id: visitor.user_id.clone(),
        nickname: visitor.nickname.clone(),
        source: Source::Webchat,
    };
    // Subscribe first: nothing that happens from here on can be missed.
    let mut events = state.sessions.subscribe(channel.id, &user.id);
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
            "user_id": visitor.user_id,
            "verified": visitor.verified,
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
        FromPage::Hello { .. } => {
            return page_error("already_greeted", "hello is only the first frame", None);
        }
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
