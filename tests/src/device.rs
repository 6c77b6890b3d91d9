//! `TestDevice`: a real pengwang-core device with its own SQLite file and fake clock, talking to
//! the server through a [`Proxy`] it can switch offline.

use std::ops::Deref;
use std::sync::Arc;

use pengwang_core::Device;
use pengwang_shared::protocol::AccountInfo;
use pengwang_shared::time::{FakeClock, Timestamp};
use tempfile::TempDir;

use crate::proxy::{Link, Proxy};
use crate::server::TestServer;

pub struct TestDevice {
    pub device: Device,
    pub account: AccountInfo,
    pub clock: Arc<FakeClock>,
    pub proxy: Proxy,
    _dir: TempDir,
}

impl TestDevice {
    /// Enrolls a new phone for `account` (with a fresh enrollment code), online.
    pub async fn enroll(server: &TestServer, account: &AccountInfo) -> anyhow::Result<TestDevice> {
        let dir = tempfile::tempdir()?;
        let clock = Arc::new(FakeClock::at(Timestamp::parse_local("2026-03-01 09:00")?));
        let device = Device::open(&dir.path().join("device.sqlite3"), clock.clone())?;
        let proxy = Proxy::start(server.addr).await?;
        let code = server.enrollment_code(account)?;
        device
            .enroll(&proxy.url(), &code, &format!("{}的手机", account.name))
            .await?;
        Ok(TestDevice {
            device,
            account: account.clone(),
            clock,
            proxy,
            _dir: dir,
        })
    }

    pub fn go_offline(&self) {
        self.proxy.set(Link::Offline);
    }

    pub fn go_online(&self) {
        self.proxy.set(Link::Online);
    }

    /// Requests reach the server; answers are lost.
    pub fn drop_responses(&self) {
        self.proxy.set(Link::DropResponses);
    }

    /// Sets the phone's clock to a Shanghai wall-clock time.
    pub fn at(&self, local: &str) {
        self.clock
            .set(Timestamp::parse_local(local).expect("valid local time"));
    }
}

impl Deref for TestDevice {
    type Target = Device;
    fn deref(&self) -> &Device {
        &self.device
    }
}
