//! Server configuration: defaults, then an optional TOML file, then `PENGWANG_*` environment
//! variables, so a test or a container can override one value without writing a file.

use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

const MIB: usize = 1024 * 1024;

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address to listen on (`PENGWANG_LISTEN`).
    pub listen: SocketAddr,
    /// SQLite file (`PENGWANG_DATABASE`).
    pub database: PathBuf,
    /// Largest request body; a bigger sync batch is refused whole (`PENGWANG_MAX_BATCH_BYTES`).
    pub max_batch_bytes: usize,
    /// Largest change set for one document in a batch (`PENGWANG_MAX_DOC_BYTES`).
    pub max_doc_bytes: usize,
    /// Documents sent back in one sync answer before `more = true` (`PENGWANG_MAX_DOCS_PER_RESPONSE`).
    pub max_docs_per_response: usize,
    /// Where uploaded photos are stored (`PENGWANG_PHOTO_DIR`); unset: a `photos` directory
    /// next to the database file. See [`Config::photo_dir`].
    pub photo_dir: Option<PathBuf>,
    /// Largest photo or thumbnail upload; a bigger one gets 413 (`PENGWANG_MAX_PHOTO_BYTES`).
    pub max_photo_bytes: usize,
    /// Test-only failpoint: abort the process when the named point is reached
    /// (`PENGWANG_CRASH_AT`). See [`crate::state::AppState::failpoint`].
    pub crash_at: Option<String>,
    /// `tracing_subscriber::EnvFilter` directives (`PENGWANG_LOG`).
    pub log: String,
    /// Mark the console's session cookie `Secure` (`PENGWANG_SECURE_COOKIES=1`): set it whenever
    /// the console is served over HTTPS, as it must be outside a test bench.
    pub secure_cookies: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database: PathBuf::from("pengwang.sqlite3"),
            max_batch_bytes: 8 * MIB,
            max_doc_bytes: 2 * MIB,
            max_docs_per_response: 200,
            photo_dir: None,
            max_photo_bytes: 10 * MIB,
            crash_at: None,
            log: "info".into(),
            secure_cookies: false,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid config file {path}: {source}")]
    Toml {
        path: PathBuf,
        source: toml::de::Error,
    },
    #[error("invalid {var} {value:?}: {expected}")]
    Env {
        var: &'static str,
        value: String,
        expected: &'static str,
    },
}

impl Config {
    /// Defaults → `file` (if given) → the process environment.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        let mut config = match file {
            Some(path) => Self::from_file(path)?,
            None => Config::default(),
        };
        config.apply_env(|var| std::env::var(var).ok())?;
        Ok(config)
    }

    /// The photo directory: `photo_dir` if set, else `photos` beside the database file (so a
    /// test's temporary database gets temporary photos, and a backup of one directory holds both).
    pub fn photo_dir(&self) -> PathBuf {
        match &self.photo_dir {
            Some(dir) => dir.clone(),
            None => self
                .database
                .parent()
                .unwrap_or_else(|| Path::new(""))
                .join("photos"),
        }
    }

    pub fn from_file(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.into(),
            source,
        })?;
        toml::from_str(&text).map_err(|source| ConfigError::Toml {
            path: path.into(),
            source,
        })
    }

    /// Overrides fields from `PENGWANG_*` variables looked up through `var` (injectable so tests
    /// need not touch the process environment).
    pub fn apply_env(&mut self, var: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        if let Some(v) = var("PENGWANG_LISTEN") {
            self.listen = parse_env(
                "PENGWANG_LISTEN",
                v,
                "expected host:port, e.g. 0.0.0.0:8080",
            )?;
        }
        if let Some(v) = var("PENGWANG_DATABASE") {
            self.database = PathBuf::from(v);
        }
        if let Some(v) = var("PENGWANG_PHOTO_DIR") {
            self.photo_dir = Some(PathBuf::from(v)).filter(|p| !p.as_os_str().is_empty());
        }
        let sizes: [(&'static str, &mut usize); 4] = [
            ("PENGWANG_MAX_BATCH_BYTES", &mut self.max_batch_bytes),
            ("PENGWANG_MAX_DOC_BYTES", &mut self.max_doc_bytes),
            (
                "PENGWANG_MAX_DOCS_PER_RESPONSE",
                &mut self.max_docs_per_response,
            ),
            ("PENGWANG_MAX_PHOTO_BYTES", &mut self.max_photo_bytes),
        ];
        for (name, field) in sizes {
            if let Some(v) = var(name) {
                *field = parse_env(name, v, "expected a whole number")?;
            }
        }
        if let Some(v) = var("PENGWANG_CRASH_AT") {
            self.crash_at = Some(v).filter(|s| !s.is_empty());
        }
        if let Some(v) = var("PENGWANG_LOG") {
            self.log = v;
        }
        if let Some(v) = var("PENGWANG_SECURE_COOKIES") {
            self.secure_cookies =
                parse_env::<u8>("PENGWANG_SECURE_COOKIES", v, "expected 0 or 1")? == 1;
        }
        Ok(())
    }
}

fn parse_env<T: std::str::FromStr>(
    var: &'static str,
    value: String,
    expected: &'static str,
) -> Result<T, ConfigError> {
    value.trim().parse().map_err(|_| ConfigError::Env {
        var,
        value,
        expected,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn defaults_listen_on_localhost_8080_with_8_mib_batches() {
        let c = Config::default();
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.database, PathBuf::from("pengwang.sqlite3"));
        assert_eq!(
            (c.max_batch_bytes, c.max_doc_bytes, c.max_docs_per_response),
            (8_388_608, 2_097_152, 200)
        );
        assert_eq!(c.crash_at, None);
        assert_eq!(c.max_photo_bytes, 10_485_760);
        assert_eq!(c.photo_dir(), PathBuf::from("photos"));
    }

    #[test]
    fn photos_live_beside_the_database_unless_a_directory_is_set() {
        let mut c = Config::default();
        c.apply_env(env(&[("PENGWANG_DATABASE", "/var/lib/pw/pw.sqlite3")]))
            .unwrap();
        assert_eq!(c.photo_dir(), PathBuf::from("/var/lib/pw/photos"));
        c.apply_env(env(&[
            ("PENGWANG_PHOTO_DIR", "/srv/photos"),
            ("PENGWANG_MAX_PHOTO_BYTES", "2000000"),
        ]))
        .unwrap();
        assert_eq!(
            (c.photo_dir(), c.max_photo_bytes),
            (PathBuf::from("/srv/photos"), 2_000_000)
        );
    }

    #[test]
    fn file_overrides_defaults_and_env_overrides_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server.toml");
        std::fs::write(
            &path,
            "listen = \"0.0.0.0:9000\"\ndatabase = \"/var/lib/pw.sqlite3\"\nmax_doc_bytes = 1000\n",
        )
        .unwrap();
        let mut c = Config::from_file(&path).unwrap();
        assert_eq!(c.listen.to_string(), "0.0.0.0:9000");
        assert_eq!(c.max_doc_bytes, 1000);
        assert_eq!(
            c.max_batch_bytes,
            8 * MIB,
            "fields absent from the file keep their default"
        );
        c.apply_env(env(&[
            ("PENGWANG_DATABASE", "/tmp/x.sqlite3"),
            ("PENGWANG_CRASH_AT", "after_commit"),
        ]))
        .unwrap();
        assert_eq!(c.database, PathBuf::from("/tmp/x.sqlite3"));
        assert_eq!(c.crash_at.as_deref(), Some("after_commit"));
        assert_eq!(c.listen.to_string(), "0.0.0.0:9000");
    }

    #[test]
    fn a_misspelt_key_in_the_file_is_an_error_not_a_silent_default() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server.toml");
        std::fs::write(&path, "listen_addr = \"0.0.0.0:9000\"\n").unwrap();
        let err = Config::from_file(&path).unwrap_err();
        assert!(
            err.to_string().contains("unknown field `listen_addr`"),
            "{err}"
        );
    }

    #[test]
    fn a_bad_env_value_names_the_variable_and_the_value() {
        let err = Config::default()
            .apply_env(env(&[("PENGWANG_MAX_BATCH_BYTES", "8M")]))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid PENGWANG_MAX_BATCH_BYTES \"8M\": expected a whole number"
        );
    }
}
