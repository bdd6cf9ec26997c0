//! JOSE details shared by proofs and access tokens: which algorithms we accept, and reading a
//! JWS header as raw JSON (jsonwebtoken's typed header drops members we must look at, such as
//! private-key parameters inside an embedded `jwk`).

use crate::error::AuthError;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::Algorithm;
use serde_json::{Map, Value};

/// Asymmetric algorithms Solid-OIDC uses. `none` and the HMAC family are never accepted: with
/// HMAC, a public key would become a shared secret anyone can sign with.
pub const SUPPORTED: [Algorithm; 4] = [
    Algorithm::ES256,
    Algorithm::RS256,
    Algorithm::PS256,
    Algorithm::EdDSA,
];

/// Parses an algorithm name from configuration; only [`SUPPORTED`] ones are valid.
pub fn parse_algorithm(name: &str) -> Option<Algorithm> {
    let alg: Algorithm = name.trim().parse().ok()?;
    SUPPORTED.contains(&alg).then_some(alg)
}

/// The JOSE header of a compact JWS, as JSON. A header with `crit` is refused: it names
/// extensions the recipient must understand, and we understand none (RFC 7515 §4.1.11).
pub fn raw_header(jws: &str) -> Result<Map<String, Value>, String> {
    let segment = jws.split('.').next().unwrap_or_default();
    let bytes = URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|_| "header is not base64url".to_owned())?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(map)) if map.contains_key("crit") => {
            Err("crit names extensions this server does not understand".into())
        }
        Ok(Value::Object(map)) => Ok(map),
        _ => Err("header is not a JSON object".into()),
    }
}

/// The header's `alg`, if it is one of `allowed`.
pub fn allowed_alg(
    header: &Map<String, Value>,
    allowed: &[Algorithm],
) -> Result<Algorithm, String> {
    let name = header.get("alg").and_then(Value::as_str).ok_or("no alg")?;
    let alg: Algorithm = name
        .parse()
        .map_err(|_| format!("alg {name} is not accepted"))?;
    if allowed.contains(&alg) {
        Ok(alg)
    } else {
        Err(format!("alg {name} is not accepted"))
    }
}

pub fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn malformed(m: impl Into<String>) -> AuthError {
    AuthError::Malformed(m.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn critical_extensions_are_refused() {
        let header = |json: &str| format!("{}.e30.sig", b64url(json.as_bytes()));
        assert!(raw_header(&header(r#"{"alg":"ES256","typ":"dpop+jwt"}"#)).is_ok());
        let err = raw_header(&header(r#"{"alg":"ES256","crit":["exp"],"exp":1}"#)).unwrap_err();
        assert!(err.contains("crit"), "{err}");
        assert!(raw_header("!!!.e30.sig").is_err());
        assert!(raw_header(&header("[1]")).is_err());
    }
}
