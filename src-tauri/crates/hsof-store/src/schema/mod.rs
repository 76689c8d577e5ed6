//! Versioned schema. Each domain owns one module with its migration steps; the order of
//! [`steps`] is the order of `PRAGMA user_version`, so steps are only ever appended.

mod calendar;
mod core;
mod dr;
mod experiments;
mod gpu;
mod incidents;
mod monitor;
mod security;
mod team;

use rusqlite_migration::{Migrations, M};

fn steps() -> Vec<M<'static>> {
    let mut all = Vec::new();
    all.extend(core::steps());
    all.extend(monitor::steps());
    all.extend(incidents::steps());
    all.extend(experiments::steps());
    all.extend(calendar::steps());
    all.extend(gpu::steps());
    all.extend(incidents::lease_steps());
    all.extend(core::intent_steps());
    all.extend(experiments::owner_steps());
    all.extend(incidents::drill_steps());
    all.extend(team::steps());
    all.extend(team::calendar_steps());
    all.extend(experiments::cluster_steps());
    all.extend(monitor::cluster_steps());
    all.extend(dr::steps());
    all.extend(monitor::record_cluster_steps());
    all.extend(security::steps());
    all.extend(incidents::stakeholder_steps());
    all
}

/// The migration set applied by [`crate::Store::open`].
pub fn migrations() -> Migrations<'static> {
    Migrations::new(steps())
}

/// Schema version after every migration this build knows.
pub fn latest_version() -> u32 {
    u32::try_from(steps().len()).unwrap_or(u32::MAX)
}
