//! Times as the app stores and accepts them: RFC 3339 in UTC.

use chrono::{DateTime, SecondsFormat, Utc};

use crate::Error;

/// RFC 3339 with milliseconds in UTC, as the store keeps times (sortable as text).
pub fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Parses an RFC 3339 time given for `what`; a clear `InvalidInput` error otherwise.
pub fn parse_time(s: &str, what: &str) -> Result<DateTime<Utc>, Error> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| Error::InvalidInput(format!("{what}: {s:?} is not an RFC 3339 time ({e})")))
}
