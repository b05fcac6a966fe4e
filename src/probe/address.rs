//! Address targets: `/probe?target=10.1.2.3&auth=fleet` (also `host:port`,
//! `[v6]:port` and host names) when the config has `address_targets:`.
//!
//! The exporter holds credentials, so an address taken from a URL is a
//! server-side request forgery waiting to happen (blackbox_exporter #5,
//! #1024): whoever can reach `/probe` could make it log in, with a fleet's
//! password, to a host of their choosing. Hence, before any connection:
//! the auth must be one `address_targets.auths` lists; every address must be
//! inside `address_targets.allow`; loopback, link-local, unspecified,
//! multicast, broadcast and cloud metadata addresses need an allow entry that
//! lies within their reserved range (a `0.0.0.0/0` does not name them); a
//! host name is resolved once, every address it resolves to is checked, and
//! the target's endpoint carries the checked IP, so the connection makes no
//! second lookup that could answer differently (DNS rebinding). The host name
//! stays the TLS server name.
//!
//! An address target is a [`Target`] named `AUTH@HOST:PORT` and runs like a
//! configured one (pooled session, coalesced flights, per-target state). The
//! [`AddressBook`] keeps at most `max_targets` of them: beyond it the least
//! recently probed one that no probe is using is forgotten (its state dropped,
//! its pooled sessions closed), so a scanner walking the allow-list cannot
//! grow memory.

use super::{ProbeError, ProbeRequest, Prober, clip, deadline};
use crate::config::{
    AddressTargets, Cidr, Config, DEFAULT_API_PORT, DEFAULT_API_SSL_PORT, Target, normalize_address,
};
use routeros::pool::PoolKey;
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::Semaphore;
use tokio::time::Instant;

/// Why an address target was refused with 403: the `reason` label of
/// `routeros_exporter_address_targets_refused_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// An address (or one a host name resolves to) outside the allow-list.
    NotAllowed,
    /// A loopback, link-local, unspecified, multicast, broadcast or metadata
    /// address that no allow entry names.
    Reserved,
    /// An auth that `address_targets.auths` does not list.
    Auth,
}

impl Refusal {
    /// Every reason, in label order.
    pub const ALL: [Refusal; 3] = [Refusal::NotAllowed, Refusal::Reserved, Refusal::Auth];

    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::NotAllowed => "not_allowed",
            Refusal::Reserved => "reserved",
            Refusal::Auth => "auth",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// A probe of an address target that did not start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    /// `auth=` next to the name of a configured target, which has its own.
    #[error(
        "target {0} is configured with its own auth; the auth parameter is only for address targets"
    )]
    AuthForNamedTarget(String),
    /// An address target without `auth=`.
    #[error(
        "missing auth parameter: target {0} is not a configured target name; to probe it as an address, add auth=NAME with a name from address_targets.auths"
    )]
    MissingAuth(String),
    /// Neither an IP address nor a host name.
    #[error("target {0} is not a configured target name, an IP address or a host name: {1}")]
    BadTarget(String, String),
    /// Refused by the allow-list or the auth list (403), before any
    /// connection.
    #[error("{message}")]
    Refused {
        /// The label of the refusal counter.
        reason: Refusal,
        /// What was refused and why (never the allow-list itself).
        message: String,
    },
    /// A host name that did not resolve.
    #[error("cannot resolve host {0}: {1}")]
    Unresolved(String, String),
    /// Every kept address target is in use by a probe, so none can make room.
    #[error(
        "all {0} address targets (address_targets.max_targets) are being probed; try again later"
    )]
    Full(usize),
    /// Too many host names are being resolved at once.
    #[error("{0} host name lookups are already running; try again later")]
    LookupsBusy(usize),
}

impl AddressError {
    /// The HTTP status `/probe` answers with.
    pub fn status(&self) -> u16 {
        match self {
            AddressError::AuthForNamedTarget(_)
            | AddressError::MissingAuth(_)
            | AddressError::BadTarget(..) => 400,
            AddressError::Refused { .. } => 403,
            AddressError::Unresolved(..) => 502,
            AddressError::Full(_) | AddressError::LookupsBusy(_) => 503,
        }
    }
}

/// Ranges an address target may reach only through an allow entry that lies
/// within them, most specific first where they nest (metadata inside
/// link-local). Connecting to `0.0.0.0` reaches the local host on Linux.
const RESERVED: [(Cidr, &str); 12] = [
    (
        Cidr::v4([169, 254, 169, 254], 32),
        "the cloud metadata address",
    ),
    (
        Cidr::v4([100, 100, 100, 200], 32),
        "a cloud metadata address",
    ),
    (Cidr::v4([255, 255, 255, 255], 32), "the broadcast address"),
    (Cidr::v4([0, 0, 0, 0], 8), "an unspecified address"),
    (Cidr::v4([127, 0, 0, 0], 8), "a loopback address"),
    (Cidr::v4([169, 254, 0, 0], 16), "a link-local address"),
    (Cidr::v4([224, 0, 0, 0], 4), "a multicast address"),
    (
        Cidr::v6([0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254], 128),
        "the cloud metadata address",
    ),
    (Cidr::v6([0; 8], 128), "the unspecified address"),
    (
        Cidr::v6([0, 0, 0, 0, 0, 0, 0, 1], 128),
        "the loopback address",
    ),
    (
        Cidr::v6([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10),
        "a link-local address",
    ),
    (
        Cidr::v6([0xff00, 0, 0, 0, 0, 0, 0, 0], 8),
        "a multicast address",
    ),
];

/// Why one address may not be probed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denied {
    /// The refusal counter's reason.
    pub reason: Refusal,
    /// The address, IPv4-mapped IPv6 shown as IPv4.
    pub ip: IpAddr,
    /// For a reserved address: what it is and its range.
    pub reserved: Option<(&'static str, Cidr)>,
}

impl Denied {
    /// `subject` names the target ("10.1.2.3:8728", "router.lan:8728 resolves
    /// to 10.1.2.3, which"); the allow-list itself is never shown.
    fn message(&self, subject: &str) -> String {
        match self.reserved {
            Some((what, range)) => format!(
                "address target refused: {subject} is {what} ({ip}); an entry of \
                 address_targets.allow within {range} must name it",
                ip = self.ip
            ),
            None => format!(
                "address target refused: {subject} is not in address_targets.allow ({ip})",
                ip = self.ip
            ),
        }
    }
}

/// Whether `ip` may be probed under `allow`. An IPv4-mapped IPv6 address
/// (`::ffff:127.0.0.1`) is checked as the IPv4 address it carries.
pub fn check_ip(allow: &[Cidr], ip: IpAddr) -> Result<(), Denied> {
    let ip = ip.to_canonical();
    let mut matching = allow.iter().filter(|c| c.contains(ip)).peekable();
    let denied = |reason, reserved| Denied {
        reason,
        ip,
        reserved,
    };
    if matching.peek().is_none() {
        return Err(denied(Refusal::NotAllowed, None));
    }
    let reserved = RESERVED
        .iter()
        .filter(|(range, _)| range.contains(ip))
        .max_by_key(|(range, _)| range.prefix());
    match reserved {
        Some((range, what)) if !matching.any(|entry| range.covers(entry)) => {
            Err(denied(Refusal::Reserved, Some((what, *range))))
        }
        _ => Ok(()),
    }
}

/// The address to connect to among everything a host name resolved to: each
/// one must pass [`check_ip`] (a name that also points elsewhere is refused,
/// whichever address would have been used). `current`, the address the
/// target already uses, is kept while the name still resolves to it, so a
/// round-robin answer does not move the pooled session on every probe; else
/// the resolver's first choice.
pub fn choose(
    allow: &[Cidr],
    resolved: &[IpAddr],
    current: Option<IpAddr>,
) -> Result<IpAddr, Denied> {
    for ip in resolved {
        check_ip(allow, *ip)?;
    }
    let resolved: Vec<IpAddr> = resolved.iter().map(|ip| ip.to_canonical()).collect();
    Ok(current
        .filter(|c| resolved.contains(c))
        .or_else(|| resolved.first().copied())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)))
}

/// The host part of an address target.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Host {
    /// An IP address, IPv4-mapped IPv6 as IPv4.
    Ip(IpAddr),
    /// A host name, lowercased.
    Name(String),
}

/// Splits `target` (`host`, `host:port`, `[v6]`, `[v6]:port`) into host and
/// port, filling in `default_port`.
fn parse_target(target: &str, default_port: u16) -> Result<(Host, u16), AddressError> {
    let bad = |why: String| AddressError::BadTarget(clip(target), why);
    let normalized = normalize_address(target, default_port).map_err(bad)?;
    let (host, port) = normalized
        .rsplit_once(':')
        .and_then(|(host, port)| Some((host, port.parse::<u16>().ok()?)))
        .ok_or_else(|| bad("no port".to_string()))?;
    if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        let ip: IpAddr = v6.parse().map_err(|_| bad("bad IPv6 address".into()))?;
        return Ok((Host::Ip(ip.to_canonical()), port));
    }
    if let Ok(ip) = host.parse::<Ipv4Addr>() {
        return Ok((Host::Ip(IpAddr::V4(ip)), port));
    }
    let valid = host.len() <= 253
        && !host.starts_with(['-', '.'])
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'));
    if !valid {
        return Err(bad(
            "a host name has only letters, digits, `-`, `_` and `.`".into(),
        ));
    }
    Ok((Host::Name(host.to_ascii_lowercase()), port))
}

/// Host name lookups running at once. Each blocks a thread in the system
/// resolver until it answers (a probe that gives up does not stop it), so
/// without a bound a flood of names could take every blocking thread.
const LOOKUPS: usize = 16;

/// Resolves `host` once, before `until`, holding one of `slots` until the
/// resolver answers; IPv4-mapped answers as IPv4.
async fn lookup(
    slots: &Arc<Semaphore>,
    host: &str,
    port: u16,
    until: Instant,
) -> Result<Vec<IpAddr>, AddressError> {
    let unresolved = |why: String| AddressError::Unresolved(clip(host), why);
    let slot = tokio::time::timeout_at(until, slots.clone().acquire_owned())
        .await
        .map_err(|_| AddressError::LookupsBusy(LOOKUPS))?
        .map_err(|_| AddressError::LookupsBusy(LOOKUPS))?;
    let name = host.to_string();
    let task = tokio::task::spawn_blocking(move || {
        let _slot = slot;
        (name.as_str(), port)
            .to_socket_addrs()
            .map(Iterator::collect::<Vec<SocketAddr>>)
    });
    let addrs = tokio::time::timeout_at(until, task)
        .await
        .map_err(|_| unresolved("timed out".into()))?
        .map_err(|e| unresolved(e.to_string()))?
        .map_err(|e| unresolved(e.to_string()))?;
    let mut ips: Vec<IpAddr> = Vec::new();
    for ip in addrs.into_iter().map(|a| a.ip().to_canonical()) {
        if !ips.contains(&ip) {
            ips.push(ip);
        }
    }
    if ips.is_empty() {
        return Err(unresolved("no addresses".into()));
    }
    Ok(ips)
}

/// The label under which the exporter's own metrics count `target`'s probes:
/// its name, or `AUTH@*` for every address target of an auth (one series per
/// address would let the allow-list's size decide `/metrics`' size).
pub fn observed_name(target: &Target) -> Cow<'_, str> {
    if target.address_target {
        Cow::Owned(format!("{}@*", target.auth))
    } else {
        Cow::Borrowed(&target.name)
    }
}

/// The address targets kept, and what was refused or forgotten.
pub(super) struct AddressBook {
    book: Mutex<Book>,
    /// Slots for host name lookups ([`LOOKUPS`]).
    lookups: Arc<Semaphore>,
    /// Refusals by [`Refusal::index`].
    refused: [AtomicU64; 3],
    evicted: AtomicU64,
    /// Pool keys of the configured targets, for the config they were
    /// computed from: a forgotten address target never closes a session a
    /// configured target shares.
    configured: Mutex<Option<(Arc<Config>, HashSet<PoolKey>)>>,
}

/// The LRU: slots by name, and names by when they were last used.
#[derive(Default)]
struct Book {
    slots: HashMap<String, Slot>,
    order: BTreeMap<u64, String>,
    tick: u64,
}

/// One address target: the [`Target`] probes run with, its pool key, and
/// targets it replaced (the host name moved to another address) that a probe
/// still uses. A probe's collection holds its `Arc<Target>`, so a strong
/// count above one means "in use": it may still record state or use a
/// session.
struct Slot {
    target: Arc<Target>,
    key: PoolKey,
    retired: Vec<(Arc<Target>, PoolKey)>,
    used: u64,
}

impl Slot {
    fn in_use(&self) -> bool {
        Arc::strong_count(&self.target) > 1
            || self.retired.iter().any(|(t, _)| Arc::strong_count(t) > 1)
    }

    fn keys(&self) -> impl Iterator<Item = &PoolKey> {
        std::iter::once(&self.key).chain(self.retired.iter().map(|(_, k)| k))
    }
}

/// What leaving the book releases: state to forget, pool keys to close.
#[derive(Default)]
pub(super) struct Released {
    names: Vec<String>,
    keys: Vec<PoolKey>,
}

impl Book {
    fn current_ip(&self, name: &str) -> Option<IpAddr> {
        let slot = self.slots.get(name)?;
        slot.target
            .address
            .parse::<SocketAddr>()
            .ok()
            .map(|a| a.ip())
    }

    /// Marks `fresh` as just used and returns the target probes use for it;
    /// beyond `max` the least recently used idle slot is released. `Err`
    /// when every slot is in use.
    fn touch(
        &mut self,
        fresh: Target,
        key: PoolKey,
        max: usize,
    ) -> Result<(Arc<Target>, Released), AddressError> {
        let mut released = Released::default();
        if !self.slots.contains_key(&fresh.name) {
            while self.slots.len() >= max.max(1) {
                let Some((name, slot)) = self.evict_one() else {
                    return Err(AddressError::Full(max));
                };
                released.keys.extend(slot.keys().cloned());
                released.names.push(name);
            }
        }
        self.tick += 1;
        let tick = self.tick;
        let name = fresh.name.clone();
        let slot = self.slots.entry(name.clone()).or_insert_with(|| Slot {
            target: Arc::new(fresh.clone()),
            key: key.clone(),
            retired: Vec::new(),
            used: tick,
        });
        self.order.remove(&slot.used);
        slot.used = tick;
        self.order.insert(tick, name);
        if *slot.target != fresh {
            let old = std::mem::replace(&mut slot.target, Arc::new(fresh));
            let old_key = std::mem::replace(&mut slot.key, key);
            slot.retired.push((old, old_key));
        }
        let (idle, busy): (Vec<_>, Vec<_>) = std::mem::take(&mut slot.retired)
            .into_iter()
            .partition(|(t, _)| Arc::strong_count(t) == 1);
        slot.retired = busy;
        released.keys.extend(idle.into_iter().map(|(_, k)| k));
        Ok((slot.target.clone(), released))
    }

    /// Removes the least recently used slot that no probe uses.
    fn evict_one(&mut self) -> Option<(String, Slot)> {
        let (tick, name) = self
            .order
            .iter()
            .find(|(_, name)| self.slots.get(*name).is_some_and(|s| !s.in_use()))
            .map(|(tick, name)| (*tick, name.clone()))?;
        self.order.remove(&tick);
        let slot = self.slots.remove(&name)?;
        Some((name, slot))
    }
}

/// Figures for the exporter's own metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddressTargetStats {
    /// Address targets kept (state and pooled sessions).
    pub kept: usize,
    /// Address targets forgotten to stay within `max_targets`.
    pub evicted: u64,
    /// Refusals (403) by reason.
    pub refused: Vec<(Refusal, u64)>,
}

impl Default for AddressBook {
    fn default() -> Self {
        AddressBook {
            book: Mutex::default(),
            lookups: Arc::new(Semaphore::new(LOOKUPS)),
            refused: Default::default(),
            evicted: AtomicU64::default(),
            configured: Mutex::default(),
        }
    }
}

impl AddressBook {
    fn lock(&self) -> MutexGuard<'_, Book> {
        self.book.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn refuse(&self, reason: Refusal, message: String) -> AddressError {
        self.refused[reason.index()].fetch_add(1, Ordering::Relaxed);
        tracing::debug!(reason = reason.as_str(), "{message}");
        AddressError::Refused { reason, message }
    }

    /// The pool keys of `config`'s targets (computed once per config).
    fn configured_keys(&self, config: &Arc<Config>) -> HashSet<PoolKey> {
        let mut cached = self.configured.lock().unwrap_or_else(|e| e.into_inner());
        match &*cached {
            Some((for_config, keys)) if Arc::ptr_eq(for_config, config) => keys.clone(),
            _ => {
                let keys: HashSet<PoolKey> = config
                    .targets
                    .keys()
                    .filter_map(|name| config.endpoint(name).map(|e| e.key()))
                    .collect();
                *cached = Some((config.clone(), keys.clone()));
                keys
            }
        }
    }
}

impl Prober {
    /// The address target `request` describes, refused or resolved and
    /// checked; `None` when it names a configured target, or when address
    /// targets are off (the caller's 404 for an unknown name).
    pub(super) async fn address_target(
        &self,
        config: &Arc<Config>,
        request: &ProbeRequest,
    ) -> Result<Option<Arc<Target>>, ProbeError> {
        let found = self.find_address_target(config, request).await;
        if let (Err(ProbeError::Address(e)), Some(observer)) = (&found, &self.observer)
            && e.status() == 503
        {
            // Refused for load like a probe over the global limit: a shed
            // probe of `AUTH@*` (the label every address target counts under).
            let auth = request.auth.as_deref().unwrap_or_default();
            observer.probe_refused(&format!("{auth}@*"), &requested_modules(config, request));
        }
        found
    }

    /// What [`Self::address_target`] answers, without counting refusals for load.
    async fn find_address_target(
        &self,
        config: &Arc<Config>,
        request: &ProbeRequest,
    ) -> Result<Option<Arc<Target>>, ProbeError> {
        if config.targets.contains_key(&request.target) {
            return match request.auth {
                Some(_) => Err(AddressError::AuthForNamedTarget(clip(&request.target)).into()),
                None => Ok(None),
            };
        }
        let Some(settings) = &config.address_targets else {
            return Ok(None);
        };
        let book = &self.addresses;
        let auth = match &request.auth {
            None => return Err(AddressError::MissingAuth(clip(&request.target)).into()),
            Some(auth) if settings.auths.contains(auth) => auth,
            Some(auth) => {
                let message = format!(
                    "address target refused: auth {} is not one of address_targets.auths",
                    clip(auth)
                );
                return Err(book.refuse(Refusal::Auth, message).into());
            }
        };
        let default_port = match settings.tls {
            Some(_) => DEFAULT_API_SSL_PORT,
            None => DEFAULT_API_PORT,
        };
        let (host, port) = parse_target(&request.target, default_port)?;
        let ip = match &host {
            Host::Ip(ip) => check_ip(&settings.allow, *ip).map(|()| *ip).map_err(|d| {
                book.refuse(d.reason, d.message(&SocketAddr::new(*ip, port).to_string()))
            })?,
            Host::Name(name) => {
                let timeout = deadline::probe_timeout(
                    request.scrape_timeout,
                    self.options.timeout_offset,
                    None,
                    config.global.default_timeout,
                    config.global.max_timeout,
                );
                let until = deadline::after(Instant::now(), timeout);
                let resolved = lookup(&book.lookups, name, port, until).await?;
                let current = book.lock().current_ip(&target_name(auth, &host, port));
                choose(&settings.allow, &resolved, current).map_err(|d| {
                    let subject = format!("{name}:{port} resolves to {}, which", d.ip);
                    book.refuse(d.reason, d.message(&subject))
                })?
            }
        };
        let target = build_target(settings, auth, &host, ip, port);
        if request
            .modules
            .iter()
            .any(|m| !config.modules.contains_key(m))
        {
            // resolve() answers 400 for the module; such a request must not
            // make another target leave the book.
            return Ok(Some(Arc::new(target)));
        }
        self.keep_address_target(config, settings, target).map(Some)
    }

    /// Records `target` in the address book and releases what that evicts.
    fn keep_address_target(
        &self,
        config: &Arc<Config>,
        settings: &AddressTargets,
        target: Target,
    ) -> Result<Arc<Target>, ProbeError> {
        let Some(endpoint) = config.endpoint_of(&target) else {
            // The loader checked that every listed auth exists.
            return Err(AddressError::Refused {
                reason: Refusal::Auth,
                message: "address target refused: its auth is not defined".to_string(),
            }
            .into());
        };
        let (target, released) =
            self.addresses
                .lock()
                .touch(target, endpoint.key(), settings.max_targets)?;
        self.release(config, released);
        Ok(target)
    }

    /// Forgets the state of evicted address targets and closes the pooled
    /// sessions no kept target (address or configured) still shares.
    fn release(&self, config: &Arc<Config>, released: Released) {
        if released.names.is_empty() && released.keys.is_empty() {
            return;
        }
        self.addresses
            .evicted
            .fetch_add(released.names.len() as u64, Ordering::Relaxed);
        let mut close: HashSet<PoolKey> = released.keys.into_iter().collect();
        if !close.is_empty() {
            for key in self.addresses.configured_keys(config) {
                close.remove(&key);
            }
            let book = self.addresses.lock();
            for slot in book.slots.values() {
                for key in slot.keys() {
                    close.remove(key);
                }
            }
        }
        if !close.is_empty() {
            self.pool.retain(|key| !close.contains(key));
        }
        let mut states = self.lock_states();
        let mut per_target = self.per_target.lock().unwrap_or_else(|e| e.into_inner());
        for name in &released.names {
            states.remove(name);
            per_target.remove(name);
        }
    }

    /// On reload: the names and pool keys of the address targets to keep.
    /// All of them when `address_targets` and the credentials of its auths
    /// are unchanged; none otherwise (the book is emptied, and the caller
    /// closes their sessions and drops their state with the removed targets').
    pub(super) fn address_targets_kept(
        &self,
        old: &Config,
        new: &Config,
    ) -> (HashSet<String>, HashSet<PoolKey>) {
        let unchanged = old.address_targets == new.address_targets
            && new.address_targets.as_ref().is_some_and(|settings| {
                settings
                    .auths
                    .iter()
                    .all(|a| old.auths.get(a) == new.auths.get(a))
            });
        let mut book = self.addresses.lock();
        if !unchanged {
            *book = Book::default();
            return (HashSet::new(), HashSet::new());
        }
        let names = book.slots.keys().cloned().collect();
        let keys = book.slots.values().flat_map(Slot::keys).cloned().collect();
        (names, keys)
    }

    /// Kept, evicted and refused address targets.
    pub fn address_target_stats(&self) -> AddressTargetStats {
        let book = &self.addresses;
        AddressTargetStats {
            kept: book.lock().slots.len(),
            evicted: book.evicted.load(Ordering::Relaxed),
            refused: Refusal::ALL
                .iter()
                .map(|r| (*r, book.refused[r.index()].load(Ordering::Relaxed)))
                .collect(),
        }
    }
}

/// The module set a request for an address target names, as the prober keys
/// it: the sorted distinct `module=` values, else the `address_targets`
/// module, else `full`.
fn requested_modules(config: &Config, request: &ProbeRequest) -> String {
    let mut modules: Vec<&str> = request.modules.iter().map(String::as_str).collect();
    if modules.is_empty() {
        let default = config
            .address_targets
            .as_ref()
            .and_then(|s| s.module.as_deref());
        modules.push(default.unwrap_or("full"));
    }
    modules.sort_unstable();
    modules.dedup();
    modules.join(",")
}

/// `AUTH@HOST:PORT`: one address target per address (or host name), port
/// and auth.
fn target_name(auth: &str, host: &Host, port: u16) -> String {
    match host {
        Host::Ip(ip) => format!("{auth}@{}", SocketAddr::new(*ip, port)),
        Host::Name(name) => format!("{auth}@{name}:{port}"),
    }
}

/// The target probes of `host` run with: connecting to the checked `ip`, a
/// host name kept as the TLS server name unless `tls.server_name` is set.
fn build_target(
    settings: &AddressTargets,
    auth: &str,
    host: &Host,
    ip: IpAddr,
    port: u16,
) -> Target {
    let tls = settings.tls.clone().map(|mut tls| {
        if let Host::Name(name) = host
            && tls.server_name.is_none()
        {
            tls.server_name = Some(name.clone());
        }
        tls
    });
    Target {
        tls,
        module: settings.module.clone(),
        address_target: true,
        ..Target::new(
            target_name(auth, host, port),
            SocketAddr::new(ip, port).to_string(),
            auth,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use routeros::pool::Endpoint;
    use routeros::tls::TlsSettings;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("test address")
    }

    fn allow(entries: &[&str]) -> Vec<Cidr> {
        entries
            .iter()
            .map(|e| Cidr::parse(e).expect("test range"))
            .collect()
    }

    /// The reason `address` is refused under `entries`, or `None`.
    fn refusal(entries: &[&str], address: &str) -> Option<Refusal> {
        check_ip(&allow(entries), ip(address))
            .err()
            .map(|d| d.reason)
    }

    #[test]
    fn ipv4_inside_and_outside_the_allow_list() {
        let list = ["10.0.0.0/8", "192.0.2.7"];
        assert_eq!(refusal(&list, "10.1.2.3"), None);
        assert_eq!(refusal(&list, "192.0.2.7"), None);
        assert_eq!(refusal(&list, "192.0.2.8"), Some(Refusal::NotAllowed));
        assert_eq!(refusal(&list, "11.0.0.1"), Some(Refusal::NotAllowed));
        assert_eq!(refusal(&[], "10.1.2.3"), Some(Refusal::NotAllowed));
    }

    #[test]
    fn ipv6_inside_and_outside_the_allow_list() {
        let list = ["2001:db8::/32"];
        assert_eq!(refusal(&list, "2001:db8:1::5"), None);
        assert_eq!(refusal(&list, "2001:db9::5"), Some(Refusal::NotAllowed));
        // Families never mix: an IPv6 range does not admit IPv4, nor the reverse.
        assert_eq!(refusal(&["::/0"], "10.1.2.3"), Some(Refusal::NotAllowed));
        assert_eq!(
            refusal(&["0.0.0.0/0"], "2001:db8::1"),
            Some(Refusal::NotAllowed)
        );
    }

    #[test]
    fn ipv4_mapped_ipv6_is_checked_as_its_ipv4_address() {
        assert_eq!(refusal(&["10.0.0.0/8"], "::ffff:10.1.2.3"), None);
        assert_eq!(refusal(&["127.0.0.0/8"], "::ffff:127.0.0.1"), None);
        // `::/0` admits no IPv4 address, mapped or not.
        assert_eq!(
            refusal(&["::/0"], "::ffff:10.1.2.3"),
            Some(Refusal::NotAllowed)
        );
        // A mapped loopback is still loopback.
        assert_eq!(
            refusal(&["0.0.0.0/0"], "::ffff:127.0.0.1"),
            Some(Refusal::Reserved)
        );
        let denied =
            check_ip(&allow(&["0.0.0.0/0"]), ip("::ffff:169.254.169.254")).expect_err("metadata");
        assert_eq!(denied.ip, ip("169.254.169.254"));
    }

    #[test]
    fn reserved_addresses_need_an_entry_within_their_range() {
        let everything = ["0.0.0.0/0", "::/0"];
        for address in [
            "127.0.0.1",
            "127.1.2.3",
            "0.0.0.0",
            "169.254.1.1",
            "169.254.169.254",
            "100.100.100.200",
            "224.0.0.1",
            "239.255.255.250",
            "255.255.255.255",
            "::",
            "::1",
            "fe80::1",
            "ff02::1",
            "fd00:ec2::254",
        ] {
            assert_eq!(
                refusal(&everything, address),
                Some(Refusal::Reserved),
                "{address}"
            );
        }
        // Ordinary addresses pass the same list.
        for address in ["10.1.2.3", "100.64.0.1", "2001:db8::1", "fd00:ec2::253"] {
            assert_eq!(refusal(&everything, address), None, "{address}");
        }
    }

    #[test]
    fn an_entry_within_the_reserved_range_names_it() {
        assert_eq!(refusal(&["127.0.0.0/8"], "127.0.0.1"), None);
        assert_eq!(refusal(&["127.0.0.1/32"], "127.0.0.1"), None);
        // 120.0.0.0/5 contains 127/8 but does not lie within it.
        assert_eq!(
            refusal(&["120.0.0.0/5"], "127.0.0.1"),
            Some(Refusal::Reserved)
        );
        // One matching entry that names it is enough, next to a broad one.
        assert_eq!(refusal(&["0.0.0.0/0", "127.0.0.0/8"], "127.0.0.1"), None);
        assert_eq!(refusal(&["::1"], "::1"), None);
        assert_eq!(refusal(&["fe80::/10"], "fe80::1"), None);
        // Allowing link-local does not allow the metadata address inside it.
        assert_eq!(refusal(&["169.254.0.0/16"], "169.254.1.1"), None);
        assert_eq!(
            refusal(&["169.254.0.0/16"], "169.254.169.254"),
            Some(Refusal::Reserved)
        );
        assert_eq!(refusal(&["169.254.169.254/32"], "169.254.169.254"), None);
        assert_eq!(
            refusal(&["100.64.0.0/10"], "100.100.100.200"),
            Some(Refusal::Reserved)
        );
        assert_eq!(
            refusal(&["fd00::/8"], "fd00:ec2::254"),
            Some(Refusal::Reserved)
        );
    }

    #[test]
    fn reserved_ranges_are_well_formed() {
        for (range, _) in RESERVED {
            let parsed = Cidr::parse(&range.to_string()).expect("valid");
            assert_eq!(parsed, range, "{range} has host bits set");
        }
    }

    #[test]
    fn refusal_messages_name_the_address_not_the_allow_list() {
        let list = allow(&["10.0.0.0/8"]);
        let text = check_ip(&list, ip("192.0.2.1"))
            .expect_err("outside")
            .message("192.0.2.1:8728");
        assert!(text.contains("192.0.2.1:8728 is not in address_targets.allow"));
        assert!(!text.contains("10.0.0.0"), "{text}");
        let text = check_ip(&allow(&["0.0.0.0/0"]), ip("127.0.0.1"))
            .expect_err("loopback")
            .message("127.0.0.1:8728");
        assert!(text.contains("loopback"), "{text}");
        assert!(text.contains("within 127.0.0.0/8"), "{text}");
    }

    #[test]
    fn a_host_name_is_checked_on_every_address_it_resolves_to() {
        let list = allow(&["10.0.0.0/8", "2001:db8::/32"]);
        let (a, b, v6) = (ip("10.0.0.1"), ip("10.0.0.2"), ip("2001:db8::1"));
        assert_eq!(choose(&list, &[a, b, v6], None), Ok(a));
        // One address outside refuses the name, whichever would be used.
        let denied = choose(&list, &[a, ip("169.254.169.254")], None).expect_err("mixed");
        assert_eq!(denied.ip, ip("169.254.169.254"));
        let denied = choose(&list, &[a, ip("192.0.2.1")], None).expect_err("mixed");
        assert_eq!(denied.reason, Refusal::NotAllowed);
        // The address in use stays while the name still resolves to it.
        assert_eq!(choose(&list, &[a, b], Some(b)), Ok(b));
        assert_eq!(choose(&list, &[a], Some(b)), Ok(a));
        // Mapped answers come back as IPv4.
        assert_eq!(
            choose(&list, &[ip("::ffff:10.0.0.9")], None),
            Ok(ip("10.0.0.9"))
        );
    }

    #[test]
    fn targets_parse_to_host_and_port() {
        let ip_host = |text: &str| Host::Ip(ip(text));
        for (input, host, port) in [
            ("10.1.2.3", ip_host("10.1.2.3"), 8728),
            ("10.1.2.3:1234", ip_host("10.1.2.3"), 1234),
            ("[2001:DB8::1]", ip_host("2001:db8::1"), 8728),
            ("[2001:db8::1]:8729", ip_host("2001:db8::1"), 8729),
            ("[::ffff:127.0.0.1]", ip_host("127.0.0.1"), 8728),
            ("Router-1.LAN", Host::Name("router-1.lan".into()), 8728),
            ("localhost:9", Host::Name("localhost".into()), 9),
        ] {
            assert_eq!(parse_target(input, 8728), Ok((host, port)), "{input}");
        }
        for bad in [
            "",
            "2001:db8::1",
            "http://10.1.2.3",
            "a b",
            "r%1",
            "-r",
            "x:0",
            "x:y",
        ] {
            let err = parse_target(bad, 8728).expect_err(bad);
            assert_eq!(err.status(), 400, "{bad}: {err}");
        }
        let long = "a".repeat(10_000);
        let err = parse_target(&long, 8728).expect_err("too long").to_string();
        assert!(err.len() < 400, "the target is echoed cut: {err}");
    }

    #[test]
    fn names_key_address_port_and_auth() {
        let v4 = Host::Ip(ip("10.1.2.3"));
        assert_eq!(target_name("fleet", &v4, 8728), "fleet@10.1.2.3:8728");
        let v6 = Host::Ip(ip("2001:db8::1"));
        assert_eq!(target_name("a", &v6, 8729), "a@[2001:db8::1]:8729");
        let name = Host::Name("r1.lan".into());
        assert_eq!(target_name("a", &name, 1), "a@r1.lan:1");
    }

    fn settings(tls: Option<TlsSettings>) -> AddressTargets {
        AddressTargets {
            allow: allow(&["10.0.0.0/8"]),
            auths: vec!["fleet".into()],
            tls,
            max_targets: 2,
            module: Some("light".into()),
        }
    }

    fn slot_for(address: &str) -> (Target, PoolKey) {
        let (host, port) = parse_target(address, 8728).expect("address");
        let Host::Ip(addr) = host else {
            panic!("{address} is not an IP");
        };
        let target = build_target(&settings(None), "fleet", &host, addr, port);
        let key = Endpoint {
            address: target.address.clone(),
            username: "u".into(),
            password: "p".into(),
            tls: None,
        }
        .key();
        (target, key)
    }

    fn touch(book: &mut Book, address: &str) -> Result<(Arc<Target>, Released), AddressError> {
        let (target, key) = slot_for(address);
        book.touch(target, key, 2)
    }

    #[test]
    fn the_book_forgets_the_least_recently_used_idle_target() {
        let mut book = Book::default();
        touch(&mut book, "10.0.0.1").expect("1");
        touch(&mut book, "10.0.0.2").expect("2");
        // Using 1 again makes 2 the least recently used.
        let (_, released) = touch(&mut book, "10.0.0.1").expect("1 again");
        assert!(released.names.is_empty());
        let (_, released) = touch(&mut book, "10.0.0.3").expect("3");
        assert_eq!(released.names, ["fleet@10.0.0.2:8728"]);
        assert_eq!(released.keys, [slot_for("10.0.0.2").1]);
        let mut kept: Vec<&String> = book.slots.keys().collect();
        kept.sort();
        assert_eq!(kept, ["fleet@10.0.0.1:8728", "fleet@10.0.0.3:8728"]);
        assert_eq!(book.order.len(), 2);
    }

    #[test]
    fn a_target_in_use_is_not_evicted_and_a_full_book_refuses() {
        let mut book = Book::default();
        let (one, _) = touch(&mut book, "10.0.0.1").expect("1");
        touch(&mut book, "10.0.0.2").expect("2");
        // 1 is older but in use (a probe holds it): 2 goes.
        let (three, released) = touch(&mut book, "10.0.0.3").expect("3");
        assert_eq!(released.names, ["fleet@10.0.0.2:8728"]);
        let err = touch(&mut book, "10.0.0.4").err().expect("full");
        assert_eq!((err.status(), err), (503, AddressError::Full(2)));
        drop((one, three));
        let (_, released) = touch(&mut book, "10.0.0.4").expect("room again");
        assert_eq!(released.names, ["fleet@10.0.0.1:8728"]);
    }

    #[test]
    fn a_moved_host_name_closes_the_old_address_once_idle() {
        let mut book = Book::default();
        let host = Host::Name("r1.lan".into());
        let at = |ip_text: &str| {
            let target = build_target(&settings(None), "fleet", &host, ip(ip_text), 8728);
            let key = slot_for(ip_text).1;
            (target, key)
        };
        let (target, key) = at("10.0.0.1");
        let (old, _) = book.touch(target, key.clone(), 2).expect("first");
        assert_eq!(book.current_ip("fleet@r1.lan:8728"), Some(ip("10.0.0.1")));
        // The name moved while a probe still uses the old address.
        let (target, new_key) = at("10.0.0.2");
        let (new, released) = book.touch(target, new_key.clone(), 2).expect("moved");
        assert_eq!(new.address, "10.0.0.2:8728");
        assert!(released.keys.is_empty(), "the old address is still in use");
        drop(old);
        let (target, _) = at("10.0.0.2");
        let (_, released) = book.touch(target, new_key, 2).expect("again");
        assert_eq!(released.keys, [key]);
        assert!(released.names.is_empty());
        drop(new);
    }

    #[test]
    fn host_names_stay_the_tls_server_name() {
        let tls = Some(TlsSettings::default());
        let host = Host::Name("r1.lan".into());
        let target = build_target(&settings(tls.clone()), "fleet", &host, ip("10.0.0.1"), 8729);
        assert_eq!(target.address, "10.0.0.1:8729");
        assert_eq!(target.name, "fleet@r1.lan:8729");
        let server_name = target.tls.as_ref().and_then(|t| t.server_name.as_deref());
        assert_eq!(server_name, Some("r1.lan"));
        assert_eq!(target.module.as_deref(), Some("light"));
        assert!(target.address_target);
        // A literal address is verified as itself; a configured name wins.
        let literal = Host::Ip(ip("10.0.0.1"));
        let target = build_target(&settings(tls), "fleet", &literal, ip("10.0.0.1"), 8729);
        assert_eq!(target.tls.and_then(|t| t.server_name), None);
        let named = TlsSettings {
            server_name: Some("fleet.example".into()),
            ..TlsSettings::default()
        };
        let target = build_target(&settings(Some(named)), "fleet", &host, ip("10.0.0.1"), 1);
        assert_eq!(
            target.tls.and_then(|t| t.server_name).as_deref(),
            Some("fleet.example")
        );
    }

    #[test]
    fn self_metrics_count_address_targets_per_auth() {
        let (target, _) = slot_for("10.0.0.1");
        assert_eq!(observed_name(&target), "fleet@*");
        let named = Target::new("core1", "10.0.0.1:8728", "fleet");
        assert_eq!(observed_name(&named), "core1");
    }
}
