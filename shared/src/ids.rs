//! Identifiers and credentials, each parsed once at the edge so the rest of the code can trust it.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;
use subtle::ConstantTimeEq;

/// `^[A-Za-z0-9_-]{8,128}$`: what the mobile client generates (`chat_<ms>_<random>`) and what
/// the server generates when the client sends none. Stored and sent as that text.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SessionId(String);

impl SessionId {
    pub fn parse(text: &str) -> Option<Self> {
        is_token_text(text, 8, b"_-").then(|| Self(text.to_owned()))
    }

    /// 128 random bits, URL-safe: unguessable, so ids leak nothing about other sessions.
    pub fn generate() -> Self {
        Self(format!(
            "chat_{}",
            URL_SAFE_NO_PAD.encode(random_bytes::<16>())
        ))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A message's position in its session. The server assigns them 1, 2, 3, ... in commit order,
/// so the id doubles as the poll cursor and sorts exactly as messages were committed. Stored
/// and sent as `msg_` and twelve digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MessageId(u64);

impl MessageId {
    const PREFIX: &'static str = "msg_";
    const DIGITS: usize = 12;

    pub fn from_seq(seq: u64) -> Self {
        Self(seq)
    }

    pub fn seq(self) -> u64 {
        self.0
    }

    pub fn next(self) -> Self {
        Self(self.0 + 1)
    }

    pub fn parse(text: &str) -> Option<Self> {
        let digits = text.strip_prefix(Self::PREFIX)?;
        if digits.len() != Self::DIGITS || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse().ok().map(Self)
    }
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}{:0width$}",
            Self::PREFIX,
            self.0,
            width = Self::DIGITS
        )
    }
}

impl TryFrom<String> for SessionId {
    type Error = IdError;

    fn try_from(text: String) -> Result<Self, IdError> {
        Self::parse(&text).ok_or(IdError::Session(text))
    }
}

impl From<SessionId> for String {
    fn from(id: SessionId) -> Self {
        id.0
    }
}

impl TryFrom<String> for MessageId {
    type Error = IdError;

    fn try_from(text: String) -> Result<Self, IdError> {
        Self::parse(&text).ok_or(IdError::Message(text))
    }
}

impl From<MessageId> for String {
    fn from(id: MessageId) -> Self {
        id.to_string()
    }
}

/// A stored or sent id that is not one (the item holding it is refused).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("not a session id: {0:?}")]
    Session(String),
    #[error("not a message id: {0:?}")]
    Message(String),
}

/// A `messageId` chosen by a sender: kept only to make a retried send return its first result.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn parse(text: &str) -> Option<Self> {
        is_token_text(text, 1, b"_-.:").then(|| Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The secret a client receives when it starts a session and sends back as `X-Chat-Token`.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientToken(String);

impl ClientToken {
    pub fn generate() -> Self {
        Self(URL_SAFE_NO_PAD.encode(random_bytes::<32>()))
    }

    /// Only what [`ClientToken::generate`] produces: 32 random bytes, URL-safe base64.
    pub fn from_header(value: &str) -> Option<Self> {
        let value = value.trim();
        is_random_256_bits(value).then(|| Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn hash(&self) -> TokenHash {
        TokenHash(URL_SAFE_NO_PAD.encode(Sha256::digest(self.0.as_bytes())))
    }
}

impl fmt::Debug for ClientToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientToken(<redacted>)")
    }
}

/// What is stored instead of the token. The token has 256 random bits, so a fast hash is
/// enough: nobody can brute-force it, and a leaked table leaks no usable credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenHash(String);

impl TokenHash {
    pub fn from_stored(value: String) -> Self {
        Self(value)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Constant-time, so response timing says nothing about how much of a guess was right.
    pub fn matches(&self, candidate: &ClientToken) -> bool {
        self.0
            .as_bytes()
            .ct_eq(candidate.hash().0.as_bytes())
            .into()
    }
}

/// 32 random bytes in URL-safe base64 without padding: the form of tokens and tickets.
fn is_random_256_bits(text: &str) -> bool {
    text.len() == 43
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A single-use ticket that opens one push connection (`?ticket=` on the WebSocket URL: a
/// browser's WebSocket cannot send a header). 256 random bits; only its hash is stored.
#[derive(Clone, PartialEq, Eq)]
pub struct PushTicket(String);

impl PushTicket {
    pub fn generate() -> Self {
        Self(URL_SAFE_NO_PAD.encode(random_bytes::<32>()))
    }

    /// Only what [`PushTicket::generate`] produces.
    pub fn parse(text: &str) -> Option<Self> {
        is_random_256_bits(text).then(|| Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What the ticket's item is keyed by.
    pub fn hash(&self) -> String {
        URL_SAFE_NO_PAD.encode(Sha256::digest(self.0.as_bytes()))
    }
}

impl fmt::Debug for PushTicket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PushTicket(<redacted>)")
    }
}

/// A support agent's id: `adm_` and 128 random bits.
pub fn new_admin_id() -> String {
    format!("adm_{}", URL_SAFE_NO_PAD.encode(random_bytes::<16>()))
}

/// Whether `text` could be an admin id (for filters: an unknown one simply matches nothing).
pub fn is_admin_id(text: &str) -> bool {
    is_token_text(text, 4, b"_-")
}

/// `min_len` to 128 ASCII letters, digits or `extra` punctuation: safe in keys, paths and logs.
fn is_token_text(text: &str, min_len: usize, extra: &[u8]) -> bool {
    (min_len..=128).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || extra.contains(&b))
}

/// SHA-256 of `text` in lower-case hex (idempotency texts, sign-in keys).
pub fn sha256_hex(text: &str) -> String {
    hex(&Sha256::digest(text.as_bytes()))
}

/// Lower-case hex, for hashes and random ids.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
}

pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).expect("the operating system's random source failed");
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_ids_follow_the_published_pattern() {
        assert!(SessionId::parse("chat_1700000000000_abc123xyz").is_some());
        assert!(SessionId::parse("integration-test-session").is_some());
        assert!(SessionId::parse("short").is_none());
        assert!(SessionId::parse("has space in it").is_none());
        assert!(SessionId::parse("../../etc/passwd").is_none());
        assert!(SessionId::parse(&"a".repeat(129)).is_none());
        let generated = SessionId::generate();
        assert!(SessionId::parse(generated.as_str()).is_some());
        assert_ne!(generated, SessionId::generate());
    }

    #[test]
    fn message_ids_sort_like_their_sequence_and_round_trip() {
        let id = MessageId::from_seq(42);
        assert_eq!(id.to_string(), "msg_000000000042");
        assert_eq!(MessageId::parse("msg_000000000042"), Some(id));
        assert!(MessageId::from_seq(9).to_string() < MessageId::from_seq(10).to_string());
        assert_eq!(MessageId::parse("msg_42"), None);
        assert_eq!(MessageId::parse("msg_user_1700000000000"), None);
        assert_eq!(MessageId::parse("undefined"), None);
    }

    #[test]
    fn idempotency_keys_accept_what_clients_generate() {
        assert!(IdempotencyKey::parse("msg_admin_1700000000000_k3j4h5g6f").is_some());
        assert!(IdempotencyKey::parse("test-msg-1").is_some());
        assert!(IdempotencyKey::parse("").is_none());
        assert!(IdempotencyKey::parse("no spaces").is_none());
    }

    #[test]
    fn a_token_matches_only_its_own_hash() {
        let token = ClientToken::generate();
        let stored = token.hash();
        assert!(stored.matches(&token));
        assert!(!stored.matches(&ClientToken::generate()));
        let guess = ClientToken::from_header(&"g".repeat(43)).unwrap();
        assert!(!stored.matches(&guess));
        // Only the issued shape is a token at all.
        assert!(ClientToken::from_header("guess").is_none());
        assert!(ClientToken::from_header(&"g".repeat(44)).is_none());
        assert!(ClientToken::from_header(&format!("{}!", "g".repeat(42))).is_none());
        assert_eq!(token.as_str().len(), 43);
        assert!(!format!("{token:?}").contains(token.as_str()));
    }
}
