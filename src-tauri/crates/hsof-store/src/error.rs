use std::path::{Path, PathBuf};

/// What went wrong with the store, in terms a user can act on.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The data directory could not be created or written.
    #[error("data directory {path} is not usable: {source}")]
    DataDir {
        /// The directory.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The file exists but is not a readable SQLite database (corrupt, foreign, locked).
    #[error("cannot open the store {path}: {message}. The file was left untouched; move it aside to start with an empty store")]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// SQLite's description.
        message: String,
    },
    /// The directory or file is read-only.
    #[error("the store {path} is read-only: {message}")]
    ReadOnly {
        /// The file.
        path: PathBuf,
        /// SQLite's description.
        message: String,
    },
    /// A newer build of the app has migrated this file.
    #[error("the store {path} has schema version {found}, newer than this build supports ({supported}); upgrade HSOF Control Center. The file was left untouched")]
    TooNew {
        /// The file.
        path: PathBuf,
        /// Version in the file.
        found: u32,
        /// Latest version this build knows.
        supported: u32,
    },
    /// A migration failed; SQLite rolled it back.
    #[error("migrating the store {path} failed: {message}")]
    Migration {
        /// The file.
        path: PathBuf,
        /// What failed.
        message: String,
    },
    /// A query failed.
    #[error("store query failed: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A stored value could not be decoded.
    #[error("store holds a value that cannot be read: {0}")]
    Decode(String),
}

impl StoreError {
    pub(crate) fn open(path: &Path, e: rusqlite::Error) -> Self {
        use rusqlite::ffi::ErrorCode;
        let message = e.to_string();
        match e.sqlite_error_code() {
            Some(ErrorCode::ReadOnly) | Some(ErrorCode::CannotOpen) | Some(ErrorCode::PermissionDenied)
                if is_read_only(path) =>
            {
                Self::ReadOnly { path: path.to_path_buf(), message }
            }
            _ => Self::Unreadable { path: path.to_path_buf(), message },
        }
    }
}

fn is_read_only(path: &Path) -> bool {
    let probe = |p: &Path| std::fs::metadata(p).map(|m| m.permissions().readonly()).unwrap_or(false);
    probe(path) || path.parent().is_some_and(probe)
}
