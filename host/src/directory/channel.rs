//! Channels: a tenant's customer-service virtual accounts. A channel is an IM account
//! end users write to; it is bound to the flow its new sessions run, carries its
//! Tencent IM app settings (SDKAppID, administrator identifier, secret key), the token
//! IM's callbacks are authenticated with, and says where replies go out: to IM's REST
//! API at a base URL, and to kefu's built-in web chat.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::validate::{self, FieldErrors};

/// Longest IM account id (IM's `UserID` is at most 32 bytes).
pub const ACCOUNT_MAX: usize = 32;
/// Longest secret key or callback token.
pub const SECRET_MAX: usize = 128;
/// Longest base URL.
pub const URL_MAX: usize = 500;
/// The idle time after which a silent user's session ends (status 108), by default.
pub const DEFAULT_IDLE_TIMEOUT_SECS: u32 = 30 * 60;
/// The longest idle time an admin may choose: 7 days.
pub const MAX_IDLE_TIMEOUT_SECS: u32 = 7 * 24 * 3600;

/// A channel as stored, secrets included.
#[derive(Debug, Clone)]
pub struct Channel {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub name: String,
    /// The virtual account end users write to (IM `UserID`).
    pub account: String,
    pub sdkappid: u64,
    /// The IM administrator account kefu acts as (`identifier`).
    pub admin_identifier: String,
    /// The IM app's secret key: signs and checks UserSigs.
    pub secret_key: String,
    /// Authenticates IM's callbacks (`Sign = sha256(token + RequestTime)`).
    pub callback_token: String,
    /// The flow new sessions run (its live revision).
    pub flow_id: Option<Uuid>,
    /// Where a session goes when its flow fails without an `error` edge.
    pub default_skill_group_id: Option<Uuid>,
    /// When set, replies to IM users go out to `{im_base_url}/v4/openim/sendmsg`.
    pub im_base_url: Option<String>,
    pub webchat_enabled: bool,
    /// A session whose user stays silent this long ends with 108; 0 never.
    pub idle_timeout_secs: u32,
    /// Checks the tokens with which a site embedding the web chat vouches for its
    /// signed-in user; `None` for channels made before there were any.
    pub webchat_identity_secret: Option<String>,
    /// The web chat accepts only users a site vouched for, no anonymous visitors.
    pub webchat_require_identity: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What the API shows of a channel: the secrets only by their last characters.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChannelView {
    pub id: Uuid,
    pub name: String,
    pub account: String,
    pub sdkappid: u64,
    pub admin_identifier: String,
    /// `****` and the key's last 4 characters.
    pub secret_key_hint: String,
    /// `****` and the token's last 4 characters.
    pub callback_token_hint: String,
    pub flow_id: Option<Uuid>,
    pub default_skill_group_id: Option<Uuid>,
    pub im_base_url: Option<String>,
    pub webchat_enabled: bool,
    /// The web chat page, relative to kefu's address.
    pub webchat_path: String,
    /// `****` and the web chat identity key's last 4 characters; empty when the channel
    /// has none yet (rotate its secrets to make one).
    pub webchat_identity_secret_hint: String,
    /// Only users a site vouched for (with a token signed by the identity key) may chat.
    pub webchat_require_identity: bool,
    pub idle_timeout_secs: u32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A new channel's secrets, shown once when created or rotated.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChannelSecrets {
    pub secret_key: String,
    pub callback_token: String,
    /// Signs (HS256) the identity tokens of a site that embeds the web chat.
    pub webchat_identity_secret: String,
}

fn hint(secret: &str) -> String {
    format!("****{}", super::last_four(secret))
}

impl Channel {
    pub fn view(&self) -> ChannelView {
        ChannelView {
            id: self.id,
            name: self.name.clone(),
            account: self.account.clone(),
            sdkappid: self.sdkappid,
            admin_identifier: self.admin_identifier.clone(),
            secret_key_hint: hint(&self.secret_key),
            callback_token_hint: hint(&self.callback_token),
            flow_id: self.flow_id,
            default_skill_group_id: self.default_skill_group_id,
            im_base_url: self.im_base_url.clone(),
            webchat_enabled: self.webchat_enabled,
            webchat_path: format!("/chat/{}", self.id),
            webchat_identity_secret_hint: self
                .webchat_identity_secret
                .as_deref()
                .map(hint)
                .unwrap_or_default(),
            webchat_require_identity: self.webchat_require_identity,
            idle_timeout_secs: self.idle_timeout_secs,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }

    pub fn secrets(&self) -> ChannelSecrets {
        ChannelSecrets {
            secret_key: self.secret_key.clone(),
            callback_token: self.callback_token.clone(),
            webchat_identity_secret: self.webchat_identity_secret.clone().unwrap_or_default(),
        }
    }
}

/// A channel to create. Secrets left out are generated.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewChannel {
    /// Unique in the tenant (409 `channel_name_taken`).
    #[schema(
        max_length = 100,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub name: String,
    /// The IM account users write to: printable ASCII, no spaces; unique in the app
    /// (409 `channel_account_taken`).
    #[schema(min_length = 1, max_length = 32, pattern = r"^[!-~]+$")]
    pub account: String,
    /// The IM app; one another tenant's channels claimed is refused (409 `im_app_taken`).
    #[schema(minimum = 1, maximum = 4294967295.0)]
    pub sdkappid: u64,
    #[serde(default = "default_admin")]
    #[schema(min_length = 1, max_length = 32, pattern = r"^[!-~]+$")]
    pub admin_identifier: String,
    /// Generated when left out.
    #[serde(default)]
    #[schema(min_length = 16, max_length = 128, pattern = r"^[!-~]+$")]
    pub secret_key: Option<String>,
    /// Generated when left out.
    #[serde(default)]
    #[schema(min_length = 16, max_length = 128, pattern = r"^[!-~]+$")]
    pub callback_token: Option<String>,
    /// A flow of the tenant (422 when there is none with this id).
    #[serde(default)]
    pub flow_id: Option<Uuid>,
    /// A skill group of the tenant (422 when there is none with this id).
    #[serde(default)]
    pub default_skill_group_id: Option<Uuid>,
    /// An http(s) URL; replies to IM users go to `{im_base_url}/v4/openim/sendmsg`.
    #[serde(default)]
    #[schema(max_length = 500, pattern = r"^https?://[!-~]*[!-.0-~]$")]
    pub im_base_url: Option<String>,
    #[serde(default = "yes")]
    pub webchat_enabled: bool,
    /// Only users a site vouched for may use the web chat (default false).
    #[serde(default)]
    pub webchat_require_identity: bool,
    /// Seconds of silence after which a session ends (108); 0 never. At most 7 days.
    #[serde(default = "default_idle")]
    #[schema(maximum = 604800)]
    pub idle_timeout_secs: u32,
}

fn default_admin() -> String {
    "administrator".into()
}

fn yes() -> bool {
    true
}

fn default_idle() -> u32 {
    DEFAULT_IDLE_TIMEOUT_SECS
}

/// Changes to a channel; absent fields stay. `null` clears an optional one.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChannelPatch {
    #[schema(
        nullable = false,
        max_length = 100,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub name: Option<String>,
    #[schema(
        nullable = false,
        min_length = 1,
        max_length = 32,
        pattern = r"^[!-~]+$"
    )]
    pub admin_identifier: Option<String>,
    #[schema(
        nullable = false,
        min_length = 16,
        max_length = 128,
        pattern = r"^[!-~]+$"
    )]
    pub secret_key: Option<String>,
    #[schema(
        nullable = false,
        min_length = 16,
        max_length = 128,
        pattern = r"^[!-~]+$"
    )]
    pub callback_token: Option<String>,
    /// A flow of the tenant (422 when there is none with this id).
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub flow_id: Option<Option<Uuid>>,
    /// A skill group of the tenant (422 when there is none with this id).
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    pub default_skill_group_id: Option<Option<Uuid>>,
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>, max_length = 500, pattern = r"^https?://[!-~]*[!-.0-~]$")]
    pub im_base_url: Option<Option<String>>,
    #[schema(nullable = false)]
    pub webchat_enabled: Option<bool>,
    #[schema(nullable = false)]
    pub webchat_require_identity: Option<bool>,
    #[schema(nullable = false, maximum = 604800)]
    pub idle_timeout_secs: Option<u32>,
    /// Set by a rotation only, never by a client.
    #[serde(skip)]
    pub webchat_identity_secret: Option<String>,
}

mod double_option {
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(d).map(Some)
    }
}

/// An IM account id: 1–32 bytes of printable ASCII without spaces.
pub fn check_account(errors: &mut FieldErrors, field: &str, value: &str) {
    if value.is_empty() || value.len() > ACCOUNT_MAX {
        errors.add(field, format!("must be 1 to {ACCOUNT_MAX} bytes"));
    } else if !value.bytes().all(|b| b.is_ascii_graphic()) {
        errors.add(field, "must be printable ASCII without spaces");
    }
}

fn check_secret(errors: &mut FieldErrors, field: &str, value: &str) {
    if value.len() < 16 || value.len() > SECRET_MAX {
        errors.add(field, format!("must be 16 to {SECRET_MAX} characters"));
    } else if !value.bytes().all(|b| b.is_ascii_graphic()) {
        errors.add(field, "must be printable ASCII without spaces");
    }
}

fn check_url(errors: &mut FieldErrors, field: &str, value: &mut Option<String>) {
    if let Some(url) = value {
        let trimmed = url.trim().trim_end_matches('/').to_owned();
        if trimmed.is_empty() {
            *value = None;
        } else if trimmed.len() > URL_MAX
            || !(trimmed.starts_with("https://") || trimmed.starts_with("http://"))
            || trimmed.contains(char::is_whitespace)
        {
            errors.add(
                field,
                format!("must be an http(s) URL of at most {URL_MAX} characters"),
            );
        } else {
            *url = trimmed;
        }
    }
}

fn check_idle(errors: &mut FieldErrors, value: u32) {
    validate::range(errors, "idle_timeout_secs", value, 0, MAX_IDLE_TIMEOUT_SECS);
}

impl NewChannel {
    pub fn validate(&mut self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        validate::text(&mut errors, "name", &mut self.name, 1, 100);
        check_account(&mut errors, "account", &self.account);
        check_account(&mut errors, "admin_identifier", &self.admin_identifier);
        if self.sdkappid == 0 || self.sdkappid > u64::from(u32::MAX) {
            errors.add("sdkappid", "must be an IM SDKAppID (1 to 4294967295)");
        }
        if let Some(key) = &self.secret_key {
            check_secret(&mut errors, "secret_key", key);
        }
        if let Some(token) = &self.callback_token {
            check_secret(&mut errors, "callback_token", token);
        }
        check_url(&mut errors, "im_base_url", &mut self.im_base_url);
        check_idle(&mut errors, self.idle_timeout_secs);
        errors.into_result()
    }
}

impl ChannelPatch {
    pub fn validate(&mut self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        if let Some(name) = &mut self.name {
            validate::text(&mut errors, "name", name, 1, 100);
        }
        if let Some(admin) = &self.admin_identifier {
            check_account(&mut errors, "admin_identifier", admin);
        }
        if let Some(key) = &self.secret_key {
            check_secret(&mut errors, "secret_key", key);
        }
        if let Some(token) = &self.callback_token {
            check_secret(&mut errors, "callback_token", token);
        }
        if let Some(url) = &mut self.im_base_url {
            check_url(&mut errors, "im_base_url", url);
        }
        if let Some(idle) = self.idle_timeout_secs {
            check_idle(&mut errors, idle);
        }
        errors.into_result()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new() -> NewChannel {
        serde_json::from_value(serde_json::json!({
            "name": "Shop", "account": "kefu_shop", "sdkappid": 1400000001u64,
        }))
        .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_new_channel_gets_sensible_defaults_and_its_fields_are_checked() {
        let mut c = new();
        assert!(c.validate().is_ok());
        assert_eq!(c.admin_identifier, "administrator");
        assert!(c.webchat_enabled);
        assert_eq!(c.idle_timeout_secs, DEFAULT_IDLE_TIMEOUT_SECS);

        let mut c = new();
        c.account = "has space".into();
        c.sdkappid = 0;
        c.secret_key = Some("short".into());
        c.im_base_url = Some("ftp://x".into());
        c.idle_timeout_secs = MAX_IDLE_TIMEOUT_SECS + 1;
        let errors = c.validate().err().unwrap_or_default();
        for field in [
            "account",
            "sdkappid",
            "secret_key",
            "im_base_url",
            "idle_timeout_secs",
        ] {
            assert!(errors.get(field).is_some(), "{field} should be refused");
        }
    }

    #[test]
    fn the_view_hides_secrets_but_their_last_characters() {
        let now = Utc::now();
        let c = Channel {
            id: Uuid::nil(),
            tenant_id: Uuid::nil(),
            name: "n".into(),
            account: "a".into(),
            sdkappid: 1,
            admin_identifier: "administrator".into(),
            secret_key: "0123456789abcdefWXYZ".into(),
            callback_token: "tokentokentoken1234".into(),
            flow_id: None,
            default_skill_group_id: None,
            im_base_url: None,
            webchat_enabled: true,
            idle_timeout_secs: 0,
            webchat_identity_secret: Some("identityidentity5678".into()),
            webchat_require_identity: false,
            created_at: now,
            updated_at: now,
        };
        let v = c.view();
        assert_eq!(v.secret_key_hint, "****WXYZ");
        assert_eq!(v.callback_token_hint, "****1234");
        assert_eq!(v.webchat_identity_secret_hint, "****5678");
        let json = serde_json::to_string(&v).unwrap_or_default();
        assert!(!json.contains("0123456789"));
    }
}
