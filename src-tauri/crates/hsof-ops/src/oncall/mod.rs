//! The on-call rotation: who hands over to whom and when (an RFC 5545 rule in the team's
//! time zone, holidays optionally skipped), overrides on top, the resulting coverage of a
//! period with its gaps named, tonight's window, and the `.ics` of the shifts.
//!
//! Pure: time is always an argument, and the team's time zone and holidays are passed in
//! by the caller.

mod error;
mod ics;
mod local;
mod rotation;
mod shifts;
#[cfg(test)]
mod tests;

pub use error::OnCallError;
pub use ics::ics;
pub use local::{describe_gaps, night};
pub use rotation::Rotation;
pub use shifts::{coverage, next_after, on_call_at, Coverage, Gap, Override, Shift, ShiftSource, MAX_OVERRIDE};
