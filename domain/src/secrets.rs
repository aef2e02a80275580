//! Random tokens, their stored hashes, and password hashing.
//!
//! High-entropy tokens (refresh tokens, partner secrets, invitation codes) are stored as SHA-256
//! digests: they cannot be guessed, so a slow hash adds nothing. Passwords, which people choose,
//! are hashed with argon2id.

use argon2::password_hash::{Output, ParamsString, PasswordHash, Salt, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
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

/// The working memory of one argon2 hash (about 19 MiB with the default parameters). The gate
/// lends one to each hash it runs and keeps them only while hashes queue, so that a burst of
/// sign-ins reuses a few blocks instead of asking the allocator for 19 MiB each time.
#[derive(Default)]
pub struct HashMemory(Vec<Block>);

impl std::fmt::Debug for HashMemory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HashMemory({} blocks)", self.0.len())
    }
}

impl HashMemory {
    fn blocks(&mut self, params: &Params) -> &mut [Block] {
        let n = params.block_count();
        if self.0.len() < n {
            self.0.resize(n, Block::default());
        }
        &mut self.0[..n]
    }
}

/// The output of `argon` for `password` and `salt`, computed in `memory`.
fn compute(
    argon: &Argon2<'_>,
    password: &[u8],
    salt: Salt<'_>,
    memory: &mut HashMemory,
) -> Result<Output, argon2::password_hash::Error> {
    let mut salt_bytes = [0u8; Salt::MAX_LENGTH];
    let salt_bytes = salt.decode_b64(&mut salt_bytes)?;
    let params = argon.params();
    Output::init_with(params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN), |out| {
        Ok(argon.hash_password_into_with_memory(password, salt_bytes, out, memory.blocks(params))?)
    })
}

/// An argon2id hash in PHC string format, computed in `memory`.
pub fn hash_password_in(memory: &mut HashMemory, password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::encode_b64(&random_bytes(16))?;
    let argon = Argon2::default();
    // The PHC string argon2's own `hash_password` writes, so that either verifies the other's.
    let hash = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(argon.params())?,
        salt: Some(salt.as_salt()),
        hash: Some(compute(&argon, password.as_bytes(), salt.as_salt(), memory)?),
    };
    Ok(hash.to_string())
}

/// An argon2id hash in PHC string format.
pub fn hash_password(password: &str) -> Result<String, argon2::password_hash::Error> {
    hash_password_in(&mut HashMemory::default(), password)
}

/// Whether `password` matches the stored hash, computed in `memory`. A malformed hash never
/// matches; the comparison takes the same time wherever the two differ.
pub fn verify_password_in(memory: &mut HashMemory, password: &str, stored: &str) -> bool {
    let mut check = || -> Result<bool, argon2::password_hash::Error> {
        let hash = PasswordHash::new(stored)?;
        let (Some(salt), Some(expected)) = (hash.salt, hash.hash) else {
            return Ok(false);
        };
        let argon = Argon2::new(
            Algorithm::try_from(hash.algorithm)?,
            hash.version.map(Version::try_from).transpose()?.unwrap_or_default(),
            Params::try_from(&hash)?,
        );
        Ok(compute(&argon, password.as_bytes(), salt, memory)? == expected)
    };
    check().unwrap_or(false)
}

/// Whether `password` matches the stored hash. A malformed hash never matches.
pub fn verify_password(password: &str, stored: &str) -> bool {
    verify_password_in(&mut HashMemory::default(), password, stored)
}

/// Spends about as long as a real verification, so that an unknown account cannot be told apart
/// from a wrong password by timing.
pub fn verify_password_against_nothing(memory: &mut HashMemory, password: &str) {
    static DUMMY: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    if let Some(hash) = DUMMY.get_or_init(|| hash_password("not a real password at all").ok()) {
        let _ = verify_password_in(memory, password, hash);
    }
}

/// Bounds how many password hashes run at once. Each argon2id hash takes about 19 MiB and a
/// core for a while; unbounded, a burst of sign-ins takes gigabytes. A few callers may wait a
/// short while for a turn; beyond them, or past the wait, the answer is "busy" (`RATE_LIMITED`).
#[derive(Debug)]
pub struct HashGate {
    permits: std::sync::Arc<tokio::sync::Semaphore>,
    at_once: usize,
    /// Working memory lent to the hashes that run, kept only while others queue behind them.
    memory: std::sync::Mutex<Vec<HashMemory>>,
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
            at_once: at_once.max(1),
            memory: std::sync::Mutex::new(Vec::new()),
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

    /// Runs `work` (a password hash, in the memory it is lent) off the async workers when a
    /// turn is free.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut HashMemory) -> T + Send + 'static,
    ) -> crate::DomainResult<T> {
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
        let lent = self.lock_memory().pop().unwrap_or_default();
        let (out, memory) = tokio::task::spawn_blocking(move || {
            let mut memory = lent;
            let out = work(&mut memory);
            (out, memory)
        })
        .await
        .map_err(|e| crate::DomainError::internal("hashing a password", e))?;
        // Kept for the next hash while others run or wait; when none do, all of it is given
        // back (this hash's and any left by those before it), so that a quiet server holds none.
        let running = (self.at_once - 1).saturating_sub(self.permits.available_permits());
        let others = running + self.waiting.load(Ordering::SeqCst);
        {
            let mut kept = self.lock_memory();
            if others > 0 {
                kept.push(memory);
            } else {
                kept.clear();
            }
        }
        drop(permit);
        Ok(out)
    }
}

impl HashGate {
    fn lock_memory(&self) -> std::sync::MutexGuard<'_, Vec<HashMemory>> {
        self.memory.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
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
            tokio::spawn(async move { gate.run(move |_| rx.recv().is_ok()).await })
        };
        while gate.permits.available_permits() > 0 {
            tokio::task::yield_now().await;
        }
        let second = {
            let gate = gate.clone();
            tokio::spawn(async move { gate.run(|_| true).await })
        };
        while gate.waiting.load(std::sync::atomic::Ordering::SeqCst) == 0 {
            tokio::task::yield_now().await;
        }
        // One runs, one waits: a third is refused at once.
        assert!(matches!(
            gate.run(|_| true).await,
            Err(crate::DomainError::RateLimited { .. })
        ));
        tx.send(()).unwrap();
        assert!(first.await.unwrap().unwrap());
        assert!(second.await.unwrap().unwrap());
        // Quiet again: the memory lent while one waited is all given back.
        assert!(gate.lock_memory().is_empty());
    }

    #[test]
    fn hashes_in_lent_memory_are_argon2s_own() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let mut memory = HashMemory::default();
        let ours = hash_password_in(&mut memory, "a shared secret").unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(Argon2::default().verify_password(b"a shared secret", &parsed).is_ok());
        let salt = SaltString::encode_b64(&random_bytes(16)).unwrap();
        let theirs = Argon2::default()
            .hash_password(b"a shared secret", &salt)
            .unwrap()
            .to_string();
        // The same memory serves the next hash, with any earlier contents.
        assert!(verify_password_in(&mut memory, "a shared secret", &theirs));
        assert!(!verify_password_in(&mut memory, "a shared secreT", &theirs));
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
