//! `basic_auth_users` of `--web.config.file`: bcrypt hashes, checked as
//! exporter-toolkit checks them, with the verdicts cached.
//!
//! bcrypt is slow on purpose (tens of milliseconds at cost 10, seconds at cost
//! 18): Prometheus sends the same credentials on every scrape, so each
//! verdict is remembered under a SHA-256 of user, hash and password (the
//! password itself is never stored). Only one bcrypt runs at a time, on a
//! blocking thread, so a flood of wrong passwords costs one core, never the
//! runtime's workers.

use axum::http::HeaderValue;
use base64::Engine;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

/// How many verdicts are remembered; past it an arbitrary one is forgotten.
const CACHE_ENTRIES: usize = 256;

/// A bcrypt hash of a password nobody has, compared for unknown users so
/// that the answer takes as long as for a known one (no user enumeration by
/// timing). Cost 10, as exporter-toolkit's.
const UNKNOWN_USER_HASH: &str = "$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi";

/// Users and their bcrypt hashes, and the verdicts so far.
pub struct BasicAuth {
    users: BTreeMap<String, String>,
    verdicts: Mutex<HashMap<[u8; 32], bool>>,
    bcrypt: tokio::sync::Semaphore,
}

impl std::fmt::Debug for BasicAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BasicAuth")
            .field("users", &self.users.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl BasicAuth {
    /// `users` maps user names to bcrypt hashes (already validated).
    pub fn new(users: BTreeMap<String, String>) -> Self {
        Self {
            users,
            verdicts: Mutex::new(HashMap::new()),
            bcrypt: tokio::sync::Semaphore::new(1),
        }
    }

    /// True when `authorization` is `Basic` credentials of a configured user.
    pub async fn verify(&self, authorization: Option<&HeaderValue>) -> bool {
        let Some((user, password)) = authorization.and_then(credentials) else {
            return false;
        };
        let (hash, known) = match self.users.get(&user) {
            Some(hash) => (hash.clone(), true),
            None => (UNKNOWN_USER_HASH.to_string(), false),
        };
        let key = cache_key(&user, &hash, &password);
        if let Some(verdict) = self.cached(&key) {
            return verdict;
        }
        let Ok(_one_at_a_time) = self.bcrypt.acquire().await else {
            return false;
        };
        // Another request may have verified the same credentials meanwhile.
        if let Some(verdict) = self.cached(&key) {
            return verdict;
        }
        let matches = tokio::task::spawn_blocking(move || {
            bcrypt::verify(password.as_bytes(), &hash).unwrap_or(false)
        })
        .await
        .unwrap_or(false);
        let verdict = known && matches;
        self.remember(key, verdict);
        verdict
    }

    fn verdicts(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], bool>> {
        self.verdicts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn cached(&self, key: &[u8; 32]) -> Option<bool> {
        self.verdicts().get(key).copied()
    }

    fn remember(&self, key: [u8; 32], verdict: bool) {
        let mut verdicts = self.verdicts();
        if verdicts.len() >= CACHE_ENTRIES
            && let Some(old) = verdicts.keys().next().copied()
        {
            verdicts.remove(&old);
        }
        verdicts.insert(key, verdict);
    }
}

/// User and password of a `Basic` Authorization header (RFC 7617): the
/// password is everything after the first colon.
fn credentials(header: &HeaderValue) -> Option<(String, String)> {
    let text = header.to_str().ok()?;
    let (scheme, encoded) = text.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (user, password) = decoded.split_once(':')?;
    Some((user.to_string(), password.to_string()))
}

/// Length-prefixed fields, so `("ab", "c")` and `("a", "bc")` differ.
fn cache_key(user: &str, hash: &str, password: &str) -> [u8; 32] {
    let mut digest = Sha256::new();
    for field in [user, hash, password] {
        digest.update((field.len() as u64).to_le_bytes());
        digest.update(field.as_bytes());
    }
    digest.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(user_password: &str) -> HeaderValue {
        let encoded = base64::engine::general_purpose::STANDARD.encode(user_password);
        HeaderValue::from_str(&format!("Basic {encoded}")).expect("a header value")
    }

    fn auth() -> BasicAuth {
        // Cost 4, the lowest: these tests check logic, not bcrypt.
        let hash = bcrypt::hash("pa:ss", 4).expect("bcrypt hashes");
        BasicAuth::new(BTreeMap::from([("prometheus".to_string(), hash)]))
    }

    #[tokio::test]
    async fn right_credentials_pass_and_are_cached() {
        let auth = auth();
        assert!(auth.verify(Some(&basic("prometheus:pa:ss"))).await);
        assert_eq!(auth.verdicts().len(), 1);
        assert!(auth.verify(Some(&basic("prometheus:pa:ss"))).await);
        assert_eq!(auth.verdicts().len(), 1, "the second check hit the cache");
    }

    #[tokio::test]
    async fn anything_else_fails() {
        let auth = auth();
        for header in [
            basic("prometheus:wrong"),
            basic("prometheus:pa"),
            basic("nobody:pa:ss"),
            basic("no-colon"),
            HeaderValue::from_static("Bearer abc"),
            HeaderValue::from_static("Basic !!!not-base64"),
        ] {
            assert!(!auth.verify(Some(&header)).await, "{header:?}");
        }
        assert!(!auth.verify(None).await);
    }

    #[test]
    fn the_cache_key_separates_fields_and_holds_no_password() {
        assert_ne!(cache_key("ab", "h", "c"), cache_key("a", "bh", "c"));
        let key = cache_key("u", "h", "hunter2");
        assert!(!key.windows(7).any(|w| w == b"hunter2"));
    }

    #[test]
    fn the_cache_is_bounded() {
        let auth = auth();
        for i in 0..(CACHE_ENTRIES * 2) {
            auth.remember(cache_key("u", "h", &i.to_string()), false);
        }
        assert_eq!(auth.verdicts().len(), CACHE_ENTRIES);
    }
}
