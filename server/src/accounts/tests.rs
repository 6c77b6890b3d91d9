#![allow(clippy::unwrap_used)]
use super::*;
use crate::testing::{create, seeded_db, street_checker, NOW};
use pengwang_shared::region::{CommunityCode, StreetCode, UnitCode};

#[test]
fn a_created_account_reads_back_with_its_scope_and_an_audit_row_without_its_name() {
    let (_dir, db) = seeded_db();
    let info = create(&db, street_checker());
    let rows = db.with_writer(|c| list_accounts(c)).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].info, info);
    assert_eq!(
        (rows[0].created_at, rows[0].disabled, rows[0].active_devices),
        (NOW, false, 0)
    );
    let audit = db.with_writer(|c| audit::recent(c, 10)).unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(
        (audit[0].action.as_str(), audit[0].target.clone()),
        ("account.create", info.id.to_string())
    );
    assert_eq!(
        audit[0].detail,
        "role=street_checker scope=street 500103001"
    );
}

#[test]
fn a_scope_naming_an_unknown_street_is_refused_with_the_code() {
    let (_dir, db) = seeded_db();
    let new = NewAccount {
        scope: Scope::Street {
            street: StreetCode::parse("500103999").unwrap(),
        },
        ..street_checker()
    };
    let err = db.with_writer(|c| create_account(c, new, NOW)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown street \"500103999\": it is not in the region tables"
    );
    let unit = Scope::Unit {
        unit: UnitCode::parse("XYZ").unwrap(),
    };
    let err = db
        .with_writer(|c| validate_scope(c, Role::UnitLead, &unit))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown reporting unit \"XYZ\": it is not in the region tables"
    );
}

#[test]
fn property_staff_must_be_scoped_to_named_estates_and_only_they_may_be() {
    let (_dir, db) = seeded_db();
    let community = CommunityCode::parse("500103001003").unwrap();
    let estates = |names: &[&str]| Scope::Estates {
        community: community.clone(),
        estates: names.iter().map(|s| s.to_string()).collect(),
    };
    let check = |role, scope: Scope| db.with_writer(|c| validate_scope(c, role, &scope));
    assert!(check(Role::PropertyStaff, estates(&["阳光小区"])).is_ok());
    let err = check(
        Role::PropertyStaff,
        Scope::Community {
            community: community.clone(),
        },
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            AccountError::RoleScopeMismatch {
                role: Role::PropertyStaff,
                ..
            }
        ),
        "{err}"
    );
    let err = check(Role::CommunityInspector, estates(&["阳光小区"])).unwrap_err();
    assert!(
        matches!(
            err,
            AccountError::RoleScopeMismatch {
                role: Role::CommunityInspector,
                ..
            }
        ),
        "{err}"
    );
    assert!(check(Role::PropertyStaff, estates(&[])).is_err());
    assert!(check(Role::PropertyStaff, estates(&[" "])).is_err());
}

#[test]
fn a_password_is_stored_hashed_and_verifies() {
    let (_dir, db) = seeded_db();
    let info = create(
        &db,
        NewAccount {
            password: Some("correct horse".into()),
            ..street_checker()
        },
    );
    let stored: String = db
        .with_writer(|c| c.query_row("SELECT password_hash FROM account", [], |r| r.get(0)))
        .unwrap();
    assert!(stored.starts_with("$argon2id$"), "{stored}");
    assert!(db
        .with_writer(|c| verify_password(c, info.id, "correct horse"))
        .unwrap());
    assert!(!db
        .with_writer(|c| verify_password(c, info.id, "wrong horse"))
        .unwrap());
    let err = db
        .with_writer(|c| {
            create_account(
                c,
                NewAccount {
                    password: Some("short".into()),
                    ..street_checker()
                },
                NOW,
            )
        })
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid password \"(hidden)\": must be at least 8 characters"
    );
}

#[test]
fn a_blank_name_is_refused() {
    let (_dir, db) = seeded_db();
    let err = db
        .with_writer(|c| {
            create_account(
                c,
                NewAccount {
                    name: "  ".into(),
                    ..street_checker()
                },
                NOW,
            )
        })
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid account name \"  \": 姓名不能为空，最多 50 字"
    );
}
