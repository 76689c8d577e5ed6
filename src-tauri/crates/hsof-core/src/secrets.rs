//! Secrets (Slack webhook URL, tokens): in the OS keyring when one answers, otherwise in
//! a 0600 TOML file beside the config. Never in SQLite, never in logs: [`SecretValue`]
//! prints as `***`.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

const SERVICE: &str = "hsof-control-center";

/// A secret's value; its `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretValue(String);

impl SecretValue {
    /// Wraps a value.
    pub fn new(v: impl Into<String>) -> Self {
        Self(v.into())
    }
    /// The value, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretValue(***)")
    }
}

/// Secret-store failures.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SecretError {
    /// No secret of that name.
    #[error("no secret named `{0}` is stored; set it with `hsofctl secret set {0}`")]
    NotFound(String),
    /// Names are short identifiers.
    #[error("`{0}` is not a valid secret name: use lowercase letters, digits, '-' and '_'")]
    BadName(String),
    /// The keyring or the file failed.
    #[error("secret store ({backend}): {message}")]
    Backend {
        /// Which backend.
        backend: String,
        /// What failed.
        message: String,
    },
}

/// Where secrets live.
#[derive(Debug, Clone, Serialize, specta::Type, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SecretBackend {
    /// The desktop's Secret Service / Keychain / Credential Manager.
    OsKeyring,
    /// A 0600 file.
    File {
        /// Its path.
        path: String,
    },
}

/// Which backend to use; `Auto` probes the OS keyring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendChoice {
    /// Keyring if it answers, else file.
    Auto,
    /// Always the file.
    File,
}

/// The secret store.
#[derive(Debug, Clone)]
pub struct SecretStore {
    backend: SecretBackend,
    file: PathBuf,
}

impl SecretStore {
    /// Picks the backend once, at start-up.
    pub fn new(choice: BackendChoice, file: PathBuf) -> Self {
        let keyring_ok = choice == BackendChoice::Auto && keyring_answers();
        let backend = if keyring_ok {
            SecretBackend::OsKeyring
        } else {
            SecretBackend::File { path: file.display().to_string() }
        };
        Self { backend, file }
    }

    /// The backend in use.
    pub fn backend(&self) -> &SecretBackend {
        &self.backend
    }

    /// Stores `value` under `name`, replacing any previous value.
    pub fn set(&self, name: &str, value: &SecretValue) -> Result<(), SecretError> {
        check_name(name)?;
        match &self.backend {
            SecretBackend::OsKeyring => entry(name)?.set_password(value.expose()).map_err(keyring_err),
            SecretBackend::File { .. } => {
                let mut all = read_file(&self.file)?;
                all.insert(name.to_string(), value.expose().to_string());
                write_file(&self.file, &all)
            }
        }
    }

    /// The value stored under `name`.
    pub fn get(&self, name: &str) -> Result<SecretValue, SecretError> {
        check_name(name)?;
        match &self.backend {
            SecretBackend::OsKeyring => match entry(name)?.get_password() {
                Ok(v) => Ok(SecretValue(v)),
                Err(keyring::Error::NoEntry) => Err(SecretError::NotFound(name.into())),
                Err(e) => Err(keyring_err(e)),
            },
            SecretBackend::File { .. } => {
                read_file(&self.file)?.remove(name).map(SecretValue).ok_or_else(|| SecretError::NotFound(name.into()))
            }
        }
    }

    /// Removes `name`; removing a missing secret is an error so typos are noticed.
    pub fn delete(&self, name: &str) -> Result<(), SecretError> {
        check_name(name)?;
        match &self.backend {
            SecretBackend::OsKeyring => match entry(name)?.delete_credential() {
                Ok(()) => Ok(()),
                Err(keyring::Error::NoEntry) => Err(SecretError::NotFound(name.into())),
                Err(e) => Err(keyring_err(e)),
            },
            SecretBackend::File { .. } => {
                let mut all = read_file(&self.file)?;
                if all.remove(name).is_none() {
                    return Err(SecretError::NotFound(name.into()));
                }
                write_file(&self.file, &all)
            }
        }
    }
}

fn check_name(name: &str) -> Result<(), SecretError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(SecretError::BadName(name.into()))
    }
}

fn entry(name: &str) -> Result<keyring::Entry, SecretError> {
    keyring::Entry::new(SERVICE, name).map_err(keyring_err)
}

fn keyring_err(e: keyring::Error) -> SecretError {
    SecretError::Backend { backend: "OS keyring".into(), message: e.to_string() }
}

/// True when the OS keyring answers a lookup (a missing entry counts as an answer).
fn keyring_answers() -> bool {
    match keyring::Entry::new(SERVICE, "__probe__") {
        Ok(e) => matches!(e.get_password(), Ok(_) | Err(keyring::Error::NoEntry)),
        Err(_) => false,
    }
}

fn file_err(path: &Path, message: impl std::fmt::Display) -> SecretError {
    SecretError::Backend { backend: format!("file {}", path.display()), message: message.to_string() }
}

fn read_file(path: &Path) -> Result<BTreeMap<String, String>, SecretError> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            toml::from_str(&text).map_err(|e| file_err(path, format!("not a valid secrets file: {}", e.message())))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
        Err(e) => Err(file_err(path, e)),
    }
}

fn write_file(path: &Path, all: &BTreeMap<String, String>) -> Result<(), SecretError> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| file_err(path, e))?;
    let text = toml::to_string(all).map_err(|e| file_err(path, e))?;
    // NamedTempFile is created 0600 and the rename keeps that mode.
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| file_err(path, e))?;
    tmp.write_all(text.as_bytes()).map_err(|e| file_err(path, e))?;
    tmp.as_file().sync_all().map_err(|e| file_err(path, e))?;
    tmp.persist(path).map_err(|e| file_err(path, e.error))?;
    Ok(())
}
