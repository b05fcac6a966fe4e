//! The shared state of one simulated router: configuration, faults, counters,
//! boot time and the row caches.

use crate::RouterConfig;
use crate::capture::Capture;
use crate::faults::{Faults, OverLimit, StatsCounters};
use crate::menus::{Menu, RouterView, SimRow};
use crate::query::Query;
use crate::wire::{EncodedRows, Proplist};
use routeros::codec::ProtocolError;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::watch;

/// Encoded tables kept per router before the cache is flushed.
const MAX_ENCODED_ENTRIES: usize = 64;
/// Bytes of encoded tables kept per router before the cache is flushed.
const MAX_ENCODED_BYTES: usize = 512 << 20;

/// Menus by path.
pub(crate) type MenuTable = HashMap<&'static str, Arc<dyn Menu>>;

/// The TLS identity of a router's API-SSL listener.
#[derive(Debug, Clone)]
pub(crate) struct TlsIdentity {
    pub addr: SocketAddr,
    pub fingerprint_sha256: String,
    pub ca_pem: String,
}

#[derive(Default)]
struct RowCache {
    rows: HashMap<&'static str, Arc<Vec<SimRow>>>,
    encoded: HashMap<Vec<u8>, Arc<EncodedRows>>,
    encoded_bytes: usize,
}

/// Everything the listeners and connections of one router share.
pub(crate) struct RouterShared {
    pub index: usize,
    pub config: RouterConfig,
    pub menus: Arc<MenuTable>,
    pub addr: SocketAddr,
    pub tls: Option<TlsIdentity>,
    pub stats: StatsCounters,
    /// The request sentences captured for replay (off unless started).
    pub capture: Capture,
    faults: RwLock<Arc<Faults>>,
    boot: Mutex<Instant>,
    /// Bumped on reboot and shutdown: every connection closes without a reply.
    closer: watch::Sender<u64>,
    generation: AtomicU64,
    cache: Mutex<RowCache>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl RouterShared {
    pub fn new(
        index: usize,
        config: RouterConfig,
        menus: Arc<MenuTable>,
        addr: SocketAddr,
        tls: Option<TlsIdentity>,
    ) -> Self {
        let faults = RwLock::new(Arc::new(config.faults.clone()));
        let boot = Instant::now()
            .checked_sub(config.initial_uptime)
            .unwrap_or_else(Instant::now);
        Self {
            index,
            config,
            menus,
            addr,
            tls,
            stats: StatsCounters::default(),
            capture: Capture::default(),
            faults,
            boot: Mutex::new(boot),
            closer: watch::Sender::new(0),
            generation: AtomicU64::new(0),
            cache: Mutex::new(RowCache::default()),
        }
    }

    /// The faults in force right now.
    pub fn faults(&self) -> Arc<Faults> {
        self.faults
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Replaces the faults.
    pub fn set_faults(&self, faults: Faults) {
        *self.faults.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(faults);
    }

    /// The session limit and over-limit behaviour, faults overriding config.
    pub fn session_limit(&self) -> (usize, OverLimit) {
        let faults = self.faults();
        (
            faults.max_sessions.unwrap_or(self.config.max_sessions),
            faults
                .over_limit
                .clone()
                .unwrap_or_else(|| self.config.over_limit.clone()),
        )
    }

    /// Time since the simulated boot.
    pub fn uptime(&self) -> Duration {
        lock(&self.boot).elapsed()
    }

    /// What menus see.
    pub fn view(&self) -> RouterView<'_> {
        let now_unix = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or_default();
        RouterView {
            name: &self.config.name,
            index: self.index,
            personality: &self.config.personality,
            scale: &self.config.scale,
            uptime: self.uptime(),
            now_unix,
            api_sessions: self.stats.connections_open.load(Ordering::Relaxed) as usize,
        }
    }

    /// A receiver that changes when every connection must close.
    pub fn closer(&self) -> watch::Receiver<u64> {
        self.closer.subscribe()
    }

    /// Closes all connections without a reply (also used on shutdown).
    pub fn close_all(&self) {
        self.closer.send_modify(|g| *g += 1);
    }

    /// Simulated reboot: drop connections, restart uptime, forget cached rows.
    pub fn reboot(&self) {
        *lock(&self.boot) = Instant::now();
        self.generation.fetch_add(1, Ordering::SeqCst);
        *lock(&self.cache) = RowCache::default();
        self.close_all();
    }

    /// The cached rows of a static menu, if already rendered.
    pub fn cached_rows(&self, menu: &Arc<dyn Menu>) -> Option<Arc<Vec<SimRow>>> {
        lock(&self.cache).rows.get(menu.path()).cloned()
    }

    /// The cached encoded print of a static menu, if already built.
    pub fn cached_encoded_rows(
        &self,
        menu: &Arc<dyn Menu>,
        query_words: &[&[u8]],
        proplist_raw: Option<&[u8]>,
    ) -> Option<Arc<EncodedRows>> {
        let key = cache_key(menu.path(), query_words, proplist_raw);
        lock(&self.cache).encoded.get(&key).cloned()
    }

    /// The rows of `menu`, cached when the menu is static.
    pub fn rows(&self, menu: &Arc<dyn Menu>) -> Arc<Vec<SimRow>> {
        if !menu.is_static() {
            return Arc::new(menu.rows(&self.view()));
        }
        if let Some(rows) = lock(&self.cache).rows.get(menu.path()) {
            return rows.clone();
        }
        let generation = self.generation.load(Ordering::SeqCst);
        let rows = Arc::new(menu.rows(&self.view()));
        let mut cache = lock(&self.cache);
        if generation == self.generation.load(Ordering::SeqCst) {
            cache.rows.insert(menu.path(), rows.clone());
        }
        rows
    }

    /// The encoded `!re` sentences of a print, cached for static menus.
    pub fn encoded_rows(
        &self,
        menu: &Arc<dyn Menu>,
        query_words: &[&[u8]],
        query: &Query,
        proplist_raw: Option<&[u8]>,
    ) -> Result<Arc<EncodedRows>, ProtocolError> {
        let proplist = proplist_raw.map(Proplist::parse);
        if !menu.is_static() {
            let rows = self.rows(menu);
            return EncodedRows::build(&rows, query, proplist.as_ref()).map(Arc::new);
        }
        let key = cache_key(menu.path(), query_words, proplist_raw);
        if let Some(encoded) = lock(&self.cache).encoded.get(&key) {
            return Ok(encoded.clone());
        }
        let generation = self.generation.load(Ordering::SeqCst);
        let rows = self.rows(menu);
        let encoded = Arc::new(EncodedRows::build(&rows, query, proplist.as_ref())?);
        let mut cache = lock(&self.cache);
        if generation == self.generation.load(Ordering::SeqCst) {
            let size = encoded.size_bytes();
            if cache.encoded.len() >= MAX_ENCODED_ENTRIES
                || cache.encoded_bytes + size > MAX_ENCODED_BYTES
            {
                cache.encoded.clear();
                cache.encoded_bytes = 0;
            }
            cache.encoded_bytes += size;
            cache.encoded.insert(key, encoded.clone());
        }
        Ok(encoded)
    }
}

/// An unambiguous key: each part length-prefixed (path, proplist marker, words).
fn cache_key(path: &str, query_words: &[&[u8]], proplist_raw: Option<&[u8]>) -> Vec<u8> {
    let mut key = Vec::with_capacity(64);
    let mut part = |bytes: &[u8]| {
        key.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
        key.extend_from_slice(bytes);
    };
    part(path.as_bytes());
    match proplist_raw {
        Some(p) => {
            part(b"=");
            part(p);
        }
        None => part(b""),
    }
    for word in query_words {
        part(word);
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_keys_distinguish_absent_and_empty_proplists() {
        assert_ne!(cache_key("/a", &[], None), cache_key("/a", &[], Some(b"")));
        assert_ne!(cache_key("/a", &[b"?x"], None), cache_key("/a", &[], None));
        assert_ne!(
            cache_key("/a", &[b"?x\0?y"], None),
            cache_key("/a", &[b"?x", b"?y"], None)
        );
    }
}
