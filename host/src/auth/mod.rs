//! Authentication: password hashing, access tokens (JWT), rotating refresh tokens and
//! the slowing of repeated failed logins.
//!
//! Owns who a caller is and what role they have. Must not know about customer
//! sessions or routing. The HTTP extractor that applies it lives in `http::extract`.

pub mod jwt;
pub mod password;
pub mod service;
pub mod throttle;

pub use jwt::{Claims, TokenError, TokenKeys};
pub use service::{AuthError, TokenPair};
pub use throttle::LoginThrottle;
