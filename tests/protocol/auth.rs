//! Solid-OIDC on the resource server: a request is someone only with a valid DPoP-bound
//! access token from a trusted issuer and a fresh proof for this very request. One test per
//! rule and per attack (SPEC-CHECKLIST §2.5, RFC 9449).

use crate::harness::*;
use crate::idp::{now, p256_key, raw_jws, Agent};
use serde_json::json;

/// A private pod of the harness owner with one document in it.
async fn private_doc() -> String {
    let root = shared().private_pod(&owner().webid, "acp");
    let doc = format!("{root}doc.ttl");
    let res = owner()
        .request(&client(), reqwest::Method::PUT, &doc)
        .header("content-type", TURTLE)
        .body("<#a> <#b> <#c>.")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "owner creates a document");
    doc
}

async fn send(url: &str, token: &str, proof: &str) -> reqwest::Response {
    client()
        .get(url)
        .header("authorization", format!("DPoP {token}"))
        .header("dpop", proof)
        .send()
        .await
        .unwrap()
}

/// 401, a DPoP challenge, and a problem body naming the reason.
async fn assert_refused(res: reqwest::Response, reason: &str) {
    let challenge = header(&res, "www-authenticate");
    assert!(challenge.starts_with("DPoP algs=\""), "{challenge}");
    let detail = assert_problem(res, 401).await;
    assert!(detail.contains(reason), "expected {reason:?} in {detail:?}");
}

fn proof_for(agent: &Agent, url: &str) -> String {
    agent.proof("GET", url)
}

#[tokio::test]
async fn server_unauthenticated_gets_401_with_challenge() {
    let doc = private_doc().await;
    let res = get(&doc).await;
    let challenge = header(&res, "www-authenticate");
    assert!(challenge.contains("ES256"), "{challenge}");
    assert_problem(res, 401).await;
}

#[tokio::test]
async fn valid_dpop_token_authenticates_the_owner() {
    let doc = private_doc().await;
    let res = owner()
        .request(&client(), reqwest::Method::GET, &doc)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        header(&res, "wac-allow"),
        "user=\"read write append control\",public=\"\""
    );
}

#[tokio::test]
async fn authenticated_agent_without_access_gets_403() {
    let doc = private_doc().await;
    let stranger = idp().agent("stranger");
    let res = stranger
        .request(&client(), reqwest::Method::GET, &doc)
        .send()
        .await
        .unwrap();
    assert_problem(res, 403).await;
}

#[tokio::test]
async fn expired_token_is_refused() {
    let doc = private_doc().await;
    let a = Agent::new(idp(), &owner().webid, |c| {
        c["iat"] = json!(now() - 4000);
        c["exp"] = json!(now() - 3000);
    });
    assert_refused(send(&doc, &a.token, &proof_for(&a, &doc)).await, "expired").await;
}

#[tokio::test]
async fn token_not_for_solid_audience_is_refused() {
    let doc = private_doc().await;
    let a = Agent::new(idp(), &owner().webid, |c| {
        c["aud"] = json!(["https://other.example"])
    });
    assert_refused(send(&doc, &a.token, &proof_for(&a, &doc)).await, "aud").await;
}

#[tokio::test]
async fn proof_for_another_url_or_method_is_refused() {
    let doc = private_doc().await;
    let a = owner();
    let other = format!("{doc}x");
    assert_refused(send(&doc, &a.token, &a.proof("GET", &other)).await, "htu").await;
    assert_refused(send(&doc, &a.token, &a.proof("PUT", &doc)).await, "htm").await;
    // htu is compared without query and fragment.
    let res = send(&format!("{doc}?q=1"), &a.token, &a.proof("GET", &doc)).await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn replayed_proof_is_refused() {
    let doc = private_doc().await;
    let a = owner();
    let proof = a.proof("GET", &doc);
    assert_eq!(send(&doc, &a.token, &proof).await.status(), 200);
    assert_refused(send(&doc, &a.token, &proof).await, "already used").await;
}

#[tokio::test]
async fn stale_or_future_proof_is_refused() {
    let doc = private_doc().await;
    let a = owner();
    for (iat, reason) in [(now() - 600, "too old"), (now() + 600, "future")] {
        let proof = a.proof_with(json!({}), |c| {
            c["htm"] = json!("GET");
            c["htu"] = json!(doc);
            c["iat"] = json!(iat);
        });
        assert_refused(send(&doc, &a.token, &proof).await, reason).await;
    }
}

#[tokio::test]
async fn unsigned_alg_none_is_refused() {
    let doc = private_doc().await;
    let a = owner();
    let none_token = raw_jws(
        &json!({"alg": "none", "typ": "at+jwt"}),
        &json!({"iss": idp().issuer, "aud": "solid", "webid": a.webid, "exp": now() + 60, "cnf": {"jkt": a.jkt}}),
        |_| String::new(),
    );
    assert_refused(send(&doc, &none_token, &proof_for(a, &doc)).await, "alg").await;
    let none_proof = raw_jws(
        &json!({"alg": "none", "typ": "dpop+jwt", "jwk": a.jwk}),
        &json!({"htm": "GET", "htu": doc, "iat": now(), "jti": "x1"}),
        |_| String::new(),
    );
    assert_refused(send(&doc, &a.token, &none_proof).await, "alg").await;
}

#[tokio::test]
async fn hmac_signed_with_the_public_key_is_refused() {
    let doc = private_doc().await;
    let a = owner();
    // The classic key-confusion attack: HS256 keyed with the issuer's public JWK.
    let secret = serde_json::to_vec(idp().public_jwk()).unwrap();
    let claims = json!({"iss": idp().issuer, "aud": "solid", "webid": a.webid, "exp": now() + 60, "cnf": {"jkt": a.jkt}});
    let forged = raw_jws(
        &json!({"alg": "HS256", "typ": "at+jwt"}),
        &claims,
        |input| {
            jsonwebtoken::crypto::sign(
                input,
                &jsonwebtoken::EncodingKey::from_secret(&secret),
                jsonwebtoken::Algorithm::HS256,
            )
            .unwrap()
        },
    );
    assert_refused(send(&doc, &forged, &proof_for(a, &doc)).await, "alg").await;
}

#[tokio::test]
async fn proof_signed_by_another_key_than_the_token_binds_is_refused() {
    let doc = private_doc().await;
    let thief = idp().agent("thief");
    // The owner's token, presented with a proof from the thief's key.
    let res = send(&doc, &owner().token, &thief.proof("GET", &doc)).await;
    assert_refused(res, "cnf.jkt").await;
}

#[tokio::test]
async fn proof_with_private_key_or_wrong_typ_is_refused() {
    let doc = private_doc().await;
    let a = owner();
    let mut leaked = serde_json::to_value(&a.jwk).unwrap();
    leaked["d"] = json!("AAAA");
    let with_d = a.proof_with(json!({ "jwk": leaked }), |c| {
        c["htm"] = json!("GET");
        c["htu"] = json!(doc);
    });
    assert_refused(send(&doc, &a.token, &with_d).await, "public key").await;
    let wrong_typ = a.proof_with(json!({"typ": "JWT"}), |c| {
        c["htm"] = json!("GET");
        c["htu"] = json!(doc);
    });
    assert_refused(send(&doc, &a.token, &wrong_typ).await, "typ").await;
}

#[tokio::test]
async fn wrong_ath_is_refused_and_missing_ath_accepted_by_default() {
    let doc = private_doc().await;
    let a = owner();
    let wrong = a.proof_with(json!({}), |c| {
        c["htm"] = json!("GET");
        c["htu"] = json!(doc);
        c["ath"] = json!("not-the-hash");
    });
    assert_refused(send(&doc, &a.token, &wrong).await, "ath").await;
    assert_eq!(
        send(&doc, &a.token, &a.proof("GET", &doc)).await.status(),
        200
    );
}

fn ath(token: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(token.as_bytes()))
}

#[tokio::test]
async fn missing_ath_is_refused_under_the_strict_flag() {
    let server = Server::start(&["--require-dpop-ath"]);
    let root = server.private_pod(&owner().webid, "acp");
    let a = owner();
    assert_refused(
        send(&root, &a.token, &a.proof("GET", &root)).await,
        "ath is required",
    )
    .await;
    let with_ath = a.proof_with(json!({}), |c| {
        c["htm"] = json!("GET");
        c["htu"] = json!(root);
        c["ath"] = json!(ath(&a.token));
    });
    assert_eq!(send(&root, &a.token, &with_ath).await.status(), 200);
}

#[tokio::test]
async fn unknown_issuer_is_refused() {
    let doc = private_doc().await;
    let a = owner();
    // Nothing serves discovery there: the keys cannot be found, so nobody is authenticated.
    let forged = Agent::new(idp(), &a.webid, |c| c["iss"] = json!("http://127.0.0.1:9"));
    assert_refused(
        send(&doc, &forged.token, &proof_for(&forged, &doc)).await,
        "cannot verify",
    )
    .await;
}

#[tokio::test]
async fn denied_or_unlisted_issuer_is_refused() {
    let deny = format!("--issuer-deny-list={}", idp().issuer);
    let allow = "--issuer-allow-list=https://only.example".to_owned();
    for (flag, reason) in [(deny, "denied"), (allow, "allow list")] {
        let server = Server::start(&[&flag]);
        let root = server.private_pod(&owner().webid, "acp");
        let a = owner();
        assert_refused(send(&root, &a.token, &a.proof("GET", &root)).await, reason).await;
    }
}

#[tokio::test]
async fn webid_not_listing_the_issuer_is_refused() {
    let doc = private_doc().await;
    let impostor_webid = idp().webid_listing("impostor", &["https://elsewhere.example"]);
    let a = Agent::new(idp(), &impostor_webid, |_| {});
    assert_refused(
        send(&doc, &a.token, &proof_for(&a, &doc)).await,
        "oidcIssuer",
    )
    .await;
}

#[tokio::test]
async fn unreachable_jwks_is_401_not_500() {
    // A provider whose discovery works but whose JWKS endpoint accepts no connections.
    let broken = crate::idp::Idp::start_with_jwks_uri(Some("http://127.0.0.1:9/jwks".into()));
    let webid = broken.webid("ghost");
    let a = Agent::new(&broken, &webid, |_| {});
    let doc = private_doc().await;
    assert_refused(
        send(&doc, &a.token, &proof_for(&a, &doc)).await,
        "cannot verify",
    )
    .await;
}

#[tokio::test]
async fn oversized_token_is_refused() {
    let doc = private_doc().await;
    let huge = "a".repeat(20_000);
    assert_refused(
        send(&doc, &huge, &proof_for(owner(), &doc)).await,
        "too large",
    )
    .await;
}

#[tokio::test]
async fn garbage_credentials_are_401_never_500() {
    let doc = private_doc().await;
    for (authorization, dpop) in [
        ("DPoP", None),
        ("DPoP not.a.jwt", Some("neither.is.this")),
        ("Basic dXNlcjpwYXNz", None),
        ("DPoP x.y.z", None),
    ] {
        let mut req = client().get(&doc).header("authorization", authorization);
        if let Some(p) = dpop {
            req = req.header("dpop", p);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), 401, "{authorization}");
        assert_problem(res, 401).await;
    }
}

#[tokio::test]
async fn bearer_tokens_need_the_flag_and_must_not_be_dpop_bound() {
    let doc = private_doc().await;
    let bearer = |url: &str, token: &str| {
        client()
            .get(url)
            .header("authorization", format!("Bearer {token}"))
            .send()
    };
    assert_refused(bearer(&doc, &owner().token).await.unwrap(), "Bearer").await;

    let server = Server::start(&["--accept-bearer-tokens"]);
    let root = server.private_pod(&owner().webid, "acp");
    let unbound = Agent::new(idp(), &owner().webid, |c| {
        c.as_object_mut().unwrap().remove("cnf");
    });
    assert_eq!(bearer(&root, &unbound.token).await.unwrap().status(), 200);
    assert_refused(
        bearer(&root, &owner().token).await.unwrap(),
        "needs a proof",
    )
    .await;
}

#[tokio::test]
async fn loopback_identity_providers_are_not_fetched_unless_allowed() {
    let server = Server::start(&[]);
    let root = server.private_pod(&owner().webid, "acp");
    // The same owner, on a server that keeps the default (no private fetches).
    let strict = Server::start_plain(&[]);
    let strict_root = strict.private_pod(&owner().webid, "acp");
    let a = owner();
    assert_eq!(
        send(&root, &a.token, &a.proof("GET", &root)).await.status(),
        200
    );
    assert_refused(
        send(&strict_root, &a.token, &a.proof("GET", &strict_root)).await,
        "non-public",
    )
    .await;
}

#[tokio::test]
async fn different_proof_keys_do_not_share_a_token_cache_entry() {
    let doc = private_doc().await;
    let (_, other_jwk) = p256_key();
    let a = owner();
    assert_eq!(
        send(&doc, &a.token, &a.proof("GET", &doc)).await.status(),
        200
    );
    // Same (now cached) token, a proof claiming another key: still refused.
    let spoof = a.proof_with(json!({"jwk": other_jwk}), |c| {
        c["htm"] = json!("GET");
        c["htu"] = json!(doc);
    });
    assert_refused(send(&doc, &a.token, &spoof).await, "").await;
}

#[tokio::test]
async fn rotated_issuer_keys_are_fetched_once_the_refresh_interval_allows() {
    let provider = crate::idp::Idp::start();
    let webid = provider.webid("rotating");
    let eager = Server::start(&["--jwks-min-refresh-secs=0"]);
    let patient = Server::start(&[]);
    let roots = [
        eager.private_pod(&webid, "acp"),
        patient.private_pod(&webid, "acp"),
    ];
    // Both servers learn the provider's first key, on every replica (each has its own key
    // cache; connections go round-robin in distributed mode).
    let before = Agent::new(&provider, &webid, |_| {});
    for root in &roots {
        for _ in 0..4 {
            let res = send(root, &before.token, &before.proof("GET", root)).await;
            assert_eq!(res.status(), 200);
        }
    }
    provider.rotate();
    let after = Agent::new(&provider, &webid, |_| {});
    // A token signed with the new key: fetched at once where allowed...
    let [eager_root, patient_root] = &roots;
    assert_eq!(
        send(eager_root, &after.token, &after.proof("GET", eager_root))
            .await
            .status(),
        200
    );
    // ...and refused where the keys were fetched less than 10 s ago.
    assert_refused(
        send(
            patient_root,
            &after.token,
            &after.proof("GET", patient_root),
        )
        .await,
        "does not publish",
    )
    .await;
}

#[tokio::test]
async fn htu_is_compared_with_the_url_as_the_client_wrote_it() {
    // The server canonicalises %7E to '~' for storage, but the proof names what was sent.
    let root = pod();
    let url = format!("{root}a%7Eb");
    let res = send(&url, &owner().token, &owner().proof("GET", &url)).await;
    assert_problem(res, 404).await;
}

#[tokio::test]
async fn proof_with_critical_header_extension_is_refused() {
    // RFC 7515 §4.1.11: a recipient that does not understand a `crit` extension must reject.
    let doc = private_doc().await;
    let a = owner();
    let crit = a.proof_with(json!({"crit": ["x-podplane"], "x-podplane": true}), |c| {
        c["htm"] = json!("GET");
        c["htu"] = json!(doc);
    });
    assert_refused(send(&doc, &a.token, &crit).await, "crit").await;
}

#[tokio::test]
async fn two_authorization_headers_are_ambiguous_and_refused() {
    let doc = private_doc().await;
    let a = owner();
    let res = client()
        .get(&doc)
        .header("authorization", format!("DPoP {}", a.token))
        .header("authorization", "Bearer something-else")
        .header("dpop", proof_for(a, &doc))
        .send()
        .await
        .unwrap();
    let detail = assert_problem(res, 400).await;
    assert!(detail.contains("Authorization"), "{detail}");
}
