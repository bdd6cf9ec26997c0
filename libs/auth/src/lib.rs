//! The resource-server side of Solid-OIDC: who is making this request?
//!
//! [`Verifier::authenticate`] checks an `Authorization: DPoP` access token and its `DPoP`
//! proof (RFC 9449), the token's issuer (allow/deny lists, OpenID discovery, JWKS) and that
//! the WebID's profile names that issuer. The pure parts (`dpop`, `token`, `jose`) take the
//! clock and keys as arguments; `fetch`, `issuer` and `webid` do the network I/O, bounded.
//!
//! This crate decides identity only. What an identity may do is access control's business
//! (`podplane_solid::access`).

pub mod dpop;
pub mod error;
pub mod fetch;
pub mod issuer;
pub mod jose;
pub mod replay;
pub mod token;
pub mod verifier;
pub mod webid;

pub use error::AuthError;
pub use fetch::{FetchLimits, Fetcher};
pub use jose::{parse_algorithm, SUPPORTED};
pub use replay::{MemoryReplayCache, ReplayCache};
pub use verifier::{AuthConfig, Authenticated, Credentials, Verifier};
