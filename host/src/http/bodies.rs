//! The documented shape of request bodies whose handlers read them loosely and check
//! them by hand, so that they can name every problem at once (`fields`). The handlers
//! accept what these describe; the types exist for the OpenAPI document alone.

#![allow(
    dead_code,
    reason = "only the schemas are used; the handlers read the JSON"
)]

use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// One element of a message an agent writes.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum AgentElement {
    Text {
        /// 1 to 2000 characters, not only white space.
        #[schema(max_length = 2000, pattern = r"^[\s\S]*\S[\s\S]*$")]
        text: String,
    },
    /// IM's custom element; each field is at most 8 KiB of UTF-8 (2048 characters are
    /// always within it).
    Custom {
        #[schema(min_length = 1, max_length = 2048)]
        data: String,
        #[serde(default)]
        #[schema(max_length = 2048)]
        desc: String,
        #[serde(default)]
        #[schema(max_length = 2048)]
        ext: String,
    },
}

/// Where to transfer a session: an agent (online, free and under their cap, else 409
/// `agent_unavailable`) or a skill group's queue, with an optional note for whoever
/// takes it next.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum TransferTarget {
    Agent(ToAgent),
    Group(ToGroup),
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ToAgent {
    pub agent_id: Uuid,
    /// At most 500 characters.
    #[serde(default)]
    #[schema(max_length = 500)]
    pub note: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ToGroup {
    pub skill_group_id: Uuid,
    /// At most 500 characters.
    #[serde(default)]
    #[schema(max_length = 500)]
    pub note: Option<String>,
}

/// A WebAssembly component, as the raw bytes of the body.
#[derive(Debug, ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct ComponentBytes(Vec<u8>);

/// A dry run's session variables: at most 200, name → any JSON value.
pub fn variables() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::Object)
        .max_properties(Some(200))
        .build()
}

/// A module's private state: bytes, as numbers from 0 to 255.
pub fn byte_list() -> utoipa::openapi::schema::Array {
    use utoipa::openapi::{ArrayBuilder, ObjectBuilder, Type};
    let byte = ObjectBuilder::new()
        .schema_type(Type::Integer)
        .minimum(Some(0))
        .maximum(Some(255));
    ArrayBuilder::new()
        .schema_type(utoipa::openapi::schema::SchemaType::from_iter([
            Type::Array,
            Type::Null,
        ]))
        .items(byte)
        .build()
}
