//! The one error type of the protocol core. Each variant names a protocol outcome; the HTTP
//! edge maps it to a status and an RFC 9457 problem body exactly once.

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SolidError {
    /// The request path cannot name a resource (dot segments, encoded slashes, control
    /// characters, empty segments).
    #[error("invalid resource path: {0}")]
    InvalidPath(String),
    /// The path is longer than we are willing to store.
    #[error("resource path too long: {0} bytes (limit {1})")]
    PathTooLong(usize, usize),
    /// A request body could not be parsed as the RDF syntax it claimed to be.
    #[error("could not parse {media_type}: {message}")]
    MalformedRdf { media_type: String, message: String },
    /// The request's Content-Type is not one this operation accepts.
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    /// No representation matches the Accept header.
    #[error("none of the available representations ({available}) is acceptable")]
    NotAcceptable { available: String },
    /// A patch document is well-formed syntax but violates the patch rules (N3 Patch 422).
    #[error("unprocessable patch: {0}")]
    UnprocessablePatch(String),
    /// A patch could not be applied to the current state (no or several matches, missing
    /// triples to delete).
    #[error("patch conflict: {0}")]
    PatchConflict(String),
    /// The write would change server-managed containment triples.
    #[error("containment triples are managed by the server and cannot be changed: {0}")]
    ContainmentProtected(String),
    /// A notification subscription request that names an unknown channel type, lacks a
    /// topic or asks for a feature it cannot have.
    #[error("unprocessable subscription: {0}")]
    UnprocessableSubscription(String),
    /// A malformed header or request that is the client's fault.
    #[error("{0}")]
    BadRequest(String),
    /// A Range header that no byte of the representation satisfies.
    #[error("range not satisfiable for a representation of {size} bytes")]
    RangeNotSatisfiable { size: u64 },
    /// A document that would cost more than the configured limits once parsed or evaluated
    /// (its expansion, its triples).
    #[error("{0}")]
    TooLarge(String),
    /// A document nested too deeply, or a patch whose evaluation is over its budget of
    /// patterns, solutions or time.
    #[error("{0}")]
    TooComplex(String),
}
