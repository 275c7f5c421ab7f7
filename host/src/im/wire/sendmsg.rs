//! The body of `sendmsg`: parsed, checked against IM's rules with IM's codes, and
//! answered.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{
    Elem, ImError, MAX_ACCOUNT_LEN, MAX_BODY_BYTES, MAX_CONTROLS, MAX_ELEMENTS,
    MAX_MSG_CONTENT_BYTES, MAX_MSG_LIFE_TIME_SECS, MsgElement,
};

/// The body of `POST /v4/openim/sendmsg`. Optional fields absent on the wire are
/// `None` (or empty) and are not written back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SendMsgRequest {
    /// 1: also sync to the sender's other devices; 2: do not.
    #[serde(
        rename = "SyncOtherMachine",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub sync_other_machine: Option<u8>,
    /// The sender; `None` means the administrator itself.
    #[serde(
        rename = "From_Account",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub from_account: Option<String>,
    /// The receiver.
    #[serde(rename = "To_Account")]
    pub to_account: String,
    /// Offline storage time in seconds (0: online only).
    #[serde(
        rename = "MsgLifeTime",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub msg_life_time: Option<u32>,
    /// The sender's sequence number.
    #[serde(rename = "MsgSeq", default, skip_serializing_if = "Option::is_none")]
    pub msg_seq: Option<u32>,
    /// The message's random number: with the accounts, its identity across retries.
    #[serde(rename = "MsgRandom")]
    pub msg_random: u32,
    /// Callbacks not to fire for this message.
    #[serde(
        rename = "ForbidCallbackControl",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub forbid_callback_control: Vec<String>,
    /// Delivery options (`NoUnread`, `NoLastMsg`, `WithMuteNotifications`).
    #[serde(
        rename = "SendMsgControl",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub send_msg_control: Vec<String>,
    /// The message.
    #[serde(rename = "MsgBody")]
    pub msg_body: Vec<MsgElement>,
    /// Opaque data for the application.
    #[serde(
        rename = "CloudCustomData",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub cloud_custom_data: Option<String>,
    /// Offline-push settings, kept as received.
    #[serde(
        rename = "OfflinePushInfo",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub offline_push_info: Option<Value>,
}

impl SendMsgRequest {
    /// A request with only the required fields.
    pub fn new(to_account: impl Into<String>, msg_random: u32, msg_body: Vec<MsgElement>) -> Self {
        Self {
            sync_other_machine: None,
            from_account: None,
            to_account: to_account.into(),
            msg_life_time: None,
            msg_seq: None,
            msg_random,
            forbid_callback_control: Vec::new(),
            send_msg_control: Vec::new(),
            msg_body,
            cloud_custom_data: None,
            offline_push_info: None,
        }
    }

    /// Checks the limits IM enforces on a well-typed request.
    pub fn validate(&self) -> Result<(), ImError> {
        check_account(&self.to_account, ImError::invalid_to_account)?;
        if let Some(from) = &self.from_account {
            check_account(from, ImError::invalid_from_account)?;
        }
        if self
            .msg_life_time
            .is_some_and(|t| t > MAX_MSG_LIFE_TIME_SECS)
        {
            return Err(ImError::invalid_msg_life_time());
        }
        if self.forbid_callback_control.len() > MAX_CONTROLS
            || self.send_msg_control.len() > MAX_CONTROLS
        {
            return Err(ImError::invalid_request("too many control entries"));
        }
        check_msg_body(&self.msg_body, self.cloud_custom_data.as_deref())
    }
}

/// Parses and validates a `sendmsg` body, answering malformed ones with IM's codes.
pub fn parse_sendmsg(body: &[u8]) -> Result<SendMsgRequest, ImError> {
    let obj = parse_object(body)?;
    match obj.get("To_Account") {
        Some(Value::String(_)) => {}
        None | Some(Value::Null) => return Err(ImError::invalid_to_account("missing")),
        Some(_) => return Err(ImError::invalid_to_account("not a string")),
    }
    if obj
        .get("MsgRandom")
        .and_then(Value::as_u64)
        .is_none_or(|r| r > u64::from(u32::MAX))
    {
        return Err(ImError::invalid_msg_random());
    }
    if !matches!(
        obj.get("From_Account"),
        None | Some(Value::Null | Value::String(_))
    ) {
        return Err(ImError::invalid_from_account("not a string"));
    }
    if obj
        .get("SyncOtherMachine")
        .is_some_and(|v| !v.is_null() && v.as_u64().is_none_or(|n| n > u64::from(u8::MAX)))
    {
        return Err(ImError::invalid_sync_other_machine());
    }
    if let Some(v) = obj.get("MsgLifeTime").filter(|v| !v.is_null()) {
        match v.as_u64() {
            None => return Err(ImError::msg_life_time_not_integer()),
            Some(n) if n > u64::from(MAX_MSG_LIFE_TIME_SECS) => {
                return Err(ImError::invalid_msg_life_time());
            }
            Some(_) => {}
        }
    }
    check_raw_elements(obj.get("MsgBody"))?;

    let mut req: SendMsgRequest = serde_json::from_value(Value::Object(obj))
        .map_err(|e| ImError::invalid_request(&e.to_string()))?;
    // An empty sender is read as no sender: the administrator.
    if req.from_account.as_deref() == Some("") {
        req.from_account = None;
    }
    req.validate()?;
    Ok(req)
}

/// Reads a bounded body as a JSON object.
pub(super) fn parse_object(body: &[u8]) -> Result<Map<String, Value>, ImError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(ImError::body_too_long());
    }
    match serde_json::from_slice(body) {
        Ok(Value::Object(obj)) => Ok(obj),
        _ => Err(ImError::invalid_json()),
    }
}

/// The shape checks IM makes on `MsgBody` before reading its elements.
pub(super) fn check_raw_elements(body: Option<&Value>) -> Result<(), ImError> {
    let elements = match body {
        None | Some(Value::Null) => return Err(ImError::invalid_msg_body("missing")),
        Some(Value::Array(a)) => a,
        Some(_) => return Err(ImError::msg_body_not_array()),
    };
    for (i, e) in elements.iter().enumerate() {
        let ok = e.get("MsgType").is_some_and(Value::is_string)
            && e.get("MsgContent").is_some_and(Value::is_object);
        if !ok {
            return Err(ImError::invalid_msg_body(&format!(
                "element {i} needs a string MsgType and an object MsgContent"
            )));
        }
    }
    Ok(())
}

/// The limits on a message's elements and size.
pub(super) fn check_msg_body(
    body: &[MsgElement],
    cloud_custom_data: Option<&str>,
) -> Result<(), ImError> {
    if body.is_empty() {
        return Err(ImError::invalid_msg_body("no elements"));
    }
    if body.len() > MAX_ELEMENTS {
        return Err(ImError::invalid_msg_body(&format!(
            "more than {MAX_ELEMENTS} elements"
        )));
    }
    let size = body.iter().map(MsgElement::content_len).sum::<usize>()
        + cloud_custom_data.map_or(0, str::len);
    if size > MAX_MSG_CONTENT_BYTES {
        return Err(ImError::body_too_long());
    }
    let mut customs = 0;
    for (i, e) in body.iter().enumerate() {
        if e.msg_type.is_empty() || !e.msg_content.is_object() {
            return Err(ImError::invalid_msg_body(&format!(
                "element {i} needs a MsgType and an object MsgContent"
            )));
        }
        let elem = e.decode().map_err(|err| {
            ImError::invalid_msg_body(&format!("element {i} ({}): {err}", e.msg_type))
        })?;
        if matches!(elem, Elem::Custom(_)) {
            customs += 1;
        }
    }
    if customs > 1 {
        return Err(ImError::invalid_msg_body(
            "at most one TIMCustomElem per message",
        ));
    }
    Ok(())
}

pub(super) fn check_account(account: &str, err: fn(&str) -> ImError) -> Result<(), ImError> {
    if account.is_empty() {
        return Err(err("empty"));
    }
    if account.len() > MAX_ACCOUNT_LEN {
        return Err(err("longer than 32 bytes"));
    }
    Ok(())
}

/// IM's `ActionStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ActionStatus {
    /// `"OK"`.
    #[serde(rename = "OK")]
    Ok,
    /// `"FAIL"`.
    #[serde(rename = "FAIL")]
    Fail,
}

/// The answer to `sendmsg` (HTTP 200 either way).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendMsgResponse {
    /// `OK` or `FAIL`.
    #[serde(rename = "ActionStatus")]
    pub action_status: ActionStatus,
    /// Empty on success.
    #[serde(rename = "ErrorInfo", default)]
    pub error_info: String,
    /// 0 on success.
    #[serde(rename = "ErrorCode", default)]
    pub error_code: u32,
    /// When the message was accepted, in Unix seconds (success only).
    #[serde(rename = "MsgTime", default, skip_serializing_if = "Option::is_none")]
    pub msg_time: Option<u64>,
    /// The message's key, for recalls (success only).
    #[serde(rename = "MsgKey", default, skip_serializing_if = "Option::is_none")]
    pub msg_key: Option<String>,
}

impl SendMsgResponse {
    /// The failure this answer reports, if it reports one.
    pub fn error(&self) -> Option<ImError> {
        (self.action_status == ActionStatus::Fail || self.error_code != 0)
            .then(|| ImError::new(self.error_code, self.error_info.clone()))
    }
}

/// A successful `sendmsg` answer.
pub fn ok_response(msg_time: u64, msg_key: &str) -> SendMsgResponse {
    SendMsgResponse {
        action_status: ActionStatus::Ok,
        error_info: String::new(),
        error_code: 0,
        msg_time: Some(msg_time),
        msg_key: Some(msg_key.to_owned()),
    }
}

/// A failed `sendmsg` answer.
pub fn fail_response(err: &ImError) -> SendMsgResponse {
    SendMsgResponse {
        action_status: ActionStatus::Fail,
        error_info: err.info.clone(),
        error_code: err.code,
        msg_time: None,
        msg_key: None,
    }
}

/// IM's `MsgKey` for a one-to-one message: `<MsgSeq>_<MsgRandom>_<MsgTime>`.
pub fn msg_key(msg_seq: u32, msg_random: u32, msg_time: u64) -> String {
    format!("{msg_seq}_{msg_random}_{msg_time}")
}
