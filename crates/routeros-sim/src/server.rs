//! Listeners, admission (refuse, session limit, TLS) and the public handles.

use crate::capture::Captured;
use crate::connection::{self, Admission};
use crate::faults::{Faults, OverLimit, Stats, StatsCounters};
use crate::menus::{self, Menu};
use crate::personality::Personality;
use crate::router::{MenuTable, RouterShared, TlsIdentity};
use crate::tls::{self, TlsMaterial};
use crate::{RouterConfig, SimConfig, control};
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// How long a TLS handshake may take.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// A running set of simulated routers. Dropping it stops every listener and
/// closes every connection.
pub struct Simulator {
    routers: Vec<RouterHandle>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

/// A cheap handle to one simulated router.
#[derive(Clone)]
pub struct RouterHandle {
    shared: Arc<RouterShared>,
}

impl std::fmt::Debug for RouterHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RouterHandle")
            .field("name", &self.name())
            .field("addr", &self.addr())
            .finish()
    }
}

impl Simulator {
    /// Starts the routers of `config` with the standard menus.
    pub async fn start(config: SimConfig) -> std::io::Result<Simulator> {
        Self::start_with_menus(config, menus::registry()).await
    }

    /// Starts the routers of `config` serving exactly `menus` (tests inject
    /// their own). A later menu with the same path replaces an earlier one.
    pub async fn start_with_menus(
        config: SimConfig,
        menus: Vec<Arc<dyn Menu>>,
    ) -> std::io::Result<Simulator> {
        let table: Arc<MenuTable> = Arc::new(menus.into_iter().map(|m| (m.path(), m)).collect());
        let mut simulator = Simulator {
            routers: Vec::with_capacity(config.routers.len()),
            tasks: Mutex::new(Vec::new()),
        };
        for (index, router) in config.routers.into_iter().enumerate() {
            let handle = simulator.start_router(index, router, table.clone()).await?;
            simulator.routers.push(handle);
        }
        Ok(simulator)
    }

    async fn start_router(
        &self,
        index: usize,
        config: RouterConfig,
        menus: Arc<MenuTable>,
    ) -> std::io::Result<RouterHandle> {
        let listener = TcpListener::bind((config.bind_ip, config.port)).await?;
        let addr = listener.local_addr()?;
        let tls = match config.tls_port {
            Some(port) => {
                let tls_listener = TcpListener::bind((config.bind_ip, port)).await?;
                let material = tls::self_signed()?;
                Some((tls_listener, material))
            }
            None => None,
        };
        let identity = match &tls {
            Some((listener, material)) => Some(TlsIdentity {
                addr: listener.local_addr()?,
                fingerprint_sha256: material.fingerprint_sha256.clone(),
                ca_pem: material.ca_pem.clone(),
            }),
            None => None,
        };
        let shared = Arc::new(RouterShared::new(index, config, menus, addr, identity));
        self.push_task(tokio::spawn(accept_plain(shared.clone(), listener)));
        if let Some((listener, material)) = tls {
            self.push_task(tokio::spawn(accept_tls(shared.clone(), listener, material)));
        }
        Ok(RouterHandle { shared })
    }

    fn push_task(&self, task: JoinHandle<()>) {
        self.tasks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(task);
    }

    fn take_tasks(&self) -> Vec<JoinHandle<()>> {
        std::mem::take(&mut *self.tasks.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// All routers, in configuration order.
    pub fn routers(&self) -> &[RouterHandle] {
        &self.routers
    }

    /// The router named `name`.
    pub fn router(&self, name: &str) -> Option<&RouterHandle> {
        self.routers.iter().find(|r| r.name() == name)
    }

    /// Serves the HTTP control endpoint (see [`control`]) on `addr`; returns the
    /// bound address (useful with port 0).
    pub async fn serve_control(&self, addr: SocketAddr) -> std::io::Result<SocketAddr> {
        let listener = TcpListener::bind(addr).await?;
        let bound = listener.local_addr()?;
        let app = control::app(self.routers.clone());
        self.push_task(tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::warn!("control endpoint stopped: {e}");
            }
        }));
        Ok(bound)
    }

    /// Stops all listeners and closes all connections.
    pub fn shutdown(&self) {
        for task in self.take_tasks() {
            task.abort();
        }
        for router in &self.routers {
            router.shared.close_all();
        }
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl RouterHandle {
    /// The router's name.
    pub fn name(&self) -> &str {
        &self.shared.config.name
    }

    /// The personality it runs.
    pub fn personality(&self) -> &Personality {
        &self.shared.config.personality
    }

    /// The plain API address.
    pub fn addr(&self) -> SocketAddr {
        self.shared.addr
    }

    /// The API-SSL address, when configured.
    pub fn tls_addr(&self) -> Option<SocketAddr> {
        self.shared.tls.as_ref().map(|t| t.addr)
    }

    /// Lowercase hex SHA-256 of the API-SSL certificate (DER).
    pub fn tls_fingerprint_sha256(&self) -> Option<String> {
        self.shared
            .tls
            .as_ref()
            .map(|t| t.fingerprint_sha256.clone())
    }

    /// The self-signed API-SSL certificate in PEM form, to trust as a CA.
    pub fn tls_ca_pem(&self) -> Option<String> {
        self.shared.tls.as_ref().map(|t| t.ca_pem.clone())
    }

    /// Replaces the active faults (takes effect for the next decision).
    pub fn set_faults(&self, faults: Faults) {
        self.shared.set_faults(faults);
    }

    /// The active faults.
    pub fn faults(&self) -> Faults {
        (*self.shared.faults()).clone()
    }

    /// A snapshot of the router's counters.
    pub fn stats(&self) -> Stats {
        self.shared.stats.snapshot()
    }

    /// Time since the simulated boot.
    pub fn uptime(&self) -> Duration {
        self.shared.uptime()
    }

    /// Starts capturing the request sentences this router receives, on every
    /// connection, as raw wire bytes; forgets an earlier capture.
    pub fn start_capture(&self) {
        self.shared.capture.start();
    }

    /// What was captured since [`RouterHandle::start_capture`] (empty if it
    /// never started); capturing goes on.
    pub fn captured(&self) -> Captured {
        self.shared.capture.snapshot()
    }

    /// Stops capturing and returns what was captured.
    pub fn stop_capture(&self) -> Captured {
        self.shared.capture.stop()
    }

    /// Simulated reboot: closes every connection without a reply and restarts
    /// uptime (and so every counter the menus derive from it).
    pub fn reboot(&self) {
        self.shared.reboot();
    }
}

/// Counts a session against the limit while alive.
struct SessionSlot(Arc<RouterShared>);

impl SessionSlot {
    fn acquire(router: &Arc<RouterShared>, limit: usize) -> Option<Self> {
        router
            .stats
            .connections_open
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |open| {
                (open < limit as u64).then_some(open + 1)
            })
            .ok()
            .map(|_| SessionSlot(router.clone()))
    }
}

impl Drop for SessionSlot {
    fn drop(&mut self) {
        self.0.stats.connections_open.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn accept_next(router: &RouterShared, listener: &TcpListener) -> Option<TcpStream> {
    match listener.accept().await {
        Ok((stream, _peer)) => {
            StatsCounters::bump(&router.stats.connections_accepted);
            if router.faults().refuse {
                return None;
            }
            // Replies are written whole; Nagle would only add latency.
            let _ = stream.set_nodelay(true);
            Some(stream)
        }
        Err(e) => {
            tracing::warn!(router = %router.config.name, "accept failed: {e}");
            tokio::time::sleep(Duration::from_millis(10)).await;
            None
        }
    }
}

async fn accept_plain(router: Arc<RouterShared>, listener: TcpListener) {
    loop {
        if let Some(stream) = accept_next(&router, &listener).await {
            tokio::spawn(admit(router.clone(), stream));
        }
    }
}

async fn accept_tls(router: Arc<RouterShared>, listener: TcpListener, material: TlsMaterial) {
    loop {
        let Some(stream) = accept_next(&router, &listener).await else {
            continue;
        };
        let router = router.clone();
        if router.faults().anon_dh_only {
            tokio::spawn(async move {
                if let Err(e) = tls::refuse_like_anonymous_dh(stream).await {
                    tracing::debug!(router = %router.config.name, "anon-DH refusal: {e}");
                }
            });
            continue;
        }
        let acceptor = material.acceptor.clone();
        tokio::spawn(async move {
            match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                Ok(Ok(tls_stream)) => admit(router, tls_stream).await,
                Ok(Err(e)) => {
                    tracing::debug!(router = %router.config.name, "TLS handshake failed: {e}")
                }
                Err(_) => tracing::debug!(router = %router.config.name, "TLS handshake timed out"),
            }
        });
    }
}

async fn admit<S>(router: Arc<RouterShared>, stream: S)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (limit, over_limit) = router.session_limit();
    match SessionSlot::acquire(&router, limit) {
        Some(slot) => {
            connection::serve(router, stream, Admission::Session).await;
            drop(slot);
        }
        None => match over_limit {
            OverLimit::Close => drop(stream),
            OverLimit::Fatal(reason) => {
                connection::serve(router, stream, Admission::FatalOnFirstSentence(reason)).await
            }
        },
    }
}
