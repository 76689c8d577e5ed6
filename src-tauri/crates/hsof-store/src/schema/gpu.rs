//! Local GPU telemetry (hsof-gpu): one row per device every 2 s while the app runs, kept
//! for 30 days, and the devices seen, so history stays labelled after a card is removed.

use rusqlite_migration::M;

pub(super) fn steps() -> Vec<M<'static>> {
    vec![M::up(
        r#"
CREATE TABLE gpu_devices (
    uuid          TEXT PRIMARY KEY,     -- NVML UUID, GPU-...
    name          TEXT NOT NULL,
    idx           INTEGER NOT NULL,     -- NVML index when last seen
    memory_total  REAL,                 -- bytes
    first_seen    INTEGER NOT NULL,     -- unix seconds
    last_seen     INTEGER NOT NULL
);

-- Clustered by (device, time): a range of one device is one contiguous scan.
CREATE TABLE gpu_samples (
    uuid             TEXT NOT NULL,
    ts               INTEGER NOT NULL,  -- unix seconds
    utilization_pct  REAL,
    memory_util_pct  REAL,
    memory_used      REAL,              -- bytes
    memory_total     REAL,              -- bytes
    temperature_c    REAL,
    power_w          REAL,
    power_limit_w    REAL,
    sm_clock_mhz     REAL,
    memory_clock_mhz REAL,
    PRIMARY KEY (uuid, ts)
) WITHOUT ROWID;
"#,
    )]
}
