#![allow(clippy::unwrap_used)]
use super::*;
use crate::testing::{create, seeded_db, street_checker, NOW};

fn enrolled() -> (tempfile::TempDir, crate::db::Db, Enrolled) {
    let (dir, db) = seeded_db();
    let account = create(&db, street_checker());
    let code = db
        .with_writer(|c| issue_code(c, account.id, DEFAULT_CODE_DAYS, NOW))
        .unwrap();
    let enrolled = db
        .with_writer(|c| enroll(c, &code, "测试手机", NOW))
        .unwrap();
    (dir, db, enrolled)
}

#[test]
fn codes_are_eight_unambiguous_characters_and_typing_them_loosely_works() {
    let code = random_code();
    assert_eq!(code.len(), 8);
    assert!(code.bytes().all(|b| CODE_ALPHABET.contains(&b)), "{code}");
    assert_eq!(normalize_code(" abcd-efgh "), "ABCDEFGH");
}

#[test]
fn an_enrolled_token_authenticates_and_only_its_hash_is_stored() {
    let (_dir, db, enrolled) = enrolled();
    assert_eq!(enrolled.token.len(), 64);
    let device = db
        .with_writer(|c| authenticate(c, &enrolled.token))
        .unwrap();
    assert_eq!(
        (device.id, device.account, device.last_seen_at),
        (enrolled.device_id, enrolled.account, None)
    );
    let stored: Vec<u8> = db
        .with_writer(|c| c.query_row("SELECT token_hash FROM device", [], |r| r.get(0)))
        .unwrap();
    assert_eq!(stored, Sha256::digest(enrolled.token.as_bytes()).to_vec());
    let actions: Vec<String> = db
        .with_writer(|c| audit::recent(c, 10))
        .unwrap()
        .into_iter()
        .map(|a| a.action)
        .collect();
    assert_eq!(
        actions,
        ["device.enroll", "enrollment_code.issue", "account.create"]
    );
}

#[test]
fn a_code_works_once_and_not_after_it_expires() {
    let (_dir, db) = seeded_db();
    let account = create(&db, street_checker());
    let code = db
        .with_writer(|c| issue_code(c, account.id, 7, NOW))
        .unwrap();
    let expiry = Timestamp(NOW.0 + 7 * DAY);
    let err = db
        .with_writer(|c| enroll(c, &code, "phone", expiry))
        .unwrap_err();
    assert!(
        matches!(err, AccountError::CodeExpired(t) if t == expiry),
        "{err}"
    );
    db.with_writer(|c| enroll(c, &code.to_lowercase(), "phone", Timestamp(expiry.0 - 1)))
        .unwrap();
    let err = db
        .with_writer(|c| enroll(c, &code, "phone", NOW))
        .unwrap_err();
    assert!(matches!(err, AccountError::CodeUsed), "{err}");
    let err = db
        .with_writer(|c| enroll(c, "2345-6789", "phone", NOW))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "enrollment code \"23456789\" is not known: check the code, or ask your supervisor for a new one"
    );
}

#[test]
fn a_revoked_device_is_refused_distinctly_from_an_unknown_token() {
    let (_dir, db, enrolled) = enrolled();
    assert!(db
        .with_writer(|c| revoke(c, enrolled.device_id, None, NOW))
        .unwrap());
    assert!(
        !db.with_writer(|c| revoke(c, enrolled.device_id, None, NOW))
            .unwrap(),
        "second revoke is a no-op"
    );
    let err = db
        .with_writer(|c| authenticate(c, &enrolled.token))
        .unwrap_err();
    assert!(
        matches!(err, AccountError::DeviceRevoked(id) if id == enrolled.device_id),
        "{err}"
    );
    let err = db.with_writer(|c| authenticate(c, "00")).unwrap_err();
    assert!(matches!(err, AccountError::InvalidToken), "{err}");
    let unknown = DeviceId::new();
    let err = db
        .with_writer(|c| revoke(c, unknown, None, NOW))
        .unwrap_err();
    assert!(
        matches!(err, AccountError::DeviceNotFound(id) if id == unknown),
        "{err}"
    );
}

#[test]
fn touch_records_last_seen() {
    let (_dir, db, enrolled) = enrolled();
    let later = Timestamp(NOW.0 + 60);
    db.with_writer(|c| touch(c, enrolled.device_id, later))
        .unwrap();
    let device = db
        .with_writer(|c| authenticate(c, &enrolled.token))
        .unwrap();
    assert_eq!(device.last_seen_at, Some(later));
}

#[test]
fn a_disabled_account_can_neither_get_codes_nor_use_its_devices() {
    let (_dir, db, enrolled) = enrolled();
    db.with_writer(|c| c.execute("UPDATE account SET disabled = 1", []))
        .unwrap();
    let err = db
        .with_writer(|c| authenticate(c, &enrolled.token))
        .unwrap_err();
    assert!(matches!(err, AccountError::AccountDisabled(_)), "{err}");
    let err = db
        .with_writer(|c| issue_code(c, enrolled.account.id, 7, NOW))
        .unwrap_err();
    assert!(matches!(err, AccountError::AccountDisabled(_)), "{err}");
}
