//! A realistic city slice made the way the real one is: inspectors' phones record buildings,
//! households and hazards in real streets and communities, mostly offline, and sync over HTTP;
//! street checkers verify, refuse and void; enforcement teams remove; some phones edit the same
//! items while offline, and some record the same building twice.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;

use pengwang_core::Device;
use pengwang_server::accounts::{self, NewAccount};
use pengwang_server::{devices, AppState};
use pengwang_shared::document::{FieldValue, RecordRef};
use pengwang_shared::id::{BuildingId, ItemId};
use pengwang_shared::item::Category;
use pengwang_shared::protocol::AccountInfo;
use pengwang_shared::region::{Street, UnitCode};
use pengwang_shared::role::{Location, Role, Scope};
use pengwang_shared::time::{FakeClock, Timestamp};
use rand::rngs::StdRng;
use rand::SeedableRng;

mod work;

use crate::field::{text, ESTATES};
use work::{progress, survey_building};

pub struct Plan {
    pub buildings_per_street: usize,
}

/// Units and the number of streets simulated in each: 渝中区, 江北区, 两江新区, 沙坪坝区.
const UNITS: [(&str, usize); 4] = [("500103", 2), ("500105", 2), ("500157", 2), ("500106", 1)];

#[derive(Default)]
pub struct Summary {
    pub units: usize,
    pub streets: usize,
    pub devices: usize,
    pub buildings: usize,
    pub households: usize,
    pub items: usize,
    /// Changes the server received from the phones.
    pub changes: i64,
    /// Photos the server stored (uploaded by the phones).
    pub photos: i64,
    pub tokens: Vec<(String, String)>,
    /// Console sign-ins: (login, who). Every one has the password [`DEMO_PASSWORD`].
    pub logins: Vec<(String, String)>,
    pub addr: String,
}

/// The console password of every demo account (a demo on a laptop, never a real deployment).
pub const DEMO_PASSWORD: &str = "pengwang-demo";

/// The console login of a demo account, for the roles that work in the console.
fn demo_login(role: Role, scope: &Scope) -> Option<String> {
    let code = match scope {
        Scope::City => String::new(),
        Scope::Unit { unit } => unit.to_string(),
        Scope::Street { street } => street.to_string(),
        Scope::Community { community } | Scope::Estates { community, .. } => community.to_string(),
    };
    match role {
        Role::City => Some("city".into()),
        Role::UnitLead => Some(format!("lead{code}")),
        Role::StreetChecker => Some(format!("checker{code}")),
        Role::Enforcement => Some(format!("enforce{code}")),
        Role::FireRescue => Some(format!("fire{code}")),
        _ => None,
    }
}

/// Creates an account; console roles get a login and [`DEMO_PASSWORD`], listed in `sum`.
fn demo_account(
    state: &AppState,
    name: &str,
    role: Role,
    scope: Scope,
    sum: &mut Summary,
) -> anyhow::Result<AccountInfo> {
    let now = state.now();
    let login = demo_login(role, &scope);
    let account = state.db.with_writer(|c| {
        let info = accounts::create_account(
            c,
            NewAccount {
                name: name.into(),
                role,
                scope,
                password: login.as_ref().map(|_| DEMO_PASSWORD.to_owned()),
            },
            now,
        )?;
        if let Some(login) = &login {
            accounts::set_login(c, info.id, login)?;
        }
        Ok::<_, accounts::AccountError>(info)
    })?;
    if let Some(login) = login {
        sum.logins
            .push((login, format!("{}（{}）", name, role.label())));
    }
    Ok(account)
}

struct Phone {
    device: Device,
    clock: Arc<FakeClock>,
    account: AccountInfo,
}

async fn phone(
    state: &AppState,
    url: &str,
    dir: &std::path::Path,
    name: &str,
    role: Role,
    scope: Scope,
    sum: &mut Summary,
) -> anyhow::Result<(Phone, String)> {
    let now = state.now();
    let account = demo_account(state, name, role, scope, sum)?;
    let code = state
        .db
        .with_writer(|c| devices::issue_code(c, account.id, 7, now))?;
    let clock = Arc::new(FakeClock::at(Timestamp::parse_local("2026-03-02 09:00")?));
    let device = Device::open(&dir.join(format!("{}.sqlite3", account.id)), clock.clone())?;
    device.enroll(url, &code, &format!("{name}的手机")).await?;
    // A console token for the same account, printed for curl.
    let console = state
        .db
        .with_writer(|c| devices::issue_code(c, account.id, 7, now))?;
    let enrolled = state
        .db
        .with_writer(|c| devices::enroll(c, &console, "console", now))?;
    Ok((
        Phone {
            device,
            clock,
            account,
        },
        enrolled.token,
    ))
}

pub async fn run(state: &AppState, addr: SocketAddr, plan: &Plan) -> anyhow::Result<Summary> {
    let url = format!("http://{addr}");
    let dir = tempfile::tempdir()?;
    let mut rng = StdRng::seed_from_u64(2026);
    let mut sum = Summary {
        addr: url.clone(),
        ..Summary::default()
    };
    let (_city, token) = phone(
        state,
        &url,
        dir.path(),
        "市专班",
        Role::City,
        Scope::City,
        &mut sum,
    )
    .await?;
    sum.tokens.push(("city 市专班".into(), token));
    for (unit, n_streets) in UNITS {
        let unit = UnitCode::parse(unit)?;
        let streets: Vec<Street> = state
            .catalog
            .streets_of(&unit)
            .take(n_streets)
            .cloned()
            .collect();
        let (lead, token) = phone(
            state,
            &url,
            dir.path(),
            &format!("{}牵头部门", layout_name(state, &unit)),
            Role::UnitLead,
            Scope::Unit { unit: unit.clone() },
            &mut sum,
        )
        .await?;
        sum.tokens.push((format!("unit lead {unit}"), token));
        paperwork(state, &unit, &lead.account, &mut rng)?;
        let (officer, _) = phone(
            state,
            &url,
            dir.path(),
            &format!("{}执法队", layout_name(state, &unit)),
            Role::Enforcement,
            Scope::Unit { unit: unit.clone() },
            &mut sum,
        )
        .await?;
        demo_account(
            state,
            &format!("{}消防救援", layout_name(state, &unit)),
            Role::FireRescue,
            Scope::Unit { unit: unit.clone() },
            &mut sum,
        )?;
        for street in &streets {
            simulate_street(
                state,
                &url,
                dir.path(),
                street,
                &officer,
                plan,
                &mut rng,
                &mut sum,
            )
            .await?;
            sum.streets += 1;
        }
        officer.device.sync().await?;
        drop(lead);
        sum.units += 1;
        sum.devices += 2;
    }
    sum.devices += 1;
    sum.photos = state
        .db
        .with_writer(|c| c.query_row("SELECT COUNT(*) FROM photo", [], |r| r.get(0)))?;
    sum.changes = state
        .db
        .with_writer(|c| c.query_row("SELECT COUNT(*) FROM change_meta", [], |r| r.get(0)))?;
    Ok(sum)
}

#[allow(clippy::too_many_arguments)]
async fn simulate_street(
    state: &AppState,
    url: &str,
    dir: &std::path::Path,
    street: &Street,
    officer: &Phone,
    plan: &Plan,
    rng: &mut StdRng,
    sum: &mut Summary,
) -> anyhow::Result<()> {
    let scope = Scope::Street {
        street: street.code.clone(),
    };
    let (a, _) = phone(
        state,
        url,
        dir,
        &format!("{}网格员甲", street.name),
        Role::CommunityInspector,
        scope.clone(),
        sum,
    )
    .await?;
    let (b, _) = phone(
        state,
        url,
        dir,
        &format!("{}网格员乙", street.name),
        Role::CommunityInspector,
        scope.clone(),
        sum,
    )
    .await?;
    let (checker, token) = phone(
        state,
        url,
        dir,
        &format!("{}核查员", street.name),
        Role::StreetChecker,
        scope,
        sum,
    )
    .await?;
    sum.tokens
        .push((format!("street checker {}", street.name), token));
    sum.devices += 3;
    let communities: Vec<_> = state
        .catalog
        .communities_of(&street.code)
        .take(4)
        .cloned()
        .collect();
    let mut made: Vec<(BuildingId, Vec<ItemId>)> = Vec::new();
    for k in 0..plan.buildings_per_street {
        let community = &communities[k % communities.len()];
        let loc = Location {
            unit: street.unit.clone(),
            street: street.code.clone(),
            community: community.code.clone(),
            estate: ESTATES[k % ESTATES.len()].into(),
        };
        let inspector = if k % 2 == 0 { &a } else { &b };
        inspector.clock.set(Timestamp(
            Timestamp::parse_local("2026-03-02 09:00")?.0 + (k as i64) * 86_400 / 2,
        ));
        let (bid, items) = survey_building(inspector, &loc, k, rng, sum)?;
        made.push((bid, items));
        if k % 5 == 4 {
            a.device.sync().await?; // phones come back into signal now and then
            b.device.sync().await?;
        }
    }
    // A duplicate: b records again the first building a recorded (same estate, same number).
    let dup = Location {
        unit: street.unit.clone(),
        street: street.code.clone(),
        community: communities[0].code.clone(),
        estate: ESTATES[0].into(),
    };
    b.device.create_building(
        dup,
        &[
            ("number", text("1栋")),
            ("use", text("residential")),
            ("floors", FieldValue::Int(18)),
        ],
    )?;
    sum.buildings += 1;
    a.device.sync().await?;
    b.device.sync().await?;
    checker.device.sync().await?;
    for (bid, items) in &made {
        for item in items {
            progress(&a, &b, &checker, officer, *bid, *item, rng).await?;
        }
    }
    // Two phones edit the same item offline: a conflict for the supervisor.
    if let Some((bid, items)) = made.get(1) {
        if let Some(item) = items.first() {
            a.device
                .set_field(
                    *bid,
                    RecordRef::Item(*item),
                    "area_m2",
                    FieldValue::Real(2.4),
                )
                .ok();
            b.device
                .set_field(
                    *bid,
                    RecordRef::Item(*item),
                    "area_m2",
                    FieldValue::Real(3.1),
                )
                .ok();
        }
    }
    conflicts_and_duplicates(&a, &b, &made).await?;
    for p in [&a, &b, &checker, officer, &a, &b] {
        p.device.sync().await?;
    }
    Ok(())
}

/// Two more kinds of conflict a supervisor meets — two inspectors recording different steps of
/// one item offline (a lifecycle fork), and an item deleted by its creator while the other
/// inspector was editing it (a tombstone conflict) — and a household recorded twice.
async fn conflicts_and_duplicates(
    a: &Phone,
    b: &Phone,
    made: &[(BuildingId, Vec<ItemId>)],
) -> anyhow::Result<()> {
    let (Some((fork_at, _)), Some((delete_at, _))) = (made.get(2), made.get(3)) else {
        return Ok(());
    };
    let forked = a.device.add_item(
        *fork_at,
        Category::Awning,
        None,
        &[("position", text("stair_window"))],
        vec![a.device.ingest_photo(&crate::field::synthetic_jpeg(4242))?],
        "楼道窗雨棚",
    )?;
    crate::field::notify(&a.device, *fork_at, forked)?;
    crate::field::notify(&a.device, *fork_at, forked)?;
    let deleted = a.device.add_item(
        *delete_at,
        Category::Net,
        None,
        &[],
        vec![a.device.ingest_photo(&crate::field::synthetic_jpeg(4343))?],
        "",
    )?;
    a.device.sync().await?;
    b.device.sync().await?;
    let after = a.device.ingest_photo(&crate::field::synthetic_jpeg(4244))?;
    crate::field::submit_removed_with(&a.device, *fork_at, forked, vec![after])?;
    crate::field::step(
        &b.device,
        *fork_at,
        forked,
        pengwang_shared::event::EventKind::ProposeRefusal,
        "业主称不拆",
    )?;
    a.device.delete(*delete_at, RecordRef::Item(deleted))?;
    let twice = b.device.building(*fork_at)?;
    if let Some(h) = twice.households.values().next() {
        let same: Vec<(&str, FieldValue)> = ["unit", "floor", "room"]
            .iter()
            .filter_map(|k| h.fields.get(*k).map(|v| (*k, v.clone())))
            .collect();
        b.device.add_household(*fork_at, &same)?;
    }
    b.device.set_field(
        *delete_at,
        RecordRef::Item(deleted),
        "protrusion_cm",
        FieldValue::Real(40.0),
    )?;
    Ok(())
}

/// A unit lead's paperwork: the 附件1 contact sheet, and — for most units — the work plan and
/// last month's summary; one unit has filed nothing yet, so the city's table shows a gap.
fn paperwork(
    state: &AppState,
    unit: &UnitCode,
    lead: &AccountInfo,
    rng: &mut StdRng,
) -> anyhow::Result<()> {
    use pengwang_server::{contacts, unit_documents};
    if unit.as_str() == "500106" {
        return Ok(());
    }
    let name = layout_name(state, unit);
    let at = |s: &str| Timestamp::parse_local(s);
    let rows = [
        ("政府分管领导", "副区长"),
        ("牵头部门负责人", "住房城乡建委主任"),
        ("联络员", "住房城乡建委房屋安全科科员"),
    ];
    for (category, post) in rows {
        let person = contacts::NewContact {
            category: category.into(),
            name: work::owner_name(rng),
            organization: format!("{name}{post}"),
            phone: work::owner_phone(rng),
            note: String::new(),
        };
        state.db.with_writer(|c| {
            contacts::add(c, unit, &person, lead.id, at("2026-03-12 16:00")?)
                .map_err(anyhow::Error::from)
        })?;
    }
    let plan = format!("%PDF-1.4\n% {name}高层建筑可燃雨棚和突出外墙防护网整治工作方案\n%%EOF\n");
    let dir = unit_documents::document_dir(&state.config);
    let sha256 = unit_documents::store_file(&dir, plan.as_bytes())?;
    let file = unit_documents::NewUnitFile {
        file_name: &format!("{name}整治工作方案.pdf"),
        extension: "pdf",
        bytes: plan.len(),
        sha256: &sha256,
    };
    let sections = [
        format!("{name}本月完成入户排查和告知劝导，重点推进自行整改。"),
        "网格员与物业联合入户，对拒不整改户建立台账。".to_owned(),
        "部分业主外出务工无法入户，需多次复访。".to_owned(),
        "下月集中力量推进定点拆除，完成销号复核。".to_owned(),
    ];
    state.db.with_writer(|c| {
        unit_documents::add_work_plan(c, unit, &file, lead.id, at("2026-03-24 10:00")?)?;
        unit_documents::save_summary(
            c,
            unit,
            "2026-11",
            &sections,
            lead.id,
            at("2026-11-24 17:00")?,
        )?;
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(())
}

fn layout_name(state: &AppState, unit: &UnitCode) -> String {
    state
        .catalog
        .unit(unit)
        .map_or_else(|| unit.to_string(), |u| u.name.clone())
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "demo data: {} units, {} streets, {} phones, {} buildings, {} households, {} hazard items, {} changes synced, {} photos uploaded", self.units, self.streets, self.devices, self.buildings, self.households, self.items, self.changes, self.photos)?;
        writeln!(
            f,
            "\n控制台 / console: {}/console   password for every account below: {DEMO_PASSWORD}",
            self.addr
        )?;
        for (login, who) in &self.logins {
            writeln!(f, "  {login:<18} {who}")?;
        }
        writeln!(
            f,
            "\nThe API (tokens are bearer tokens of console devices):"
        )?;
        let city = self.tokens.first().map(|t| t.1.as_str()).unwrap_or("");
        let h = "-H 'pengwang-protocol: 1'";
        writeln!(
            f,
            "  export TOKEN={city}   # {}",
            self.tokens.first().map(|t| t.0.as_str()).unwrap_or("")
        )?;
        writeln!(
            f,
            "  curl -s {h} -H \"Authorization: Bearer $TOKEN\" {}/v1/ledger | head -c 2000",
            self.addr
        )?;
        writeln!(f, "  curl -s {h} -H \"Authorization: Bearer $TOKEN\" '{}/v1/reports/attachment2?month=2026-11'", self.addr)?;
        writeln!(f, "  curl -s {h} -H \"Authorization: Bearer $TOKEN\" '{}/v1/reports/attachment2?month=2026-11&format=csv' > 附件2.csv", self.addr)?;
        writeln!(
            f,
            "  curl -s {h} -H \"Authorization: Bearer $TOKEN\" {}/v1/conflicts",
            self.addr
        )?;
        writeln!(
            f,
            "  curl -s {h} -H \"Authorization: Bearer $TOKEN\" {}/v1/duplicates",
            self.addr
        )?;
        writeln!(f, "Other accounts:")?;
        for (who, token) in self.tokens.iter().skip(1) {
            writeln!(f, "  {who}: {token}")?;
        }
        write!(f, "Serving until Ctrl-C.")
    }
}
