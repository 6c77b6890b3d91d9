//! The server and the simulated phones in one process, told apart: the server runs on its own
//! tokio runtime whose threads (workers and the blocking pool that runs every SQLite call) are
//! all named [`SERVER_THREAD`], so its CPU time is the sum over those threads.

use std::future::Future;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use pengwang_server::AppState;
use tokio::runtime::{Builder, Runtime};
use tokio::sync::oneshot;

use super::process;

/// The name of every server thread (at most 15 bytes: the kernel's `comm`).
pub const SERVER_THREAD: &str = "pengwang-server";

/// The server's runtime: one worker per core, like `#[tokio::main]` in the real binary.
/// Blocking-pool threads are kept alive for the whole run: an exited thread's CPU time would
/// vanish from `/proc/self/task`.
pub fn server_runtime() -> std::io::Result<Runtime> {
    Builder::new_multi_thread()
        .thread_name(SERVER_THREAD)
        .thread_keep_alive(Duration::from_secs(24 * 3600))
        .enable_all()
        .build()
}

/// The name of the phones' runtime threads.
pub const PHONE_THREAD: &str = "bench-phones";
/// The main thread's name: the binary's.
const MAIN_THREAD: &str = "bench";

/// The phones' runtime (its blocking pool runs their SQLite work), kept alive like the server's.
pub fn phone_runtime() -> std::io::Result<Runtime> {
    Builder::new_multi_thread()
        .thread_name(PHONE_THREAD)
        .thread_keep_alive(Duration::from_secs(24 * 3600))
        .enable_all()
        .build()
}

/// CPU time the server's threads have used so far.
pub fn server_cpu() -> Duration {
    process::thread_cpu(&[SERVER_THREAD])
}

/// CPU time the phones (and the bench driving them from the main thread) have used so far.
pub fn phones_cpu() -> Duration {
    process::thread_cpu(&[PHONE_THREAD, MAIN_THREAD])
}

/// What one measured step cost.
#[derive(Clone, Copy, Debug, Default)]
pub struct Cost {
    pub wall: Duration,
    /// CPU time of the server's threads.
    pub server_cpu: Duration,
    /// CPU time of the phones' threads and the main thread.
    pub phones_cpu: Duration,
}

/// Runs `f`, measuring wall time and the CPU time the server and the phones used meanwhile.
pub async fn measure<T, F: Future<Output = T>>(f: F) -> (T, Cost) {
    let (server0, phones0, start) = (server_cpu(), phones_cpu(), Instant::now());
    let value = f.await;
    let cost = Cost {
        wall: start.elapsed(),
        server_cpu: server_cpu().saturating_sub(server0),
        phones_cpu: phones_cpu().saturating_sub(phones0),
    };
    (value, cost)
}

/// pengwang-server serving `state` on 127.0.0.1:0 on `rt`, until dropped.
pub struct Serving {
    pub addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
}

impl Serving {
    pub fn start(rt: &Runtime, state: AppState) -> std::io::Result<Serving> {
        let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
        let addr = listener.local_addr()?;
        let (tx, rx) = oneshot::channel::<()>();
        rt.spawn(pengwang_server::run(listener, state, async {
            let _ = rx.await;
        }));
        Ok(Serving {
            addr,
            shutdown: Some(tx),
        })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
