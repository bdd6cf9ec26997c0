//! RFC 9449 DPoP proofs, checked against the request they came with. Pure: the caller passes
//! the clock and does the replay check with the returned `jti`.

use crate::error::AuthError;
use crate::jose::{allowed_alg, b64url, raw_header};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::jwk::{Jwk, ThumbprintHash};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use url::Url;

/// Longest proof we read; real ones are well under 1 KiB.
pub const MAX_PROOF_BYTES: usize = 8 * 1024;
/// JWK members that only a private key has. A proof carrying one leaks its key, and a
/// symmetric key (`k`) can never prove possession.
const PRIVATE_MEMBERS: [&str; 7] = ["d", "p", "q", "dp", "dq", "qi", "k"];

#[derive(Debug, Clone)]
pub struct ProofPolicy {
    pub algorithms: Vec<Algorithm>,
    /// How old an `iat` may be (RFC 9449 leaves it to the server; CSS's verifier uses 60 s).
    pub max_age_secs: i64,
    /// Clock skew tolerated in either direction.
    pub skew_secs: i64,
    /// Reject proofs without `ath`. Off by default: widely used Solid client libraries do
    /// not send it yet.
    pub require_ath: bool,
}

/// The request a proof must describe.
#[derive(Debug, Clone, Copy)]
pub struct ProofRequest<'a> {
    pub method: &'a str,
    /// The request's absolute URL as the client addressed it (built from the public base
    /// URL, since a TLS proxy may sit in front of us).
    pub url: &'a str,
    pub access_token: &'a str,
    pub now: i64,
}

/// A verified proof.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proof {
    /// RFC 7638 SHA-256 thumbprint of the proof key; must equal the token's `cnf.jkt`.
    pub jkt: String,
    pub jti: String,
    pub iat: i64,
}

#[derive(Deserialize)]
struct Claims {
    htm: Option<String>,
    htu: Option<String>,
    iat: Option<i64>,
    jti: Option<String>,
    ath: Option<String>,
}

pub fn verify_proof(
    proof: &str,
    req: &ProofRequest<'_>,
    policy: &ProofPolicy,
) -> Result<Proof, AuthError> {
    let bad = |m: &str| AuthError::InvalidProof(m.to_owned());
    if proof.len() > MAX_PROOF_BYTES {
        return Err(bad("proof too large"));
    }
    let header = raw_header(proof).map_err(|m| bad(&m))?;
    if header.get("typ").and_then(|t| t.as_str()) != Some("dpop+jwt") {
        return Err(bad("typ must be dpop+jwt"));
    }
    let alg = allowed_alg(&header, &policy.algorithms).map_err(|m| bad(&m))?;
    let Some(jwk_json @ serde_json::Value::Object(raw_jwk)) = header.get("jwk") else {
        return Err(bad("no jwk header"));
    };
    if PRIVATE_MEMBERS.iter().any(|m| raw_jwk.contains_key(*m)) {
        return Err(bad("jwk must be a public key"));
    }
    let jwk = Jwk::deserialize(jwk_json).map_err(|_| bad("jwk is not a supported public key"))?;
    let key = DecodingKey::from_jwk(&jwk).map_err(|_| bad("jwk is not a supported public key"))?;
    // The header is parsed above already; verifying the signature over the compact form and
    // reading the claims once is all that is left (jsonwebtoken's `decode` would parse the
    // header twice more and the claims twice).
    let (signed, signature) = proof
        .rsplit_once('.')
        .ok_or_else(|| bad("not a compact JWS"))?;
    let Some((_, payload)) = signed.split_once('.').filter(|(_, p)| !p.contains('.')) else {
        return Err(bad("not a compact JWS"));
    };
    let valid = jsonwebtoken::crypto::verify(signature, signed.as_bytes(), &key, alg)
        .map_err(|e| bad(&format!("signature: {e}")))?;
    if !valid {
        return Err(bad("signature does not verify"));
    }
    let claims: Claims = URL_SAFE_NO_PAD
        .decode(payload)
        .ok()
        .and_then(|json| serde_json::from_slice(&json).ok())
        .ok_or_else(|| bad("claims are not a base64url JSON object"))?;

    if claims.htm.as_deref() != Some(req.method) {
        return Err(bad("htm does not match the request method"));
    }
    let htu = claims.htu.as_deref().ok_or_else(|| bad("no htu"))?;
    if !same_target(htu, req.url) {
        return Err(bad("htu does not match the request URL"));
    }
    let iat = claims.iat.ok_or_else(|| bad("no iat"))?;
    if iat > req.now + policy.skew_secs {
        return Err(bad("iat is in the future"));
    }
    if iat < req.now - policy.max_age_secs - policy.skew_secs {
        return Err(bad("iat is too old"));
    }
    let jti = claims.jti.filter(|j| !j.is_empty() && j.len() <= 256);
    let jti = jti.ok_or_else(|| bad("jti missing or too long"))?;
    match claims.ath {
        Some(ath) if ath != b64url(&Sha256::digest(req.access_token.as_bytes())) => {
            return Err(bad("ath does not match the access token"));
        }
        None if policy.require_ath => return Err(bad("ath is required")),
        _ => {}
    }
    let jkt = jwk
        .thumbprint(ThumbprintHash::SHA256)
        .map_err(|_| bad("cannot compute the key thumbprint"))?;
    Ok(Proof { jkt, jti, iat })
}

/// RFC 9449 §4.3: compare `htu` with the request URI without query and fragment, after
/// syntax-based normalisation (case of scheme and host, default ports, percent-encoding).
fn same_target(htu: &str, request: &str) -> bool {
    // Clients copy the URL they requested: the common case needs no parsing.
    if htu.split(['?', '#']).next() == Some(request) && !request.contains(['?', '#']) {
        return true;
    }
    let strip = |s: &str| {
        Url::parse(s).ok().map(|mut u| {
            u.set_query(None);
            u.set_fragment(None);
            u
        })
    };
    match (strip(htu), strip(request)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::same_target;

    #[test]
    fn htu_ignores_query_fragment_and_default_port() {
        assert!(same_target(
            "https://pod.example/a/b?x=1#f",
            "https://pod.example/a/b"
        ));
        assert!(same_target(
            "https://POD.example:443/a",
            "https://pod.example/a"
        ));
        assert!(!same_target(
            "https://pod.example/a/",
            "https://pod.example/a"
        ));
        assert!(!same_target(
            "http://pod.example/a",
            "https://pod.example/a"
        ));
        assert!(!same_target("not a url", "https://pod.example/a"));
    }
}
