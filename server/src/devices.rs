//! Devices: an app install enrolled to one account with a one-time code, then identified by a
//! bearer token until revoked (DESIGN §8).
//!
//! Only the SHA-256 of a token is stored, so a copied database cannot impersonate a phone.
//! Codes are short and typable (a supervisor reads one out or shows it on paper); they expire
//! and work once.

use pengwang_shared::id::{AccountId, DeviceId};
use pengwang_shared::protocol::AccountInfo;
use pengwang_shared::time::Timestamp;
use rand::{Rng, RngCore};
use rusqlite::{params, Connection, ErrorCode, OptionalExtension};
use sha2::{Digest, Sha256};

use crate::accounts::{self, AccountError};
use crate::audit::{self, Action, NewAudit};
use crate::db::DbError;

/// No 0/O, 1/I/L: codes are read aloud and typed on phones.
const CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
const CODE_LEN: usize = 8;
pub const DEFAULT_CODE_DAYS: u32 = 7;
const DAY: i64 = 24 * 3600;

/// An authenticated device.
#[derive(Clone, Debug, PartialEq)]
pub struct Device {
    pub id: DeviceId,
    pub account: AccountInfo,
    pub last_seen_at: Option<Timestamp>,
}

/// What enrollment hands back to the phone. `token` is shown once and never stored.
#[derive(Clone, Debug)]
pub struct Enrolled {
    pub device_id: DeviceId,
    pub token: String,
    pub account: AccountInfo,
}

/// Issues a single-use enrollment code for `account`, valid for `days`.
pub fn issue_code(
    conn: &mut Connection,
    account: AccountId,
    days: u32,
    now: Timestamp,
) -> Result<String, AccountError> {
    issue_code_by(conn, account, days, None, now)
}

/// [`issue_code`] by a console user `actor` (recorded in the audit row).
pub fn issue_code_by(
    conn: &mut Connection,
    account: AccountId,
    days: u32,
    actor: Option<AccountId>,
    now: Timestamp,
) -> Result<String, AccountError> {
    accounts::active_account(conn, account)?;
    let expires = Timestamp(now.0 + i64::from(days) * DAY);
    let tx = conn.transaction()?;
    let code = loop {
        let code = random_code();
        let inserted = tx.execute(
            "INSERT INTO enrollment_code (code, account_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
            params![code, account.to_string(), now.0, expires.0],
        );
        match inserted {
            Ok(_) => break code,
            // 31^8 codes make a collision rare; draw again rather than fail.
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == ErrorCode::ConstraintViolation =>
            {
                continue
            }
            Err(e) => return Err(e.into()),
        }
    };
    let target = account.to_string();
    let detail = format!("expires_at={}", expires.0);
    audit::record(
        &tx,
        &NewAudit {
            at: now,
            actor,
            action: Action::EnrollmentCodeIssue,
            target: &target,
            detail: &detail,
        },
    )?;
    tx.commit()?;
    tracing::info!(account = %account, days, "issued enrollment code");
    Ok(code)
}

fn random_code() -> String {
    let mut rng = rand::thread_rng();
    (0..CODE_LEN)
        .map(|_| char::from(CODE_ALPHABET[rng.gen_range(0..CODE_ALPHABET.len())]))
        .collect()
}

/// Codes as people type them: any case, with spaces or dashes.
pub fn normalize_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// Trades an enrollment code for a new device and its token, in one transaction.
pub fn enroll(
    conn: &mut Connection,
    code: &str,
    device_name: &str,
    now: Timestamp,
) -> Result<Enrolled, AccountError> {
    let code = normalize_code(code);
    let device_name = device_name.trim();
    if device_name.is_empty() || device_name.chars().count() > 100 {
        let e = pengwang_shared::error::ParseError::new(
            "device name",
            device_name,
            "expected 1–100 characters",
        );
        return Err(e.into());
    }
    let tx = conn.transaction()?;
    let row: Option<(String, i64, Option<i64>)> = tx
        .query_row(
            "SELECT account_id, expires_at, used_at FROM enrollment_code WHERE code = ?1",
            [&code],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let Some((account_id, expires_at, used_at)) = row else {
        return Err(AccountError::CodeUnknown(code));
    };
    if used_at.is_some() {
        return Err(AccountError::CodeUsed);
    }
    if now.0 >= expires_at {
        return Err(AccountError::CodeExpired(Timestamp(expires_at)));
    }
    let account_id =
        AccountId::parse(&account_id).map_err(|e| DbError::corrupt("account id", e))?;
    let account = accounts::active_account(&tx, account_id)?;
    let (device_id, token) = (DeviceId::new(), new_token());
    tx.execute(
        "INSERT INTO device (id, account_id, name, token_hash, enrolled_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![device_id.to_string(), account_id.to_string(), device_name, token_hash(&token), now.0],
    )?;
    tx.execute(
        "UPDATE enrollment_code SET used_at = ?1, device_id = ?2 WHERE code = ?3",
        params![now.0, device_id.to_string(), code],
    )?;
    let target = device_id.to_string();
    audit::record(
        &tx,
        &NewAudit {
            at: now,
            actor: Some(account_id),
            action: Action::DeviceEnroll,
            target: &target,
            detail: "",
        },
    )?;
    tx.commit()?;
    tracing::info!(device = %device_id, account = %account_id, "enrolled device");
    Ok(Enrolled {
        device_id,
        token,
        account,
    })
}

fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// The device holding `token`. Read-only, so it runs on a reader connection; the caller
/// refreshes `last_seen_at` with [`touch`] when it is stale.
pub fn authenticate(conn: &Connection, token: &str) -> Result<Device, AccountError> {
    let row = conn
        .query_row(
            "SELECT d.id, d.revoked_at, d.last_seen_at, a.disabled, a.id, a.name, a.role, a.scope_json
             FROM device d JOIN account a ON a.id = d.account_id WHERE d.token_hash = ?1",
            [token_hash(token)],
            |r| {
                let head: (String, Option<i64>, Option<i64>, bool) = (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?);
                Ok((head, accounts::account_info(r, 4)))
            },
        )
        .optional()?;
    let Some(((id, revoked_at, last_seen_at, disabled), account)) = row else {
        return Err(AccountError::InvalidToken);
    };
    let id = DeviceId::parse(&id).map_err(|e| DbError::corrupt("device id", e))?;
    let account = account?;
    if revoked_at.is_some() {
        return Err(AccountError::DeviceRevoked(id));
    }
    if disabled {
        return Err(AccountError::AccountDisabled(account.id));
    }
    Ok(Device {
        id,
        account,
        last_seen_at: last_seen_at.map(Timestamp),
    })
}

/// Records that `device` was just seen.
pub fn touch(conn: &Connection, device: DeviceId, now: Timestamp) -> Result<(), AccountError> {
    conn.execute(
        "UPDATE device SET last_seen_at = ?1 WHERE id = ?2",
        params![now.0, device.to_string()],
    )?;
    Ok(())
}

/// Revokes `device`; its token stops working at once. Returns false if it was already revoked
/// (the first revocation time is kept).
pub fn revoke(
    conn: &mut Connection,
    device: DeviceId,
    actor: Option<AccountId>,
    now: Timestamp,
) -> Result<bool, AccountError> {
    let tx = conn.transaction()?;
    let revoked_at: Option<Option<i64>> = tx
        .query_row(
            "SELECT revoked_at FROM device WHERE id = ?1",
            [device.to_string()],
            |r| r.get(0),
        )
        .optional()?;
    match revoked_at {
        None => return Err(AccountError::DeviceNotFound(device)),
        Some(Some(_)) => return Ok(false),
        Some(None) => {}
    }
    tx.execute(
        "UPDATE device SET revoked_at = ?1 WHERE id = ?2",
        params![now.0, device.to_string()],
    )?;
    let target = device.to_string();
    audit::record(
        &tx,
        &NewAudit {
            at: now,
            actor,
            action: Action::DeviceRevoke,
            target: &target,
            detail: "",
        },
    )?;
    tx.commit()?;
    tracing::info!(device = %device, "revoked device");
    Ok(true)
}

/// An enrollment code not used yet and not expired.
#[derive(Clone, Debug, PartialEq)]
pub struct OpenCode {
    pub code: String,
    pub expires_at: Timestamp,
}

/// The open enrollment codes of `account`.
pub fn open_codes(
    conn: &Connection,
    account: AccountId,
    now: Timestamp,
) -> Result<Vec<OpenCode>, AccountError> {
    let mut stmt = conn.prepare(
        "SELECT code, expires_at FROM enrollment_code
         WHERE account_id = ?1 AND used_at IS NULL AND expires_at > ?2 ORDER BY created_at",
    )?;
    let rows = stmt.query_map(params![account.to_string(), now.0], |r| {
        Ok(OpenCode {
            code: r.get(0)?,
            expires_at: Timestamp(r.get(1)?),
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Withdraws an open code of `account` (it expires now); audited. False if it was not open.
pub fn withdraw_code(
    conn: &mut Connection,
    account: AccountId,
    code: &str,
    actor: Option<AccountId>,
    now: Timestamp,
) -> Result<bool, AccountError> {
    let tx = conn.transaction()?;
    let n = tx.execute(
        "UPDATE enrollment_code SET expires_at = ?3
         WHERE code = ?1 AND account_id = ?2 AND used_at IS NULL AND expires_at > ?3",
        params![normalize_code(code), account.to_string(), now.0],
    )?;
    if n == 1 {
        audit::record(
            &tx,
            &NewAudit {
                at: now,
                actor,
                action: Action::EnrollmentCodeWithdraw,
                target: &account.to_string(),
                detail: "",
            },
        )?;
    }
    tx.commit()?;
    Ok(n == 1)
}

/// A device of an account, for the console's listing.
#[derive(Clone, Debug, PartialEq)]
pub struct DeviceRow {
    pub id: DeviceId,
    pub name: String,
    pub enrolled_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
    pub last_seen_at: Option<Timestamp>,
}

/// The devices enrolled to `account`, newest first.
pub fn list_for(conn: &Connection, account: AccountId) -> Result<Vec<DeviceRow>, AccountError> {
    let mut stmt = conn.prepare(
        "SELECT id, name, enrolled_at, revoked_at, last_seen_at FROM device
         WHERE account_id = ?1 ORDER BY enrolled_at DESC, id",
    )?;
    let mut rows = stmt.query([account.to_string()])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        let id: String = r.get(0)?;
        out.push(DeviceRow {
            id: DeviceId::parse(&id).map_err(|e| DbError::corrupt("device id", e))?,
            name: r.get(1)?,
            enrolled_at: Timestamp(r.get(2)?),
            revoked_at: r.get::<_, Option<i64>>(3)?.map(Timestamp),
            last_seen_at: r.get::<_, Option<i64>>(4)?.map(Timestamp),
        });
    }
    Ok(out)
}

/// The account a device belongs to.
pub fn owner(conn: &Connection, device: DeviceId) -> Result<AccountId, AccountError> {
    let id: Option<String> = conn
        .query_row(
            "SELECT account_id FROM device WHERE id = ?1",
            [device.to_string()],
            |r| r.get(0),
        )
        .optional()?;
    let id = id.ok_or(AccountError::DeviceNotFound(device))?;
    Ok(AccountId::parse(&id).map_err(|e| DbError::corrupt("account id", e))?)
}

#[cfg(test)]
mod tests;
