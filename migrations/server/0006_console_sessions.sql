-- 0006: signing in to the web console. Accounts with a console password get a login name;
-- a session is a random cookie token (only its SHA-256 is stored) with its own CSRF token.

ALTER TABLE account ADD COLUMN login TEXT;
CREATE UNIQUE INDEX account_by_login ON account (login) WHERE login IS NOT NULL;

CREATE TABLE console_session (
    token_hash BLOB PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES account (id),
    csrf       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    ended_at   INTEGER
) STRICT;
CREATE INDEX console_session_by_account ON console_session (account_id);

-- Failed sign-ins per login, to slow down password guessing.
CREATE TABLE sign_in_failure (
    login TEXT NOT NULL,
    at    INTEGER NOT NULL
) STRICT;
CREATE INDEX sign_in_failure_by_login ON sign_in_failure (login, at);
