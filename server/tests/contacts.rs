//! 附件1 contact sheets, work plans and monthly summaries: the unit's lead keeps them, the city
//! reads them and sees what is missing against the due dates (03-15, 03-25, the 25th); phones
//! are masked in the page and in the XLSX export; every change and export is audited.
#![allow(clippy::unwrap_used)]

use std::io::Cursor;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use calamine::{open_workbook_from_rs, Data, Dimensions, Reader, Xlsx};
use pengwang_server::unit_documents::{self, Standing, UnitStanding};
use pengwang_shared::region::{StreetCode, UnitCode};
use pengwang_shared::role::{Role, Scope};
use pengwang_shared::settings::CampaignSettings;
use pengwang_shared::time::Timestamp;
use tower::ServiceExt;

mod common;
use common::{ConsoleUser, Response, TestApp};

fn t(local: &str) -> Timestamp {
    Timestamp::parse_local(local).unwrap()
}

fn unit(code: &str) -> Scope {
    Scope::Unit {
        unit: UnitCode::parse(code).unwrap(),
    }
}

fn u(code: &str) -> UnitCode {
    UnitCode::parse(code).unwrap()
}

/// Creates the console accounts once; sign in again after moving the clock.
fn accounts(app: &TestApp) {
    app.console_account("yzlead", Role::UnitLead, unit("500103"), "yzlead");
    app.console_account("ddklead", Role::UnitLead, unit("500104"), "ddklead");
    app.console_account("city", Role::City, Scope::City, "city");
    let street = Scope::Street {
        street: StreetCode::parse("500103001").unwrap(),
    };
    app.console_account("qxgcheck", Role::StreetChecker, street, "qxgcheck");
}

/// (target, detail) of every audit row of `action`.
fn audit(app: &TestApp, action: &str) -> Vec<(String, String)> {
    app.state
        .db
        .with_writer(|c| {
            let mut s =
                c.prepare("SELECT target, detail FROM audit WHERE action = ?1 ORDER BY id")?;
            let rows = s.query_map([action], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect::<rusqlite::Result<Vec<_>>>()
        })
        .unwrap()
}

fn contact<'a>(
    category: &'a str,
    name: &'a str,
    org: &'a str,
    phone: &'a str,
    note: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("category", category),
        ("name", name),
        ("organization", org),
        ("phone", phone),
        ("note", note),
    ]
}

fn cell(range: &calamine::Range<Data>, r: u32, c: u32) -> Data {
    range.get_value((r, c)).cloned().unwrap_or(Data::Empty)
}

fn s(v: &str) -> Data {
    Data::String(v.to_owned())
}

#[tokio::test]
async fn a_unit_lead_keeps_the_contact_sheet_and_its_export_masks_every_phone() {
    let app = TestApp::at("2026-03-10 09:00", |_| {});
    accounts(&app);
    let yz = app.sign_in("yzlead").await;
    let sheet = "/console/contacts/500103";
    for fields in [
        contact(
            "政府分管领导",
            "李四",
            "渝中区人民政府 副区长",
            "13800001111",
            "",
        ),
        contact("联络员", "王五", "区住房城乡建委 科员", "139 0000 2222", ""),
        contact(
            "牵头部门负责人",
            "赵六",
            "区住房城乡建委 主任",
            "13700003333",
            "兼任专班组长",
        ),
    ] {
        let r = app.post_form(&yz, sheet, &fields).await;
        assert_eq!(
            (r.status, r.location()),
            (StatusCode::SEE_OTHER, sheet),
            "{}",
            r.text()
        );
    }
    let r = app
        .post_form(&yz, sheet, &contact("联络员", "钱七", "科员", "12345", ""))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r
        .text()
        .contains("手机号码应为以 1 开头的 11 位数字，收到 5 个字符"));

    // The page lists them masked, in the form's category order.
    let page = app.page(&yz, sheet).await.text();
    for masked in ["138****1111", "139****2222", "137****3333"] {
        assert!(page.contains(masked), "{masked}");
    }
    for full in ["13800001111", "13900002222", "13700003333"] {
        assert!(!page.contains(full), "{full} shown in full");
    }
    let order: Vec<usize> = ["李四", "赵六", "王五"]
        .iter()
        .map(|n| page.find(n).unwrap())
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");

    // Edit 王五 (id 2) keeping the phone; remove 李四 (id 1).
    let mut edit = contact("联络员", "王五", "区住房城乡建委 副科长", "", "");
    edit.push(("_unused", "x"));
    let r = app
        .post_form(&yz, "/console/contacts/500103/2", &edit)
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let r = app
        .post_form(&yz, "/console/contacts/500103/1/remove", &[])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = app
        .post_form(&yz, "/console/contacts/500103/1/remove", &[])
        .await;
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "a removed row is gone from the sheet"
    );

    let r = app
        .page(&yz, "/console/contacts/500103/attachment1.xlsx")
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        r.headers[header::CONTENT_TYPE],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(r.bytes)).unwrap();
    assert_eq!(book.sheet_names(), vec!["附件1"]);
    let sheet = book.worksheet_range("附件1").unwrap();
    assert_eq!(
        cell(&sheet, 0, 0),
        s("渝中区高层建筑可燃雨棚和突出外墙防护网整治工作联系人回执（附件1）")
    );
    assert_eq!(cell(&sheet, 1, 0), s("填报单位（盖章）：渝中区"));
    let header: Vec<Data> = (0..5).map(|c| cell(&sheet, 2, c)).collect();
    assert_eq!(
        header,
        ["类别", "姓名", "单位及职务", "手机号码", "备注"].map(s)
    );
    let row = |r: u32| (0..5).map(|c| cell(&sheet, r, c)).collect::<Vec<_>>();
    assert_eq!(
        row(3),
        [
            "牵头部门负责人",
            "赵六",
            "区住房城乡建委 主任",
            "137****3333",
            "兼任专班组长"
        ]
        .map(s)
    );
    assert_eq!(
        row(4),
        vec![
            s("联络员"),
            s("王五"),
            s("区住房城乡建委 副科长"),
            s("139****2222"),
            Data::Empty
        ]
    );
    assert_eq!(row(5), vec![Data::Empty; 5]);
    let mut merged = book.merge_cells_by_sheet_name("附件1").unwrap();
    merged.sort_by_key(|d| (d.start, d.end));
    let dims = |start, end| Dimensions { start, end };
    assert_eq!(merged, vec![dims((0, 0), (0, 4)), dims((1, 0), (1, 4))]);

    let change = |id: u32, what: &str| (format!("unit/500103/contact/{id}"), what.to_owned());
    assert_eq!(
        audit(&app, "contact.change"),
        vec![
            change(1, "add"),
            change(2, "add"),
            change(3, "add"),
            change(4, "edit (replaces 2)"),
            change(1, "remove"),
        ]
    );
    assert_eq!(
        audit(&app, "report.export"),
        vec![(
            "attachment1/500103".to_owned(),
            "xlsx, 2 rows, phones masked".to_owned()
        )]
    );

    // A full number is an audited reveal.
    let r = app
        .post_form(&yz, "/console/contacts/500103/3/phone", &[])
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text().contains("<strong>13700003333</strong>"));
    assert_eq!(
        audit(&app, "phone.reveal"),
        vec![(
            "unit/500103/contact/3".to_owned(),
            "附件1 手机号码".to_owned()
        )]
    );
}

#[tokio::test]
async fn only_the_units_own_lead_edits_and_only_whole_unit_accounts_read() {
    let app = TestApp::at("2026-03-10 09:00", |_| {});
    accounts(&app);
    let city = app.sign_in("city").await;
    let ddk = app.sign_in("ddklead").await;
    let qxg = app.sign_in("qxgcheck").await;
    let add = contact("联络员", "王五", "科员", "13900002222", "");
    let r = app.post_form(&city, "/console/contacts/500103", &add).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r
        .text()
        .contains("附件1、工作方案和月度总结由本区县牵头部门账号填报"));
    assert_eq!(
        app.page(&city, "/console/contacts/500103").await.status,
        StatusCode::OK
    );
    let r = app.post_form(&ddk, "/console/contacts/500103", &add).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.page(&ddk, "/console/contacts/500103").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.page(&ddk, "/console/contacts/500103/attachment1.xlsx")
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.page(&qxg, "/console/contacts").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.page(&qxg, "/console/contacts/500103").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(audit(&app, "contact.change"), vec![]);
    assert_eq!(audit(&app, "report.export"), vec![]);
}

/// A multipart upload of one file with the user's CSRF token (or none).
async fn upload(
    app: &TestApp,
    user: &ConsoleUser,
    uri: &str,
    name: &str,
    bytes: &[u8],
    csrf: bool,
) -> Response {
    let mut body = Vec::new();
    if csrf {
        body.extend_from_slice(
            format!(
                "--XB\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n{}\r\n",
                user.csrf
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!("--XB\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(b"\r\n--XB--\r\n");
    let req = Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header("cookie", &user.cookie)
        .header(header::CONTENT_TYPE, "multipart/form-data; boundary=XB")
        .body(Body::from(body))
        .unwrap();
    let response = app.router().oneshot(req).await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap()
        .to_vec();
    Response {
        status,
        headers,
        bytes,
    }
}

fn summary(month: &str) -> Vec<(&str, &str)> {
    vec![
        ("month", month),
        ("progress", "本月完成整改 12 户"),
        ("practices", "网格员逐户上门"),
        ("problems", "无"),
        ("next_steps", "继续推进"),
    ]
}

#[tokio::test]
async fn the_city_sees_which_documents_each_unit_has_not_handed_in_by_their_due_dates() {
    let app = TestApp::at("2026-03-10 09:00", |_| {});
    accounts(&app);
    // 附件1 on 03-10 (due 03-15).
    let yz = app.sign_in("yzlead").await;
    let r = app
        .post_form(
            &yz,
            "/console/contacts/500103",
            &contact("联络员", "王五", "科员", "13900002222", ""),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);

    // The work plan on 03-30 (due 03-25): a wrong type first, then without the token, then a PDF.
    app.clock.set(t("2026-03-30 15:00"));
    let yz = app.sign_in("yzlead").await;
    let plan = "/console/documents/500103/work-plan";
    let r = upload(&app, &yz, plan, "C:\\fakepath\\工作方案.exe", b"MZ", true).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(
        r.text().contains(
            "不支持的文件类型“工作方案.exe”：只接受 pdf、doc、docx、xls、xlsx、wps、jpg、png"
        ),
        "{}",
        r.text()
    );
    let r = upload(&app, &yz, plan, "工作方案.pdf", b"%PDF-1.4 plan", false).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = upload(&app, &yz, plan, "工作方案.pdf", b"%PDF-1.4 plan", true).await;
    assert_eq!(
        (r.status, r.location()),
        (StatusCode::SEE_OTHER, "/console/documents/500103"),
        "{}",
        r.text()
    );
    let stored = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(b"%PDF-1.4 plan"));
    let row: (String, String, i64) = app
        .state
        .db
        .with_writer(|c| {
            c.query_row(
                "SELECT sha256, file_name, bytes FROM unit_file WHERE id = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
        })
        .unwrap();
    assert_eq!(row, (stored.clone(), "工作方案.pdf".to_owned(), 13));
    let path = unit_documents::file_path(&unit_documents::document_dir(&app.state.config), &stored);
    assert_eq!(std::fs::read(path).unwrap(), b"%PDF-1.4 plan");
    assert_eq!(
        audit(&app, "document.upload"),
        vec![(
            "unit/500103/work_plan/1".to_owned(),
            format!("13 bytes, sha256 {stored}")
        )]
    );

    // The June summary on 06-20 (due 06-25); a month not yet open is refused.
    app.clock.set(t("2026-06-20 11:00"));
    let yz = app.sign_in("yzlead").await;
    let r = app
        .post_form(
            &yz,
            "/console/documents/500103/summary",
            &summary("2026-06"),
        )
        .await;
    assert_eq!(
        (r.status, r.location()),
        (
            StatusCode::SEE_OTHER,
            "/console/documents/500103?month=2026-06"
        )
    );
    let r = app
        .post_form(
            &yz,
            "/console/documents/500103/summary",
            &summary("2026-07"),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r
        .text()
        .contains("2026-07 的总结还不能提交：最近一期是 2026-06"));

    // On 06-26 the city looks at June.
    app.clock.set(t("2026-06-26 10:00"));
    let settings = CampaignSettings::for_year(2026);
    let today = t("2026-06-26 10:00").local_date();
    let units = [u("500103"), u("500104")];
    let rows = app
        .state
        .db
        .with_writer(|c| {
            Ok::<_, rusqlite::Error>(
                unit_documents::standings(c, &units, &settings, (2026, 6), today).unwrap(),
            )
        })
        .unwrap();
    let submitted = |at: &str, late| Standing::Submitted { at: t(at), late };
    assert_eq!(
        rows,
        vec![
            UnitStanding {
                unit: u("500103"),
                contacts: submitted("2026-03-10 09:00", false),
                work_plan: submitted("2026-03-30 15:00", true),
                summary: submitted("2026-06-20 11:00", false),
            },
            UnitStanding {
                unit: u("500104"),
                contacts: Standing::Overdue,
                work_plan: Standing::Overdue,
                summary: Standing::Overdue,
            },
        ]
    );
    let city = app.sign_in("city").await;
    let page = app
        .page(&city, "/console/contacts?month=2026-06")
        .await
        .text();
    assert!(
        page.contains("未交合计：附件1 40 个，工作方案 40 个，月度总结 40 个。"),
        "{page}"
    );
    let ddk_row = &page[page.find("<td>大渡口区</td>").unwrap()..];
    let ddk_row = &ddk_row[..ddk_row.find("</tr>").unwrap()];
    assert_eq!(
        ddk_row
            .matches("<span class=\"badge bad\">逾期</span>")
            .count(),
        3,
        "{ddk_row}"
    );
    // Of the 41 units only 渝中区 handed anything in; July's summary (due 07-25) is missing everywhere.
    let page = app.page(&city, "/console/contacts").await.text();
    assert!(
        page.contains("未交合计：附件1 40 个，工作方案 40 个，月度总结 41 个。"),
        "{page}"
    );

    // The city downloads the plan (audited); another unit's lead may not.
    let r = app.page(&city, "/console/documents/files/1").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        (
            r.headers[header::CONTENT_TYPE].to_str().unwrap(),
            r.bytes.as_slice()
        ),
        ("application/pdf", &b"%PDF-1.4 plan"[..])
    );
    let ddk = app.sign_in("ddklead").await;
    assert_eq!(
        app.page(&ddk, "/console/documents/files/1").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        audit(&app, "document.download"),
        vec![("unit/500103/work_plan/1".to_owned(), String::new())]
    );
    assert_eq!(
        audit(&app, "summary.save"),
        vec![(
            "unit/500103/summary/2026-06".to_owned(),
            "version 1".to_owned()
        )]
    );
}
