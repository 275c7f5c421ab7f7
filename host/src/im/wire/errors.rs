//! IM's errors: the codes and texts IM answers with, and UserSig failures as IM's
//! codes.

use crate::im::usersig::UserSigError;

/// An IM failure as the wire carries it: `ErrorCode` and `ErrorInfo`.
///
/// | code | constructor | documented meaning |
/// |---|---|---|
/// | 60002 | [`invalid_url`](Self::invalid_url) | HTTP parse error: check the request URL |
/// | 60004 | [`missing_credentials`](Self::missing_credentials) | account or signature wrong in the URL |
/// | 60010 | [`admin_required`](Self::admin_required) | the request needs the App administrator |
/// | 60012 | [`missing_sdkappid`](Self::missing_sdkappid) | the URL must carry the SDKAppID |
/// | 70001–70014 | [`usersig`](Self::usersig) | UserSig expired / unparsable / failed / account / app mismatch |
/// | 70009 | [`usersig_other_account`](Self::usersig_other_account) | UserSig made with another channel's key |
/// | 70020 | [`unknown_sdkappid`](Self::unknown_sdkappid) | SDKAppID does not exist |
/// | 90001 | [`invalid_json`](Self::invalid_json) | the body is not JSON |
/// | 90002 | [`invalid_msg_body`](Self::invalid_msg_body) | `MsgBody` does not follow the message format |
/// | 90003 | [`invalid_to_account`](Self::invalid_to_account) | `To_Account` missing or not a valid account |
/// | 90005 | [`invalid_msg_random`](Self::invalid_msg_random) | `MsgRandom` missing or not an integer |
/// | 90007 | [`msg_body_not_array`](Self::msg_body_not_array) | `MsgBody` is not an array |
/// | 90008 | [`invalid_from_account`](Self::invalid_from_account) | `From_Account` not a valid account |
/// | 90010 | [`invalid_request`](Self::invalid_request) | the request does not follow the message format |
/// | 90026 | [`invalid_msg_life_time`](Self::invalid_msg_life_time) | `MsgLifeTime` over 7 days |
/// | 90031 | [`invalid_sync_other_machine`](Self::invalid_sync_other_machine) | `SyncOtherMachine` not an integer |
/// | 90044 | [`msg_life_time_not_integer`](Self::msg_life_time_not_integer) | `MsgLifeTime` not an integer |
/// | 90994 | [`internal`](Self::internal) | internal error, retry |
/// | 93000 | [`body_too_long`](Self::body_too_long) | message over 12 KB |
///
/// Choices where IM documents no exact code: too many elements or a second
/// `TIMCustomElem` is 90002; an account over 32 bytes is 90003 / 90008 (no such
/// account can exist); a missing `random` or a `contenttype` other than `json` is 60002;
/// a request from a non-administrator is the public 60010 rather than `sendmsg`'s 90009.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("IM error {code}: {info}")]
pub struct ImError {
    /// IM's `ErrorCode`.
    pub code: u32,
    /// IM's `ErrorInfo`.
    pub info: String,
}

impl ImError {
    /// An error with any code.
    pub fn new(code: u32, info: impl Into<String>) -> Self {
        Self {
            code,
            info: info.into(),
        }
    }
    /// 60002: the query string is malformed or lacks a required parameter.
    pub fn invalid_url(detail: &str) -> Self {
        Self::new(
            60002,
            format!("HTTP parse error, please check the request URL: {detail}"),
        )
    }
    /// 60004: `identifier` or `usersig` is missing from the query string.
    pub fn missing_credentials() -> Self {
        Self::new(
            60004,
            "identifier or usersig is missing or invalid in the request URL",
        )
    }
    /// 60010: the caller is not the App administrator.
    pub fn admin_required() -> Self {
        Self::new(60010, "the request requires App administrator permissions")
    }
    /// 60012: the query string lacks `sdkappid`.
    pub fn missing_sdkappid() -> Self {
        Self::new(60012, "the request URL must carry the SDKAppID")
    }
    /// 70001–70014: the UserSig was refused.
    pub fn usersig(err: &UserSigError) -> Self {
        Self::new(err.im_error_code(), err.to_string())
    }
    /// 70009: the UserSig is valid for the app but was not made with the key of the
    /// channel the message is for (each channel's key speaks for that channel only).
    pub fn usersig_other_account() -> Self {
        Self::new(
            70009,
            "UserSig verification failed: it was not made with the secret key of this customer-service account",
        )
    }
    /// 70020: no application has this SDKAppID.
    pub fn unknown_sdkappid() -> Self {
        Self::new(
            70020,
            "SDKAppID does not exist, UserSig verification failed",
        )
    }
    /// 90001: the body is not JSON (IM's exact text).
    pub fn invalid_json() -> Self {
        Self::new(90001, "Fail to Parse json data of body, Please check it")
    }
    /// 90002: `MsgBody` or one of its elements does not follow the message format.
    pub fn invalid_msg_body(detail: &str) -> Self {
        Self::new(
            90002,
            format!("MsgBody does not follow the message format: {detail}"),
        )
    }
    /// 90003: `To_Account` is missing, empty or not a valid account.
    pub fn invalid_to_account(detail: &str) -> Self {
        Self::new(90003, format!("To_Account is invalid: {detail}"))
    }
    /// 90005: `MsgRandom` is missing or not a 32-bit unsigned integer.
    pub fn invalid_msg_random() -> Self {
        Self::new(
            90005,
            "MsgRandom is missing or is not a 32-bit unsigned integer",
        )
    }
    /// 90007: `MsgBody` is not an array.
    pub fn msg_body_not_array() -> Self {
        Self::new(
            90007,
            "MsgBody is not an Array, please change it to an Array",
        )
    }
    /// 90008: `From_Account` is not a valid account.
    pub fn invalid_from_account(detail: &str) -> Self {
        Self::new(90008, format!("From_Account is invalid: {detail}"))
    }
    /// 90010: another field does not follow the message format.
    pub fn invalid_request(detail: &str) -> Self {
        Self::new(
            90010,
            format!("the request does not follow the message format: {detail}"),
        )
    }
    /// 90026: `MsgLifeTime` is longer than 7 days.
    pub fn invalid_msg_life_time() -> Self {
        Self::new(
            90026,
            "MsgLifeTime is invalid: at most 604800 seconds (7 days)",
        )
    }
    /// 90031: `SyncOtherMachine` is not an integer.
    pub fn invalid_sync_other_machine() -> Self {
        Self::new(90031, "SyncOtherMachine is not an Integer")
    }
    /// 90044: `MsgLifeTime` is not an integer.
    pub fn msg_life_time_not_integer() -> Self {
        Self::new(90044, "MsgLifeTime is not an Integer")
    }
    /// 90994: something failed on our side; the caller may retry. Says nothing more.
    pub fn internal() -> Self {
        Self::new(90994, "internal server error, please retry")
    }
    /// 93000: the message content is over 12 KB (or the body over [`MAX_BODY_BYTES`]).
    pub fn body_too_long() -> Self {
        Self::new(
            93000,
            "JSON data is too long: the message body must not exceed 12 KB",
        )
    }
}
