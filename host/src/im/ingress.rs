//! Ingress in Tencent IM's format.
//!
//! - `POST /v4/openim/sendmsg`: an app server, acting as the IM administrator, sends a
//!   one-to-one message exactly as it would to IM. A message from a channel's virtual
//!   account to a user activates the flow for that user (TCCC's activation); a message
//!   from a user to the virtual account is the user's input.
//! - `POST /im/callback`: IM's `C2C.CallbackAfterSendMsg`, for deployments where users
//!   write through IM itself. Authenticated by the channel's callback token
//!   (`Sign = sha256(token + RequestTime)`); the replies kefu sent itself are
//!   recognised by their `MsgRandom` and ignored, so they never loop back as input.
//!
//! Both answer HTTP 200 with IM's own `ActionStatus` / `ErrorCode` / `ErrorInfo`, as IM
//! does, and write nothing for a refused request. A retried message (same accounts,
//! `MsgRandom` and `MsgSeq`) is handled once and answered the same again.

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use chrono::Utc;

use super::wire::{self, AdminQuery, CallbackResponse, ImError, SendMsgQuery, SendMsgRequest};
use crate::directory::Channel;
use crate::sessions::{EndUser, Inbound, SessionError, Source};
use crate::state::AppState;
use crate::store::sessions as store;
use crate::store::{channels, outbox};

/// The path IM's callbacks are configured to reach.
pub const CALLBACK_PATH: &str = "/im/callback";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(wire::SENDMSG_PATH, post(sendmsg).fallback(wrong_method))
        .route(CALLBACK_PATH, post(callback).fallback(wrong_method))
}

/// IM's endpoints answer in IM's shape whatever comes, another method included.
async fn wrong_method() -> Response {
    fail(&ImError::invalid_url("the method must be POST"))
}

fn json_response(body: String) -> Response {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}

fn fail(err: &ImError) -> Response {
    json_response(serde_json::to_string(&wire::fail_response(err)).unwrap_or_default())
}

/// Reads at most IM's largest body; a larger one is IM's "too long" error.
async fn read_body(body: Body) -> Result<Bytes, ImError> {
    axum::body::to_bytes(body, wire::MAX_BODY_BYTES)
        .await
        .map_err(|_| ImError::body_too_long())
}

fn now_unix() -> u64 {
    Utc::now().timestamp().max(0) as u64
}

/// The channels of the app named in the request.
async fn app_channels(state: &AppState, sdkappid: u64) -> Result<Arc<Vec<Channel>>, ImError> {
    let found = state
        .im_apps
        .get_or_load(sdkappid, || async {
            channels::by_app(&state.db, sdkappid).await.map(Arc::new)
        })
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "looking up IM channels failed");
            ImError::internal()
        })?;
    if found.is_empty() {
        return Err(ImError::unknown_sdkappid());
    }
    Ok(found)
}

/// The channels of the app whose secret key and administrator verify the request's
/// UserSig (a refused request is answered with the first reason found). IM apps have
/// one key, so this is usually one verification; the channel a message is for must
/// then be one of these: a key proves the right to speak for its own channel only.
fn authenticate<'a>(
    sigs: &super::usersig::Remembered,
    query: &AdminQuery,
    channels: &'a [Channel],
) -> Result<Vec<&'a Channel>, ImError> {
    let now = now_unix();
    let mut first_error = None;
    let mut verified: Vec<&Channel> = Vec::new();
    let mut tried: Vec<(&str, &str, bool)> = Vec::new();
    for c in channels {
        let known = tried
            .iter()
            .find(|(key, admin, _)| *key == c.secret_key && *admin == c.admin_identifier)
            .map(|(_, _, ok)| *ok);
        let ok = match known {
            Some(ok) => ok,
            None => {
                let ok = match query.authenticate(
                    sigs,
                    c.sdkappid,
                    &c.secret_key,
                    &c.admin_identifier,
                    now,
                ) {
                    Ok(_) => true,
                    Err(e) => {
                        first_error.get_or_insert(e);
                        false
                    }
                };
                tried.push((&c.secret_key, &c.admin_identifier, ok));
                ok
            }
        };
        if ok {
            verified.push(c);
        }
    }
    if verified.is_empty() {
        return Err(first_error.unwrap_or_else(ImError::admin_required));
    }
    Ok(verified)
}

/// Refuses a message for a channel whose own key did not make the UserSig.
fn authorized(verified: &[&Channel], channel: &Channel) -> Result<(), ImError> {
    if verified.iter().any(|c| c.id == channel.id) {
        Ok(())
    } else {
        Err(ImError::usersig_other_account())
    }
}

/// Who a message is between, as kefu sees it.
enum Route<'a> {
    /// The virtual account wrote to a user: activation.
    Activation { channel: &'a Channel, user: String },
    /// A user wrote to the virtual account.
    Input { channel: &'a Channel, user: String },
}

fn route<'a>(channels: &'a [Channel], from: &str, to: &str) -> Result<Route<'a>, ImError> {
    if let Some(channel) = channels.iter().find(|c| c.account == to) {
        if channels.iter().any(|c| c.account == from) || from == channel.admin_identifier {
            return Err(ImError::invalid_from_account(
                "a customer-service account cannot write to another one",
            ));
        }
        return Ok(Route::Input {
            channel,
            user: from.to_owned(),
        });
    }
    if let Some(channel) = channels.iter().find(|c| c.account == from) {
        return Ok(Route::Activation {
            channel,
            user: to.to_owned(),
        });
    }
    Err(ImError::invalid_to_account(
        "neither account is a customer-service account of this app",
    ))
}

/// The idempotency key of a message: both accounts, `MsgRandom` and `MsgSeq`.
fn message_key(from: &str, to: &str, msg_random: u32, msg_seq: u32) -> String {
    format!("{from}\n{to}\n{msg_random}\n{msg_seq}")
}

async fn sendmsg(State(state): State<AppState>, RawQuery(query): RawQuery, body: Body) -> Response {
    let answer = handle_sendmsg(&state, query.as_deref().unwrap_or(""), body).await;
    crate::metrics::im_ingress("sendmsg", answer.is_ok());
    match answer {
        Ok(answer) => json_response(answer),
        Err(e) => fail(&e),
    }
}

async fn handle_sendmsg(state: &AppState, raw_query: &str, body: Body) -> Result<String, ImError> {
    let query = SendMsgQuery::parse(raw_query)?.validate()?;
    let channels = app_channels(state, query.sdkappid).await?;
    let verified = authenticate(&state.im_sigs, &query, &channels)?;
    let body = read_body(body).await?;
    let request: SendMsgRequest = wire::parse_sendmsg(&body)?;
    let from = request
        .from_account
        .clone()
        .unwrap_or_else(|| query.identifier.clone());
    let msg_seq = request.msg_seq.unwrap_or(0);
    let key = message_key(&from, &request.to_account, request.msg_random, msg_seq);
    let route = route(&channels, &from, &request.to_account)?;
    let channel = match &route {
        Route::Activation { channel, .. } | Route::Input { channel, .. } => *channel,
    };
    authorized(&verified, channel)?;
    // A retried request is not looked up first: its turn's receipt collides with the
    // first one's at commit, which then answers what the first was answered and
    // writes nothing. Retries are rare; a read per message is not.
    let msg_time = now_unix();
    let seq = if msg_seq == 0 {
        request.msg_random
    } else {
        msg_seq
    };
    let answer = serde_json::to_string(&wire::ok_response(
        msg_time,
        &wire::msg_key(seq, request.msg_random, msg_time),
    ))
    .unwrap_or_default();
    let elements = wire::to_message_elements(&request.msg_body);
    let (user, inbound) = match route {
        Route::Activation { user, .. } => (user, Inbound::Activation { elements }),
        Route::Input { user, .. } => (
            user,
            Inbound::Message {
                elements,
                client_id: None,
            },
        ),
    };
    deliver(state, channel, &user, inbound, &key, &answer).await
}

async fn stored_answer(
    state: &AppState,
    channel: &Channel,
    key: &str,
) -> Result<Option<String>, ImError> {
    store::receipt(&state.db, channel.id, key)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "reading an IM receipt failed");
            ImError::internal()
        })
}

/// Hands a message to its session and answers with `answer`, or with the answer of
/// the request already handled when this one is a concurrent retry.
async fn deliver(
    state: &AppState,
    channel: &Channel,
    user: &str,
    inbound: Inbound,
    key: &str,
    answer: &str,
) -> Result<String, ImError> {
    let end_user = EndUser {
        id: user.to_owned(),
        nickname: user.to_owned(),
        source: Source::Im,
    };
    match state
        .sessions
        .handle(channel, &end_user, inbound, Some((key, answer)))
        .await
    {
        Ok(_) => Ok(answer.to_owned()),
        Err(SessionError::Duplicate) => Ok(stored_answer(state, channel, key)
            .await?
            .unwrap_or_else(|| answer.to_owned())),
        Err(e) => {
            tracing::error!(error = %e, channel = %channel.id, "handling an IM message failed");
            Err(ImError::internal())
        }
    }
}

fn callback_answer(result: Result<(), ImError>) -> Response {
    let response = match result {
        Ok(()) => CallbackResponse::ok(),
        Err(e) => CallbackResponse::fail(&e),
    };
    json_response(serde_json::to_string(&response).unwrap_or_default())
}

async fn callback(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    body: Body,
) -> Response {
    let answer = handle_callback(&state, query.as_deref().unwrap_or(""), body).await;
    crate::metrics::im_ingress("callback", answer.is_ok());
    callback_answer(answer)
}

async fn handle_callback(state: &AppState, raw_query: &str, body: Body) -> Result<(), ImError> {
    let query = wire::CallbackQuery::parse(raw_query)?;
    let sdkappid = query.sdkappid().ok_or_else(ImError::missing_sdkappid)?;
    let channels = app_channels(state, sdkappid).await?;
    let body = read_body(body).await?;
    if query.callback_command.as_deref() != Some(wire::AFTER_SEND_MSG_COMMAND) {
        // Other callbacks are not kefu's business; IM only needs to hear OK. They
        // must still come from IM.
        let now = now_unix();
        if !channels
            .iter()
            .any(|c| query.verify_sign(&c.callback_token, now).is_ok())
        {
            return Err(ImError::new(
                60004,
                "the callback's Sign is missing or wrong",
            ));
        }
        return Ok(());
    }
    let cb = wire::parse_after_send_callback(&body)?;
    let route = route(&channels, &cb.from_account, &cb.to_account)?;
    let channel = match &route {
        Route::Activation { channel, .. } | Route::Input { channel, .. } => *channel,
    };
    query
        .verify_sign(&channel.callback_token, now_unix())
        .map_err(|e| ImError::new(60004, e.to_string()))?;
    if cb.send_msg_result != 0 {
        // IM could not deliver it: nobody saw it, so it is nothing to act on.
        return Ok(());
    }
    let key = message_key(&cb.from_account, &cb.to_account, cb.msg_random, cb.msg_seq);
    let elements = wire::to_message_elements(&cb.msg_body);
    let (user, inbound) = match route {
        Route::Activation { user, .. } => {
            let own = outbox::is_own_delivery(&state.db, channel.id, &user, cb.msg_random)
                .await
                .map_err(|e| {
                    tracing::error!(error = %e, "checking an IM callback against the outbox failed");
                    ImError::internal()
                })?;
            if own {
                return Ok(());
            }
            (user, Inbound::Activation { elements })
        }
        Route::Input { user, .. } => (
            user,
            Inbound::Message {
                elements,
                client_id: None,
            },
        ),
    };
    // As for sendmsg, a retried callback is found by its receipt at commit.
    let answer = serde_json::to_string(&CallbackResponse::ok()).unwrap_or_default();
    deliver(state, channel, &user, inbound, &key, &answer)
        .await
        .map(|_| ())
}
