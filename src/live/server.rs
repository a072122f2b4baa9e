//! The HTTP server under the stand-ins: axum on a tokio runtime of its own, so thousands of
//! delayed responses can wait at once without a thread each.

use std::net::SocketAddr;
use std::thread::JoinHandle;

use tokio::sync::oneshot;

use super::LiveError;

/// A running server: its address and the thread driving it.
pub struct Running {
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Running {
    /// Binds `bind` (`127.0.0.1:0` picks a free port) and serves `router` with `workers`
    /// runtime threads.
    pub fn start(bind: &str, workers: usize, router: axum::Router) -> Result<Running, LiveError> {
        let fail = |source: std::io::Error| LiveError::Listen {
            bind: bind.to_string(),
            source,
        };
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers.clamp(1, 64))
            .enable_all()
            .build()
            .map_err(fail)?;
        let listener = rt
            .block_on(tokio::net::TcpListener::bind(bind))
            .map_err(fail)?;
        let addr = listener.local_addr().map_err(fail)?;
        let (tx, rx) = oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            rt.block_on(async move {
                let stop = async {
                    let _ = rx.await;
                };
                if let Err(e) = axum::serve(listener, router)
                    .with_graceful_shutdown(stop)
                    .await
                {
                    eprintln!("error: the server stopped: {e}");
                }
            });
        });
        Ok(Running {
            addr,
            shutdown: Some(tx),
            thread: Some(thread),
        })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves until the process ends.
    pub fn wait(mut self) {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }

    /// Stops accepting connections; requests in progress finish in the background.
    pub fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
