//! The browser's half of Web Push: decrypting an RFC 8291 `aes128gcm` message with the
//! subscription's keys, and checking the sender's VAPID token (RFC 8292). Written apart from
//! the ai-agent's sender on purpose, so a mistake on one side is not mirrored on the other.

use aws_lc_rs::{
    aead::{self, Aad, LessSafeKey, Nonce, UnboundKey},
    agreement::{self, ECDH_P256, PrivateKey, UnparsedPublicKey},
    hmac,
    signature::{self, ECDSA_P256_SHA256_FIXED},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::Deserialize;

/// A subscription's keys, as the user agent holds them.
pub struct UaKeys {
    pub private: PrivateKey,
    /// Uncompressed P-256 point (65 bytes): `keys.p256dh`.
    pub public: Vec<u8>,
    /// `keys.auth`.
    pub auth: [u8; 16],
}

impl UaKeys {
    /// A fresh key pair and secret, as a browser makes for each subscription.
    ///
    /// # Panics
    /// When the system has no randomness, which no test can work around.
    pub fn generate() -> Self {
        let private = PrivateKey::generate(&ECDH_P256).expect("the system can generate a key");
        let mut auth = [0u8; 16];
        aws_lc_rs::rand::fill(&mut auth).expect("the system has randomness");
        Self::from_parts(private, auth)
    }

    /// # Panics
    /// When `private` is not a P-256 key (every key of this crate is).
    pub fn from_parts(private: PrivateKey, auth: [u8; 16]) -> Self {
        let public = private.compute_public_key().expect("a P-256 key has a public key").as_ref().to_vec();
        Self { private, public, auth }
    }
}

fn hkdf(salt: &[u8], ikm: &[u8], info: &[u8], len: usize) -> Vec<u8> {
    let prk = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, salt), ikm);
    let okm = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, prk.as_ref()), &[info, &[1]].concat());
    okm.as_ref()[..len].to_vec()
}

/// The plaintext of one `aes128gcm` push message (a single record, as RFC 8291 requires), or
/// why it does not decrypt.
pub fn decrypt(keys: &UaKeys, body: &[u8]) -> Result<Vec<u8>, &'static str> {
    if body.len() < 21 {
        return Err("the body is shorter than the aes128gcm header");
    }
    let salt = &body[..16];
    let record_size = u32::from_be_bytes([body[16], body[17], body[18], body[19]]) as usize;
    let id_len = usize::from(body[20]);
    if id_len != 65 || body.len() < 21 + id_len {
        return Err("the header's key id is not the sender's 65-byte public key");
    }
    let as_public = &body[21..21 + id_len];
    let mut record = body[21 + id_len..].to_vec();
    if record.len() > record_size || record.len() < 17 {
        return Err("the message is not exactly one record");
    }
    let ecdh_secret = agreement::agree(
        &keys.private,
        UnparsedPublicKey::new(&ECDH_P256, as_public),
        "the sender's key is not a P-256 point",
        |secret| Ok(secret.to_vec()),
    )?;
    let key_info = [b"WebPush: info\0".as_slice(), &keys.public, as_public].concat();
    let ikm = hkdf(&keys.auth, &ecdh_secret, &key_info, 32);
    let cek = hkdf(salt, &ikm, b"Content-Encoding: aes128gcm\0", 16);
    let nonce = hkdf(salt, &ikm, b"Content-Encoding: nonce\0", 12);
    let key = LessSafeKey::new(UnboundKey::new(&aead::AES_128_GCM, &cek).map_err(|_| "bad key")?);
    let nonce = Nonce::try_assume_unique_for_key(&nonce).map_err(|_| "bad nonce")?;
    let plain =
        key.open_in_place(nonce, Aad::empty(), &mut record).map_err(|_| "the message does not decrypt")?;
    // Padding: zeros after the delimiter, which must be 0x02 (the last record).
    let end = plain.iter().rposition(|&b| b != 0).ok_or("the record has no delimiter")?;
    if plain[end] != 2 {
        return Err("the record's delimiter is not the last-record 0x02");
    }
    Ok(plain[..end].to_vec())
}

#[derive(Debug, PartialEq, Eq)]
pub enum VapidError {
    /// No `vapid t=…, k=…` header, or one that does not parse: 401.
    Missing(&'static str),
    /// A token that does not verify or claims that do not fit: 403.
    Invalid(&'static str),
}

#[derive(Deserialize)]
struct Claims {
    aud: Option<String>,
    exp: Option<i64>,
    sub: Option<String>,
}

/// Checks an `Authorization: vapid t=<JWT>, k=<key>` header for a push to `audience` (the
/// endpoint's origin) at Unix time `now`: an ES256 signature by `k`, `aud` the origin, `exp`
/// in the future and at most 24 h away, `sub` present.
pub fn verify_vapid(header: Option<&str>, audience: &str, now: i64) -> Result<(), VapidError> {
    let params = header
        .and_then(|h| h.strip_prefix("vapid "))
        .ok_or(VapidError::Missing("the Authorization header is not `vapid t=…, k=…`"))?;
    let (mut token, mut key) = (None, None);
    for part in params.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => token = Some(value),
            Some(("k", value)) => key = Some(value),
            _ => {}
        }
    }
    let (token, key) = token.zip(key).ok_or(VapidError::Missing("the vapid header lacks t or k"))?;
    let key = URL_SAFE_NO_PAD.decode(key).map_err(|_| VapidError::Missing("k is not base64url"))?;
    let mut parts = token.split('.');
    let (Some(header_b64), Some(claims_b64), Some(signature_b64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(VapidError::Missing("t is not a JWT"));
    };
    let header: serde_json::Value = URL_SAFE_NO_PAD
        .decode(header_b64)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or(VapidError::Missing("the JWT header is not JSON"))?;
    if header["alg"] != "ES256" {
        return Err(VapidError::Invalid("the JWT is not ES256"));
    }
    let signature =
        URL_SAFE_NO_PAD.decode(signature_b64).map_err(|_| VapidError::Invalid("bad signature"))?;
    signature::UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &key)
        .verify(format!("{header_b64}.{claims_b64}").as_bytes(), &signature)
        .map_err(|_| VapidError::Invalid("the JWT signature does not verify with k"))?;
    let claims: Claims = URL_SAFE_NO_PAD
        .decode(claims_b64)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or(VapidError::Invalid("the JWT claims are not JSON"))?;
    if claims.aud.as_deref() != Some(audience) {
        return Err(VapidError::Invalid("aud is not the push service's origin"));
    }
    match claims.exp {
        Some(exp) if exp > now && exp <= now + 24 * 3600 => {}
        _ => return Err(VapidError::Invalid("exp is not within the next 24 hours")),
    }
    if claims.sub.is_none_or(|s| s.is_empty()) {
        return Err(VapidError::Invalid("sub is missing"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use aws_lc_rs::{
        rand::SystemRandom,
        signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair},
    };
    use serde_json::json;

    use super::*;

    fn b64(text: &str) -> Vec<u8> {
        URL_SAFE_NO_PAD.decode(text).unwrap()
    }

    fn rfc_keys() -> UaKeys {
        let private =
            PrivateKey::from_private_key(&ECDH_P256, &b64("q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94"))
                .unwrap();
        UaKeys::from_parts(private, b64("BTBZMqHH6r4Tts7J_aSIgg").try_into().unwrap())
    }

    const RFC_BODY: &str = "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27ml\
                            mlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPT\
                            pK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN";

    /// RFC 8291 §5: the user agent's keys and the example message.
    #[test]
    fn the_rfc_8291_example_decrypts() {
        let keys = rfc_keys();
        assert_eq!(
            URL_SAFE_NO_PAD.encode(&keys.public),
            "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"
        );
        assert_eq!(decrypt(&keys, &b64(RFC_BODY)).unwrap(), b"When I grow up, I want to be a watermelon");
    }

    #[test]
    fn a_tampered_message_or_other_keys_do_not_decrypt() {
        let mut body = b64(RFC_BODY);
        let last = body.len() - 1;
        body[last] ^= 1;
        assert_eq!(decrypt(&rfc_keys(), &body), Err("the message does not decrypt"));
        assert_eq!(decrypt(&UaKeys::generate(), &b64(RFC_BODY)), Err("the message does not decrypt"));
        assert!(decrypt(&rfc_keys(), &[0; 20]).is_err());
    }

    fn token(signer: &EcdsaKeyPair, claims: &serde_json::Value) -> String {
        let unsigned = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT","alg":"ES256"}"#),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = signer.sign(&SystemRandom::new(), unsigned.as_bytes()).unwrap();
        let k = URL_SAFE_NO_PAD.encode(signer.public_key().as_ref());
        format!("vapid t={unsigned}.{}, k={k}", URL_SAFE_NO_PAD.encode(signature.as_ref()))
    }

    #[test]
    fn vapid_tokens_are_checked_for_signature_audience_expiry_and_subject() {
        let signer = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
        let (aud, now) = ("http://127.0.0.1:9", 1_800_000_000);
        let good = json!({"aud": aud, "exp": now + 3600, "sub": "mailto:ops@example.com"});
        assert_eq!(verify_vapid(Some(&token(&signer, &good)), aud, now), Ok(()));
        assert!(matches!(verify_vapid(None, aud, now), Err(VapidError::Missing(_))));
        assert!(matches!(verify_vapid(Some("WebPush abc"), aud, now), Err(VapidError::Missing(_))));
        for claims in [
            json!({"aud": "http://other:1", "exp": now + 3600, "sub": "mailto:a@b"}),
            json!({"aud": aud, "exp": now - 1, "sub": "mailto:a@b"}),
            json!({"aud": aud, "exp": now + 25 * 3600, "sub": "mailto:a@b"}),
            json!({"aud": aud, "exp": now + 3600}),
        ] {
            assert!(
                matches!(verify_vapid(Some(&token(&signer, &claims)), aud, now), Err(VapidError::Invalid(_))),
                "{claims}"
            );
        }
        // Signed by another key than the `k` it names.
        let other = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
        let forged = token(&other, &good).replace(
            &URL_SAFE_NO_PAD.encode(other.public_key().as_ref()),
            &URL_SAFE_NO_PAD.encode(signer.public_key().as_ref()),
        );
        assert_eq!(
            verify_vapid(Some(&forged), aud, now),
            Err(VapidError::Invalid("the JWT signature does not verify with k"))
        );
    }
}
