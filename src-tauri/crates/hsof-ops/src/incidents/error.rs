//! What can go wrong with incident input and state changes, in the user's terms.

use super::model::IncidentStatus;

/// Incident failures. Messages are shown to the engineer as they are.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IncidentError {
    /// A field, setting or argument is not acceptable; the message says which and why.
    #[error("{0}")]
    InvalidInput(String),
    /// The incident's current status does not allow the action.
    #[error("incident #{id} is {status}; it cannot be {action}")]
    InvalidTransition {
        /// The incident.
        id: i64,
        /// Its current status.
        status: IncidentStatus,
        /// What was attempted, as a past participle ("acknowledged", "escalated", ...).
        action: &'static str,
    },
    /// No incident has this id.
    #[error("no incident #{0}")]
    NotFound(i64),
}

impl IncidentError {
    /// Shorthand for [`IncidentError::InvalidInput`].
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self::InvalidInput(message.into())
    }
}
