//! `TestServer`: a real pengwang-server on 127.0.0.1:0 with its own temporary SQLite file,
//! stopped when dropped.

use std::net::SocketAddr;
use std::sync::Arc;

use pengwang_server::accounts::{self, NewAccount};
use pengwang_server::{devices, AppState, Config};
use pengwang_shared::protocol::AccountInfo;
use pengwang_shared::role::{Role, Scope};
use pengwang_shared::time::{FakeClock, Timestamp};
use tempfile::TempDir;
use tokio::sync::oneshot;

pub struct TestServer {
    pub addr: SocketAddr,
    pub state: AppState,
    pub clock: Arc<FakeClock>,
    /// Holds the temporary SQLite file (and photos) until the server is dropped.
    _dir: TempDir,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl TestServer {
    /// Starts a server whose clock reads 2026-03-01 09:00 (Asia/Shanghai).
    pub async fn start() -> anyhow::Result<TestServer> {
        let dir = tempfile::tempdir()?;
        let now = Timestamp::parse_local("2026-03-01 09:00")?;
        // Server logs in test output, filtered by RUST_LOG (default: warnings and errors).
        let filter =
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into());
        let _ = tracing_subscriber::fmt()
            .with_test_writer()
            .with_env_filter(filter)
            .try_init();
        let config = Config {
            database: dir.path().join("server.sqlite3"),
            ..Config::default()
        };
        let clock = Arc::new(FakeClock::at(now));
        let state = AppState::open(config, clock.clone())?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(pengwang_server::run(listener, state.clone(), async {
            let _ = rx.await;
        }));
        Ok(TestServer {
            addr,
            state,
            clock,
            _dir: dir,
            shutdown: Some(tx),
            task: Some(task),
        })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Creates an account directly in the server's database.
    pub fn account(&self, name: &str, role: Role, scope: Scope) -> anyhow::Result<AccountInfo> {
        let new = NewAccount {
            name: name.into(),
            role,
            scope,
            password: None,
        };
        let now = self.clock.now_ts();
        Ok(self
            .state
            .db
            .with_writer(|c| accounts::create_account(c, new, now))?)
    }

    /// A one-time enrollment code for `account`.
    pub fn enrollment_code(&self, account: &AccountInfo) -> anyhow::Result<String> {
        let now = self.clock.now_ts();
        Ok(self
            .state
            .db
            .with_writer(|c| devices::issue_code(c, account.id, 7, now))?)
    }

    /// `SELECT COUNT(*) …` on the server's database.
    pub fn count(&self, sql: &str) -> i64 {
        self.state
            .db
            .with_writer(|c| c.query_row(sql, [], |r| r.get::<_, i64>(0)))
            .expect("count query")
    }

    /// Every row of `tables` as text, in key order — to compare stored state before and after.
    /// `p_conflict.first_seen` is left out: it records when a conflict was first seen (history),
    /// which a rebuild from the documents cannot know.
    pub fn rows(&self, tables: &[&str]) -> Vec<String> {
        self.state
            .db
            .with_writer(|c| {
                let mut out = Vec::new();
                for t in tables {
                    let mut stmt = c.prepare(&format!("SELECT * FROM {t} ORDER BY 1, 2"))?;
                    let skip = stmt
                        .column_index("first_seen")
                        .ok()
                        .filter(|_| *t == "p_conflict");
                    let n = stmt.column_count();
                    let rows = stmt.query_map([], |r| {
                        (0..n)
                            .filter(|k| Some(*k) != skip)
                            .map(|k| {
                                r.get::<_, rusqlite::types::Value>(k)
                                    .map(|v| format!("{v:?}"))
                            })
                            .collect::<Result<Vec<_>, _>>()
                    })?;
                    for r in rows {
                        out.push(format!("{t}: {}", r?.join("|")));
                    }
                }
                Ok::<_, rusqlite::Error>(out)
            })
            .expect("dump tables")
    }

    /// Every projection table.
    pub const PROJECTIONS: [&'static str; 6] = [
        "p_building",
        "p_household",
        "p_item",
        "p_event",
        "p_conflict",
        "p_photo_ref",
    ];
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// `Clock::now` without importing the trait at every call site.
pub trait NowExt {
    fn now_ts(&self) -> Timestamp;
}

impl NowExt for FakeClock {
    fn now_ts(&self) -> Timestamp {
        pengwang_shared::time::Clock::now(self)
    }
}
