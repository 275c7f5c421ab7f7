//! The tenant's directory: agents (the people who sign in, admins included), skill
//! groups (the teams sessions are routed to) and channels (the virtual accounts end
//! users write to), as admins manage them.
//!
//! Owns the domain types and their validation rules. Must not know about HTTP or the
//! database: `http/` translates requests into these types, `store/` persists them.

pub mod agent;
pub mod channel;
pub mod skill_group;
pub mod validate;

pub use agent::{Agent, AgentFilter, AgentPatch, Membership, NewAgent, Role};
pub use channel::{Channel, ChannelPatch, ChannelSecrets, ChannelView, NewChannel};
pub use skill_group::{
    AcceptMode, NewSkillGroup, RoutingPatch, RoutingSettings, RoutingStrategy, SkillGroup,
    SkillGroupPatch,
};
pub use validate::FieldErrors;

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Which page of a list to return. Pages count from 1.
#[derive(Debug, Clone, Copy, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageRequest {
    /// Page number, from 1. Default 1.
    #[serde(default = "default_page")]
    #[param(minimum = 1, maximum = 1000000)]
    pub page: u64,
    /// Items per page, 1–100. Default 20.
    #[serde(default = "default_page_size")]
    #[param(minimum = 1, maximum = 100)]
    pub page_size: u64,
}

/// The largest page a list endpoint returns.
pub const MAX_PAGE_SIZE: u64 = 100;

fn default_page() -> u64 {
    1
}

fn default_page_size() -> u64 {
    20
}

impl Default for PageRequest {
    fn default() -> Self {
        Self {
            page: default_page(),
            page_size: default_page_size(),
        }
    }
}

impl PageRequest {
    /// Checks the bounds; a page past the end is not an error, just empty.
    pub fn validate(&self, errors: &mut FieldErrors) {
        if self.page == 0 || self.page > 1_000_000 {
            errors.add("page", "must be between 1 and 1000000");
        }
        if self.page_size == 0 || self.page_size > MAX_PAGE_SIZE {
            errors.add(
                "page_size",
                format!("must be between 1 and {MAX_PAGE_SIZE}"),
            );
        }
    }

    /// Rows to skip.
    pub fn offset(&self) -> u64 {
        (self.page.saturating_sub(1)).saturating_mul(self.page_size)
    }
}

/// One page of a list, with the total across all pages.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Matching items across all pages.
    pub total: u64,
    pub page: u64,
    pub page_size: u64,
}

impl<T> Page<T> {
    /// The page `request` asked for, holding `items`.
    pub fn of(items: Vec<T>, total: u64, request: PageRequest) -> Self {
        Self {
            items,
            total,
            page: request.page,
            page_size: request.page_size,
        }
    }

    /// The same page, each item turned by `f`.
    pub fn map<U>(self, mut f: impl FnMut(T) -> U) -> Page<U> {
        match self.try_map(|item| Ok::<_, std::convert::Infallible>(f(item))) {
            Ok(page) => page,
            Err(never) => match never {},
        }
    }

    /// The same page, each item turned by `f`, or the first error `f` answers.
    pub fn try_map<U, E>(self, f: impl FnMut(T) -> Result<U, E>) -> Result<Page<U>, E> {
        let Page {
            items,
            total,
            page,
            page_size,
        } = self;
        let items = items.into_iter().map(f).collect::<Result<_, _>>()?;
        Ok(Page {
            items,
            total,
            page,
            page_size,
        })
    }
}

/// The last four characters of a secret, all that is shown of it once stored.
pub fn last_four(secret: &str) -> String {
    let tail: Vec<char> = secret.chars().rev().take(4).collect();
    tail.into_iter().rev().collect()
}

/// Deserializes a field that distinguishes "absent" (`None`) from "null" (`Some(None)`),
/// so that a PATCH can clear an optional value.
pub(crate) fn double_option<'de, D, T>(de: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(de).map(Some)
}
