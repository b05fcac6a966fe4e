//! The built `routeros-exporter` binary as a child process: a clean
//! environment, a free port, stderr collected as it comes, readiness polled,
//! signals, and killed when dropped.

use super::http::Client;
use super::net::free_port;
use std::io::Read;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A command with a clean environment for the variables the exporter reads.
pub fn exporter() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_routeros-exporter"));
    for var in [
        "CONFIG_FILE",
        "ROUTERS_CONFIG",
        "ROUTEROS_ADDRESS",
        "ROUTEROS_USERNAME",
        "ROUTEROS_PASSWORD",
        "SERVER_ADDR",
        "GAP_RESET_THRESHOLD_SECONDS",
        "COLLECTION_INTERVAL_SECONDS",
        "STARTUP_CONNECTIVITY_TEST",
        "STARTUP_CONNECTIVITY_TIMEOUT_SECS",
        "STRICT_STARTUP_MODE",
        "RUST_LOG",
        "ROUTER_PASSWORD",
    ] {
        command.env_remove(var);
    }
    command.stdin(Stdio::null());
    command
}

/// A running exporter: killed on drop; stderr collected as it comes.
pub struct Running {
    pub child: Child,
    /// Where it listens (for clients other than `http`, e.g. over TLS).
    pub addr: SocketAddr,
    /// A client for the exporter, checking every answer for the secret.
    pub http: Client,
    stderr: Arc<Mutex<String>>,
    /// The thread copying stderr; joined once the process has exited, so the
    /// last lines (`stopped`) are in `stderr` before a test reads them.
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Running {
    /// Starts `command` on a free 127.0.0.1 port; its client checks every
    /// answer for `secret`.
    pub fn start(mut command: Command, secret: &str) -> Running {
        let port = free_port();
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        command
            .arg("--web.listen-address")
            .arg(addr.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("spawn exporter");
        let mut pipe = child.stderr.take().expect("stderr pipe");
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = stderr.clone();
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        Running {
            child,
            addr,
            http: Client::new(addr, secret),
            stderr,
            reader: Some(reader),
        }
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Polls `/-/healthy` until it answers (bounded).
    pub async fn ready(&mut self) {
        for _ in 0..300 {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                panic!("exporter exited with {status}: {}", self.stderr());
            }
            let healthy =
                tokio::time::timeout(Duration::from_secs(5), self.http.try_get("/-/healthy"));
            if let Ok(Ok(r)) = healthy.await
                && r.status == 200
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("exporter never became ready: {}", self.stderr());
    }

    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{name}");
    }

    /// Waits (bounded) for the process to exit.
    pub async fn wait_exit(&mut self, limit: Duration) -> std::process::ExitStatus {
        let start = std::time::Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                // The pipe is at its end now that the process is gone.
                if let Some(reader) = self.reader.take() {
                    let _ = reader.join();
                }
                return status;
            }
            assert!(
                start.elapsed() < limit,
                "exporter did not exit within {limit:?}: {}",
                self.stderr()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
