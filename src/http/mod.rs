//! Thin HTTP handlers over the prober: `/probe`, `/health`, `/sd`, `/metrics`,
//! `/config`, `/-/reload`, `/-/healthy`, `/-/ready` and a landing page.

mod admin;
pub mod basic_auth;
mod health;
mod probe;
pub mod sd;
pub mod self_metrics;
pub mod server;
pub mod web_config;

use crate::collect;
use crate::config::{self, Config, ConfigError, ConfigSource, EnvWarning};
use crate::probe::{ProbeObserver, Prober, ProberOptions};
use axum::Router;
use axum::routing::{get, post};
use self_metrics::SelfMetrics;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tower_http::compression::CompressionLayer;

/// Shared state of the HTTP layer.
pub struct App {
    /// Runs probes and keeps the config and per-target state in force.
    pub prober: Arc<Prober>,
    /// The self-metrics registry.
    pub metrics: Arc<SelfMetrics>,
    reload_lock: tokio::sync::Mutex<()>,
    ready: AtomicBool,
}

impl App {
    /// Builds the app over a loaded config.
    pub fn new(config: Config, options: ProberOptions) -> Arc<Self> {
        let metrics = Arc::new(SelfMetrics::new());
        let observer: Arc<dyn ProbeObserver> = metrics.clone();
        let prober = Arc::new(Prober::new(config, options, Some(observer)));
        metrics.attach(&prober);
        metrics.config_loaded(true);
        Arc::new(Self {
            prober,
            metrics,
            reload_lock: tokio::sync::Mutex::new(()),
            ready: AtomicBool::new(true),
        })
    }

    /// Re-reads the config file. On failure the old config stays in force and
    /// the error says why; sessions of changed or removed targets are dropped.
    pub async fn reload(&self) -> Result<(), ReloadError> {
        let _guard = self.reload_lock.lock().await;
        let current = self.prober.config();
        let ConfigSource::File(path) = &current.source else {
            return Err(ReloadError::NoFile);
        };
        let path: PathBuf = path.clone();
        let loaded = tokio::task::spawn_blocking(move || {
            config::load(Some(&path), &collect::group_names(), &config::process_env)
        })
        .await
        .map_err(|e| ReloadError::Internal(e.to_string()))?;
        match loaded {
            Ok(loaded) => {
                // COLLECTION_INTERVAL_SECONDS was reported at startup; once is enough.
                for warning in loaded
                    .warnings
                    .iter()
                    .filter(|w| **w != EnvWarning::CollectionIntervalIgnored)
                {
                    tracing::warn!("{warning}");
                }
                self.prober.reload(loaded.config);
                self.metrics.config_loaded(true);
                tracing::info!("configuration reloaded");
                Ok(())
            }
            Err(e) => {
                self.metrics.config_loaded(false);
                tracing::error!(error = %e, "configuration reload failed; keeping the previous configuration");
                Err(ReloadError::Invalid(Box::new(e)))
            }
        }
    }

    /// Marks the exporter as shutting down (`/-/ready` answers 503).
    pub fn set_not_ready(&self) {
        self.ready.store(false, Ordering::Relaxed);
    }

    fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Relaxed)
    }
}

/// Why a reload did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    /// The config came from the environment or demo mode.
    #[error("nothing to reload: the configuration did not come from a file (--config.file)")]
    NoFile,
    /// The new file is invalid; the old config stays.
    #[error("reload failed, previous configuration kept: {0}")]
    Invalid(Box<ConfigError>),
    /// The loader task failed.
    #[error("reload failed: {0}")]
    Internal(String),
}

/// The HTTP routes.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/", get(admin::landing))
        .route("/probe", get(probe::probe))
        .route("/health", get(health::health))
        .route("/sd", get(sd::sd))
        .route("/metrics", get(admin::metrics))
        .route("/config", get(admin::config))
        .route("/-/reload", post(admin::reload))
        .route("/-/healthy", get(admin::healthy))
        .route("/-/ready", get(admin::ready))
        // The other endpoints' gzip; /probe compresses its body itself as
        // it renders (a response with a Content-Encoding is left alone here).
        // Level 1 as there: Prometheus favours speed over ratio too.
        .layer(
            CompressionLayer::new()
                .gzip(true)
                .quality(tower_http::CompressionLevel::Fastest),
        )
        .with_state(app)
}
