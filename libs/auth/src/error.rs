//! The one error type of the authentication crate. Every variant but
//! [`AuthError::Unavailable`] means "these credentials do not authenticate anyone": the HTTP
//! edge answers 401 with a `WWW-Authenticate` challenge carrying the variant's message.

#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum AuthError {
    /// More than one set of credentials (two `Authorization` headers): which one would we
    /// believe? Neither; the edge answers 400, not 401.
    #[error("{0}")]
    Ambiguous(String),
    /// The Authorization or DPoP header cannot be read at all.
    #[error("malformed credentials: {0}")]
    Malformed(String),
    /// The DPoP proof is not a valid proof for this request.
    #[error("invalid DPoP proof: {0}")]
    InvalidProof(String),
    /// The proof's `jti` was seen before within its validity window.
    #[error("the DPoP proof was already used")]
    Replayed,
    /// The access token is not valid (signature, lifetime, audience, binding, claims).
    #[error("invalid access token: {0}")]
    InvalidToken(String),
    /// The issuer is denied, not allowed, or not listed by the WebID as its issuer.
    #[error("untrusted issuer: {0}")]
    UntrustedIssuer(String),
    /// The issuer's keys or the WebID profile could not be fetched: we cannot verify, so we
    /// do not authenticate (a 401, not a server error: the client can do nothing else).
    #[error("cannot verify the token: {0}")]
    Unverifiable(String),
    /// Our own replay cache failed; the request may be retried.
    #[error("authentication is temporarily unavailable: {0}")]
    Unavailable(String),
}

impl AuthError {
    /// The RFC 6750 `error` code for the challenge.
    pub fn oauth_error(&self) -> &'static str {
        match self {
            AuthError::Malformed(_) | AuthError::Ambiguous(_) => "invalid_request",
            AuthError::InvalidProof(_) | AuthError::Replayed => "invalid_dpop_proof",
            _ => "invalid_token",
        }
    }
}
