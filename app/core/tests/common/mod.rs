//! Fixtures shared by the device and sync tests: accounts, a location, photos, and devices with
//! their own temp directory and fake clock, enrolled against a [`FakeServer`].
#![allow(clippy::unwrap_used, dead_code)]

pub mod fake_server;

use std::path::PathBuf;
use std::sync::Arc;

use pengwang_core::{Device, EventRequest};
use pengwang_shared::document::FieldValue;
use pengwang_shared::event::{EventDetail, EventKind};
use pengwang_shared::id::{AccountId, BuildingId, ItemId, PhotoHash};
use pengwang_shared::item::{Category, RemediationMethod};
use pengwang_shared::protocol::AccountInfo;
use pengwang_shared::region::{CommunityCode, StreetCode, UnitCode};
use pengwang_shared::role::{Location, Role, Scope};
use pengwang_shared::time::{FakeClock, Timestamp};

#[allow(unused_imports)]
pub use fake_server::{FakeServer, Fault};

pub fn t0() -> Timestamp {
    Timestamp::parse_local("2026-05-01 09:00").unwrap()
}

pub fn location() -> Location {
    Location {
        unit: UnitCode::parse("500103").unwrap(),
        street: StreetCode::parse("500103001").unwrap(),
        community: CommunityCode::parse("500103001001").unwrap(),
        estate: "嘉华大厦".into(),
    }
}

pub fn inspector() -> AccountInfo {
    AccountInfo {
        id: AccountId::new(),
        name: "网格员".into(),
        role: Role::CommunityInspector,
        scope: Scope::Community {
            community: CommunityCode::parse("500103001001").unwrap(),
        },
    }
}

pub fn checker() -> AccountInfo {
    AccountInfo {
        id: AccountId::new(),
        name: "核查员".into(),
        role: Role::StreetChecker,
        scope: Scope::Street {
            street: StreetCode::parse("500103001").unwrap(),
        },
    }
}

pub fn photo(n: u8) -> PhotoHash {
    PhotoHash::parse(&format!("{n:02x}").repeat(32)).unwrap()
}

pub fn building_fields() -> Vec<(&'static str, FieldValue)> {
    vec![
        ("number", FieldValue::Text("3栋".into())),
        ("floors", FieldValue::Int(33)),
    ]
}

pub fn notify() -> EventRequest {
    EventRequest {
        kind: EventKind::Notify,
        to: None,
        note: String::new(),
        photos: vec![],
        detail: EventDetail {
            notice_method: Some(pengwang_shared::household::NoticeMethod::InPerson),
            ..EventDetail::default()
        },
    }
}

pub fn submit_removed() -> EventRequest {
    EventRequest {
        kind: EventKind::Submit,
        to: None,
        note: String::new(),
        photos: vec![photo(2)],
        detail: EventDetail {
            method: Some(RemediationMethod::Removed),
            ..EventDetail::default()
        },
    }
}

pub fn close() -> EventRequest {
    EventRequest {
        kind: EventKind::Close,
        to: None,
        note: String::new(),
        photos: vec![],
        detail: EventDetail::default(),
    }
}

/// A device with its own directory and clock.
pub struct TestDevice {
    pub device: Device,
    pub clock: Arc<FakeClock>,
    pub dir: tempfile::TempDir,
}

impl TestDevice {
    pub fn new() -> TestDevice {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(FakeClock::at(t0()));
        let device = Device::open(&dir.path().join("device.db"), clock.clone()).unwrap();
        TestDevice { device, clock, dir }
    }

    pub async fn enrolled(server: &FakeServer, account: &AccountInfo) -> TestDevice {
        let d = TestDevice::new();
        d.device
            .enroll(&server.url, &server.issue_code(account), "测试手机")
            .await
            .unwrap();
        d
    }

    pub fn db_path(&self) -> PathBuf {
        self.dir.path().join("device.db")
    }

    /// Closes the device and opens its database again, as after an app restart.
    pub fn reopen(&mut self) {
        let placeholder =
            Device::open(&self.dir.path().join("other.db"), self.clock.clone()).unwrap();
        drop(std::mem::replace(&mut self.device, placeholder));
        self.device = Device::open(&self.db_path(), self.clock.clone()).unwrap();
    }

    pub fn db(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.db_path()).unwrap()
    }

    /// A building with one household and one awning in it.
    pub fn building_with_item(&self) -> (BuildingId, ItemId) {
        let b = self
            .device
            .create_building(location(), &building_fields())
            .unwrap();
        let h = self
            .device
            .add_household(b, &[("room", FieldValue::Text("1201".into()))])
            .unwrap();
        let item = self
            .device
            .add_item(b, Category::Awning, Some(h), &[], vec![photo(1)], "南立面")
            .unwrap();
        (b, item)
    }
}
