//! Tencent Cloud IM wire types: plain data and pure functions, no HTTP framework, no
//! database. Handlers parse with [`parse_sendmsg`] / [`parse_after_send_callback`] and
//! answer with [`ok_response`] / [`fail_response`], always HTTP 200 with the outcome in
//! the body, as IM does.
//!
//! - `sendmsg`: the `sendmsg` request, its checks and its answer;
//! - `query`: `sendmsg`'s query string (and the administrator's, for IM's other APIs);
//! - `callback`: the `C2C.CallbackAfterSendMsg` callback, its query, signature and answer;
//! - `elements`: message elements, and the conversions between IM messages and kefu's
//!   flow types;
//! - `errors`: IM's error codes, Tencent IM's own where it documents one (REST API
//!   public codes 60000–79999, `sendmsg` codes 90001–93000); see [`ImError`] for the
//!   table.

mod callback;
mod elements;
mod errors;
mod query;
mod sendmsg;
#[cfg(test)]
mod tests;

pub use callback::*;
pub use elements::*;
pub use errors::*;
pub use query::*;
pub use sendmsg::*;

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
