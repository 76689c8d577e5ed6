//! What can go wrong talking to HSOF, Prometheus or AlertManager.

/// Monitoring failures, each naming the service and URL involved.
#[derive(Debug, thiserror::Error)]
pub enum MonitorError {
    /// The configured URL is not usable.
    #[error("{service} URL `{url}` is not valid: {message}")]
    BadUrl {
        /// Which service.
        service: &'static str,
        /// The URL.
        url: String,
        /// Why.
        message: String,
    },
    /// Connection refused, DNS failure, TLS failure.
    #[error("{service} at {url} is unreachable: {message}")]
    Unreachable {
        /// Which service.
        service: &'static str,
        /// The URL.
        url: String,
        /// The client's description.
        message: String,
    },
    /// No answer within the timeout.
    #[error("{service} at {url} did not answer within {secs} s")]
    Timeout {
        /// Which service.
        service: &'static str,
        /// The URL.
        url: String,
        /// The timeout.
        secs: f64,
    },
    /// An HTTP error status.
    #[error("{service} at {url} answered HTTP {status}: {body}")]
    Http {
        /// Which service.
        service: &'static str,
        /// The URL.
        url: String,
        /// HTTP status.
        status: u16,
        /// Start of the body.
        body: String,
    },
    /// The server answered but reported an error (e.g. a PromQL syntax error).
    #[error("{service} rejected the request: {message}")]
    Api {
        /// Which service.
        service: &'static str,
        /// The server's error.
        message: String,
    },
    /// The answer could not be understood.
    #[error("{service} at {url} sent an answer that could not be read: {message}")]
    Malformed {
        /// Which service.
        service: &'static str,
        /// The URL.
        url: String,
        /// The parse error.
        message: String,
    },
}

impl MonitorError {
    /// True for failures of reach (unreachable, timeout): the caller should fall back to
    /// cached values and mark them stale.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::Unreachable { .. } | Self::Timeout { .. } | Self::Http { status: 502..=504, .. })
    }
}
