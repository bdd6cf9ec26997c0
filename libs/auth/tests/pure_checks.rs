//! The pure checks of proofs and tokens, with real keys and a fixed clock.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{EcdsaKeyPair, Ed25519KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use jsonwebtoken::jwk::{Jwk, JwkSet, ThumbprintHash};
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use podplane_auth::dpop::{verify_proof, ProofPolicy, ProofRequest};
use podplane_auth::token::{self, TokenPolicy};
use podplane_auth::{AuthError, SUPPORTED};
use serde_json::{json, Value};

const NOW: i64 = 1_800_000_000;
const URL: &str = "https://pod.example/alice/doc";

fn p256() -> (EncodingKey, Jwk) {
    let der = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
        .unwrap();
    let key = EncodingKey::from_ec_der(der.as_ref());
    let jwk = Jwk::from_encoding_key(&key, Algorithm::ES256).unwrap();
    (key, jwk)
}

fn ed25519() -> (EncodingKey, Jwk) {
    use aws_lc_rs::signature::KeyPair;
    use base64::Engine;
    let der = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
    let public = Ed25519KeyPair::from_pkcs8(der.as_ref())
        .unwrap()
        .public_key()
        .as_ref()
        .to_vec();
    let x = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(public);
    let jwk = serde_json::from_value(json!({"kty": "OKP", "crv": "Ed25519", "x": x})).unwrap();
    (EncodingKey::from_ed_der(der.as_ref()), jwk)
}

fn proof(key: &EncodingKey, jwk: &Jwk, alg: Algorithm, claims: Value) -> String {
    let mut h = Header::new(alg);
    h.typ = Some("dpop+jwt".into());
    h.jwk = Some(jwk.clone());
    encode(&h, &claims, key).unwrap()
}

fn policy() -> ProofPolicy {
    ProofPolicy {
        algorithms: SUPPORTED.to_vec(),
        max_age_secs: 60,
        skew_secs: 5,
        require_ath: false,
    }
}

fn req(token: &str) -> ProofRequest<'_> {
    ProofRequest {
        method: "GET",
        url: URL,
        access_token: token,
        now: NOW,
    }
}

#[test]
fn a_good_proof_yields_the_key_thumbprint() {
    let (key, jwk) = p256();
    let p = proof(
        &key,
        &jwk,
        Algorithm::ES256,
        json!({"htm": "GET", "htu": URL, "iat": NOW, "jti": "1"}),
    );
    let verified = verify_proof(&p, &req("t"), &policy()).unwrap();
    assert_eq!(
        verified.jkt,
        jwk.thumbprint(ThumbprintHash::SHA256).unwrap()
    );
    assert_eq!(verified.jti, "1");
}

#[test]
fn eddsa_proofs_are_accepted_too() {
    let (key, jwk) = ed25519();
    let p = proof(
        &key,
        &jwk,
        Algorithm::EdDSA,
        json!({"htm": "GET", "htu": URL, "iat": NOW, "jti": "1"}),
    );
    assert!(verify_proof(&p, &req("t"), &policy()).is_ok());
}

#[test]
fn iat_window_is_max_age_plus_skew() {
    let (key, jwk) = p256();
    let at = |iat: i64| {
        proof(
            &key,
            &jwk,
            Algorithm::ES256,
            json!({"htm": "GET", "htu": URL, "iat": iat, "jti": "1"}),
        )
    };
    assert!(verify_proof(&at(NOW - 65), &req("t"), &policy()).is_ok());
    assert!(verify_proof(&at(NOW - 66), &req("t"), &policy()).is_err());
    assert!(verify_proof(&at(NOW + 5), &req("t"), &policy()).is_ok());
    assert!(verify_proof(&at(NOW + 6), &req("t"), &policy()).is_err());
}

#[test]
fn ath_must_match_when_present_and_exist_when_required() {
    use base64::Engine;
    use sha2::Digest;
    let (key, jwk) = p256();
    let good =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(b"tok"));
    let with = |ath: &str| {
        proof(
            &key,
            &jwk,
            Algorithm::ES256,
            json!({"htm": "GET", "htu": URL, "iat": NOW, "jti": "1", "ath": ath}),
        )
    };
    assert!(verify_proof(&with(&good), &req("tok"), &policy()).is_ok());
    assert!(verify_proof(&with("bad"), &req("tok"), &policy()).is_err());
    let strict = ProofPolicy {
        require_ath: true,
        ..policy()
    };
    let without = proof(
        &key,
        &jwk,
        Algorithm::ES256,
        json!({"htm": "GET", "htu": URL, "iat": NOW, "jti": "1"}),
    );
    assert_eq!(
        verify_proof(&without, &req("tok"), &strict),
        Err(AuthError::InvalidProof("ath is required".into()))
    );
}

#[test]
fn disallowed_algorithms_and_missing_claims_are_refused() {
    let (key, jwk) = p256();
    let only_rs = ProofPolicy {
        algorithms: vec![Algorithm::RS256],
        ..policy()
    };
    let p = proof(
        &key,
        &jwk,
        Algorithm::ES256,
        json!({"htm": "GET", "htu": URL, "iat": NOW, "jti": "1"}),
    );
    assert!(verify_proof(&p, &req("t"), &only_rs).is_err());
    for missing in ["htm", "htu", "iat", "jti"] {
        let mut claims = json!({"htm": "GET", "htu": URL, "iat": NOW, "jti": "1"});
        claims.as_object_mut().unwrap().remove(missing);
        let p = proof(&key, &jwk, Algorithm::ES256, claims);
        assert!(verify_proof(&p, &req("t"), &policy()).is_err(), "{missing}");
    }
    assert!(verify_proof("a.b", &req("t"), &policy()).is_err());
    assert!(verify_proof(&"x".repeat(9000), &req("t"), &policy()).is_err());
}

fn issuer_token(key: &EncodingKey, kid: Option<&str>, claims: Value) -> String {
    let mut h = Header::new(Algorithm::ES256);
    h.kid = kid.map(str::to_owned);
    encode(&h, &claims, key).unwrap()
}

fn token_claims() -> Value {
    json!({"iss": "https://idp.example", "aud": ["https://pod.example", "solid"], "webid": "https://a.example/#me",
           "azp": "https://app.example/id", "exp": NOW + 300, "iat": NOW, "cnf": {"jkt": "abc"}})
}

#[test]
fn tokens_verify_against_the_key_named_by_kid() {
    let (key, mut jwk) = p256();
    jwk.common.key_id = Some("k1".into());
    let (_, mut other) = p256();
    other.common.key_id = Some("k2".into());
    let set = JwkSet {
        keys: vec![other, jwk],
    };
    let policy = TokenPolicy {
        algorithms: SUPPORTED.to_vec(),
        skew_secs: 5,
    };
    let t = issuer_token(&key, Some("k1"), token_claims());
    let peeked = token::peek(&t, &policy).unwrap();
    assert_eq!(peeked.issuer, "https://idp.example");
    let k = token::select_key(&set, &peeked).expect("key k1");
    let v = token::verify(&t, k, &peeked, NOW, &policy).unwrap();
    assert_eq!(v.webid, "https://a.example/#me");
    assert_eq!(
        v.client_id.as_deref(),
        Some("https://app.example/id"),
        "azp stands in for client_id"
    );
    assert_eq!(v.jkt.as_deref(), Some("abc"));
    // Unknown kid: not in this set (the caller refreshes the JWKS once).
    let unknown = issuer_token(&key, Some("k9"), token_claims());
    assert!(token::select_key(&set, &token::peek(&unknown, &policy).unwrap()).is_none());
}

#[test]
fn token_claims_are_checked() {
    let (key, jwk) = p256();
    let policy = TokenPolicy {
        algorithms: SUPPORTED.to_vec(),
        skew_secs: 5,
    };
    let check = |adjust: &dyn Fn(&mut Value)| {
        let mut c = token_claims();
        adjust(&mut c);
        let t = issuer_token(&key, None, c);
        let peeked = token::peek(&t, &policy)?;
        token::verify(&t, &jwk, &peeked, NOW, &policy)
    };
    assert!(check(&|_| {}).is_ok());
    assert!(check(&|c| c["exp"] = json!(NOW - 6)).is_err());
    assert!(check(&|c| c["exp"] = json!(NOW - 4)).is_ok(), "within skew");
    assert!(check(&|c| c["nbf"] = json!(NOW + 60)).is_err());
    assert!(check(&|c| c["iat"] = json!(NOW + 60)).is_err());
    assert!(check(&|c| c["aud"] = json!("https://pod.example")).is_err());
    assert!(check(&|c| c["aud"] = json!("solid")).is_ok());
    assert!(check(&|c| {
        c.as_object_mut().unwrap().remove("webid");
    })
    .is_err());
    assert!(check(&|c| c["webid"] = json!("urn:x:y")).is_err());
    assert!(check(&|c| {
        c.as_object_mut().unwrap().remove("exp");
    })
    .is_err());
    // Signed by someone else.
    let (stranger, _) = p256();
    let t = issuer_token(&stranger, None, token_claims());
    let peeked = token::peek(&t, &policy).unwrap();
    assert!(token::verify(&t, &jwk, &peeked, NOW, &policy).is_err());
}

#[test]
fn proofs_whose_signature_does_not_cover_what_they_say_are_refused() {
    let (key, jwk) = p256();
    let claims = json!({"htm": "GET", "htu": URL, "iat": NOW, "jti": "1"});
    let good = proof(&key, &jwk, Algorithm::ES256, claims.clone());
    let parts: Vec<&str> = good.split('.').collect();
    let refused = |p: &str| match verify_proof(p, &req("t"), &policy()) {
        Err(AuthError::InvalidProof(_)) => {}
        other => panic!("{p}: {other:?}"),
    };
    // Claims of another proof under this proof's signature.
    let other = proof(
        &key,
        &jwk,
        Algorithm::ES256,
        json!({"htm": "PUT", "htu": URL, "iat": NOW, "jti": "2"}),
    );
    let other_claims = other.split('.').nth(1).unwrap();
    refused(&format!("{}.{}.{}", parts[0], other_claims, parts[2]));
    // Signed by another key than the one it embeds.
    let (thief, _) = p256();
    refused(&proof(&thief, &jwk, Algorithm::ES256, claims.clone()));
    // Not three segments, or a signature that is not base64url.
    refused(&format!("{good}.extra"));
    refused(&format!("{}.{}", parts[0], parts[2]));
    refused(&format!("{}.{}.!!!", parts[0], parts[1]));
    // Signed, but the claims are not a JSON object.
    refused(&proof(&key, &jwk, Algorithm::ES256, json!("just a string")));
}
