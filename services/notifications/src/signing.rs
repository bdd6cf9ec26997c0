//! Webhook deliveries are signed with HTTP Message Signatures (RFC 9421), ECDSA P-256 over the
//! method, the target URI, the content type and the body's digest (RFC 9530), with a key every
//! replica shares (stored in the notifications database) and publishes at
//! `/.notifications/jwks`.

use crate::error::{NotifyError, NotifyResult};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use sha2::{Digest, Sha256};

/// The label of podplane's signature in `Signature-Input` and `Signature`.
pub const LABEL: &str = "podplane";
/// The covered components, in order.
pub const COMPONENTS: [&str; 4] = ["@method", "@target-uri", "content-type", "content-digest"];
pub const ALG: &str = "ecdsa-p256-sha256";

pub struct Signer {
    kid: String,
    pair: EcdsaKeyPair,
}

/// The headers a signed request carries.
pub struct SignedHeaders {
    pub content_digest: String,
    pub signature_input: String,
    pub signature: String,
}

/// `Content-Digest` of a body (RFC 9530).
pub fn content_digest(body: &[u8]) -> String {
    format!("sha-256=:{}:", STANDARD.encode(Sha256::digest(body)))
}

/// The signature parameters (the value after the label in `Signature-Input`).
pub fn signature_params(created: i64, kid: &str) -> String {
    let list: Vec<String> = COMPONENTS.iter().map(|c| format!("\"{c}\"")).collect();
    format!(
        "({});created={created};keyid=\"{kid}\";alg=\"{ALG}\"",
        list.join(" ")
    )
}

/// The signature base (RFC 9421 §2.5) for the covered components.
pub fn signature_base(
    method: &str,
    target_uri: &str,
    content_type: &str,
    content_digest: &str,
    params: &str,
) -> String {
    let values = [method, target_uri, content_type, content_digest];
    let mut base = String::new();
    for (name, value) in COMPONENTS.iter().zip(values) {
        base.push_str(&format!("\"{name}\": {value}\n"));
    }
    base.push_str(&format!("\"@signature-params\": {params}"));
    base
}

impl Signer {
    /// A fresh key: its id and PKCS#8 document (base64), for storing.
    pub fn generate() -> NotifyResult<(String, String)> {
        let doc =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
                .map_err(|_| NotifyError::Internal("cannot generate a signing key".into()))?;
        let kid = uuid::Uuid::new_v4().to_string();
        Ok((kid, STANDARD.encode(doc.as_ref())))
    }

    pub fn from_stored(kid: &str, pkcs8_b64: &str) -> NotifyResult<Self> {
        let der = STANDARD
            .decode(pkcs8_b64)
            .map_err(|e| NotifyError::Internal(format!("stored signing key: {e}")))?;
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &der)
            .map_err(|e| NotifyError::Internal(format!("stored signing key: {e}")))?;
        Ok(Self {
            kid: kid.to_owned(),
            pair,
        })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public key as a JWK set.
    pub fn jwks(&self) -> serde_json::Value {
        let point = self.pair.public_key().as_ref();
        // An uncompressed P-256 point: 0x04 || x (32 bytes) || y (32 bytes).
        let (x, y) = if point.len() == 65 {
            (&point[1..33], &point[33..])
        } else {
            (&[][..], &[][..])
        };
        serde_json::json!({"keys": [{
            "kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig",
            "kid": self.kid,
            "x": URL_SAFE_NO_PAD.encode(x),
            "y": URL_SAFE_NO_PAD.encode(y),
        }]})
    }

    /// Signs a POST of `body` to `target_uri`.
    pub fn sign(
        &self,
        target_uri: &str,
        content_type: &str,
        body: &[u8],
        created: i64,
    ) -> NotifyResult<SignedHeaders> {
        let digest = content_digest(body);
        let params = signature_params(created, &self.kid);
        let base = signature_base("POST", target_uri, content_type, &digest, &params);
        let sig = self
            .pair
            .sign(&SystemRandom::new(), base.as_bytes())
            .map_err(|_| NotifyError::Internal("signing failed".into()))?;
        Ok(SignedHeaders {
            content_digest: digest,
            signature_input: format!("{LABEL}={params}"),
            signature: format!("{LABEL}=:{}:", STANDARD.encode(sig.as_ref())),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::signature::{UnparsedPublicKey, ECDSA_P256_SHA256_FIXED};

    #[test]
    fn signature_base_follows_rfc_9421() {
        let params = signature_params(1618884473, "k1");
        assert_eq!(
            params,
            "(\"@method\" \"@target-uri\" \"content-type\" \"content-digest\");created=1618884473;keyid=\"k1\";alg=\"ecdsa-p256-sha256\""
        );
        let base = signature_base(
            "POST",
            "https://h/x",
            "application/ld+json",
            "sha-256=:a:",
            &params,
        );
        assert_eq!(
            base,
            format!("\"@method\": POST\n\"@target-uri\": https://h/x\n\"content-type\": application/ld+json\n\"content-digest\": sha-256=:a:\n\"@signature-params\": {params}")
        );
    }

    #[test]
    fn signatures_verify_with_the_published_key() {
        let (kid, pkcs8) = Signer::generate().unwrap();
        let signer = Signer::from_stored(&kid, &pkcs8).unwrap();
        let body = br#"{"type":"Update"}"#;
        let h = signer
            .sign("https://h/x", "application/ld+json", body, 5)
            .unwrap();
        let jwk = &signer.jwks()["keys"][0];
        let mut point = vec![4u8];
        point.extend(URL_SAFE_NO_PAD.decode(jwk["x"].as_str().unwrap()).unwrap());
        point.extend(URL_SAFE_NO_PAD.decode(jwk["y"].as_str().unwrap()).unwrap());
        let params = h.signature_input.strip_prefix("podplane=").unwrap();
        let base = signature_base(
            "POST",
            "https://h/x",
            "application/ld+json",
            &content_digest(body),
            params,
        );
        let sig = h
            .signature
            .strip_prefix("podplane=:")
            .unwrap()
            .trim_end_matches(':');
        let sig = STANDARD.decode(sig).unwrap();
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &point)
            .verify(base.as_bytes(), &sig)
            .expect("verifies");
        assert!(UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &point)
            .verify(b"tampered", &sig)
            .is_err());
    }
}
