//! `MsgBody`'s elements, every type IM has, kept as received; and the conversions
//! between IM messages and kefu's flow types.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{
    CUSTOM_ELEM, FACE_ELEM, FILE_ELEM, IMAGE_ELEM, LOCATION_ELEM, MENU_CUSTOM_TYPE, SOUND_ELEM,
    TEXT_ELEM, VIDEO_ELEM,
};
use crate::flow::{Choice, CustomElement, MessageElement, Outgoing, UserMessage};

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
    pub(super) fn content_len(&self) -> usize {
        // `{"MsgType":"","MsgContent":}` plus the parts.
        28 + self.msg_type.len() + self.msg_content.to_string().len()
    }
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
