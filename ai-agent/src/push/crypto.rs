//! Web Push message encryption (RFC 8291, `aes128gcm` of RFC 8188) and VAPID (RFC 8292), on
//! aws-lc-rs: the TLS provider reqwest already links, whose ECDH takes a stored private key and
//! derives its public key (ring's does neither), so no second crypto library is built.

use aws_lc_rs::{
    aead::{self, Aad, LessSafeKey, Nonce, UnboundKey},
    agreement::{self, ECDH_P256, PrivateKey, UnparsedPublicKey},
    encoding::{AsBigEndian, EcPrivateKeyBin},
    hmac,
    rand::{SecureRandom, SystemRandom},
    signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde_json::json;

/// The record size announced in the header. Push messages are one record: RFC 8291 caps the
/// plaintext at 3993 bytes so it fits 4096 with the tag and delimiter.
const RECORD_SIZE: u32 = 4096;
/// Largest plaintext one record carries (RFC 8291 §4).
pub const MAX_PLAINTEXT: usize = 3993;

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("the key is not base64url of a P-256 private scalar (32 bytes)")]
    PrivateKey,
    #[error("the browser's public key is not an uncompressed P-256 point")]
    PublicKey,
    #[error("the payload is longer than one push record ({MAX_PLAINTEXT} bytes)")]
    TooLong,
    #[error("the cryptographic library failed")]
    Library,
}

impl From<aws_lc_rs::error::Unspecified> for CryptoError {
    fn from(_: aws_lc_rs::error::Unspecified) -> Self {
        Self::Library
    }
}

/// HKDF-SHA-256 (RFC 5869) for outputs of at most one hash length, which is all RFC 8291 needs:
/// extract, then a single expand block.
fn hkdf(salt: &[u8], ikm: &[u8], info: &[u8], len: usize) -> Vec<u8> {
    let prk = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, salt), ikm);
    let mut block = info.to_vec();
    block.push(1);
    let okm = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, prk.as_ref()), &block);
    okm.as_ref()[..len].to_vec()
}

/// Encrypts `plaintext` for the browser with public key `ua_public` (65 bytes) and auth secret
/// `auth`, with a fresh key pair and salt: the request body for `Content-Encoding: aes128gcm`.
pub fn encrypt(ua_public: &[u8], auth: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let ephemeral = PrivateKey::generate(&ECDH_P256)?;
    let mut salt = [0u8; 16];
    SystemRandom::new().fill(&mut salt)?;
    encrypt_with(&ephemeral, &salt, ua_public, auth, plaintext)
}

/// [`encrypt`] with a given application-server key and salt (RFC 8291 §5's example uses fixed
/// ones; the tests reproduce it).
pub fn encrypt_with(
    as_private: &PrivateKey,
    salt: &[u8; 16],
    ua_public: &[u8],
    auth: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    if plaintext.len() > MAX_PLAINTEXT {
        return Err(CryptoError::TooLong);
    }
    if ua_public.len() != 65 || ua_public[0] != 4 {
        return Err(CryptoError::PublicKey);
    }
    let as_public = as_private.compute_public_key()?;
    let as_public = as_public.as_ref();
    let ecdh_secret = agreement::agree(
        as_private,
        UnparsedPublicKey::new(&ECDH_P256, ua_public),
        CryptoError::PublicKey,
        |secret| Ok(secret.to_vec()),
    )?;
    let mut key_info = b"WebPush: info\0".to_vec();
    key_info.extend_from_slice(ua_public);
    key_info.extend_from_slice(as_public);
    let ikm = hkdf(auth, &ecdh_secret, &key_info, 32);
    let cek = hkdf(salt, &ikm, b"Content-Encoding: aes128gcm\0", 16);
    let nonce = hkdf(salt, &ikm, b"Content-Encoding: nonce\0", 12);

    // One record, the last: the plaintext, the 0x02 delimiter, no padding.
    let mut record = plaintext.to_vec();
    record.push(2);
    let key = LessSafeKey::new(UnboundKey::new(&aead::AES_128_GCM, &cek)?);
    let nonce = Nonce::try_assume_unique_for_key(&nonce)?;
    key.seal_in_place_append_tag(nonce, Aad::empty(), &mut record)?;

    let mut body = Vec::with_capacity(16 + 4 + 1 + as_public.len() + record.len());
    body.extend_from_slice(salt);
    body.extend_from_slice(&RECORD_SIZE.to_be_bytes());
    body.push(u8::try_from(as_public.len()).map_err(|_| CryptoError::Library)?);
    body.extend_from_slice(as_public);
    body.extend_from_slice(&record);
    Ok(body)
}

/// The application server's VAPID key pair (RFC 8292).
pub struct VapidKey {
    signing: EcdsaKeyPair,
    /// Base64url of the uncompressed public point: the `k` parameter and browsers'
    /// `applicationServerKey`.
    public: String,
}

impl std::fmt::Debug for VapidKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VapidKey").field("public", &self.public).finish_non_exhaustive()
    }
}

impl VapidKey {
    /// From the raw private scalar, base64url (as `web-push generate-vapid-keys` and
    /// `ai-agent generate-vapid-keys` print it); the public key is derived from it.
    pub fn from_base64(private: &str) -> Result<Self, CryptoError> {
        let scalar = URL_SAFE_NO_PAD
            .decode(private.trim().trim_end_matches('='))
            .map_err(|_| CryptoError::PrivateKey)?;
        let ecdh = PrivateKey::from_private_key(&ECDH_P256, &scalar).map_err(|_| CryptoError::PrivateKey)?;
        let public = ecdh.compute_public_key()?;
        let signing = EcdsaKeyPair::from_private_key_and_public_key(
            &ECDSA_P256_SHA256_FIXED_SIGNING,
            &scalar,
            public.as_ref(),
        )
        .map_err(|_| CryptoError::PrivateKey)?;
        Ok(Self { signing, public: URL_SAFE_NO_PAD.encode(public.as_ref()) })
    }

    /// A new key pair: (private, public), both base64url.
    pub fn generate() -> Result<(String, String), CryptoError> {
        let key = PrivateKey::generate(&ECDH_P256)?;
        let scalar: EcPrivateKeyBin<'_> = key.as_be_bytes()?;
        let private = URL_SAFE_NO_PAD.encode(scalar.as_ref());
        let public = Self::from_base64(&private)?.public;
        Ok((private, public))
    }

    pub fn public_key(&self) -> &str {
        &self.public
    }

    /// The `Authorization` header for a push to a service at `audience` (the endpoint's origin,
    /// `https://host[:port]`), valid until `expires` (Unix seconds; at most 24 h ahead).
    pub fn authorization(&self, audience: &str, subject: &str, expires: i64) -> Result<String, CryptoError> {
        let header = URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT","alg":"ES256"}"#);
        let claims =
            URL_SAFE_NO_PAD.encode(json!({"aud": audience, "exp": expires, "sub": subject}).to_string());
        let signed = format!("{header}.{claims}");
        let signature = self.signing.sign(&SystemRandom::new(), signed.as_bytes())?;
        let token = format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature.as_ref()));
        Ok(format!("vapid t={token}, k={}", self.public))
    }
}

#[cfg(test)]
mod tests {
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey as VerifyKey};

    use super::*;

    fn b64(text: &str) -> Vec<u8> {
        URL_SAFE_NO_PAD.decode(text).unwrap()
    }

    /// RFC 8291 §5 (and Appendix A): the example message, byte for byte.
    #[test]
    fn encryption_reproduces_the_rfc_8291_example() {
        let as_private =
            PrivateKey::from_private_key(&ECDH_P256, &b64("yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw"))
                .unwrap();
        let salt: [u8; 16] = b64("DGv6ra1nlYgDCS1FRnbzlw").try_into().unwrap();
        let body = encrypt_with(
            &as_private,
            &salt,
            &b64("BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"),
            &b64("BTBZMqHH6r4Tts7J_aSIgg"),
            b"When I grow up, I want to be a watermelon",
        )
        .unwrap();
        assert_eq!(
            URL_SAFE_NO_PAD.encode(body),
            "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27ml\
             mlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPT\
             pK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN"
        );
    }

    #[test]
    fn each_message_gets_a_fresh_salt_and_key() {
        let ua = PrivateKey::generate(&ECDH_P256).unwrap().compute_public_key().unwrap();
        let (a, b) =
            (encrypt(ua.as_ref(), &[1; 16], b"hi").unwrap(), encrypt(ua.as_ref(), &[1; 16], b"hi").unwrap());
        assert_ne!(a[..16], b[..16], "salt");
        assert_ne!(a[21..86], b[21..86], "key");
        assert_eq!(a.len(), 16 + 4 + 1 + 65 + 2 + 1 + 16);
    }

    #[test]
    fn oversized_payloads_and_bad_browser_keys_are_refused() {
        let ua = PrivateKey::generate(&ECDH_P256).unwrap().compute_public_key().unwrap();
        assert!(matches!(encrypt(ua.as_ref(), &[1; 16], &[b'x'; 3994]), Err(CryptoError::TooLong)));
        assert!(matches!(encrypt(&[4; 65], &[1; 16], b"hi"), Err(CryptoError::PublicKey)));
        assert!(matches!(encrypt(&ua.as_ref()[..33], &[1; 16], b"hi"), Err(CryptoError::PublicKey)));
    }

    #[test]
    fn a_generated_key_signs_tokens_its_public_key_verifies() {
        let (private, public) = VapidKey::generate().unwrap();
        assert_eq!((b64(&private).len(), b64(&public).len(), b64(&public)[0]), (32, 65, 4));
        let key = VapidKey::from_base64(&private).unwrap();
        assert_eq!(key.public_key(), public);
        let header =
            key.authorization("https://push.example.net", "mailto:ops@example.com", 1_900_000_000).unwrap();
        let (token, k) = header.strip_prefix("vapid t=").unwrap().split_once(", k=").unwrap();
        assert_eq!(k, public);
        let (signed, signature) = token.rsplit_once('.').unwrap();
        VerifyKey::new(&ECDSA_P256_SHA256_FIXED, b64(&public))
            .verify(signed.as_bytes(), &b64(signature))
            .unwrap();
        let claims: serde_json::Value =
            serde_json::from_slice(&b64(signed.split_once('.').unwrap().1)).unwrap();
        assert_eq!(
            claims,
            json!({"aud": "https://push.example.net", "exp": 1_900_000_000, "sub": "mailto:ops@example.com"})
        );
    }

    #[test]
    fn malformed_private_keys_are_refused() {
        assert!(matches!(VapidKey::from_base64("not base64!"), Err(CryptoError::PrivateKey)));
        assert!(matches!(
            VapidKey::from_base64(&URL_SAFE_NO_PAD.encode([1u8; 31])),
            Err(CryptoError::PrivateKey)
        ));
        assert!(matches!(
            VapidKey::from_base64(&URL_SAFE_NO_PAD.encode([0u8; 32])),
            Err(CryptoError::PrivateKey)
        ));
    }
}
