//! Accounts: a person with a role and a scope (DESIGN §8). Devices and their enrollment live in
//! [`crate::devices`]; both report [`AccountError`].
//!
//! Functions take a connection and the current time instead of a clock, so the CLI (sync, via
//! `Db::with_writer`) and the HTTP handlers (async, via `Db::write`) share them.

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use pengwang_shared::error::ParseError;
use pengwang_shared::id::{AccountId, DeviceId};
use pengwang_shared::protocol::AccountInfo;
use pengwang_shared::role::{Role, Scope};
use pengwang_shared::time::Timestamp;
use rusqlite::{params, Connection, OptionalExtension, Row};

use crate::audit::{self, Action, NewAudit};
use crate::db::DbError;
use crate::regions::{self, RegionTable};

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error(transparent)]
    Invalid(#[from] ParseError),
    #[error("unknown {what} {code:?}: it is not in the region tables")]
    UnknownRegion { what: &'static str, code: String },
    #[error("role {role} cannot have scope {scope}: {reason}")]
    RoleScopeMismatch {
        role: Role,
        scope: String,
        reason: &'static str,
    },
    #[error("account {0} not found")]
    AccountNotFound(AccountId),
    #[error("account {0} is disabled")]
    AccountDisabled(AccountId),
    #[error(
        "enrollment code {0:?} is not known: check the code, or ask your supervisor for a new one"
    )]
    CodeUnknown(String),
    #[error("this enrollment code has already been used: ask your supervisor for a new one")]
    CodeUsed,
    #[error("this enrollment code expired at {0}: ask your supervisor for a new one")]
    CodeExpired(Timestamp),
    #[error("the device token is not valid: enroll this device again")]
    InvalidToken,
    #[error("device {0} has been revoked: ask your supervisor for a new enrollment code")]
    DeviceRevoked(DeviceId),
    #[error("device {0} not found")]
    DeviceNotFound(DeviceId),
    #[error("password hashing failed: {0}")]
    PasswordHash(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<rusqlite::Error> for AccountError {
    fn from(e: rusqlite::Error) -> Self {
        AccountError::Db(DbError::Sqlite(e))
    }
}

/// An account about to be created.
#[derive(Clone, Debug)]
pub struct NewAccount {
    pub name: String,
    pub role: Role,
    pub scope: Scope,
    /// Plain text, hashed with argon2 before it is stored; `None` for phone-only accounts.
    pub password: Option<String>,
}

/// A stored account, for listings.
#[derive(Clone, Debug, PartialEq)]
pub struct AccountRow {
    pub info: AccountInfo,
    pub created_at: Timestamp,
    pub disabled: bool,
    pub active_devices: u32,
}

/// Creates an account after checking its scope against the region tables.
pub fn create_account(
    conn: &mut Connection,
    new: NewAccount,
    now: Timestamp,
) -> Result<AccountInfo, AccountError> {
    create_account_by(conn, new, None, now)
}

/// [`create_account`] by a console user `actor` (recorded in the audit row).
pub fn create_account_by(
    conn: &mut Connection,
    new: NewAccount,
    actor: Option<AccountId>,
    now: Timestamp,
) -> Result<AccountInfo, AccountError> {
    let name = new.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 50 {
        let shown: String = new.name.chars().take(20).collect();
        return Err(ParseError::new("account name", shown, "姓名不能为空，最多 50 字").into());
    }
    validate_scope(conn, new.role, &new.scope)?;
    let hash = new.password.as_deref().map(hash_password).transpose()?;
    let info = AccountInfo {
        id: AccountId::new(),
        name,
        role: new.role,
        scope: new.scope,
    };
    let scope_json =
        serde_json::to_string(&info.scope).map_err(|e| DbError::corrupt("scope", e))?;
    let tx = conn.transaction()?;
    tx.execute(
        "INSERT INTO account (id, name, role, scope_json, password_hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![info.id.to_string(), info.name, info.role.code(), scope_json, hash, now.0],
    )?;
    let detail = format!("role={} scope={}", info.role, info.scope.describe());
    let target = info.id.to_string();
    audit::record(
        &tx,
        &NewAudit {
            at: now,
            actor,
            action: Action::AccountCreate,
            target: &target,
            detail: &detail,
        },
    )?;
    tx.commit()?;
    tracing::info!(account = %info.id, role = %info.role, "created account");
    Ok(info)
}

/// Every code a scope names must exist; property staff (物业) see only their own estates.
pub fn validate_scope(conn: &Connection, role: Role, scope: &Scope) -> Result<(), AccountError> {
    let mismatch = |reason| AccountError::RoleScopeMismatch {
        role,
        scope: scope.describe(),
        reason,
    };
    match scope {
        Scope::City => require(conn, RegionTable::Unit, "reporting unit", None),
        Scope::Unit { unit } => require(
            conn,
            RegionTable::Unit,
            "reporting unit",
            Some(unit.as_str()),
        ),
        Scope::Street { street } => {
            require(conn, RegionTable::Street, "street", Some(street.as_str()))
        }
        Scope::Community { community } => require(
            conn,
            RegionTable::Community,
            "community",
            Some(community.as_str()),
        ),
        Scope::Estates { community, estates } => {
            if estates.is_empty() || estates.iter().any(|e| e.trim().is_empty()) {
                return Err(mismatch("name at least one estate, none of them blank"));
            }
            require(
                conn,
                RegionTable::Community,
                "community",
                Some(community.as_str()),
            )
        }
    }?;
    // Which scope each role works at (DESIGN §1): the city sees everything, a district lead its
    // unit, a street checker a street, enforcement a unit or street, inspectors a street or a
    // community, property staff their estates, fire-rescue the city or a unit.
    let fits = match role {
        Role::City => matches!(scope, Scope::City),
        Role::UnitLead => matches!(scope, Scope::Unit { .. }),
        Role::StreetChecker => matches!(scope, Scope::Street { .. }),
        Role::Enforcement => matches!(scope, Scope::Unit { .. } | Scope::Street { .. }),
        Role::CommunityInspector => matches!(scope, Scope::Street { .. } | Scope::Community { .. }),
        Role::PropertyStaff => matches!(scope, Scope::Estates { .. }),
        Role::FireRescue => matches!(scope, Scope::City | Scope::Unit { .. }),
    };
    if fits {
        Ok(())
    } else {
        Err(mismatch(match role {
            Role::City => "a city account's scope is the city",
            Role::UnitLead => "a unit lead is scoped to one reporting unit",
            Role::StreetChecker => "a street checker is scoped to one street",
            Role::Enforcement => "an enforcement team is scoped to a unit or a street",
            Role::CommunityInspector => {
                "a community inspector is scoped to a street or a community"
            }
            Role::PropertyStaff => "property staff are scoped to their own estates",
            Role::FireRescue => "fire-rescue is scoped to the city or a unit",
        }))
    }
}

fn require(
    conn: &Connection,
    table: RegionTable,
    what: &'static str,
    code: Option<&str>,
) -> Result<(), AccountError> {
    match code {
        Some(code) if !regions::exists(conn, table, code)? => Err(AccountError::UnknownRegion {
            what,
            code: code.to_owned(),
        }),
        _ => Ok(()),
    }
}

/// The account `id`, refusing a disabled one.
pub fn active_account(conn: &Connection, id: AccountId) -> Result<AccountInfo, AccountError> {
    let row = conn
        .query_row(
            "SELECT id, name, role, scope_json, disabled FROM account WHERE id = ?1",
            [id.to_string()],
            |r| Ok((account_info(r, 0), r.get::<_, bool>(4)?)),
        )
        .optional()?;
    match row {
        None => Err(AccountError::AccountNotFound(id)),
        Some((_, true)) => Err(AccountError::AccountDisabled(id)),
        Some((info, false)) => Ok(info?),
    }
}

/// Reads `id, name, role, scope_json` starting at column `first`.
pub(crate) fn account_info(r: &Row<'_>, first: usize) -> Result<AccountInfo, AccountError> {
    let (id, role, scope): (String, String, String) =
        (r.get(first)?, r.get(first + 2)?, r.get(first + 3)?);
    Ok(AccountInfo {
        id: AccountId::parse(&id).map_err(|e| DbError::corrupt("account id", e))?,
        name: r.get(first + 1)?,
        role: Role::parse(&role).map_err(|e| DbError::corrupt("account role", e))?,
        scope: serde_json::from_str(&scope).map_err(|e| DbError::corrupt("account scope", e))?,
    })
}

/// Every account, oldest first.
pub fn list_accounts(conn: &Connection) -> Result<Vec<AccountRow>, AccountError> {
    let mut stmt = conn.prepare(
        "SELECT a.id, a.name, a.role, a.scope_json, a.created_at, a.disabled,
                (SELECT count(*) FROM device d WHERE d.account_id = a.id AND d.revoked_at IS NULL)
         FROM account a ORDER BY a.created_at, a.id",
    )?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(AccountRow {
            info: account_info(r, 0)?,
            created_at: Timestamp(r.get(4)?),
            disabled: r.get(5)?,
            active_devices: r.get(6)?,
        });
    }
    Ok(out)
}

/// Checks a console password. `false` for a wrong password or an account without one.
pub fn verify_password(
    conn: &Connection,
    id: AccountId,
    password: &str,
) -> Result<bool, AccountError> {
    active_account(conn, id)?;
    let stored: Option<String> = conn.query_row(
        "SELECT password_hash FROM account WHERE id = ?1",
        [id.to_string()],
        |r| r.get(0),
    )?;
    let Some(stored) = stored else {
        return Ok(false);
    };
    let parsed = PasswordHash::new(&stored).map_err(|e| DbError::corrupt("password hash", e))?;
    Ok(Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok())
}

/// Gives `id` a console login name (letters, digits, `.`, `_`, `-`; 3–32 characters; unique,
/// case-insensitive).
pub fn set_login(conn: &Connection, id: AccountId, login: &str) -> Result<(), AccountError> {
    let normalized = valid_login(login)?;
    active_account(conn, id)?;
    let taken: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM account WHERE login = ?1 AND id <> ?2)",
        params![normalized, id.to_string()],
        |r| r.get(0),
    )?;
    if taken {
        return Err(ParseError::new("login", login, "is already used by another account").into());
    }
    conn.execute(
        "UPDATE account SET login = ?2 WHERE id = ?1",
        params![id.to_string(), normalized],
    )?;
    Ok(())
}

/// Checks a login for a new account: well formed and used by no account yet.
pub fn check_login_free(conn: &Connection, login: &str) -> Result<(), AccountError> {
    let normalized = valid_login(login)?;
    let taken: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM account WHERE login = ?1)",
        [&normalized],
        |r| r.get(0),
    )?;
    if taken {
        return Err(ParseError::new("login", login, "is already used by another account").into());
    }
    Ok(())
}

/// A login in its stored form, or why it cannot be one.
fn valid_login(login: &str) -> Result<String, AccountError> {
    let normalized = crate::console::session::normalize_login(login);
    let valid = (3..=32).contains(&normalized.chars().count())
        && normalized
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if !valid {
        return Err(ParseError::new(
            "login",
            login,
            "must be 3–32 letters, digits, '.', '_' or '-'",
        )
        .into());
    }
    Ok(normalized)
}

/// The console login of `id`, if it has one.
pub fn login_of(conn: &Connection, id: AccountId) -> Result<Option<String>, AccountError> {
    Ok(conn
        .query_row(
            "SELECT login FROM account WHERE id = ?1",
            [id.to_string()],
            |r| r.get(0),
        )
        .optional()?
        .flatten())
}

/// Sets a new console password for `id` and ends its sessions; audited with `by` as actor.
pub fn reset_password(
    conn: &mut Connection,
    id: AccountId,
    password: &str,
    by: Option<AccountId>,
    now: Timestamp,
) -> Result<(), AccountError> {
    active_account(conn, id)?;
    let hash = hash_password(password)?;
    let tx = conn.transaction()?;
    tx.execute(
        "UPDATE account SET password_hash = ?2 WHERE id = ?1",
        params![id.to_string(), hash],
    )?;
    crate::console::session::end_all(&tx, id, now)?;
    audit::record(
        &tx,
        &NewAudit {
            at: now,
            actor: by,
            action: Action::PasswordReset,
            target: &id.to_string(),
            detail: "",
        },
    )?;
    tx.commit()?;
    Ok(())
}

/// Disables `id`: its devices and console sessions stop working at once; audited.
pub fn disable(
    conn: &mut Connection,
    id: AccountId,
    by: Option<AccountId>,
    now: Timestamp,
) -> Result<(), AccountError> {
    active_account(conn, id)?;
    let tx = conn.transaction()?;
    tx.execute(
        "UPDATE account SET disabled = 1 WHERE id = ?1",
        [id.to_string()],
    )?;
    tx.execute(
        "UPDATE device SET revoked_at = ?2 WHERE account_id = ?1 AND revoked_at IS NULL",
        params![id.to_string(), now.0],
    )?;
    crate::console::session::end_all(&tx, id, now)?;
    audit::record(
        &tx,
        &NewAudit {
            at: now,
            actor: by,
            action: Action::AccountDisable,
            target: &id.to_string(),
            detail: "",
        },
    )?;
    tx.commit()?;
    Ok(())
}

/// Enables a disabled account again (启用): it may sign in and enroll phones anew; its revoked
/// devices stay revoked. Audited.
pub fn enable(
    conn: &mut Connection,
    id: AccountId,
    by: Option<AccountId>,
    now: Timestamp,
) -> Result<(), AccountError> {
    let tx = conn.transaction()?;
    let changed = tx.execute(
        "UPDATE account SET disabled = 0 WHERE id = ?1 AND disabled = 1",
        [id.to_string()],
    )?;
    if changed == 0 {
        // Unknown or not disabled: nothing to do, nothing to audit.
        active_account(&tx, id)?;
        return Ok(());
    }
    audit::record(
        &tx,
        &NewAudit {
            at: now,
            actor: by,
            action: Action::AccountEnable,
            target: &id.to_string(),
            detail: "",
        },
    )?;
    tx.commit()?;
    Ok(())
}

fn hash_password(password: &str) -> Result<String, AccountError> {
    if password.chars().count() < 8 {
        return Err(
            ParseError::new("password", "(hidden)", "must be at least 8 characters").into(),
        );
    }
    let salt = SaltString::generate(&mut OsRng);
    let hash = Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| AccountError::PasswordHash(e.to_string()))?;
    Ok(hash.to_string())
}

#[cfg(test)]
mod tests;
