//! The query strings of `sendmsg` and of IM's administrator APIs: parsed,
//! validated, written.

use serde::{Deserialize, Serialize};

use super::{ImError, MAX_ACCOUNT_LEN};
use crate::im::usersig;

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
    /// with a UserSig made with `key` and valid at `now_unix` (`sigs` remembers those
    /// verified already).
    pub fn authenticate(
        &self,
        sigs: &usersig::Remembered,
        sdkappid: u64,
        key: &str,
        admin: &str,
        now_unix: u64,
    ) -> Result<(), ImError> {
        if self.sdkappid != sdkappid {
            return Err(ImError::unknown_sdkappid());
        }
        if self.identifier != admin {
            return Err(ImError::admin_required());
        }
        sigs.verify(&self.usersig, sdkappid, key, admin, now_unix)
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
