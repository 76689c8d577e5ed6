//! What can go wrong with on-call input, in the user's terms.

/// On-call failures. Messages are shown to the engineer as they are.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OnCallError {
    /// A field or argument is not acceptable; the message names it (`rotation.rrule: …`)
    /// and says what is wrong.
    #[error("{0}")]
    Invalid(String),
}

impl OnCallError {
    /// Shorthand for [`OnCallError::Invalid`].
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self::Invalid(message.into())
    }
}
