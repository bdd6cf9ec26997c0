//! A real Solid-OIDC identity provider on loopback, for the black-box suite: OpenID discovery,
//! a JWKS, WebID profiles, and access tokens it mints for test agents. Agents hold their own
//! P-256 keys and sign a fresh DPoP proof for every request. The server verifies all of it
//! over HTTP exactly as it would for a production provider.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{EcdsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use jsonwebtoken::jwk::{Jwk, ThumbprintHash};
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64
}

/// A fresh P-256 key pair: the signing key and its public JWK.
pub fn p256_key() -> (EncodingKey, Jwk) {
    let pkcs8 =
        EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
            .expect("generate key");
    let key = EncodingKey::from_ec_der(pkcs8.as_ref());
    let jwk = Jwk::from_encoding_key(&key, Algorithm::ES256).expect("public jwk");
    (key, jwk)
}

#[derive(Default)]
struct Profiles {
    /// WebID path name -> the issuers its profile lists.
    issuers: HashMap<String, Vec<String>>,
    /// Group document name -> Turtle.
    docs: HashMap<String, String>,
}

pub struct Idp {
    pub issuer: String,
    /// The key tokens are signed with now, and its id.
    signing: Mutex<(Arc<EncodingKey>, String)>,
    jwk: Jwk,
    jwks: Arc<Mutex<Value>>,
    profiles: Arc<Mutex<Profiles>>,
}

#[derive(Clone)]
struct Shared {
    issuer: String,
    jwks_uri: String,
    jwks: Arc<Mutex<Value>>,
    profiles: Arc<Mutex<Profiles>>,
}

/// The suite's identity provider.
pub fn idp() -> &'static Idp {
    static IDP: OnceLock<Idp> = OnceLock::new();
    IDP.get_or_init(Idp::start)
}

impl Idp {
    pub fn start() -> Idp {
        Idp::start_with_jwks_uri(None)
    }

    /// A provider whose discovery document names `jwks_uri` instead of its own JWKS.
    pub fn start_with_jwks_uri(jwks_uri: Option<String>) -> Idp {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind idp");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("addr");
        let issuer = format!("http://{addr}");
        let (key, mut jwk) = p256_key();
        let kid = uuid::Uuid::new_v4().to_string();
        jwk.common.key_id = Some(kid.clone());
        let profiles = Arc::new(Mutex::new(Profiles::default()));
        let published = Arc::new(Mutex::new(json!({ "keys": [jwk.clone()] })));
        let shared = Shared {
            jwks_uri: jwks_uri.unwrap_or_else(|| format!("{issuer}/jwks")),
            issuer: issuer.clone(),
            jwks: published.clone(),
            profiles: profiles.clone(),
        };
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("idp runtime");
            rt.block_on(async move {
                let app = Router::new()
                    .route("/.well-known/openid-configuration", get(discovery))
                    .route("/jwks", get(jwks))
                    .route("/people/{name}", get(profile))
                    .route("/docs/{name}", get(document))
                    .with_state(shared);
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                axum::serve(listener, app).await.expect("idp serve");
            });
        });
        Idp {
            issuer,
            signing: Mutex::new((Arc::new(key), kid)),
            jwk,
            jwks: published,
            profiles,
        }
    }

    /// A provider at `issuer` that this process does not serve: its documents
    /// ([`Idp::documents`]) are served by someone else (the compose stack's test provider).
    pub fn offline(issuer: &str) -> Idp {
        let (key, mut jwk) = p256_key();
        let kid = uuid::Uuid::new_v4().to_string();
        jwk.common.key_id = Some(kid.clone());
        Idp {
            issuer: issuer.trim_end_matches('/').to_owned(),
            signing: Mutex::new((Arc::new(key), kid)),
            jwks: Arc::new(Mutex::new(json!({ "keys": [jwk.clone()] }))),
            jwk,
            profiles: Arc::default(),
        }
    }

    /// Every document this provider serves, as (path, content type, body).
    pub fn documents(&self) -> Vec<(String, &'static str, String)> {
        let discovery = json!({
            "issuer": self.issuer,
            "jwks_uri": format!("{}/jwks", self.issuer),
            "scopes_supported": ["openid", "webid"],
        });
        let mut docs = vec![
            (
                "/.well-known/openid-configuration".to_owned(),
                "application/json",
                discovery.to_string(),
            ),
            (
                "/jwks".to_owned(),
                "application/json",
                self.jwks.lock().unwrap().to_string(),
            ),
        ];
        let profiles = self.profiles.lock().unwrap();
        for (name, issuers) in &profiles.issuers {
            docs.push((
                format!("/people/{name}"),
                "text/turtle",
                profile_turtle(issuers),
            ));
        }
        for (name, doc) in &profiles.docs {
            docs.push((format!("/docs/{name}"), "text/turtle", doc.clone()));
        }
        docs
    }

    /// A WebID whose profile lists this provider as its issuer.
    pub fn webid(&self, name: &str) -> String {
        self.webid_listing(name, &[&self.issuer.clone()])
    }

    /// A WebID whose profile lists exactly `issuers`.
    pub fn webid_listing(&self, name: &str, issuers: &[&str]) -> String {
        self.profiles.lock().unwrap().issuers.insert(
            name.to_owned(),
            issuers.iter().map(|s| s.to_string()).collect(),
        );
        format!("{}/people/{name}#me", self.issuer)
    }

    /// Serves a Turtle document at `{issuer}/docs/{name}` (e.g. a vcard group).
    pub fn publish(&self, name: &str, turtle: &str) -> String {
        self.profiles
            .lock()
            .unwrap()
            .docs
            .insert(name.to_owned(), turtle.to_owned());
        format!("{}/docs/{name}", self.issuer)
    }

    /// Signs `claims` as an access token of this provider.
    pub fn sign(&self, claims: &Value) -> String {
        let (key, kid) = self.signing.lock().unwrap().clone();
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(kid);
        header.typ = Some("at+jwt".into());
        encode(&header, claims, &key).expect("sign token")
    }

    /// Key rotation: publishes a new key beside the old one and signs with it from now on.
    pub fn rotate(&self) {
        let (key, mut jwk) = p256_key();
        let kid = uuid::Uuid::new_v4().to_string();
        jwk.common.key_id = Some(kid.clone());
        if let Some(keys) = self.jwks.lock().unwrap()["keys"].as_array_mut() {
            keys.push(serde_json::to_value(&jwk).expect("jwk"));
        }
        *self.signing.lock().unwrap() = (Arc::new(key), kid);
    }

    pub fn public_jwk(&self) -> &Jwk {
        &self.jwk
    }

    /// A new agent named `name` (WebID on this provider) with a DPoP-bound token.
    pub fn agent(&self, name: &str) -> Agent {
        let webid = self.webid(name);
        Agent::new(self, &webid, |_| {})
    }
}

async fn discovery(State(s): State<Shared>) -> impl IntoResponse {
    json_response(json!({
        "issuer": s.issuer,
        "jwks_uri": s.jwks_uri,
        "scopes_supported": ["openid", "webid"],
    }))
}

async fn jwks(State(s): State<Shared>) -> impl IntoResponse {
    let keys = s.jwks.lock().unwrap().clone();
    json_response(keys)
}

fn json_response(v: Value) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], v.to_string())
}

async fn profile(State(s): State<Shared>, Path(name): Path<String>) -> impl IntoResponse {
    let issuers = s.profiles.lock().unwrap().issuers.get(&name).cloned();
    match issuers {
        None => (
            axum::http::StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/plain")],
            String::new(),
        ),
        Some(list) => (
            axum::http::StatusCode::OK,
            [(header::CONTENT_TYPE, "text/turtle")],
            profile_turtle(&list),
        ),
    }
}

/// A WebID profile document listing `issuers`.
fn profile_turtle(issuers: &[String]) -> String {
    let objects: Vec<String> = issuers.iter().map(|i| format!("<{i}>")).collect();
    let mut body = "@prefix solid: <http://www.w3.org/ns/solid/terms#>.\n<#me> a <http://xmlns.com/foaf/0.1/Person>".to_owned();
    if !objects.is_empty() {
        body.push_str(&format!("; solid:oidcIssuer {}", objects.join(", ")));
    }
    body.push_str(".\n");
    body
}

async fn document(State(s): State<Shared>, Path(name): Path<String>) -> impl IntoResponse {
    match s.profiles.lock().unwrap().docs.get(&name).cloned() {
        None => (
            axum::http::StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/plain")],
            String::new(),
        ),
        Some(doc) => (
            axum::http::StatusCode::OK,
            [(header::CONTENT_TYPE, "text/turtle")],
            doc,
        ),
    }
}

/// A client: its WebID, its DPoP key, and an access token bound to that key.
#[derive(Clone)]
pub struct Agent {
    pub webid: String,
    pub token: String,
    pub key: Arc<EncodingKey>,
    pub jwk: Jwk,
    pub jkt: String,
}

impl Agent {
    /// An agent for `webid` whose token claims can be adjusted before signing.
    pub fn new(idp: &Idp, webid: &str, adjust: impl FnOnce(&mut Value)) -> Agent {
        let (key, jwk) = p256_key();
        let jkt = jwk.thumbprint(ThumbprintHash::SHA256).expect("thumbprint");
        let now = now();
        let mut claims = json!({
            "iss": idp.issuer,
            "aud": "solid",
            "webid": webid,
            "sub": "test-client",
            "client_id": "https://app.example/id",
            "iat": now,
            "exp": now + 600,
            "jti": uuid::Uuid::new_v4().to_string(),
            "cnf": { "jkt": jkt },
        });
        adjust(&mut claims);
        Agent {
            webid: webid.to_owned(),
            token: idp.sign(&claims),
            key: Arc::new(key),
            jwk,
            jkt,
        }
    }

    /// A DPoP proof for `method url`, as Inrupt's libraries send it (no `ath`).
    pub fn proof(&self, method: &str, url: &str) -> String {
        self.proof_with(json!({}), |c| {
            c["htm"] = json!(method);
            c["htu"] = json!(url);
        })
    }

    /// A proof with extra header members and adjusted claims.
    pub fn proof_with(&self, header_extra: Value, adjust: impl FnOnce(&mut Value)) -> String {
        let mut claims = json!({
            "iat": now(),
            "jti": uuid::Uuid::new_v4().to_string(),
        });
        adjust(&mut claims);
        let mut header = Header::new(Algorithm::ES256);
        header.typ = Some("dpop+jwt".into());
        header.jwk = Some(self.jwk.clone());
        let mut header_json = serde_json::to_value(&header).expect("header");
        if let (Some(h), Some(extra)) = (header_json.as_object_mut(), header_extra.as_object()) {
            for (k, v) in extra {
                h.insert(k.clone(), v.clone());
            }
        }
        raw_jws(&header_json, &claims, |input| {
            jsonwebtoken::crypto::sign(input, &self.key, Algorithm::ES256).expect("sign")
        })
    }

    /// A request with this agent's token and a fresh proof.
    pub fn request(
        &self,
        client: &reqwest::Client,
        method: reqwest::Method,
        url: &str,
    ) -> reqwest::RequestBuilder {
        let proof = self.proof(method.as_str(), url.split(['?', '#']).next().unwrap_or(url));
        client
            .request(method, url)
            .header("authorization", format!("DPoP {}", self.token))
            .header("dpop", proof)
    }
}

/// A compact JWS from a header and claims, signed by `sign` (base64url signature).
pub fn raw_jws(header: &Value, claims: &Value, sign: impl FnOnce(&[u8]) -> String) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature = sign(input.as_bytes());
    format!("{input}.{signature}")
}
