//! Solid-OIDC access tokens: reading the issuer before verification (to find its keys), then
//! verifying signature and claims against a key set. Pure: keys and clock come from the caller.

use crate::error::AuthError;
use crate::jose::{allowed_alg, raw_header};
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{decode, Algorithm, DecodingKey, Validation};
use serde::Deserialize;

/// Longest access token we read; larger ones are refused before any parsing.
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;

#[derive(Debug, Clone)]
pub struct TokenPolicy {
    pub algorithms: Vec<Algorithm>,
    pub skew_secs: i64,
}

/// What we learn from a token before trusting it.
#[derive(Debug, Clone)]
pub struct Unverified {
    pub issuer: String,
    pub kid: Option<String>,
    pub alg: Algorithm,
}

/// The claims of a verified access token that the server acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessToken {
    pub issuer: String,
    pub webid: String,
    pub client_id: Option<String>,
    /// `cnf.jkt`: the thumbprint of the key the token is bound to (DPoP).
    pub jkt: Option<String>,
    pub exp: i64,
}

#[derive(Deserialize)]
struct IssuerOnly {
    iss: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
struct Cnf {
    jkt: Option<String>,
}

#[derive(Deserialize)]
struct Claims {
    iss: String,
    aud: Option<Audience>,
    exp: Option<i64>,
    nbf: Option<i64>,
    iat: Option<i64>,
    webid: Option<String>,
    client_id: Option<String>,
    azp: Option<String>,
    cnf: Option<Cnf>,
}

fn invalid(m: impl Into<String>) -> AuthError {
    AuthError::InvalidToken(m.into())
}

/// Reads the issuer, key id and algorithm without verifying anything.
pub fn peek(token: &str, policy: &TokenPolicy) -> Result<Unverified, AuthError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(invalid("token too large"));
    }
    let header = raw_header(token).map_err(invalid)?;
    let alg = allowed_alg(&header, &policy.algorithms).map_err(invalid)?;
    let kid = header
        .get("kid")
        .and_then(|k| k.as_str())
        .map(str::to_owned);
    let claims: IssuerOnly = jsonwebtoken::dangerous::insecure_decode(token)
        .map_err(|e| invalid(format!("not a JWT: {e}")))?
        .claims;
    let issuer = claims.iss.ok_or_else(|| invalid("no iss"))?;
    Ok(Unverified { issuer, kid, alg })
}

/// The key that should have signed the token: the one named by `kid`, or the only key of a
/// suitable type when the token names none. `None` means "not in this set" (refresh, maybe).
pub fn select_key<'a>(keys: &'a JwkSet, peeked: &Unverified) -> Option<&'a Jwk> {
    let usable = |k: &&Jwk| {
        let alg_ok = k
            .common
            .key_algorithm
            .is_none_or(|a| a.to_string() == format!("{:?}", peeked.alg));
        let family_ok = DecodingKey::from_jwk(k).is_ok_and(|d| d.family() == peeked.alg.family());
        alg_ok && family_ok
    };
    match &peeked.kid {
        Some(kid) => keys
            .keys
            .iter()
            .filter(|k| k.common.key_id.as_deref() == Some(kid))
            .find(usable),
        None => {
            let mut candidates = keys.keys.iter().filter(usable);
            let only = candidates.next();
            candidates.next().is_none().then_some(only).flatten()
        }
    }
}

/// Verifies signature and claims: `exp`/`nbf`/`iat` within skew, `aud` containing `solid`,
/// a `webid`, and the issuer we looked the key up for.
pub fn verify(
    token: &str,
    key: &Jwk,
    peeked: &Unverified,
    now: i64,
    policy: &TokenPolicy,
) -> Result<AccessToken, AuthError> {
    let decoding = DecodingKey::from_jwk(key).map_err(|e| invalid(format!("issuer key: {e}")))?;
    let mut validation = Validation::new(peeked.alg);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    let c = decode::<Claims>(token, &decoding, &validation)
        .map_err(|e| invalid(format!("signature or claims: {e}")))?
        .claims;
    if c.iss != peeked.issuer {
        return Err(invalid("iss changed"));
    }
    let exp = c.exp.ok_or_else(|| invalid("no exp"))?;
    if exp + policy.skew_secs < now {
        return Err(invalid("expired"));
    }
    if c.nbf.is_some_and(|nbf| nbf - policy.skew_secs > now) {
        return Err(invalid("not yet valid (nbf)"));
    }
    if c.iat.is_some_and(|iat| iat - policy.skew_secs > now) {
        return Err(invalid("issued in the future (iat)"));
    }
    let audience_ok = match &c.aud {
        Some(Audience::One(a)) => a == "solid",
        Some(Audience::Many(list)) => list.iter().any(|a| a == "solid"),
        None => false,
    };
    if !audience_ok {
        return Err(invalid("aud does not include \"solid\""));
    }
    let webid = c.webid.ok_or_else(|| invalid("no webid claim"))?;
    let parsed = url::Url::parse(&webid).map_err(|_| invalid("webid is not a URL"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(invalid("webid is not an http(s) URL"));
    }
    Ok(AccessToken {
        issuer: c.iss,
        webid,
        client_id: c.client_id.or(c.azp),
        jkt: c.cnf.and_then(|cnf| cnf.jkt),
        exp,
    })
}
