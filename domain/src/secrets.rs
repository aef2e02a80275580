//! Random tokens, their stored hashes, and password hashing.
//!
//! High-entropy tokens (refresh tokens, partner secrets, invitation codes) are stored as SHA-256
//! digests: they cannot be guessed, so a slow hash adds nothing. Passwords, which people choose,
//! are hashed with argon2id.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// `n` bytes from the operating system's secure random source.
pub fn random_bytes(n: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; n];
    rand::rng().fill_bytes(&mut bytes);
    bytes
}

/// A fresh token with 256 bits of entropy, URL-safe, with a readable prefix such as `rt_`.
pub fn new_token(prefix: &str) -> String {
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(random_bytes(32)))
}

/// The digest under which a token is stored and looked up.
pub fn token_digest(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// An argon2id hash in PHC string format.
pub fn hash_password(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::encode_b64(&random_bytes(16))?;
    Ok(Argon2::default().hash_password(password.as_bytes(), &salt)?.to_string())
}

/// Whether `password` matches the stored hash. A malformed hash never matches.
pub fn verify_password(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .map(|hash| Argon2::default().verify_password(password.as_bytes(), &hash).is_ok())
        .unwrap_or(false)
}

/// Spends about as long as a real verification, so that an unknown account cannot be told apart
/// from a wrong password by timing.
pub fn verify_password_against_nothing(password: &str) {
    static DUMMY: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    if let Some(hash) = DUMMY.get_or_init(|| hash_password("not a real password at all").ok()) {
        let _ = verify_password(password, hash);
    }
}

/// Bounds how many password hashes run at once. Each argon2id hash takes about 19 MiB and a
/// core for a while; unbounded, a burst of sign-ins takes gigabytes. A few callers may wait a
/// short while for a turn; beyond them, or past the wait, the answer is "busy" (`RATE_LIMITED`).
#[derive(Debug)]
pub struct HashGate {
    permits: std::sync::Arc<tokio::sync::Semaphore>,
    queue: usize,
    waiting: std::sync::atomic::AtomicUsize,
    wait: std::time::Duration,
}

/// Too many password checks at once: try again after this many seconds.
pub const HASH_RETRY_AFTER_SECONDS: u64 = 1;

impl HashGate {
    /// `at_once` hashes run together; `queue` more may wait up to `wait` for a turn.
    pub fn new(at_once: usize, queue: usize, wait: std::time::Duration) -> Self {
        Self {
            permits: std::sync::Arc::new(tokio::sync::Semaphore::new(at_once.max(1))),
            queue,
            waiting: std::sync::atomic::AtomicUsize::new(0),
            wait,
        }
    }

    /// A gate for one-off work (the command line, the demo): one hash at a time, waiting as
    /// long as it takes.
    pub fn single() -> Self {
        Self::new(1, usize::MAX, std::time::Duration::from_secs(3600))
    }

    /// Runs `work` (a password hash) off the async workers when a turn is free.
    pub async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> crate::DomainResult<T> {
        use std::sync::atomic::Ordering;
        let busy = || crate::DomainError::RateLimited {
            retry_after_seconds: HASH_RETRY_AFTER_SECONDS,
        };
        let permit = match self.permits.clone().try_acquire_owned() {
            Ok(p) => p,
            Err(_) => {
                if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.queue {
                    self.waiting.fetch_sub(1, Ordering::SeqCst);
                    return Err(busy());
                }
                let waited = tokio::time::timeout(self.wait, self.permits.clone().acquire_owned()).await;
                self.waiting.fetch_sub(1, Ordering::SeqCst);
                match waited {
                    Ok(Ok(p)) => p,
                    _ => return Err(busy()),
                }
            }
        };
        let out = tokio::task::spawn_blocking(move || {
            let out = work();
            drop(permit);
            out
        })
        .await
        .map_err(|e| crate::DomainError::internal("hashing a password", e))?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_gate_refuses_beyond_its_queue_and_runs_the_rest() {
        let gate = std::sync::Arc::new(HashGate::new(1, 1, std::time::Duration::from_secs(5)));
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let first = {
            let gate = gate.clone();
            tokio::spawn(async move { gate.run(move || rx.recv().is_ok()).await })
        };
        while gate.permits.available_permits() > 0 {
            tokio::task::yield_now().await;
        }
        let second = {
            let gate = gate.clone();
            tokio::spawn(async move { gate.run(|| true).await })
        };
        while gate.waiting.load(std::sync::atomic::Ordering::SeqCst) == 0 {
            tokio::task::yield_now().await;
        }
        // One runs, one waits: a third is refused at once.
        assert!(matches!(
            gate.run(|| true).await,
            Err(crate::DomainError::RateLimited { .. })
        ));
        tx.send(()).unwrap();
        assert!(first.await.unwrap().unwrap());
        assert!(second.await.unwrap().unwrap());
    }

    #[test]
    fn a_password_verifies_only_against_its_own_hash() {
        let hash = hash_password("correct horse battery staple").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery staple", &hash));
        assert!(!verify_password("correct horse battery stapl", &hash));
        assert!(!verify_password("anything", "not a hash"));
    }

    #[test]
    fn tokens_are_unique_prefixed_and_digests_are_stable() {
        let a = new_token("rt_");
        let b = new_token("rt_");
        assert_ne!(a, b);
        assert!(a.starts_with("rt_") && a.len() > 40);
        assert_eq!(token_digest(&a), token_digest(&a));
        assert_ne!(token_digest(&a), token_digest(&b));
        assert_eq!(token_digest(&a).len(), 64);
    }
}
