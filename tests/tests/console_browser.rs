//! The console in a real browser: headless Chromium (Debian `chromium`) driven over WebDriver
//! (`chromedriver`, Debian `chromium-driver`) against a real pengwang-server on a free port,
//! with data made by real phones syncing over HTTP.
//!
//! One scenario, in the order a street office and a district live it: a street checker signs in,
//! sees only its street, resolves a field conflict two phones made, closes a fixed awning from
//! the verification queue; the district lead freezes and submits 附件2 for the month and
//! downloads the XLSX, which is read back. Screenshots of every screen go to
//! `target/console-screenshots/` (look at them).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use calamine::{Data, Reader, Xlsx};
use fantoccini::{Client, ClientBuilder, Locator};
use pengwang_e2e::field::*;
use pengwang_e2e::{TestDevice, TestServer};
use pengwang_server::accounts::{self, NewAccount};
use pengwang_shared::document::{FieldValue, RecordRef};
use pengwang_shared::event::ItemState;
use pengwang_shared::protocol::AccountInfo;
use pengwang_shared::role::{Role, Scope};
use pengwang_shared::time::Clock;
use serde_json::json;

const PASSWORD: &str = "browser-test-pw";

/// chromedriver and a headless Chromium session; both end when dropped.
struct Browser {
    client: Client,
    driver: Child,
    shots: PathBuf,
    downloads: tempfile::TempDir,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Browser {
    async fn start(scenario: &str) -> Browser {
        let port = free_port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect(
                "chromedriver not found: the console's browser tests need Debian's chromium and \
                 chromium-driver (`apt-get install chromium chromium-driver`; .ci/run installs them)",
            );
        let profile = tempfile::tempdir().unwrap();
        let downloads = tempfile::tempdir().unwrap();
        let mut chrome = json!({
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--window-size=1366,900",
                "--lang=zh-CN", format!("--user-data-dir={}", profile.path().display()),
            ],
            "prefs": {
                "download.default_directory": downloads.path().display().to_string(),
                "download.prompt_for_download": false,
            },
        });
        if Path::new("/usr/bin/chromium").exists() {
            chrome["binary"] = json!("/usr/bin/chromium");
        }
        let mut caps = serde_json::Map::new();
        caps.insert("goog:chromeOptions".into(), chrome);
        let url = format!("http://127.0.0.1:{port}");
        let mut last = None;
        for _ in 0..100 {
            match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(client) => {
                    let shots = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                        .join("../target/console-screenshots")
                        .join(scenario);
                    std::fs::create_dir_all(&shots).unwrap();
                    return Browser {
                        client,
                        driver,
                        shots,
                        downloads,
                        _profile: profile,
                    };
                }
                Err(e) => last = Some(e),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("could not start a Chromium session through chromedriver: {last:?}");
    }

    async fn shot(&self, name: &str) {
        let png = self.client.screenshot().await.unwrap();
        std::fs::write(self.shots.join(format!("{name}.png")), png).unwrap();
    }

    async fn goto(&self, url: &str) {
        self.client.goto(url).await.unwrap();
    }

    async fn source(&self) -> String {
        self.client.source().await.unwrap()
    }

    async fn click_button(&self, text: &str) {
        let xpath = format!("//button[normalize-space()='{text}']");
        self.client
            .find(Locator::XPath(&xpath))
            .await
            .unwrap_or_else(|e| panic!("no button {text:?}: {e}"))
            .click()
            .await
            .unwrap();
    }

    async fn sign_in(&self, base: &str, login: &str) {
        self.goto(&format!("{base}/console/login")).await;
        let form = self.client.form(Locator::Css("form")).await.unwrap();
        form.set_by_name("login", login).await.unwrap();
        form.set_by_name("password", PASSWORD).await.unwrap();
        form.submit().await.unwrap();
        self.client
            .wait()
            .for_element(Locator::Css("nav.main"))
            .await
            .unwrap();
    }

    async fn sign_out(&self) {
        self.click_button("退出").await;
        self.client
            .wait()
            .for_element(Locator::Css("body.sign-in"))
            .await
            .unwrap();
    }

    /// Waits until a file whose name ends with `suffix` is fully downloaded.
    async fn downloaded(&self, suffix: &str) -> PathBuf {
        for _ in 0..100 {
            let done = std::fs::read_dir(self.downloads.path())
                .unwrap()
                .filter_map(Result::ok)
                .map(|e| e.path())
                .find(|p| p.to_string_lossy().ends_with(suffix));
            if let Some(p) = done {
                return p;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("no {suffix} file was downloaded");
    }
}

fn console_account(server: &TestServer, name: &str, role: Role, scope: Scope, login: &str) {
    let now = server.clock.now();
    server
        .state
        .db
        .with_writer(|c| {
            let info = accounts::create_account(
                c,
                NewAccount {
                    name: name.into(),
                    role,
                    scope,
                    password: Some(PASSWORD.into()),
                },
                now,
            )?;
            accounts::set_login(c, info.id, login)
        })
        .unwrap();
}

async fn phone(server: &TestServer, name: &str, street: &str) -> TestDevice {
    let a: AccountInfo = server
        .account(name, Role::CommunityInspector, street_scope(street))
        .unwrap();
    TestDevice::enroll(server, &a).await.unwrap()
}

fn item_state(server: &TestServer, item: &str) -> String {
    server
        .state
        .db
        .with_writer(|c| {
            c.query_row("SELECT state FROM p_item WHERE id = ?1", [item], |r| {
                r.get::<_, String>(0)
            })
        })
        .unwrap()
}

#[tokio::test]
async fn a_street_office_and_its_district_work_a_month_in_the_browser() {
    let server = TestServer::start().await.unwrap();
    server
        .clock
        .set(pengwang_shared::time::Timestamp::parse_local("2026-06-10 09:00").unwrap());
    console_account(
        &server,
        "七星岗核查员",
        Role::StreetChecker,
        street_scope("500103001"),
        "qxg",
    );
    console_account(
        &server,
        "渝中区专班",
        Role::UnitLead,
        unit_scope("500103"),
        "yuzhong",
    );

    // Two inspectors of 七星岗 share a building; a third works in 解放碑 (another street).
    let a = phone(&server, "网格员甲", "500103001").await;
    let b = phone(&server, "网格员乙", "500103001").await;
    let c = phone(&server, "网格员丙", "500103003").await;
    for d in [&a, &b, &c] {
        d.at("2026-06-01 09:00");
    }
    let (bid, _hid, awning) = building_with_awning(&a, &yuzhong("嘉华大厦"), "1栋").unwrap();
    let other = place("500103", "500103003", "500103003013", "民生路小区");
    building_with_awning(&c, &other, "8栋").unwrap();
    a.sync().await.unwrap();
    c.sync().await.unwrap();
    b.sync().await.unwrap();
    // Both phones change the awning's area offline: a field conflict on the server.
    a.set_field(
        bid,
        RecordRef::Item(awning),
        "area_m2",
        FieldValue::Real(3.0),
    )
    .unwrap();
    b.set_field(
        bid,
        RecordRef::Item(awning),
        "area_m2",
        FieldValue::Real(4.5),
    )
    .unwrap();
    a.sync().await.unwrap();
    b.sync().await.unwrap();
    // The owner removed the awning: served notice, then the removal with an after photo.
    a.at("2026-06-05 10:00");
    notify(&a, bid, awning).unwrap();
    let after = a.ingest_photo(&synthetic_jpeg(7)).unwrap();
    submit_removed_with(&a, bid, awning, vec![after]).unwrap();
    a.sync().await.unwrap();
    let awning_id = awning.to_string();
    assert_eq!(item_state(&server, &awning_id), "pending_verify");
    assert_eq!(server.count("SELECT COUNT(*) FROM p_conflict"), 1);

    let base = server.url();
    let web = Browser::start("street-office-month").await;

    // ── The street checker ──
    web.sign_in(&base, "qxg").await;
    web.shot("01-ledger-street-checker").await;
    web.goto(&format!("{base}/console/ledger/units/500103"))
        .await;
    let page = web.source().await;
    assert!(page.contains("七星岗街道"), "{page}");
    assert!(!page.contains("解放碑街道"), "another street is listed");
    web.goto(&format!("{base}/console/ledger/items")).await;
    let page = web.source().await;
    assert!(page.contains("嘉华大厦") && !page.contains("民生路小区"));
    web.shot("02-items-street-checker").await;

    // Resolve the field conflict: take 网格员乙's 4.5.
    web.goto(&format!("{base}/console/conflicts")).await;
    web.shot("03-conflicts-inbox").await;
    let page = web.source().await;
    assert!(
        page.contains("面积") && page.contains("4.5") && page.contains('3'),
        "{page}"
    );
    let pick = web
        .client
        .find(Locator::XPath(
            "(//*[normalize-space(text())='4.5'])[1]/ancestor::*[.//button[normalize-space()='采用此值']][1]//button[normalize-space()='采用此值']",
        ))
        .await
        .expect("a pick button next to the value 4.5");
    pick.click().await.unwrap();
    web.client
        .wait()
        .for_element(Locator::Css("nav.main"))
        .await
        .unwrap();
    web.shot("04-conflicts-after-resolve").await;
    assert_eq!(server.count("SELECT COUNT(*) FROM p_conflict"), 0);
    assert!(!web.source().await.contains("采用此值"));
    web.goto(&format!("{base}/console/ledger/items/{awning_id}"))
        .await;
    let page = web.source().await;
    assert!(page.contains("<th>面积(㎡)</th><td>4.5</td>"), "{page}");

    // Close the fixed awning from the verification queue, after photo beside the before one.
    web.goto(&format!("{base}/console/queue")).await;
    web.shot("05-verification-queue").await;
    assert!(web.source().await.contains("/console/photos/"));
    web.click_button("核验通过，销号").await;
    web.client
        .wait()
        .for_element(Locator::Css("nav.main"))
        .await
        .unwrap();
    assert_eq!(item_state(&server, &awning_id), ItemState::Closed.code());
    web.goto(&format!("{base}/console/ledger/items/{awning_id}"))
        .await;
    web.shot("06-item-closed").await;
    assert!(web.source().await.contains("复核销号"));
    web.sign_out().await;

    // ── The district lead: freeze, submit and download 附件2 for 2026-06 ──
    web.sign_in(&base, "yuzhong").await;
    web.goto(&format!("{base}/console/reports?month=2026-06"))
        .await;
    web.shot("07-attachment2-open").await;
    web.click_button("冻结").await;
    web.client
        .wait()
        .for_element(Locator::XPath("//button[normalize-space()='提交']"))
        .await
        .unwrap();
    web.click_button("提交").await;
    web.client
        .wait()
        .for_element(Locator::Css("nav.main"))
        .await
        .unwrap();
    web.shot("08-attachment2-submitted").await;
    assert!(web.source().await.contains("已提交"));
    web.client
        .find(Locator::XPath("//a[normalize-space()='下载 XLSX']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let file = web.downloaded(".xlsx").await;
    let mut book: Xlsx<_> = calamine::open_workbook(&file).unwrap();
    let sheet = book.worksheet_range_at(0).unwrap().unwrap();
    let cells: Vec<String> = sheet
        .rows()
        .flat_map(|r| r.iter().map(|c| c.to_string()))
        .collect();
    assert!(cells.iter().any(|c| c.contains("渝中区")), "{cells:?}");
    // 渝中区's row: the one awning household of 七星岗 is completed (closed 2026-06-10), the
    // 解放碑 one is not: 总户数 2, 本月完成 1, 累计完成 1, 50.00%.
    let yuzhong_row = sheet
        .rows()
        .find(|r| r.iter().any(|c| *c == Data::String("渝中区".into())))
        .unwrap();
    let numbers: Vec<f64> = yuzhong_row
        .iter()
        .filter_map(|c| match c {
            Data::Float(f) => Some(*f),
            Data::Int(i) => Some(*i as f64),
            _ => None,
        })
        .collect();
    assert_eq!(
        &numbers[1..6],
        &[2.0, 2.0, 1.0, 1.0, 50.0],
        "{yuzhong_row:?}"
    );
    web.client.clone().close().await.unwrap();
}
