//! The operations calendar: every recurring procedure of the runbook ("Daily/Weekly/
//! Monthly/Quarterly Operations", the communication rhythm and the testing schedule) as
//! data, its occurrences in the team's time zone, the status of each occurrence, the
//! `.ics` export, maintenance windows with their 48-hour notice, and the quality gates.
//!
//! Pure: time is always an argument, and the team time zone is passed in by the caller.

pub mod catalog;
pub mod gates;
pub mod ics;
pub mod maintenance;
pub mod recurrence;
mod rule;
pub mod status;
mod vtimezone;

pub use catalog::{
    load_catalog, parse_catalog, Action, Cadence, Catalog, CatalogError, GateSet, Procedure, Step, BUILTIN_CATALOG,
    COST_PARTS, DR_PARTS, JOBS,
};
pub use gates::{
    deployment_gates, overall, production_gates, DeploymentEvidence, GateResult, JobEvidence, ProductionEvidence,
    Verdict, JOB_MAX_AGE, RESTORE_TEST_MAX_AGE,
};
pub use ics::{export_ics, MaintenanceWindow};
pub use maintenance::{announcement, check_window, MaintenanceError, WindowCheck, MAX_WINDOW, NOTICE};
pub use recurrence::{occurrence_by_key, occurrences, Occurrence};
pub use status::{grace, status, OccurrenceStatus, Progress};
