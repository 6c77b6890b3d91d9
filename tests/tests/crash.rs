//! The server process is killed while handling a sync — before its commit, and between the
//! commit and the answer — then restarted on the same database: the phone converges and nothing
//! acknowledged is missing or doubled.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use pengwang_core::Device;
use pengwang_e2e::field::*;
use pengwang_e2e::Proxy;
use pengwang_server::accounts::{self, NewAccount};
use pengwang_server::{devices, documents, AppState, Config, Db};
use pengwang_shared::id::BuildingId;
use pengwang_shared::role::Role;
use pengwang_shared::time::{FakeClock, SystemClock, Timestamp};

struct ServerProcess {
    child: Child,
    addr: std::net::SocketAddr,
}

impl ServerProcess {
    async fn start(db: &Path, crash_at: Option<&str>) -> ServerProcess {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_pengwang-test-server"));
        cmd.arg("serve")
            .env("PENGWANG_DATABASE", db)
            .env("PENGWANG_LISTEN", addr.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some(point) = crash_at {
            cmd.env("PENGWANG_CRASH_AT", point);
        }
        // Owned by the guard at once, so every path below kills and reaps it.
        let process = ServerProcess {
            child: cmd.spawn().unwrap(),
            addr,
        };
        for _ in 0..200 {
            if reqwest::get(format!("http://{addr}/health"))
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                return process;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("server process did not come up");
    }

    /// Waits for a crashed server to be gone; true if it died (rather than still running).
    fn wait_dead(&mut self) -> bool {
        for _ in 0..100 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn count(db: &Path, sql: &str) -> i64 {
    Db::open(db)
        .unwrap()
        .with_writer(|c| c.query_row(sql, [], |r| r.get::<_, i64>(0)))
        .unwrap()
}

fn server_heads(db: &Path, id: BuildingId) -> Vec<automerge::ChangeHash> {
    Db::open(db)
        .unwrap()
        .with_writer(|c| documents::load(c, id))
        .unwrap()
        .unwrap()
        .get_heads()
}

/// A database with one inspector account and an enrollment code for it.
fn prepare(db: &Path) -> String {
    let state = AppState::open(
        Config {
            database: db.to_path_buf(),
            ..Config::default()
        },
        Arc::new(SystemClock),
    )
    .unwrap();
    let now = state.now();
    let new = NewAccount {
        name: "张网格".into(),
        role: Role::CommunityInspector,
        scope: street_scope("500103001"),
        password: None,
    };
    let account = state
        .db
        .with_writer(|c| accounts::create_account(c, new, now))
        .unwrap();
    state
        .db
        .with_writer(|c| devices::issue_code(c, account.id, 7, now))
        .unwrap()
}

async fn crash_then_converge(point: &str) -> (std::path::PathBuf, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("server.sqlite3");
    let code = prepare(&db);
    let mut server = ServerProcess::start(&db, Some(point)).await;
    let proxy = Proxy::start(server.addr).await.unwrap();
    let clock = Arc::new(FakeClock::at(
        Timestamp::parse_local("2026-03-02 09:00").unwrap(),
    ));
    let phone = Device::open(&dir.path().join("phone.sqlite3"), clock).unwrap();
    phone
        .enroll(&proxy.url(), &code, "张网格的手机")
        .await
        .unwrap();
    let (b, _, item) = building_with_awning(&phone, &yuzhong("嘉华大厦"), "3栋").unwrap();
    notify(&phone, b, item).unwrap();

    assert!(phone.sync().await.is_err(), "the server died mid-sync");
    assert!(
        server.wait_dead(),
        "the failpoint {point} aborted the server"
    );
    let stored_at_crash = count(&db, "SELECT COUNT(*) FROM doc");
    assert_eq!(
        stored_at_crash,
        if point == "sync.before_commit" { 0 } else { 1 }
    );
    assert_eq!(
        phone.pending().unwrap().docs,
        1,
        "nothing was acknowledged, so the phone keeps it queued"
    );

    let restarted = ServerProcess::start(&db, None).await;
    proxy.set_upstream(restarted.addr);
    phone.sync().await.unwrap();
    assert_eq!(phone.pending().unwrap().docs, 0);
    assert_eq!(server_heads(&db, b), phone.heads(b).unwrap());
    assert_eq!(count(&db, "SELECT COUNT(*) FROM p_building"), 1);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM p_item"), 1);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM p_event"), 2);
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM doc_chunk"),
        1,
        "the retried changes were not stored twice"
    );
    drop(restarted);
    (db, dir)
}

#[tokio::test]
async fn server_killed_before_its_commit_then_restarted_the_phone_converges() {
    crash_then_converge("sync.before_commit").await;
}

#[tokio::test]
async fn server_killed_after_commit_before_answering_then_restarted_nothing_is_doubled() {
    crash_then_converge("sync.after_commit").await;
}
