//! The `C2C.CallbackAfterSendMsg` callback, its query, its signature (checked in
//! constant time) and its answer.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::sendmsg::{check_account, check_msg_body, check_raw_elements, parse_object};
use super::{AFTER_SEND_MSG_COMMAND, ActionStatus, CALLBACK_SIGN_WINDOW_SECS, ImError, MsgElement};

/// The body of the `C2C.CallbackAfterSendMsg` callback. Fields IM may leave out
/// default to empty.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AfterSendMsgCallback {
    /// `C2C.CallbackAfterSendMsg`.
    #[serde(rename = "CallbackCommand")]
    pub callback_command: String,
    /// The sender.
    #[serde(rename = "From_Account")]
    pub from_account: String,
    /// The receiver.
    #[serde(rename = "To_Account")]
    pub to_account: String,
    /// The sender's sequence number.
    #[serde(rename = "MsgSeq", default)]
    pub msg_seq: u32,
    /// The message's random number.
    #[serde(rename = "MsgRandom", default)]
    pub msg_random: u32,
    /// When IM accepted it, in Unix seconds.
    #[serde(rename = "MsgTime", default)]
    pub msg_time: u64,
    /// Its key.
    #[serde(rename = "MsgKey", default)]
    pub msg_key: String,
    /// IM's message id, when given.
    #[serde(rename = "MsgId", default, skip_serializing_if = "Option::is_none")]
    pub msg_id: Option<String>,
    /// 1 for an online-only message.
    #[serde(rename = "OnlineOnlyFlag", default)]
    pub online_only_flag: u8,
    /// 0 when delivery succeeded.
    #[serde(rename = "SendMsgResult", default)]
    pub send_msg_result: i64,
    /// The delivery outcome's text.
    #[serde(rename = "ErrorInfo", default)]
    pub error_info: String,
    /// The receiver's unread count.
    #[serde(rename = "UnreadMsgNum", default)]
    pub unread_msg_num: u32,
    /// The message.
    #[serde(rename = "MsgBody")]
    pub msg_body: Vec<MsgElement>,
    /// Opaque data for the application.
    #[serde(rename = "CloudCustomData", default)]
    pub cloud_custom_data: String,
    /// When the callback was raised, in Unix milliseconds.
    #[serde(rename = "EventTime", default, skip_serializing_if = "Option::is_none")]
    pub event_time: Option<u64>,
}

/// Parses and checks an after-send callback body with the same bounds as `sendmsg`.
pub fn parse_after_send_callback(body: &[u8]) -> Result<AfterSendMsgCallback, ImError> {
    let obj = parse_object(body)?;
    check_raw_elements(obj.get("MsgBody"))?;
    let cb: AfterSendMsgCallback = serde_json::from_value(Value::Object(obj))
        .map_err(|e| ImError::invalid_request(&e.to_string()))?;
    if cb.callback_command != AFTER_SEND_MSG_COMMAND {
        return Err(ImError::invalid_request(
            "CallbackCommand is not C2C.CallbackAfterSendMsg",
        ));
    }
    check_account(&cb.from_account, ImError::invalid_from_account)?;
    check_account(&cb.to_account, ImError::invalid_to_account)?;
    check_msg_body(&cb.msg_body, Some(&cb.cloud_custom_data))?;
    Ok(cb)
}

/// The answer to a callback.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallbackResponse {
    /// `OK` or `FAIL`.
    #[serde(rename = "ActionStatus")]
    pub action_status: ActionStatus,
    /// Empty on success.
    #[serde(rename = "ErrorInfo")]
    pub error_info: String,
    /// 0 on success.
    #[serde(rename = "ErrorCode")]
    pub error_code: u32,
}

impl CallbackResponse {
    /// `{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}`.
    pub fn ok() -> Self {
        Self {
            action_status: ActionStatus::Ok,
            error_info: String::new(),
            error_code: 0,
        }
    }

    /// A refusal (IM ignores it for after-event callbacks, but logs it).
    pub fn fail(err: &ImError) -> Self {
        Self {
            action_status: ActionStatus::Fail,
            error_info: err.info.clone(),
            error_code: err.code,
        }
    }
}

/// The query string IM calls a callback URL with.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallbackQuery {
    /// The application.
    #[serde(rename = "SdkAppid")]
    pub sdk_appid: Option<String>,
    /// E.g. `C2C.CallbackAfterSendMsg`.
    #[serde(rename = "CallbackCommand")]
    pub callback_command: Option<String>,
    /// Usually `json`.
    pub contenttype: Option<String>,
    /// The sending client's IP.
    #[serde(rename = "ClientIP")]
    pub client_ip: Option<String>,
    /// The sending platform (`RESTAPI`, `Web`, `Android`, `iOS`, …).
    #[serde(rename = "OptPlatform")]
    pub opt_platform: Option<String>,
    /// With callback authentication on: when IM sent the callback, Unix seconds.
    #[serde(rename = "RequestTime")]
    pub request_time: Option<String>,
    /// With callback authentication on: `hex(sha256(token + RequestTime))`.
    #[serde(rename = "Sign")]
    pub sign: Option<String>,
}

impl CallbackQuery {
    /// Parses a raw query string (without `?`); unknown parameters are ignored.
    pub fn parse(raw: &str) -> Result<Self, ImError> {
        serde_urlencoded::from_str(raw).map_err(|e| ImError::invalid_url(&e.to_string()))
    }

    /// The application, when given as a number.
    pub fn sdkappid(&self) -> Option<u64> {
        self.sdk_appid.as_deref().and_then(|s| s.parse().ok())
    }

    /// Checks the callback authentication parameters against `token`.
    pub fn verify_sign(&self, token: &str, now_unix: u64) -> Result<(), CallbackSignError> {
        match (self.request_time.as_deref(), self.sign.as_deref()) {
            (Some(t), Some(s)) => verify_callback_sign(token, t, s, now_unix),
            _ => Err(CallbackSignError::Missing),
        }
    }
}

/// Why a callback's authentication failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallbackSignError {
    /// `RequestTime` or `Sign` is absent.
    #[error("the callback carries no RequestTime or Sign")]
    Missing,
    /// `RequestTime` is not a number of seconds.
    #[error("the callback's RequestTime is not a Unix time")]
    Malformed,
    /// `RequestTime` is more than [`CALLBACK_SIGN_WINDOW_SECS`] from now: a replay or a
    /// badly wrong clock.
    #[error("the callback's RequestTime {request_time} is too far from now ({now})")]
    Stale {
        /// The callback's time.
        request_time: u64,
        /// Ours.
        now: u64,
    },
    /// `Sign` was not made with this token.
    #[error("the callback's Sign does not match the token")]
    Mismatch,
}

/// The `Sign` IM computes for a callback: lowercase hex of SHA-256 over the token
/// followed by the `RequestTime` text.
pub fn callback_sign(token: &str, request_time: &str) -> String {
    let mut h = Sha256::new();
    h.update(token.as_bytes());
    h.update(request_time.as_bytes());
    hex::encode(h.finalize())
}

/// Checks IM's callback authentication: `sign` must be [`callback_sign`] of `token` and
/// `request_time`, and `request_time` within [`CALLBACK_SIGN_WINDOW_SECS`] of `now_unix`.
pub fn verify_callback_sign(
    token: &str,
    request_time: &str,
    sign: &str,
    now_unix: u64,
) -> Result<(), CallbackSignError> {
    let t: u64 = request_time
        .parse()
        .map_err(|_| CallbackSignError::Malformed)?;
    if t.abs_diff(now_unix) > CALLBACK_SIGN_WINDOW_SECS {
        return Err(CallbackSignError::Stale {
            request_time: t,
            now: now_unix,
        });
    }
    let expected = callback_sign(token, request_time);
    if constant_time_eq(expected.as_bytes(), sign.to_ascii_lowercase().as_bytes()) {
        Ok(())
    } else {
        Err(CallbackSignError::Mismatch)
    }
}

/// Compares without stopping at the first difference, so the time taken says nothing
/// about how much of a guess was right.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
