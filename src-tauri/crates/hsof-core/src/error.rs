//! The application error and the small, stable set of codes the UI and CLI react to.

use serde::Serialize;

use crate::config::ConfigError;
use crate::secrets::SecretError;

/// Kind of failure, stable across releases: the UI picks its message and action by it,
/// and `hsofctl` maps it to an exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The user's input (a form, an argument) is not acceptable.
    InvalidInput,
    /// The configuration file has a problem.
    InvalidConfig,
    /// The thing asked for does not exist.
    NotFound,
    /// A server or service could not be reached.
    Unavailable,
    /// Permission denied.
    Forbidden,
    /// Credentials missing or expired.
    Unauthorized,
    /// The local store is not open (degraded mode).
    StoreUnavailable,
    /// Reading or writing a local file failed.
    Io,
    /// The user (or Ctrl-C) cancelled a long operation; nothing was produced.
    Cancelled,
    /// A defect: please report it.
    Internal,
}

impl ErrorCode {
    /// Process exit status for `hsofctl`.
    pub fn exit_status(self) -> i32 {
        match self {
            Self::InvalidInput => 2,
            Self::InvalidConfig => 3,
            Self::NotFound => 4,
            Self::Unavailable => 5,
            Self::Forbidden => 6,
            Self::Unauthorized => 9,
            Self::StoreUnavailable => 7,
            Self::Io => 8,
            // 128 + SIGINT, what a shell reports for a command stopped by Ctrl-C.
            Self::Cancelled => 130,
            Self::Internal => 70,
        }
    }
}

/// Error of every `hsof-core` call.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Configuration problem.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The store is not open; the message says why.
    #[error("the local store is unavailable: {0}")]
    StoreUnavailable(String),
    /// A store query failed.
    #[error(transparent)]
    Store(#[from] hsof_store::StoreError),
    /// Secret store problem.
    #[error(transparent)]
    Secret(#[from] SecretError),
    /// Bad input from the user.
    #[error("{0}")]
    InvalidInput(String),
    /// A service is not configured usably or could not be reached.
    #[error("{0}")]
    Unavailable(String),
    /// The thing asked for does not exist.
    #[error("{0}")]
    NotFound(String),
    /// A monitoring source failed.
    #[error(transparent)]
    Monitor(#[from] hsof_monitor::MonitorError),
    /// The cluster refused or could not be reached.
    #[error(transparent)]
    Cluster(#[from] hsof_cluster::ClusterError),
    /// The action is not allowed (read-only mode, RBAC).
    #[error("{0}")]
    Forbidden(String),
    /// Feature selection failed or was cancelled.
    #[error(transparent)]
    Select(#[from] hsof_select::SelectError),
    /// Incident input or a transition the incident's state does not allow.
    #[error(transparent)]
    Incident(#[from] hsof_ops::incidents::IncidentError),
}

impl Error {
    /// The stable code of this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Config(ConfigError::Io { .. }) => ErrorCode::Io,
            Self::Config(_) => ErrorCode::InvalidConfig,
            Self::StoreUnavailable(_) => ErrorCode::StoreUnavailable,
            Self::Store(_) => ErrorCode::Io,
            Self::Secret(SecretError::NotFound(_)) => ErrorCode::NotFound,
            Self::Secret(_) => ErrorCode::Io,
            Self::InvalidInput(_) => ErrorCode::InvalidInput,
            Self::Unavailable(_) => ErrorCode::Unavailable,
            Self::NotFound(_) => ErrorCode::NotFound,
            Self::Monitor(e) if e.is_unavailable() => ErrorCode::Unavailable,
            Self::Monitor(hsof_monitor::MonitorError::BadUrl { .. }) => ErrorCode::InvalidConfig,
            Self::Monitor(hsof_monitor::MonitorError::Http { status: 401 | 403, .. }) => ErrorCode::Forbidden,
            Self::Monitor(_) => ErrorCode::Unavailable,
            Self::Forbidden(_) => ErrorCode::Forbidden,
            Self::Select(e) => match e {
                hsof_select::SelectError::Cancelled => ErrorCode::Cancelled,
                hsof_select::SelectError::Io { .. } => ErrorCode::Io,
                hsof_select::SelectError::BackendUnavailable { .. } => ErrorCode::Unavailable,
                // Bad data, an option out of range, a file too large for memory, a model that
                // cannot fit the data: each is fixed by changing the input.
                _ => ErrorCode::InvalidInput,
            },
            Self::Incident(hsof_ops::incidents::IncidentError::NotFound(_)) => ErrorCode::NotFound,
            Self::Incident(_) => ErrorCode::InvalidInput,
            Self::Cluster(e) => match e {
                hsof_cluster::ClusterError::Kubeconfig(_) | hsof_cluster::ClusterError::NoContext { .. } => {
                    ErrorCode::InvalidConfig
                }
                hsof_cluster::ClusterError::Unreachable(_) | hsof_cluster::ClusterError::Api { .. } => {
                    ErrorCode::Unavailable
                }
                hsof_cluster::ClusterError::Unauthorized(_) => ErrorCode::Unauthorized,
                hsof_cluster::ClusterError::Forbidden(_) => ErrorCode::Forbidden,
                hsof_cluster::ClusterError::NotFound(_) => ErrorCode::NotFound,
                hsof_cluster::ClusterError::Invalid(_) => ErrorCode::InvalidInput,
            },
        }
    }
}

/// An error as it crosses the IPC boundary or prints with `--json`.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct IpcError {
    /// What kind of failure.
    pub code: ErrorCode,
    /// One sentence for people.
    pub message: String,
    /// More, when there is more (per-key problems as JSON, a server's body).
    pub detail: Option<String>,
}

impl From<&Error> for IpcError {
    fn from(e: &Error) -> Self {
        let detail = match e {
            Error::Config(ConfigError::Invalid { problems, .. }) => serde_json::to_string(problems).ok(),
            _ => None,
        };
        Self { code: e.code(), message: e.to_string(), detail }
    }
}

impl From<Error> for IpcError {
    fn from(e: Error) -> Self {
        Self::from(&e)
    }
}
