//! What one DPoP proof costs to verify, next to the raw P-256 ECDSA verification inside it:
//! the floor of an authenticated request, since every request brings a fresh proof.
//! `cargo run --release -p podplane-auth --example proof_cost` (scripts/bench.sh runs it).

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    EcdsaKeyPair, KeyPair, UnparsedPublicKey, ECDSA_P256_SHA256_FIXED,
    ECDSA_P256_SHA256_FIXED_SIGNING,
};
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use podplane_auth::dpop::{verify_proof, ProofPolicy, ProofRequest};
use std::time::Instant;

const ROUNDS: u32 = 20_000;

fn main() {
    let der = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
        .expect("key");
    let key = EncodingKey::from_ec_der(der.as_ref());
    let mut header = Header::new(Algorithm::ES256);
    header.typ = Some("dpop+jwt".into());
    header.jwk = Some(Jwk::from_encoding_key(&key, Algorithm::ES256).expect("jwk"));
    let now = 1_800_000_000;
    let claims =
        serde_json::json!({"htm": "GET", "htu": "https://pod.example/a", "iat": now, "jti": "j"});
    let proof = encode(&header, &claims, &key).expect("proof");
    let policy = ProofPolicy {
        algorithms: podplane_auth::SUPPORTED.to_vec(),
        max_age_secs: 60,
        skew_secs: 5,
        require_ath: false,
    };
    let request = ProofRequest {
        method: "GET",
        url: "https://pod.example/a",
        access_token: "t",
        now,
    };
    let start = Instant::now();
    for _ in 0..ROUNDS {
        verify_proof(&proof, &request, &policy).expect("valid proof");
    }
    let whole = start.elapsed() / ROUNDS;

    let pair =
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der.as_ref()).expect("pair");
    let signature = pair.sign(&SystemRandom::new(), b"message").expect("sign");
    let public = UnparsedPublicKey::new(
        &ECDSA_P256_SHA256_FIXED,
        pair.public_key().as_ref().to_vec(),
    );
    let start = Instant::now();
    for _ in 0..ROUNDS {
        public
            .verify(b"message", signature.as_ref())
            .expect("valid signature");
    }
    let raw = start.elapsed() / ROUNDS;
    println!(
        "{:.1} {:.1}",
        whole.as_secs_f64() * 1e6,
        raw.as_secs_f64() * 1e6
    );
}
