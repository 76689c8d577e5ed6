//! Cluster failures with distinct states: unreachable, unauthorised, forbidden, not found.

/// What went wrong talking to Kubernetes.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// The kubeconfig could not be read or used.
    #[error("kubeconfig: {0}")]
    Kubeconfig(String),
    /// The context does not exist.
    #[error("context `{context}` is not in the kubeconfig (contexts: {})", if known.is_empty() { "none".to_string() } else { known.join(", ") })]
    NoContext {
        /// Asked for.
        context: String,
        /// Available.
        known: Vec<String>,
    },
    /// Connection refused, DNS, TLS or timeout.
    #[error("the cluster is unreachable: {0}")]
    Unreachable(String),
    /// 401: credentials missing or expired.
    #[error("the cluster rejected the credentials (401): {0}; log in again (e.g. refresh your cloud CLI's token)")]
    Unauthorized(String),
    /// 403: RBAC says no.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// 404.
    #[error("not found: {0}")]
    NotFound(String),
    /// The request was refused as invalid (422 / 400) or is invalid before sending.
    #[error("invalid: {0}")]
    Invalid(String),
    /// Any other API error.
    #[error("the API server failed ({code}): {message}")]
    Api {
        /// HTTP code.
        code: u16,
        /// Its message.
        message: String,
    },
}

impl ClusterError {
    /// The error of a kube call made to `what` (`get pods/x`); public for crates that call
    /// kube APIs this crate does not wrap, like the team store.
    pub fn from_kube(e: kube::Error, what: &str) -> Self {
        match e {
            kube::Error::Api(s) => {
                let message = format!("{what}: {}", s.message);
                match s.code {
                    401 => Self::Unauthorized(message),
                    403 => Self::Forbidden(message),
                    404 => Self::NotFound(message),
                    400 | 422 => Self::Invalid(message),
                    code => Self::Api { code, message },
                }
            }
            other => Self::Unreachable(format!("{what}: {}", crate::chain(&other))),
        }
    }
}
