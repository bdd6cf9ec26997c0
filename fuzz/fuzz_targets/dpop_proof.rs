//! DPoP proofs: the structure (header, embedded JWK, algorithm, claims) is read without
//! panicking whatever the client sends, and a proof is only accepted when its claims fit the
//! request.
#![no_main]

use libfuzzer_sys::fuzz_target;
use podplane_auth::dpop::{verify_proof, ProofPolicy, ProofRequest};
use podplane_auth::jose::{allowed_alg, raw_header};
use podplane_fuzz::{compact_jws, DOC, NOW};

fuzz_target!(|data: &[u8]| {
    let Some(proof) = compact_jws(data) else {
        return;
    };
    let policy = ProofPolicy {
        algorithms: podplane_auth::SUPPORTED.to_vec(),
        max_age_secs: 60,
        skew_secs: 5,
        require_ath: false,
    };
    if let Ok(header) = raw_header(&proof) {
        let _ = allowed_alg(&header, &policy.algorithms);
    }
    let request = ProofRequest {
        method: "GET",
        url: DOC,
        access_token: "token",
        now: NOW,
    };
    if let Ok(p) = verify_proof(&proof, &request, &policy) {
        assert!(!p.jti.is_empty() && p.jti.len() <= 256);
        assert!(p.iat <= NOW + 5 && p.iat >= NOW - 65);
        assert!(!p.jkt.is_empty());
    }
});
