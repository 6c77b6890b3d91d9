//! Console sessions: password sign-in (argon2, via [`accounts::verify_password`]), a random
//! session token in an HttpOnly cookie (only its SHA-256 is stored), a CSRF token per session,
//! expiry, sign-out, and a brake on password guessing.

use pengwang_shared::id::AccountId;
use pengwang_shared::protocol::AccountInfo;
use pengwang_shared::time::Timestamp;
use rand::RngCore;
use rusqlite::{params, Connection, OptionalExtension};
use sha2::{Digest, Sha256};

use crate::accounts::{self, AccountError};
use crate::audit::{self, Action, NewAudit};
use crate::db::DbError;

/// A session lasts one working day; signing in again starts a new one.
pub const SESSION_SECS: i64 = 10 * 3600;
/// At most this many failed sign-ins per login in [`FAILURE_WINDOW_SECS`].
const MAX_FAILURES: i64 = 8;
const FAILURE_WINDOW_SECS: i64 = 15 * 60;

#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    #[error("用户名或密码不正确")]
    Wrong,
    #[error("尝试次数过多，请 15 分钟后再试")]
    Throttled,
    #[error("该账号已停用")]
    Disabled,
    #[error(transparent)]
    Account(#[from] AccountError),
}

impl From<rusqlite::Error> for SignInError {
    fn from(e: rusqlite::Error) -> Self {
        SignInError::Account(e.into())
    }
}

/// A new session: `token` goes into the cookie and is never stored.
#[derive(Debug)]
pub struct NewSession {
    pub token: String,
    pub csrf: String,
    pub account: AccountInfo,
}

/// The session behind a cookie.
#[derive(Clone, Debug)]
pub struct Session {
    pub account: AccountInfo,
    pub csrf: String,
}

/// Login names are case-insensitive: stored and compared in lower case.
pub fn normalize_login(login: &str) -> String {
    login.trim().to_lowercase()
}

/// Checks `login`/`password` and opens a session. Failures are counted per login, so guessing
/// is slowed down whether or not the login exists; a wrong login and a wrong password give the
/// same answer.
pub fn sign_in(
    conn: &mut Connection,
    login: &str,
    password: &str,
    now: Timestamp,
) -> Result<NewSession, SignInError> {
    let login = normalize_login(login);
    let recent: i64 = conn.query_row(
        "SELECT count(*) FROM sign_in_failure WHERE login = ?1 AND at > ?2",
        params![login, now.0 - FAILURE_WINDOW_SECS],
        |r| r.get(0),
    )?;
    let id: Option<String> = conn
        .query_row("SELECT id FROM account WHERE login = ?1", [&login], |r| {
            r.get(0)
        })
        .optional()?;
    let known = match id.map(|id| AccountId::parse(&id)) {
        Some(Ok(id)) => Some(id),
        Some(Err(e)) => return Err(AccountError::from(DbError::corrupt("account id", e)).into()),
        None => None,
    };
    if recent >= MAX_FAILURES {
        audit_failure(conn, &login, known, "登录被锁定期间再次尝试", now)?;
        return Err(SignInError::Throttled);
    }
    let account = match known {
        Some(id) => match accounts::verify_password(conn, id, password) {
            Ok(true) => Some(accounts::active_account(conn, id)?),
            Ok(false) => None,
            Err(AccountError::AccountDisabled(_)) => {
                audit_failure(conn, &login, known, "账号已停用", now)?;
                return Err(SignInError::Disabled);
            }
            Err(e) => return Err(e.into()),
        },
        None => None,
    };
    let Some(account) = account else {
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO sign_in_failure (login, at) VALUES (?1, ?2)",
            params![login, now.0],
        )?;
        let why = if recent + 1 >= MAX_FAILURES {
            "用户名或密码不正确；连续失败 8 次，已锁定 15 分钟"
        } else {
            "用户名或密码不正确"
        };
        audit_failure(&tx, &login, known, why, now)?;
        tx.commit()?;
        return Err(SignInError::Wrong);
    };
    let token = random_token();
    let csrf = random_token();
    let tx = conn.transaction()?;
    tx.execute(
        "INSERT INTO console_session (token_hash, account_id, csrf, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            token_hash(&token),
            account.id.to_string(),
            csrf,
            now.0,
            now.0 + SESSION_SECS
        ],
    )?;
    tx.execute("DELETE FROM sign_in_failure WHERE login = ?1", [&login])?;
    audit::record(
        &tx,
        &NewAudit {
            at: now,
            actor: Some(account.id),
            action: Action::SignIn,
            target: &account.id.to_string(),
            detail: "",
        },
    )?;
    tx.commit()?;
    Ok(NewSession {
        token,
        csrf,
        account,
    })
}

/// Audits a failed sign-in: the login tried (shortened to 64 characters) as the target, the
/// reason and, when the login names an account, that account's id. Never the password.
fn audit_failure(
    conn: &Connection,
    login: &str,
    account: Option<AccountId>,
    why: &str,
    now: Timestamp,
) -> Result<(), rusqlite::Error> {
    let login: String = login.chars().take(64).collect();
    let detail = match account {
        Some(id) => format!("{why}（账号 {id}）"),
        None => format!("{why}（无此用户名）"),
    };
    audit::record(
        conn,
        &NewAudit {
            at: now,
            actor: None,
            action: Action::SignInFailure,
            target: &login,
            detail: &detail,
        },
    )
}

/// The live session for `token`: not ended, not expired, its account not disabled.
pub fn lookup(
    conn: &Connection,
    token: &str,
    now: Timestamp,
) -> Result<Option<Session>, AccountError> {
    let row: Option<(String, String)> = conn
        .query_row(
            "SELECT account_id, csrf FROM console_session
             WHERE token_hash = ?1 AND ended_at IS NULL AND expires_at > ?2",
            params![token_hash(token), now.0],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((account, csrf)) = row else {
        return Ok(None);
    };
    let id = AccountId::parse(&account).map_err(|e| DbError::corrupt("session account", e))?;
    match accounts::active_account(conn, id) {
        Ok(account) => Ok(Some(Session { account, csrf })),
        Err(AccountError::AccountDisabled(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Signs out: the token stops working at once.
pub fn end(conn: &Connection, token: &str, now: Timestamp) -> Result<(), rusqlite::Error> {
    conn.execute(
        "UPDATE console_session SET ended_at = ?2 WHERE token_hash = ?1 AND ended_at IS NULL",
        params![token_hash(token), now.0],
    )?;
    Ok(())
}

/// Ends every session of `account` (after a password reset or when it is disabled).
pub fn end_all(
    conn: &Connection,
    account: AccountId,
    now: Timestamp,
) -> Result<(), rusqlite::Error> {
    conn.execute(
        "UPDATE console_session SET ended_at = ?2 WHERE account_id = ?1 AND ended_at IS NULL",
        params![account.to_string(), now.0],
    )?;
    Ok(())
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Compares two tokens in time independent of where they first differ.
pub fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}
