//! Shared counters for limits that every replica must agree on (sign-in attempts now; rate
//! limits and caches later): in Redis when it is configured, in process when it is not. If Redis
//! stops answering, the process falls back to its own counters and says so in the log and in
//! `/readyz`; requests never fail because Redis is down.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

/// A key in the shared store: always namespaced, never personal data in clear (callers hash
/// emails and addresses before they become keys).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Key(String);

impl Key {
    pub fn new(area: &str, part: &str) -> Self {
        Self(format!("scps:{area}:{part}"))
    }
}

#[derive(Default)]
struct Memory {
    windows: HashMap<Key, (i64, Instant)>,
}

impl Memory {
    fn bump(&mut self, key: &Key, window: Duration) -> (i64, Duration) {
        let now = Instant::now();
        if self.windows.len() > 100_000 {
            self.windows.retain(|_, (_, until)| *until > now);
        }
        let entry = self.windows.entry(key.clone()).or_insert((0, now + window));
        if entry.1 <= now {
            *entry = (0, now + window);
        }
        entry.0 += 1;
        (entry.0, entry.1.saturating_duration_since(now))
    }
    fn peek(&self, key: &Key) -> (i64, Duration) {
        let now = Instant::now();
        match self.windows.get(key) {
            Some((n, until)) if *until > now => (*n, until.saturating_duration_since(now)),
            _ => (0, Duration::ZERO),
        }
    }
}

#[derive(Clone)]
pub struct Kv {
    redis: Option<ConnectionManager>,
    memory: Arc<Mutex<Memory>>,
}

/// Counts up within a window that starts with the first hit; returns the count and the time
/// left in the window.
const BUMP: &str = r"
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
return {n, ttl}
";

/// Takes one hit back from a window that still exists.
const UNBUMP: &str = r"
if redis.call('EXISTS', KEYS[1]) == 1 and tonumber(redis.call('GET', KEYS[1])) > 0 then
  return redis.call('DECR', KEYS[1])
end
return 0
";

impl Kv {
    /// In-process only.
    pub fn memory() -> Self {
        Self {
            redis: None,
            memory: Arc::default(),
        }
    }

    /// Connects to Redis, failing fast if it does not answer.
    pub async fn connect(url: &str) -> Result<Self, redis::RedisError> {
        let client = redis::Client::open(url)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(1)))
            .set_number_of_retries(1);
        let manager = client.get_connection_manager_with_config(config).await?;
        Ok(Self {
            redis: Some(manager),
            memory: Arc::default(),
        })
    }

    pub fn uses_redis(&self) -> bool {
        self.redis.is_some()
    }

    /// Whether the shared store answers (always true in process).
    pub async fn ping(&self) -> Result<(), String> {
        match &self.redis {
            None => Ok(()),
            Some(m) => {
                let mut con = m.clone();
                redis::cmd("PING")
                    .query_async::<String>(&mut con)
                    .await
                    .map(|_| ())
                    .map_err(|e| format!("redis: {}", e.category()))
            }
        }
    }

    /// Adds one hit to a fixed window.
    pub async fn bump(&self, key: &Key, window: Duration) -> (i64, Duration) {
        if let Some(m) = &self.redis {
            let mut con = m.clone();
            let ms = i64::try_from(window.as_millis()).unwrap_or(i64::MAX);
            match redis::Script::new(BUMP)
                .key(&key.0)
                .arg(ms)
                .invoke_async::<(i64, i64)>(&mut con)
                .await
            {
                Ok((n, ttl)) => return (n, Duration::from_millis(u64::try_from(ttl.max(0)).unwrap_or(0))),
                Err(e) => tracing::warn!(error.kind = %e.category(), "redis unavailable; counting in process"),
            }
        }
        self.memory
            .lock()
            .map(|mut m| m.bump(key, window))
            .unwrap_or((1, window))
    }

    /// Takes one hit back (an attempt that turned out to be fine).
    pub async fn unbump(&self, key: &Key) {
        if let Some(m) = &self.redis {
            let mut con = m.clone();
            match redis::Script::new(UNBUMP)
                .key(&key.0)
                .invoke_async::<i64>(&mut con)
                .await
            {
                Ok(_) => return,
                Err(e) => tracing::warn!(error.kind = %e.category(), "redis unavailable; counting in process"),
            }
        }
        if let Ok(mut m) = self.memory.lock()
            && let Some(entry) = m.windows.get_mut(key)
        {
            entry.0 = (entry.0 - 1).max(0);
        }
    }

    /// The current count of a window, without adding to it.
    pub async fn peek(&self, key: &Key) -> (i64, Duration) {
        if let Some(m) = &self.redis {
            let mut con = m.clone();
            let result: Result<(Option<i64>, i64), _> =
                redis::pipe().get(&key.0).pttl(&key.0).query_async(&mut con).await;
            match result {
                Ok((n, ttl)) => {
                    return (
                        n.unwrap_or(0),
                        Duration::from_millis(u64::try_from(ttl.max(0)).unwrap_or(0)),
                    );
                }
                Err(e) => tracing::warn!(error.kind = %e.category(), "redis unavailable; reading in-process counters"),
            }
        }
        self.memory.lock().map(|m| m.peek(key)).unwrap_or((0, Duration::ZERO))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn memory_windows_count_and_expire() {
        let kv = Kv::memory();
        let key = Key::new("test", "a");
        assert_eq!(kv.bump(&key, Duration::from_millis(50)).await.0, 1);
        assert_eq!(kv.bump(&key, Duration::from_millis(50)).await.0, 2);
        assert_eq!(kv.peek(&key).await.0, 2);
        kv.unbump(&key).await;
        assert_eq!(kv.peek(&key).await.0, 1);
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert_eq!(kv.peek(&key).await.0, 0);
        assert_eq!(kv.bump(&key, Duration::from_millis(50)).await.0, 1);
    }
}
