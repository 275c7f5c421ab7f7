//! Tencent Cloud IM wire types: the `sendmsg` request, its answer and its query string,
//! the `C2C.CallbackAfterSendMsg` callback and its answer, message elements, IM's error
//! codes, and the conversions between IM messages and kefu's flow types.
//!
//! Plain data and pure functions: no HTTP framework, no database. Handlers parse with
//! [`parse_sendmsg`] / [`parse_after_send_callback`] and answer with [`ok_response`] /
//! [`fail_response`], always HTTP 200 with the outcome in the body, as IM does.
//!
//! Error codes are Tencent IM's own where it documents one (REST API public codes
//! 60000–79999, `sendmsg` codes 90001–93000); see [`ImError`] for the table.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::usersig::{self, UserSigError, Verified};
use crate::flow::{Choice, CustomElement, MessageElement, Outgoing, UserMessage};

/// The path of IM's one-to-one send endpoint.
pub const SENDMSG_PATH: &str = "/v4/openim/sendmsg";
/// The command of the callback IM sends after a one-to-one message.
pub const AFTER_SEND_MSG_COMMAND: &str = "C2C.CallbackAfterSendMsg";
/// The longest UserID IM allows, in bytes.
pub const MAX_ACCOUNT_LEN: usize = 32;
/// IM's limit on one message's content (`MsgBody` plus `CloudCustomData`), in bytes.
pub const MAX_MSG_CONTENT_BYTES: usize = 12 * 1024;
/// The largest request or callback body read at all, in bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// The most elements one message may hold (IM documents no number; 12 KB bounds it).
pub const MAX_ELEMENTS: usize = 32;
/// The most entries in `ForbidCallbackControl` or `SendMsgControl`.
pub const MAX_CONTROLS: usize = 16;
/// IM's longest offline-storage time for a message (`MsgLifeTime`): 7 days.
pub const MAX_MSG_LIFE_TIME_SECS: u32 = 604_800;
/// How far a callback's `RequestTime` may be from now (IM's callback authentication).
pub const CALLBACK_SIGN_WINDOW_SECS: u64 = 60;
/// The `type` of the JSON a menu's `TIMCustomElem` carries in `Data`.
pub const MENU_CUSTOM_TYPE: &str = "kefu.menu";

/// `MsgType` of a text element.
pub const TEXT_ELEM: &str = "TIMTextElem";
/// `MsgType` of a custom element (at most one per message).
pub const CUSTOM_ELEM: &str = "TIMCustomElem";
/// `MsgType` of an emoji element.
pub const FACE_ELEM: &str = "TIMFaceElem";
/// `MsgType` of a location element.
pub const LOCATION_ELEM: &str = "TIMLocationElem";
/// `MsgType` of an image element.
pub const IMAGE_ELEM: &str = "TIMImageElem";
/// `MsgType` of a file element.
pub const FILE_ELEM: &str = "TIMFileElem";
/// `MsgType` of a voice element.
pub const SOUND_ELEM: &str = "TIMSoundElem";
/// `MsgType` of a video element.
pub const VIDEO_ELEM: &str = "TIMVideoFileElem";

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

/// The query string of `sendmsg`, as received: every parameter optional until
/// [`validate`](Self::validate)d, so that a missing one gets IM's own error code.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendMsgQuery {
    /// The application (`sdkappid`).
    pub sdkappid: Option<String>,
    /// The administrator account (`identifier`).
    pub identifier: Option<String>,
    /// The administrator's UserSig (`usersig`).
    pub usersig: Option<String>,
    /// A random 32-bit unsigned integer (`random`).
    pub random: Option<String>,
    /// Always `json` (`contenttype`).
    pub contenttype: Option<String>,
}

/// A validated `sendmsg` query string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminQuery {
    /// The application.
    pub sdkappid: u64,
    /// The account that claims to be the administrator.
    pub identifier: String,
    /// Its UserSig, not yet verified.
    pub usersig: String,
    /// The request's random number.
    pub random: u32,
}

impl SendMsgQuery {
    /// Parses a raw query string (without `?`).
    pub fn parse(raw: &str) -> Result<Self, ImError> {
        serde_urlencoded::from_str(raw).map_err(|e| ImError::invalid_url(&e.to_string()))
    }

    /// Checks every parameter is present and well formed. A missing `contenttype` is
    /// forgiven; any value other than `json` is not.
    pub fn validate(&self) -> Result<AdminQuery, ImError> {
        let sdkappid = match self.sdkappid.as_deref() {
            None | Some("") => return Err(ImError::missing_sdkappid()),
            Some(s) => s
                .parse()
                .map_err(|_| ImError::invalid_url("sdkappid is not a number"))?,
        };
        let identifier = match self.identifier.as_deref() {
            Some(s) if !s.is_empty() && s.len() <= MAX_ACCOUNT_LEN => s.to_owned(),
            _ => return Err(ImError::missing_credentials()),
        };
        let usersig = match self.usersig.as_deref() {
            Some(s) if !s.is_empty() => s.to_owned(),
            _ => return Err(ImError::missing_credentials()),
        };
        let random = self
            .random
            .as_deref()
            .and_then(|r| r.parse().ok())
            .ok_or_else(|| ImError::invalid_url("random must be a 32-bit unsigned integer"))?;
        if let Some(ct) = self.contenttype.as_deref()
            && !ct.eq_ignore_ascii_case("json")
        {
            return Err(ImError::invalid_url("contenttype must be json"));
        }
        Ok(AdminQuery {
            sdkappid,
            identifier,
            usersig,
            random,
        })
    }
}

impl AdminQuery {
    /// Checks the request comes from application `sdkappid`'s administrator `admin`
    /// with a UserSig made with `key` and valid at `now_unix`.
    pub fn authenticate(
        &self,
        sdkappid: u64,
        key: &str,
        admin: &str,
        now_unix: u64,
    ) -> Result<Verified, ImError> {
        if self.sdkappid != sdkappid {
            return Err(ImError::unknown_sdkappid());
        }
        if self.identifier != admin {
            return Err(ImError::admin_required());
        }
        usersig::verify(&self.usersig, sdkappid, key, admin, now_unix)
            .map_err(|e| ImError::usersig(&e))
    }
}

/// The query string an administrator sends `sendmsg` with.
pub fn sendmsg_query_string(sdkappid: u64, identifier: &str, usersig: &str, random: u32) -> String {
    form_urlencoded::Serializer::new(String::new())
        .append_pair("sdkappid", &sdkappid.to_string())
        .append_pair("identifier", identifier)
        .append_pair("usersig", usersig)
        .append_pair("random", &random.to_string())
        .append_pair("contenttype", "json")
        .finish()
}

/// One element of `MsgBody`: its type and its content exactly as received, so that
/// every element type, known or not, is kept and can be stored and sent on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MsgElement {
    /// `MsgType`, e.g. `TIMTextElem`.
    #[serde(rename = "MsgType")]
    pub msg_type: String,
    /// `MsgContent`, a JSON object whose shape depends on the type.
    #[serde(rename = "MsgContent")]
    pub msg_content: Value,
}

/// A `TIMTextElem`'s content.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextElem {
    /// The text.
    #[serde(rename = "Text")]
    pub text: String,
}

/// A `TIMCustomElem`'s content.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CustomElem {
    /// The application's payload.
    #[serde(rename = "Data")]
    pub data: String,
    /// A description, shown as offline-push text.
    #[serde(rename = "Desc")]
    pub desc: String,
    /// An extension field.
    #[serde(rename = "Ext")]
    pub ext: String,
    /// A custom APNs sound.
    #[serde(rename = "Sound")]
    pub sound: String,
}

/// A `TIMFaceElem`'s content.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FaceElem {
    /// The emoji's index, as the application numbers them.
    #[serde(rename = "Index")]
    pub index: i64,
    /// Extra data.
    #[serde(rename = "Data")]
    pub data: String,
}

/// A `TIMLocationElem`'s content.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LocationElem {
    /// A description of the place.
    #[serde(rename = "Desc")]
    pub desc: String,
    /// Latitude in degrees.
    #[serde(rename = "Latitude")]
    pub latitude: f64,
    /// Longitude in degrees.
    #[serde(rename = "Longitude")]
    pub longitude: f64,
}

/// One size of a `TIMImageElem` (original, large, thumbnail).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ImageInfo {
    /// 1 original, 2 large, 3 thumbnail.
    #[serde(rename = "Type")]
    pub kind: i64,
    /// Size in bytes.
    #[serde(rename = "Size")]
    pub size: u64,
    /// Width in pixels.
    #[serde(rename = "Width")]
    pub width: u64,
    /// Height in pixels.
    #[serde(rename = "Height")]
    pub height: u64,
    /// Where to download it.
    #[serde(rename = "URL")]
    pub url: String,
}

/// A `TIMImageElem`'s content.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ImageElem {
    /// The image's unique id.
    #[serde(rename = "UUID")]
    pub uuid: String,
    /// The format code (1 JPG, 2 GIF, 3 PNG, 4 BMP, 255 other).
    #[serde(rename = "ImageFormat")]
    pub image_format: i64,
    /// The sizes available.
    #[serde(rename = "ImageInfoArray")]
    pub image_info_array: Vec<ImageInfo>,
}

/// A `TIMFileElem`'s content.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FileElem {
    /// Where to download it.
    #[serde(rename = "Url")]
    pub url: String,
    /// The file's unique id.
    #[serde(rename = "UUID")]
    pub uuid: String,
    /// Size in bytes.
    #[serde(rename = "FileSize")]
    pub file_size: u64,
    /// Its name.
    #[serde(rename = "FileName")]
    pub file_name: String,
    /// 2: downloadable from `Url`.
    #[serde(rename = "Download_Flag", alias = "DownloadFlag")]
    pub download_flag: i64,
}

/// A `TIMSoundElem`'s content.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SoundElem {
    /// Where to download it.
    #[serde(rename = "Url")]
    pub url: String,
    /// The recording's unique id.
    #[serde(rename = "UUID")]
    pub uuid: String,
    /// Size in bytes.
    #[serde(rename = "Size")]
    pub size: u64,
    /// Length in seconds.
    #[serde(rename = "Second")]
    pub second: u64,
    /// 2: downloadable from `Url`.
    #[serde(rename = "Download_Flag", alias = "DownloadFlag")]
    pub download_flag: i64,
}

/// A `TIMVideoFileElem`'s content.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "PascalCase")]
pub struct VideoFileElem {
    /// Where to download the video.
    pub video_url: String,
    /// The video's unique id.
    #[serde(rename = "VideoUUID")]
    pub video_uuid: String,
    /// Video size in bytes.
    pub video_size: u64,
    /// Video length in seconds.
    pub video_second: u64,
    /// Video format, e.g. `mp4`.
    pub video_format: String,
    /// 2: downloadable from `VideoUrl`.
    pub video_download_flag: i64,
    /// Where to download the thumbnail.
    pub thumb_url: String,
    /// The thumbnail's unique id.
    #[serde(rename = "ThumbUUID")]
    pub thumb_uuid: String,
    /// Thumbnail size in bytes.
    pub thumb_size: u64,
    /// Thumbnail width in pixels.
    pub thumb_width: u64,
    /// Thumbnail height in pixels.
    pub thumb_height: u64,
    /// Thumbnail format, e.g. `JPG`.
    pub thumb_format: String,
    /// 2: downloadable from `ThumbUrl`.
    pub thumb_download_flag: i64,
}

/// A typed view of a [`MsgElement`].
#[derive(Debug, Clone, PartialEq)]
pub enum Elem {
    /// `TIMTextElem`.
    Text(TextElem),
    /// `TIMCustomElem`.
    Custom(CustomElem),
    /// `TIMFaceElem`.
    Face(FaceElem),
    /// `TIMLocationElem`.
    Location(LocationElem),
    /// `TIMImageElem`.
    Image(ImageElem),
    /// `TIMFileElem`.
    File(FileElem),
    /// `TIMSoundElem`.
    Sound(SoundElem),
    /// `TIMVideoFileElem`.
    Video(VideoFileElem),
    /// Any other type (`TIMRelayElem`, newer ones), kept as received.
    Other {
        /// Its `MsgType`.
        msg_type: String,
        /// Its `MsgContent`.
        content: Value,
    },
}

impl MsgElement {
    /// An element of any type.
    pub fn new(msg_type: impl Into<String>, msg_content: Value) -> Self {
        Self {
            msg_type: msg_type.into(),
            msg_content,
        }
    }

    /// A `TIMTextElem`.
    pub fn text(text: &str) -> Self {
        Self::new(TEXT_ELEM, json!({ "Text": text }))
    }

    /// A `TIMCustomElem`.
    pub fn custom(c: &CustomElem) -> Self {
        Self::new(
            CUSTOM_ELEM,
            json!({ "Data": c.data, "Desc": c.desc, "Ext": c.ext, "Sound": c.sound }),
        )
    }

    /// Reads the content as its type's fields; unknown types come back as [`Elem::Other`].
    pub fn decode(&self) -> Result<Elem, serde_json::Error> {
        fn typed<T: serde::de::DeserializeOwned>(v: &Value) -> Result<T, serde_json::Error> {
            T::deserialize(v)
        }
        let c = &self.msg_content;
        Ok(match self.msg_type.as_str() {
            TEXT_ELEM => Elem::Text(typed(c)?),
            CUSTOM_ELEM => Elem::Custom(typed(c)?),
            FACE_ELEM => Elem::Face(typed(c)?),
            LOCATION_ELEM => Elem::Location(typed(c)?),
            IMAGE_ELEM => Elem::Image(typed(c)?),
            FILE_ELEM => Elem::File(typed(c)?),
            SOUND_ELEM => Elem::Sound(typed(c)?),
            VIDEO_ELEM => Elem::Video(typed(c)?),
            other => Elem::Other {
                msg_type: other.to_owned(),
                content: c.clone(),
            },
        })
    }

    /// The bytes this element takes in a message, as counted against IM's 12 KB.
    fn content_len(&self) -> usize {
        // `{"MsgType":"","MsgContent":}` plus the parts.
        28 + self.msg_type.len() + self.msg_content.to_string().len()
    }
}

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
fn parse_object(body: &[u8]) -> Result<Map<String, Value>, ImError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(ImError::body_too_long());
    }
    match serde_json::from_slice(body) {
        Ok(Value::Object(obj)) => Ok(obj),
        _ => Err(ImError::invalid_json()),
    }
}

/// The shape checks IM makes on `MsgBody` before reading its elements.
fn check_raw_elements(body: Option<&Value>) -> Result<(), ImError> {
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
fn check_msg_body(body: &[MsgElement], cloud_custom_data: Option<&str>) -> Result<(), ImError> {
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

fn check_account(account: &str, err: fn(&str) -> ImError) -> Result<(), ImError> {
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

/// kefu's view of an IM message's elements: text and custom elements typed, any other
/// element kept with its `MsgContent` as JSON text.
pub fn to_message_elements(body: &[MsgElement]) -> Vec<MessageElement> {
    body.iter()
        .map(|e| match e.decode() {
            Ok(Elem::Text(t)) => MessageElement::Text(t.text),
            Ok(Elem::Custom(c)) => MessageElement::Custom(CustomElement {
                data: c.data,
                desc: c.desc,
                ext: c.ext,
            }),
            _ => MessageElement::Other {
                msg_type: e.msg_type.clone(),
                content: e.msg_content.to_string(),
            },
        })
        .collect()
}

/// The message's text: its text elements concatenated, as IM clients render them.
pub fn plain_text(body: &[MsgElement]) -> String {
    body.iter()
        .filter_map(|e| match e.decode() {
            Ok(Elem::Text(t)) => Some(t.text),
            _ => None,
        })
        .collect()
}

/// An IM message as the flow engine receives it.
pub fn to_user_message(body: &[MsgElement], sent_at_ms: i64) -> UserMessage {
    UserMessage {
        elements: to_message_elements(body),
        text: plain_text(body),
        sent_at_ms,
    }
}

/// The IM element for one of kefu's message elements (the inverse of
/// [`to_message_elements`]).
pub fn from_message_element(e: &MessageElement) -> MsgElement {
    match e {
        MessageElement::Text(t) => MsgElement::text(t),
        MessageElement::Custom(c) => MsgElement::custom(&CustomElem {
            data: c.data.clone(),
            desc: c.desc.clone(),
            ext: c.ext.clone(),
            sound: String::new(),
        }),
        MessageElement::Other { msg_type, content } => MsgElement::new(
            msg_type.clone(),
            serde_json::from_str(content).unwrap_or_else(|_| Value::String(content.clone())),
        ),
    }
}

/// The `MsgBody` for one of kefu's outgoing messages.
///
/// A menu is a text any IM client shows (the title, then one `N. label` line per
/// choice, so that the user can answer with the number) plus, in the same message, a
/// `TIMCustomElem` whose `Data` is `{"type":"kefu.menu","title":..,"choices":[{"id","label"}]}`
/// for clients that draw buttons.
pub fn outgoing_to_msg_body(out: &Outgoing) -> Vec<MsgElement> {
    match out {
        Outgoing::Text { text } => vec![MsgElement::text(text)],
        Outgoing::Menu { title, choices } => {
            let data = json!({
                "type": MENU_CUSTOM_TYPE,
                "title": title,
                "choices": choices
                    .iter()
                    .map(|c| json!({ "id": c.id, "label": c.label }))
                    .collect::<Vec<_>>(),
            });
            vec![
                MsgElement::text(&menu_text(title, choices)),
                MsgElement::custom(&CustomElem {
                    data: data.to_string(),
                    desc: title.clone(),
                    ext: String::new(),
                    sound: String::new(),
                }),
            ]
        }
        Outgoing::Custom(c) => vec![MsgElement::custom(&CustomElem {
            data: c.data.clone(),
            desc: c.desc.clone(),
            ext: c.ext.clone(),
            sound: String::new(),
        })],
    }
}

/// A menu as plain text: the title, then `1. label`, `2. label`, … one per line.
pub fn menu_text(title: &str, choices: &[Choice]) -> String {
    let mut lines: Vec<String> = Vec::with_capacity(choices.len() + 1);
    if !title.is_empty() {
        lines.push(title.to_owned());
    }
    lines.extend(
        choices
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{}. {}", i + 1, c.label)),
    );
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::Choice;

    /// The request of REFERENCE.md §1, as an app server sends it.
    const SENDMSG: &str = r#"{
        "SyncOtherMachine": 2,
        "From_Account": "user_42",
        "To_Account": "kefu_virtual_1",
        "MsgLifeTime": 60,
        "MsgSeq": 93847636,
        "MsgRandom": 1287657,
        "ForbidCallbackControl": ["ForbidBeforeSendMsgCallback", "ForbidAfterSendMsgCallback"],
        "MsgBody": [
            {"MsgType": "TIMTextElem", "MsgContent": {"Text": "你好，我要退款"}},
            {"MsgType": "TIMCustomElem", "MsgContent": {"Data": "{\"order\":7}", "Desc": "", "Ext": "", "Sound": ""}}
        ],
        "CloudCustomData": "opaque string"
    }"#;

    /// The callback of REFERENCE.md §1.
    const CALLBACK: &str = r#"{
        "CallbackCommand": "C2C.CallbackAfterSendMsg",
        "From_Account": "user_42", "To_Account": "kefu_virtual_1",
        "MsgSeq": 48374, "MsgRandom": 2837546, "MsgTime": 1557481126,
        "MsgKey": "48374_2837546_1557481126", "MsgId": "144115217363213048-1557481126-2837546", "OnlineOnlyFlag": 0,
        "SendMsgResult": 0, "ErrorInfo": "send msg succeed", "UnreadMsgNum": 0,
        "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": "red packet"}}],
        "CloudCustomData": ""
    }"#;

    /// `body` with `edit` applied to its JSON.
    fn edited(edit: impl FnOnce(&mut Value)) -> Vec<u8> {
        let mut v: Value = serde_json::from_str(SENDMSG).expect("json");
        edit(&mut v);
        v.to_string().into_bytes()
    }

    fn code(body: &[u8]) -> u32 {
        parse_sendmsg(body).expect_err("refused").code
    }

    #[test]
    fn parses_the_reference_request() {
        let req = parse_sendmsg(SENDMSG.as_bytes()).expect("valid");
        assert_eq!(req.sync_other_machine, Some(2));
        assert_eq!(req.from_account.as_deref(), Some("user_42"));
        assert_eq!(req.to_account, "kefu_virtual_1");
        assert_eq!(req.msg_life_time, Some(60));
        assert_eq!(req.msg_seq, Some(93_847_636));
        assert_eq!(req.msg_random, 1_287_657);
        assert_eq!(req.forbid_callback_control.len(), 2);
        assert_eq!(req.cloud_custom_data.as_deref(), Some("opaque string"));
        assert_eq!(plain_text(&req.msg_body), "你好，我要退款");
        assert_eq!(
            to_message_elements(&req.msg_body),
            vec![
                MessageElement::Text("你好，我要退款".into()),
                MessageElement::Custom(CustomElement {
                    data: r#"{"order":7}"#.into(),
                    desc: String::new(),
                    ext: String::new(),
                }),
            ]
        );
        // Written back, it reads the same.
        let again = serde_json::to_vec(&req).expect("serialize");
        assert_eq!(parse_sendmsg(&again).expect("valid"), req);
    }

    #[test]
    fn minimal_request_is_from_the_administrator() {
        let body = br#"{"To_Account":"u1","MsgRandom":1,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"hi"}}]}"#;
        let req = parse_sendmsg(body).expect("valid");
        assert_eq!(req.from_account, None);
        let written = serde_json::to_value(&req).expect("serialize");
        assert_eq!(
            written,
            json!({"To_Account":"u1","MsgRandom":1,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"hi"}}]})
        );
        let empty_sender = edited(|v| v["From_Account"] = json!(""));
        assert_eq!(
            parse_sendmsg(&empty_sender).expect("valid").from_account,
            None
        );
    }

    #[test]
    fn every_element_type_is_accepted_and_kept() {
        let body = json!({"To_Account": "u1", "MsgRandom": 5, "MsgBody": [
            {"MsgType": "TIMFaceElem", "MsgContent": {"Index": 1, "Data": "content"}},
            {"MsgType": "TIMLocationElem", "MsgContent": {"Desc": "someinfo", "Latitude": 29.34, "Longitude": 116.77}},
            {"MsgType": "TIMImageElem", "MsgContent": {"UUID": "1853095_D61040894AC3DE44CDFFFB3EC7EB720F", "ImageFormat": 1,
                "ImageInfoArray": [{"Type": 1, "Size": 1853095, "Width": 2448, "Height": 3264, "URL": "https://example.com/a.jpg"}]}},
            {"MsgType": "TIMFileElem", "MsgContent": {"Url": "https://example.com/f", "UUID": "f1", "FileSize": 1773552, "FileName": "a.pdf", "Download_Flag": 2}},
            {"MsgType": "TIMSoundElem", "MsgContent": {"Url": "https://example.com/s", "UUID": "s1", "Size": 62351, "Second": 1, "Download_Flag": 2}},
            {"MsgType": "TIMVideoFileElem", "MsgContent": {"VideoUrl": "https://example.com/v", "VideoUUID": "v1", "VideoSize": 1194603,
                "VideoSecond": 5, "VideoFormat": "mp4", "VideoDownloadFlag": 2, "ThumbUrl": "https://example.com/t", "ThumbUUID": "t1",
                "ThumbSize": 13907, "ThumbWidth": 720, "ThumbHeight": 1280, "ThumbFormat": "JPG", "ThumbDownloadFlag": 2}},
            {"MsgType": "TIMRelayElem", "MsgContent": {"Title": "chat history", "MsgNum": 2}}
        ]});
        let req = parse_sendmsg(body.to_string().as_bytes()).expect("valid");
        let kinds: Vec<Elem> = req
            .msg_body
            .iter()
            .map(|e| e.decode().expect("typed"))
            .collect();
        assert!(matches!(&kinds[0], Elem::Face(f) if f.index == 1));
        assert!(matches!(&kinds[1], Elem::Location(l) if l.desc == "someinfo"));
        assert!(matches!(&kinds[2], Elem::Image(i) if i.image_info_array[0].width == 2448));
        assert!(
            matches!(&kinds[3], Elem::File(f) if f.download_flag == 2 && f.file_name == "a.pdf")
        );
        assert!(matches!(&kinds[4], Elem::Sound(s) if s.second == 1));
        assert!(
            matches!(&kinds[5], Elem::Video(v) if v.thumb_height == 1280 && v.video_uuid == "v1")
        );
        assert!(matches!(&kinds[6], Elem::Other { msg_type, .. } if msg_type == "TIMRelayElem"));
        assert_eq!(plain_text(&req.msg_body), "");
        let kefu = to_message_elements(&req.msg_body);
        let MessageElement::Other { msg_type, content } = &kefu[6] else {
            panic!("kept as another element: {:?}", kefu[6]);
        };
        assert_eq!(msg_type, "TIMRelayElem");
        let content: Value = serde_json::from_str(content).expect("JSON text");
        assert_eq!(content, json!({"Title": "chat history", "MsgNum": 2}));
        // The raw content survives, whatever its type.
        assert_eq!(
            serde_json::to_value(&req).expect("ser")["MsgBody"],
            body["MsgBody"]
        );
        assert_eq!(from_message_element(&kefu[6]), req.msg_body[6]);
    }

    #[test]
    fn malformed_requests_get_ims_codes() {
        assert_eq!(code(b"not json"), 90001);
        assert_eq!(code(b"[1,2]"), 90001);
        assert_eq!(code(&edited(|v| v["To_Account"] = Value::Null)), 90003);
        assert_eq!(code(&edited(|v| v["To_Account"] = json!(""))), 90003);
        assert_eq!(code(&edited(|v| v["To_Account"] = json!(42))), 90003);
        assert_eq!(
            code(&edited(|v| v["To_Account"] = json!("x".repeat(33)))),
            90003
        );
        assert!(parse_sendmsg(&edited(|v| v["To_Account"] = json!("x".repeat(32)))).is_ok());
        assert_eq!(
            code(&edited(|v| v["From_Account"] = json!("y".repeat(33)))),
            90008
        );
        assert_eq!(code(&edited(|v| v["From_Account"] = json!(7))), 90008);
        assert_eq!(
            code(&edited(|v| v
                .as_object_mut()
                .map(|o| o.remove("MsgRandom"))
                .map(drop)
                .unwrap_or(()))),
            90005
        );
        assert_eq!(code(&edited(|v| v["MsgRandom"] = json!("12"))), 90005);
        assert_eq!(
            code(&edited(|v| v["MsgRandom"] = json!(4_294_967_296u64))),
            90005
        );
        assert_eq!(code(&edited(|v| v["MsgBody"] = Value::Null)), 90002);
        assert_eq!(code(&edited(|v| v["MsgBody"] = json!([]))), 90002);
        assert_eq!(
            code(&edited(|v| v["MsgBody"] = json!({"MsgType": "TIMTextElem"}))),
            90007
        );
        assert_eq!(
            code(&edited(
                |v| v["MsgBody"] = json!([{"MsgContent": {"Text": "a"}}])
            )),
            90002
        );
        assert_eq!(
            code(&edited(
                |v| v["MsgBody"] = json!([{"MsgType": "TIMTextElem"}])
            )),
            90002
        );
        assert_eq!(
            code(&edited(
                |v| v["MsgBody"] = json!([{"MsgType": "TIMTextElem", "MsgContent": "a"}])
            )),
            90002
        );
        assert_eq!(
            code(&edited(
                |v| v["MsgBody"] = json!([{"MsgType": "TIMTextElem", "MsgContent": {}}])
            )),
            90002
        );
        assert_eq!(
            code(&edited(
                |v| v["MsgBody"] = json!([{"MsgType": "TIMTextElem", "MsgContent": {"Text": 5}}])
            )),
            90002
        );
        assert_eq!(
            code(&edited(
                |v| v["MsgBody"] =
                    json!([{"MsgType": "TIMFaceElem", "MsgContent": {"Index": "one"}}])
            )),
            90002
        );
        let custom = json!({"MsgType": "TIMCustomElem", "MsgContent": {"Data": "a"}});
        assert_eq!(
            code(&edited(|v| v["MsgBody"] = json!([custom, custom]))),
            90002
        );
        let text = json!({"MsgType": "TIMTextElem", "MsgContent": {"Text": "a"}});
        assert_eq!(
            code(&edited(
                |v| v["MsgBody"] = json!(vec![text.clone(); MAX_ELEMENTS + 1])
            )),
            90002
        );
        assert!(parse_sendmsg(&edited(|v| v["MsgBody"] = json!(vec![text; MAX_ELEMENTS]))).is_ok());
        assert_eq!(code(&edited(|v| v["SyncOtherMachine"] = json!("2"))), 90031);
        assert_eq!(code(&edited(|v| v["MsgLifeTime"] = json!(1.5))), 90044);
        assert_eq!(code(&edited(|v| v["MsgLifeTime"] = json!(604_801))), 90026);
        assert!(parse_sendmsg(&edited(|v| v["MsgLifeTime"] = json!(604_800))).is_ok());
        assert_eq!(code(&edited(|v| v["MsgSeq"] = json!(-1))), 90010);
        assert_eq!(
            code(&edited(|v| v["CloudCustomData"] = json!({"a": 1}))),
            90010
        );
        assert_eq!(
            code(&edited(|v| v["ForbidCallbackControl"] = json!("x"))),
            90010
        );
        assert_eq!(
            code(&edited(
                |v| v["SendMsgControl"] = json!(vec!["NoUnread"; MAX_CONTROLS + 1])
            )),
            90010
        );
    }

    #[test]
    fn sizes_are_bounded() {
        let text =
            |n: usize| json!([{"MsgType": "TIMTextElem", "MsgContent": {"Text": "a".repeat(n)}}]);
        assert!(parse_sendmsg(&edited(|v| v["MsgBody"] = text(10_000))).is_ok());
        assert_eq!(
            code(&edited(|v| v["MsgBody"] = text(MAX_MSG_CONTENT_BYTES))),
            93000
        );
        // The custom data counts towards the same 12 KB.
        assert_eq!(
            code(&edited(|v| {
                v["MsgBody"] = text(7_000);
                v["CloudCustomData"] = json!("c".repeat(7_000));
            })),
            93000
        );
        let huge = vec![b' '; MAX_BODY_BYTES + 1];
        assert_eq!(code(&huge), 93000);
    }

    #[test]
    fn answers_have_ims_shape() {
        let ok = serde_json::to_value(ok_response(1_572_870_301, "89541_2574206_1572870301"))
            .expect("ser");
        assert_eq!(
            ok,
            json!({"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0,"MsgTime":1572870301,"MsgKey":"89541_2574206_1572870301"})
        );
        let fail = serde_json::to_string(&fail_response(&ImError::invalid_json())).expect("ser");
        assert_eq!(
            fail,
            r#"{"ActionStatus":"FAIL","ErrorInfo":"Fail to Parse json data of body, Please check it","ErrorCode":90001}"#
        );
        let parsed: SendMsgResponse = serde_json::from_str(&fail).expect("parse");
        assert_eq!(parsed.error(), Some(ImError::invalid_json()));
        assert_eq!(ok_response(1, "k").error(), None);
        assert_eq!(
            serde_json::to_value(CallbackResponse::ok()).expect("ser"),
            json!({"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0})
        );
        assert_eq!(
            msg_key(48_374, 2_837_546, 1_557_481_126),
            "48374_2837546_1557481126"
        );
    }

    #[test]
    fn query_string_is_validated() {
        let sig = usersig::generate(1_400_000_001, "key", "administrator", 3600, 1_000);
        let raw = sendmsg_query_string(1_400_000_001, "administrator", &sig, 99);
        let q = SendMsgQuery::parse(&raw)
            .expect("parse")
            .validate()
            .expect("valid");
        assert_eq!(q.sdkappid, 1_400_000_001);
        assert_eq!(q.random, 99);
        assert_eq!(q.usersig, sig);
        assert!(
            q.authenticate(1_400_000_001, "key", "administrator", 1_000)
                .is_ok()
        );
        assert_eq!(
            q.authenticate(1_400_000_002, "key", "administrator", 1_000)
                .map_err(|e| e.code),
            Err(70020)
        );
        assert_eq!(
            q.authenticate(1_400_000_001, "key", "someone", 1_000)
                .map_err(|e| e.code),
            Err(60010)
        );
        assert_eq!(
            q.authenticate(1_400_000_001, "other", "administrator", 1_000)
                .map_err(|e| e.code),
            Err(70009)
        );
        assert_eq!(
            q.authenticate(1_400_000_001, "key", "administrator", 5_000)
                .map_err(|e| e.code),
            Err(70001)
        );

        let check = |raw: &str| {
            SendMsgQuery::parse(raw)
                .and_then(|q| q.validate())
                .map(drop)
                .map_err(|e| e.code)
        };
        assert_eq!(check("identifier=a&usersig=s&random=1"), Err(60012));
        assert_eq!(
            check("sdkappid=x&identifier=a&usersig=s&random=1"),
            Err(60002)
        );
        assert_eq!(check("sdkappid=1&usersig=s&random=1"), Err(60004));
        assert_eq!(check("sdkappid=1&identifier=a&random=1"), Err(60004));
        assert_eq!(check("sdkappid=1&identifier=a&usersig=s"), Err(60002));
        assert_eq!(
            check("sdkappid=1&identifier=a&usersig=s&random=-3"),
            Err(60002)
        );
        assert_eq!(
            check("sdkappid=1&identifier=a&usersig=s&random=3&contenttype=xml"),
            Err(60002)
        );
        assert_eq!(
            check("sdkappid=1&identifier=a&usersig=s&random=3&contenttype=JSON"),
            Ok(())
        );
        assert_eq!(check("sdkappid=1&identifier=a&usersig=s&random=3"), Ok(()));
        assert_eq!(
            check("sdkappid=1&sdkappid=2&identifier=a&usersig=s&random=3"),
            Err(60002)
        );
    }

    #[test]
    fn parses_the_reference_callback() {
        let cb = parse_after_send_callback(CALLBACK.as_bytes()).expect("valid");
        assert_eq!(cb.from_account, "user_42");
        assert_eq!(cb.to_account, "kefu_virtual_1");
        assert_eq!(cb.msg_key, msg_key(cb.msg_seq, cb.msg_random, cb.msg_time));
        assert_eq!(cb.send_msg_result, 0);
        let m = to_user_message(&cb.msg_body, 1_557_481_126_000);
        assert_eq!(m.text, "red packet");
        assert_eq!(m.elements, vec![MessageElement::Text("red packet".into())]);

        let mut other: Value = serde_json::from_str(CALLBACK).expect("json");
        other["CallbackCommand"] = json!("C2C.CallbackBeforeSendMsg");
        assert_eq!(
            parse_after_send_callback(other.to_string().as_bytes()).map_err(|e| e.code),
            Err(90010)
        );
        other["CallbackCommand"] = json!(AFTER_SEND_MSG_COMMAND);
        other["MsgBody"] = json!("text");
        assert_eq!(
            parse_after_send_callback(other.to_string().as_bytes()).map_err(|e| e.code),
            Err(90007)
        );
        assert_eq!(
            parse_after_send_callback(b"{").map_err(|e| e.code),
            Err(90001)
        );
    }

    #[test]
    fn callback_query_and_sign() {
        let now = 1_700_000_000u64;
        let t = now.to_string();
        let sign = callback_sign("my_token", &t);
        assert_eq!(sign.len(), 64);
        let raw = format!(
            "SdkAppid=1400000000&CallbackCommand=C2C.CallbackAfterSendMsg&contenttype=json&ClientIP=1.2.3.4&OptPlatform=RESTAPI&RequestTime={t}&Sign={sign}&Extra=1"
        );
        let q = CallbackQuery::parse(&raw).expect("parse");
        assert_eq!(q.sdkappid(), Some(1_400_000_000));
        assert_eq!(q.callback_command.as_deref(), Some(AFTER_SEND_MSG_COMMAND));
        assert_eq!(q.opt_platform.as_deref(), Some("RESTAPI"));
        assert_eq!(q.verify_sign("my_token", now + 60), Ok(()));
        assert_eq!(q.verify_sign("my_token", now - 60), Ok(()));
        assert!(matches!(
            q.verify_sign("my_token", now + 61),
            Err(CallbackSignError::Stale { .. })
        ));
        assert_eq!(
            q.verify_sign("other_token", now),
            Err(CallbackSignError::Mismatch)
        );
        assert_eq!(
            verify_callback_sign("my_token", &t, &sign.to_uppercase(), now),
            Ok(())
        );
        assert_eq!(
            verify_callback_sign("my_token", "soon", &sign, now),
            Err(CallbackSignError::Malformed)
        );
        assert_eq!(
            verify_callback_sign("my_token", &t, "", now),
            Err(CallbackSignError::Mismatch)
        );
        assert_eq!(
            CallbackQuery::default().verify_sign("my_token", now),
            Err(CallbackSignError::Missing)
        );
        // sha256("" + "0"): the rule is plain concatenation, hex encoded.
        assert_eq!(
            callback_sign("", "0"),
            "5feceb66ffc86f38d952786c6d696c79c2dbc239dd4e91b46729d73a27fb57e9"
        );
    }

    #[test]
    fn outgoing_messages_become_msg_bodies() {
        assert_eq!(
            outgoing_to_msg_body(&Outgoing::Text {
                text: "您好".into()
            }),
            vec![MsgElement::text("您好")]
        );

        let menu = Outgoing::Menu {
            title: "请选择服务".into(),
            choices: vec![
                Choice {
                    id: "refund".into(),
                    label: "退款".into(),
                },
                Choice {
                    id: "human".into(),
                    label: "人工客服".into(),
                },
            ],
        };
        let body = outgoing_to_msg_body(&menu);
        assert_eq!(body.len(), 2);
        assert_eq!(plain_text(&body), "请选择服务\n1. 退款\n2. 人工客服");
        let Ok(Elem::Custom(custom)) = body[1].decode() else {
            panic!("a custom element: {:?}", body[1]);
        };
        let data: Value = serde_json::from_str(&custom.data).expect("json data");
        assert_eq!(
            data,
            json!({"type": "kefu.menu", "title": "请选择服务", "choices": [
                {"id": "refund", "label": "退款"}, {"id": "human", "label": "人工客服"}]})
        );
        // What kefu sends passes the checks IM makes.
        let req = SendMsgRequest::new("user_42", 7, body);
        assert_eq!(req.validate(), Ok(()));
        assert_eq!(
            menu_text(
                "",
                &[Choice {
                    id: "a".into(),
                    label: "A".into()
                }]
            ),
            "1. A"
        );

        let custom = CustomElement {
            data: "{}".into(),
            desc: "d".into(),
            ext: "e".into(),
        };
        let body = outgoing_to_msg_body(&Outgoing::Custom(custom.clone()));
        assert_eq!(
            body,
            vec![MsgElement::new(
                CUSTOM_ELEM,
                json!({"Data": "{}", "Desc": "d", "Ext": "e", "Sound": ""})
            )]
        );
        assert_eq!(
            to_message_elements(&body),
            vec![MessageElement::Custom(custom)]
        );
    }

    #[test]
    fn texts_are_concatenated() {
        let body = vec![
            MsgElement::text("hello "),
            MsgElement::new(FACE_ELEM, json!({"Index": 3, "Data": ""})),
            MsgElement::text("world"),
        ];
        assert_eq!(plain_text(&body), "hello world");
        assert!(
            matches!(&to_message_elements(&body)[1], MessageElement::Other { msg_type, .. } if msg_type == FACE_ELEM)
        );
        assert_eq!(
            from_message_element(&MessageElement::Text("x".into())),
            MsgElement::text("x")
        );
    }

    #[test]
    fn usersig_failures_map_to_ims_codes() {
        let e = ImError::usersig(&UserSigError::Expired {
            expired_at: 1,
            now: 2,
        });
        assert_eq!(e.code, 70001);
        assert!(e.info.contains("expired"));
        assert_eq!(fail_response(&e).error_code, 70001);
    }
}
