//! The TOML configuration file: schema with the runbook's defaults, commented first-run
//! file, parse and semantic validation with errors that name the file and key, and a
//! save that keeps the previous file as `.bak`.

mod clusters;
mod cost;
mod docs;
mod render;
mod schema;
mod security;
mod stakeholders;
mod upkeep;
mod validate;

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

pub use clusters::{ClusterEntry, ClusterRef, ClusterRole, IMPLICIT_NAME};
pub use cost::CostConfig;
pub use docs::{doc_for, KEY_DOCS};
pub use render::{leaf_keys, render};
pub use schema::*;
pub use security::SecurityConfig;
pub use stakeholders::StakeholdersConfig;
pub use upkeep::UpkeepConfig;
pub use validate::{parse_hhmm, validate, ConfigProblem};

/// Why a configuration file could not be used.
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum ConfigError {
    /// Reading or writing the file failed.
    #[error("config {path}: {message}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        message: String,
    },
    /// Not valid TOML, or a key of the wrong type or unknown.
    #[error("config {path}, line {line}, key `{key}`: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// 1-based line of the error.
        line: usize,
        /// The key at that place, as far as it can be told.
        key: String,
        /// The parser's message.
        message: String,
    },
    /// Well-formed, but some values are out of range or inconsistent.
    #[error("config {}: {}", path.display(), problems.iter().map(|p| format!("key `{}`: expected {}, found {}", p.key, p.expected, p.found)).collect::<Vec<_>>().join("; "))]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Every problem found.
        problems: Vec<ConfigProblem>,
    },
}

/// A configuration as the app runs with it.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct LoadedConfig {
    /// File it came from (or will be saved to).
    pub path: String,
    /// The values in effect: the file's, or the defaults while the file has a problem.
    pub config: Config,
    /// What is wrong with the file, if anything; the app then runs on defaults and the
    /// file is left as the user wrote it.
    pub problem: Option<String>,
    /// Each problem by key, for the Settings form.
    pub problems: Vec<ConfigProblem>,
    /// True when this start wrote the file with defaults.
    pub created: bool,
}

/// Parses and validates TOML text that came from `path`.
pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
    let config: Config = toml::from_str(text).map_err(|e| {
        let offset = e.span().map(|s| s.start).unwrap_or(0);
        let (line, key) = locate(text, offset);
        ConfigError::Parse { path: path.to_path_buf(), line, key, message: e.message().trim().to_string() }
    })?;
    let problems = validate(&config);
    if problems.is_empty() {
        Ok(config)
    } else {
        Err(ConfigError::Invalid { path: path.to_path_buf(), problems })
    }
}

/// Reads the file at `path`; a missing file is created with commented defaults.
/// Never fails: a broken file yields the defaults plus the problem, untouched on disk.
pub fn load_or_create(path: &Path) -> LoadedConfig {
    let loaded = |config, problem: Option<ConfigError>, created| {
        let problems = match &problem {
            Some(ConfigError::Invalid { problems, .. }) => problems.clone(),
            Some(ConfigError::Parse { key, message, .. }) => {
                vec![ConfigProblem { key: key.clone(), expected: "a valid value".into(), found: message.clone() }]
            }
            _ => Vec::new(),
        };
        LoadedConfig {
            path: path.display().to_string(),
            config,
            problem: problem.map(|p| p.to_string()),
            problems,
            created,
        }
    };
    match std::fs::read_to_string(path) {
        Ok(text) => match parse(path, &text) {
            Ok(c) => loaded(c, None, false),
            Err(e) => loaded(Config::default(), Some(e), false),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let config = Config::default();
            match write_atomic(path, &render(&config)) {
                Ok(()) => loaded(config, None, true),
                Err(e) => loaded(config, Some(e), false),
            }
        }
        Err(e) => loaded(Config::default(), Some(io_error(path, &e)), false),
    }
}

/// Validates `config` and writes it to `path`, keeping the previous file as `<path>.bak`.
pub fn save(path: &Path, config: &Config) -> Result<(), ConfigError> {
    let problems = validate(config);
    if !problems.is_empty() {
        return Err(ConfigError::Invalid { path: path.to_path_buf(), problems });
    }
    if path.exists() {
        let mut bak = path.as_os_str().to_owned();
        bak.push(".bak");
        std::fs::copy(path, PathBuf::from(bak)).map_err(|e| io_error(path, &e))?;
    }
    write_atomic(path, &render(config))
}

/// Writes through a temporary file and a rename, so a crash leaves the old or the new file.
fn write_atomic(path: &Path, text: &str) -> Result<(), ConfigError> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| io_error(dir, &e))?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| io_error(dir, &e))?;
    tmp.write_all(text.as_bytes()).map_err(|e| io_error(path, &e))?;
    tmp.as_file().sync_all().map_err(|e| io_error(path, &e))?;
    tmp.persist(path).map_err(|e| io_error(path, &e.error))?;
    Ok(())
}

fn io_error(path: &Path, e: &std::io::Error) -> ConfigError {
    ConfigError::Io { path: path.to_path_buf(), message: e.to_string() }
}

/// 1-based line of `offset` and the dotted key written there (table header + key).
fn locate(text: &str, offset: usize) -> (usize, String) {
    let mut offset = offset.min(text.len());
    // A parser's span is a byte offset; never slice inside a character.
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line_no = before.matches('\n').count() + 1;
    let mut table = String::new();
    for l in before.lines() {
        let t = l.trim();
        if t.starts_with('[') && t.ends_with(']') {
            table = t.trim_matches(|c| c == '[' || c == ']').trim().to_string();
        }
    }
    let line = text.lines().nth(line_no - 1).unwrap_or_default();
    let key = line.split_once('=').map(|(k, _)| k.trim().to_string()).filter(|k| !k.is_empty() && !k.starts_with('#'));
    let full = match (table.is_empty(), key) {
        (_, Some(k)) if !table.is_empty() => format!("{table}.{k}"),
        (_, Some(k)) => k,
        (false, None) => table,
        (true, None) => "(top level)".to_string(),
    };
    (line_no, full)
}
