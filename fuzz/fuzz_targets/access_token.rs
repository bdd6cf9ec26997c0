//! Access tokens: reading the issuer before verification never panics, key selection never
//! panics, and a token is only accepted when its claims are those Solid-OIDC requires.
#![no_main]

use jsonwebtoken::jwk::JwkSet;
use libfuzzer_sys::fuzz_target;
use podplane_auth::token::{peek, select_key, verify, TokenPolicy};
use podplane_fuzz::{compact_jws, NOW};
use std::sync::OnceLock;

/// The issuer key that signed the token seeds, plus an RSA key, so selection has a choice.
const JWKS: &str = r#"{"keys": [
  {"kty": "EC", "crv": "P-256", "x": "b7lJ15tksUcangnHaFC8y9iR_kdt8ID4YaULHT6JyaU", "y": "-RZqV3kCQaS6UN41YzXgzFBHRvMUNDu5RjSXhPz8q0o", "kid": "k1", "alg": "ES256", "use": "sig"},
  {"kty": "EC", "crv": "P-256", "x": "Zd4V_st-w837Vw-oercc4fGOidWXawcFfNu_9f-Ft2A", "y": "Z9hQmLaQO62CvrDJiPefHylenBKFxYCxmYNhIO0bv34"}
]}"#;

fuzz_target!(|data: &[u8]| {
    static KEYS: OnceLock<JwkSet> = OnceLock::new();
    let keys = KEYS.get_or_init(|| serde_json::from_str(JWKS).expect("the fixed JWKS parses"));
    let Some(token) = compact_jws(data) else {
        return;
    };
    let policy = TokenPolicy {
        algorithms: podplane_auth::SUPPORTED.to_vec(),
        skew_secs: 5,
    };
    let Ok(peeked) = peek(&token, &policy) else {
        return;
    };
    let Some(key) = select_key(keys, &peeked) else {
        return;
    };
    if let Ok(t) = verify(&token, key, &peeked, NOW, &policy) {
        assert_eq!(t.issuer, peeked.issuer);
        assert!(t.exp + 5 >= NOW);
        assert!(t.webid.starts_with("http://") || t.webid.starts_with("https://"));
    }
});
