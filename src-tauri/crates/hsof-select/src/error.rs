//! What can go wrong loading a dataset or selecting features, in the user's terms.

/// Feature-selection failures. Every variant names the file, column or option involved.
#[derive(Debug, thiserror::Error)]
pub enum SelectError {
    /// The dataset file exists but its content cannot be used (empty, ragged, duplicate names...).
    #[error("invalid dataset {path}{}: {reason}", line_suffix(*.line))]
    InvalidDataset {
        /// The file.
        path: String,
        /// 1-based line (CSV) or row number where the problem was found, when there is one.
        line: Option<u64>,
        /// What is wrong, in words.
        reason: String,
    },
    /// The file could not be opened or read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// Loading would need more memory than the caller allows.
    #[error(
        "{path} is too large: loading it needs about {} MiB but the limit is {} MiB",
        .estimated_bytes / (1 << 20),
        .limit_bytes / (1 << 20)
    )]
    TooLarge {
        /// The file.
        path: String,
        /// Estimated bytes needed in memory.
        estimated_bytes: u64,
        /// The limit given in [`crate::LoadOptions::memory_limit_bytes`].
        limit_bytes: u64,
    },
    /// The target column is not in the file.
    #[error("target column `{target}` not found in {path} (columns: {available})")]
    TargetMissing {
        /// The file.
        path: String,
        /// The requested target.
        target: String,
        /// The first column names found, comma separated.
        available: String,
    },
    /// The target has a single value (after dropping missing ones): nothing to learn.
    #[error("target column `{target}` is constant ({value}); nothing to select features for")]
    ConstantTarget {
        /// The target column.
        target: String,
        /// Its only value.
        value: String,
    },
    /// No feature column is left once ids, constant, all-missing and high-cardinality columns are removed.
    #[error("no usable feature column in {path}: {reason}")]
    NoUsableFeatures {
        /// The file.
        path: String,
        /// Why each kind of column was removed.
        reason: String,
    },
    /// An option is out of range.
    #[error("invalid option `{option}`: {reason}")]
    InvalidOptions {
        /// The option.
        option: &'static str,
        /// Why.
        reason: String,
    },
    /// The chosen compute backend is not available in this build or on this machine.
    #[error("backend `{backend}` is not available: {reason}")]
    BackendUnavailable {
        /// The requested backend.
        backend: String,
        /// Why.
        reason: String,
    },
    /// A model failed to fit (degenerate data in a fold, for example).
    #[error("{model} failed in {stage}: {reason}")]
    Model {
        /// The stage.
        stage: &'static str,
        /// The model family.
        model: &'static str,
        /// The library's message.
        reason: String,
    },
    /// The run was cancelled through its token; no result was produced.
    #[error("feature selection was cancelled")]
    Cancelled,
}

fn line_suffix(line: Option<u64>) -> String {
    line.map(|l| format!(" at line {l}")).unwrap_or_default()
}

impl SelectError {
    /// A short stable code for the UI and the CLI's JSON output.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidDataset { .. } | Self::TargetMissing { .. } | Self::ConstantTarget { .. } => "invalid_dataset",
            Self::NoUsableFeatures { .. } => "invalid_dataset",
            Self::Io { .. } => "io",
            Self::TooLarge { .. } => "too_large",
            Self::InvalidOptions { .. } => "invalid_input",
            Self::BackendUnavailable { .. } => "unavailable",
            Self::Model { .. } => "model_failed",
            Self::Cancelled => "cancelled",
        }
    }

    pub(crate) fn invalid(path: &str, line: Option<u64>, reason: impl Into<String>) -> Self {
        Self::InvalidDataset { path: path.to_string(), line, reason: reason.into() }
    }

    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        Self::Io { path: path.display().to_string(), source }
    }
}

/// Result alias of this crate.
pub type Result<T, E = SelectError> = std::result::Result<T, E>;
