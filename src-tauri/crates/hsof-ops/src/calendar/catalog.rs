//! The procedures catalog: every recurring procedure of the runbook with its checklist,
//! kept as TOML (`procedures.toml`, built in; a user copy in the config dir replaces it).

use std::collections::HashSet;
use std::fmt;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::rule;

/// The built-in catalog, `src-tauri/crates/hsof-ops/procedures.toml`.
pub const BUILTIN_CATALOG: &str = include_str!("../../procedures.toml");

/// The job manifests an automated step may apply (`deployment/.../<job>.yaml`), as the
/// runbook names them.
pub const JOBS: [&str; 4] = ["vulnerability-scan", "backup-restore-test", "integration-tests", "load-tests"];

/// Every recurring procedure, in catalog order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct Catalog {
    /// The procedures (`[[procedures]]` in the TOML).
    pub procedures: Vec<Procedure>,
}

impl Catalog {
    /// The procedure with this id.
    pub fn procedure(&self, id: &str) -> Option<&Procedure> {
        self.procedures.iter().find(|p| p.id == id)
    }
}

/// One recurring procedure and its checklist.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct Procedure {
    /// Stable id (`morning-health-check`): lowercase letters, digits and `-`.
    pub id: String,
    /// What the calendar shows.
    pub title: String,
    /// How often, which also sets the grace period before an occurrence is overdue.
    pub cadence: Cadence,
    /// RFC 5545 RRULE body, e.g. `FREQ=MONTHLY;BYDAY=1MO`.
    pub rrule: String,
    /// DTSTART in team-local time, `2026-01-05T09:00`; must itself be an occurrence of the rule.
    pub start: String,
    /// How long one occurrence is planned to take.
    pub duration_minutes: u32,
    /// The runbook heading it comes from.
    pub section: String,
    /// The checklist, in order.
    pub steps: Vec<Step>,
}

/// How often a procedure recurs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum Cadence {
    /// Every day (or every working day).
    Daily,
    /// Every week.
    Weekly,
    /// Every month.
    Monthly,
    /// Every quarter.
    Quarterly,
}

impl fmt::Display for Cadence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Daily => "daily",
            Self::Weekly => "weekly",
            Self::Monthly => "monthly",
            Self::Quarterly => "quarterly",
        })
    }
}

/// One checklist item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct Step {
    /// Unique within its procedure.
    pub id: String,
    /// What to do, as the runbook says it.
    pub text: String,
    /// The runbook's commands shown with the step.
    #[serde(default)]
    pub commands: Vec<String>,
    /// What the app runs for an automated step; `None` for a manual step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<Action>,
}

/// What the app runs for an automated step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Action {
    /// `kubectl get pods -n hsof`.
    PodStatus,
    /// `curl https://hsof.company.com/health` (and `/health/gpu`, `/health/pipeline`).
    HealthEndpoints,
    /// Alerts fired or active in AlertManager (overnight alerts, critical alerts).
    AlertReview,
    /// The key metrics against the runbook's targets (GPU utilisation, error rate, latency, throughput).
    KeyMetrics,
    /// `kubectl top pods` / `kubectl top nodes`.
    Top,
    /// `kubectl logs cronjob/hsof-backup`: did the last backup complete?
    BackupStatus,
    /// The container images running in the namespace.
    ImagesInPods,
    /// `df -h` inside the main deployment's pod.
    DfInPod,
    /// SLO dashboard: SLIs and error budget consumption.
    SloReview,
    /// The alerting thresholds against current values.
    ThresholdReview,
    /// Apply a test or scan job and follow its logs.
    RunJob {
        /// One of [`JOBS`].
        job: String,
    },
    /// The DR drill (restore test, failover and fail-back with RTO and RPO, communication
    /// and escalation checks); one drill records every part it covers.
    DrDrill {
        /// The part this step is: `failover`, `recovery`, `communication`, `contacts` or `escalation`.
        part: String,
    },
    /// The security review (RBAC, service accounts, network policies, backup security,
    /// vulnerabilities; the monthly audit completeness); one review answers every part of an
    /// occurrence.
    SecurityReview {
        /// The part this step is: one of [`SECURITY_PARTS`].
        part: String,
    },
    /// Friday maintenance / technology updates: `versions` (Kubernetes versions, skew, end
    /// of support, removed APIs), `patches` (fixable vulnerabilities), `leftovers` (unused
    /// resources; nothing is deleted by a step), `images` (running images against their
    /// registries).
    Upkeep {
        /// One of [`UPKEEP_PARTS`].
        part: String,
    },
    /// Cost and capacity (`hsofctl cost`, `hsofctl capacity`): `spend` (month to date and
    /// the projection against the budget), `per-dataset`, `idle-gpu`, `rightsizing`,
    /// `autoscaling`, `growth` (weekly trend and when today's GPUs run out), `patterns`
    /// (latency and throughput by hour and weekday), `regressions` (against a baseline).
    Cost {
        /// One of [`COST_PARTS`].
        part: String,
    },
    /// Incidents carried through: `day-review` (incidents, alerts that fired and SLO burn of
    /// the last 24 h), `maintenance` (maintenance windows ahead, deployments of the day),
    /// `on-call` (tonight covered, by whom), `planned` (today's procedures, windows,
    /// post-mortems and follow-ups), `known-issues` (open incidents, active alerts, overdue
    /// follow-ups), `follow-ups` (the open follow-up actions), `summary` (the month's
    /// post-mortems), `lessons` (the year's lessons), `channel` (the incident channel's
    /// messages of the day, posted or not), `week-ahead` (the week's procedures, windows,
    /// follow-ups and on-call), `weekend` (the weekend's maintenance windows, their notice
    /// and who is on call), `runbook-inputs` (the week's lessons and follow-ups),
    /// `response-review` (response times against targets), `process` / `process-week` (the
    /// month's or the week's procedures and follow-ups done on time, response times).
    Incidents {
        /// One of [`INCIDENT_PARTS`].
        part: String,
    },
    /// Evaluate a set of quality gates.
    EvaluateGates {
        /// Which set.
        gates: GateSet,
    },
}

/// The parts of the DR drill a step can stand for.
pub const DR_PARTS: [&str; 5] = ["failover", "recovery", "communication", "contacts", "escalation"];

/// The parts of the security review a step can stand for: the review's areas, `findings`
/// (the findings and what changed since the last review) and `audit-logs` (the audit
/// chain, its anchor and the app's changes matched to audit rows).
pub const SECURITY_PARTS: [&str; 9] = [
    "rbac",
    "service-accounts",
    "network-policies",
    "backup-encryption",
    "backup-access",
    "backup-retention",
    "vulnerabilities",
    "findings",
    "audit-logs",
];

/// The parts of the upkeep checks a step can stand for.
pub const UPKEEP_PARTS: [&str; 4] = ["versions", "patches", "leftovers", "images"];

/// The parts of cost and capacity a step can stand for.
pub const COST_PARTS: [&str; 8] =
    ["spend", "per-dataset", "idle-gpu", "rightsizing", "autoscaling", "growth", "patterns", "regressions"];

/// The parts of the incident follow-through a step can stand for.
pub const INCIDENT_PARTS: [&str; 15] = [
    "day-review",
    "maintenance",
    "on-call",
    "planned",
    "known-issues",
    "follow-ups",
    "summary",
    "lessons",
    "channel",
    "week-ahead",
    "weekend",
    "runbook-inputs",
    "response-review",
    "process",
    "process-week",
];

/// The runbook's two sets of quality gates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum GateSet {
    /// Before a deployment: health, integration tests, benchmarks, security scans.
    Deployment,
    /// In production: error rate, SLA, critical alerts, backups.
    Production,
}

/// A catalog that fails validation, naming the file, the procedure and the field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct CatalogError {
    /// The catalog file (`procedures.toml` or the user copy's path).
    pub file: String,
    /// The procedure's id (or `#3` when it has none), if the problem is inside one.
    pub procedure: Option<String>,
    /// The field, e.g. `rrule` or `steps[2].action`.
    pub field: Option<String>,
    /// What is wrong and what would be right.
    pub reason: String,
}

impl fmt::Display for CatalogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.file)?;
        match (&self.procedure, &self.field) {
            (Some(p), Some(field)) => write!(f, "procedure `{p}`, field `{field}`: ")?,
            (Some(p), None) => write!(f, "procedure `{p}`: ")?,
            (None, Some(field)) => write!(f, "field `{field}`: ")?,
            (None, None) => {}
        }
        f.write_str(&self.reason)
    }
}

impl std::error::Error for CatalogError {}

/// Builds errors for one file and, optionally, one procedure.
struct Context<'a> {
    file: &'a str,
    procedure: Option<String>,
}

impl Context<'_> {
    fn error(&self, field: Option<&str>, reason: impl Into<String>) -> CatalogError {
        CatalogError {
            file: self.file.to_owned(),
            procedure: self.procedure.clone(),
            field: field.map(str::to_owned),
            reason: reason.into(),
        }
    }

    /// Takes `name` out of `table` and deserialises it; `None` when absent.
    fn take<T: DeserializeOwned>(
        &self,
        table: &mut toml::Table,
        name: &str,
        prefix: &str,
    ) -> Result<Option<T>, CatalogError> {
        let Some(value) = table.remove(name) else { return Ok(None) };
        let field = format!("{prefix}{name}");
        value.try_into::<T>().map(Some).map_err(|e| self.error(Some(&field), e.message().trim().to_owned()))
    }

    fn require<T: DeserializeOwned>(
        &self,
        table: &mut toml::Table,
        name: &str,
        prefix: &str,
    ) -> Result<T, CatalogError> {
        self.take(table, name, prefix)?.ok_or_else(|| self.error(Some(&format!("{prefix}{name}")), "missing"))
    }

    /// Rejects fields the catalog does not know (typos would otherwise be silently ignored).
    fn no_unknown_fields(&self, table: &toml::Table, prefix: &str) -> Result<(), CatalogError> {
        match table.keys().next() {
            Some(key) => Err(self.error(Some(&format!("{prefix}{key}")), "unknown field")),
            None => Ok(()),
        }
    }
}

/// Parses and validates a catalog; `file` names it in errors.
///
/// Checks: unique procedure ids and step ids within a procedure, ids made of lowercase
/// letters, digits and `-`, non-empty titles and steps, a known cadence that fits the
/// rule's frequency, an RRULE the `rrule` crate accepts whose DTSTART is itself an
/// occurrence, known actions and job names, a duration above zero.
pub fn parse_catalog(file: &str, text: &str) -> Result<Catalog, CatalogError> {
    let top = Context { file, procedure: None };
    let mut root: toml::Table = text.parse().map_err(|e: toml::de::Error| top.error(None, e.to_string().trim()))?;
    let raw: Vec<toml::Table> = top.require(&mut root, "procedures", "")?;
    top.no_unknown_fields(&root, "")?;
    if raw.is_empty() {
        return Err(top.error(Some("procedures"), "the catalog holds no procedure"));
    }
    let mut seen = HashSet::new();
    let mut procedures = Vec::with_capacity(raw.len());
    for (index, table) in raw.into_iter().enumerate() {
        let procedure = parse_procedure(file, index, table)?;
        if !seen.insert(procedure.id.clone()) {
            let ctx = Context { file, procedure: Some(procedure.id.clone()) };
            return Err(ctx.error(Some("id"), "duplicate procedure id; each procedure needs its own"));
        }
        procedures.push(procedure);
    }
    Ok(Catalog { procedures })
}

fn parse_procedure(file: &str, index: usize, mut table: toml::Table) -> Result<Procedure, CatalogError> {
    let mut ctx = Context { file, procedure: Some(format!("#{}", index + 1)) };
    let id: String = ctx.require(&mut table, "id", "")?;
    check_id(&id).map_err(|reason| ctx.error(Some("id"), reason))?;
    ctx.procedure = Some(id.clone());

    let title: String = ctx.require(&mut table, "title", "")?;
    if title.trim().is_empty() {
        return Err(ctx.error(Some("title"), "empty; give the procedure a title"));
    }
    let cadence: Cadence = ctx.require(&mut table, "cadence", "")?;
    let rrule: String = ctx.require(&mut table, "rrule", "")?;
    let start: String = ctx.require(&mut table, "start", "")?;
    let duration_minutes: u32 = ctx.require(&mut table, "duration_minutes", "")?;
    if duration_minutes == 0 {
        return Err(ctx.error(Some("duration_minutes"), "must be above zero"));
    }
    let section: String = ctx.take(&mut table, "section", "")?.unwrap_or_default();
    let raw_steps: Vec<toml::Table> = ctx.require(&mut table, "steps", "")?;
    ctx.no_unknown_fields(&table, "")?;

    let start_time = rule::parse_start(&start).map_err(|reason| ctx.error(Some("start"), reason))?;
    let checked = rule::check(&rrule, start_time).map_err(|e| ctx.error(Some(e.field), e.reason))?;
    if !cadence_fits(cadence, checked.freq) {
        return Err(ctx.error(
            Some("cadence"),
            format!("`{cadence}` does not fit the rule's FREQ={}", checked.freq.to_string().to_uppercase()),
        ));
    }

    if raw_steps.is_empty() {
        return Err(ctx.error(Some("steps"), "a procedure needs at least one step"));
    }
    let mut seen = HashSet::new();
    let mut steps = Vec::with_capacity(raw_steps.len());
    for (i, raw) in raw_steps.into_iter().enumerate() {
        let step = parse_step(&ctx, i, raw)?;
        if !seen.insert(step.id.clone()) {
            return Err(ctx.error(Some(&format!("steps[{i}].id")), format!("duplicate step id `{}`", step.id)));
        }
        steps.push(step);
    }
    Ok(Procedure { id, title, cadence, rrule, start, duration_minutes, section, steps })
}

fn parse_step(ctx: &Context<'_>, index: usize, mut table: toml::Table) -> Result<Step, CatalogError> {
    let prefix = format!("steps[{index}].");
    let id: String = ctx.require(&mut table, "id", &prefix)?;
    check_id(&id).map_err(|reason| ctx.error(Some(&format!("{prefix}id")), reason))?;
    let text: String = ctx.require(&mut table, "text", &prefix)?;
    if text.trim().is_empty() {
        return Err(ctx.error(Some(&format!("{prefix}text")), format!("step `{id}` has no text")));
    }
    let commands: Vec<String> = ctx.take(&mut table, "commands", &prefix)?.unwrap_or_default();
    let action: Option<Action> = ctx.take(&mut table, "action", &prefix)?;
    ctx.no_unknown_fields(&table, &prefix)?;
    if let Some(Action::RunJob { job }) = &action {
        if !JOBS.contains(&job.as_str()) {
            return Err(ctx.error(
                Some(&format!("{prefix}action.job")),
                format!("unknown job `{job}`; expected one of {}", JOBS.join(", ")),
            ));
        }
    }
    if let Some(Action::DrDrill { part }) = &action {
        if !DR_PARTS.contains(&part.as_str()) {
            return Err(ctx.error(
                Some(&format!("{prefix}action.part")),
                format!("unknown DR drill part `{part}`; expected one of {}", DR_PARTS.join(", ")),
            ));
        }
    }
    if let Some(Action::Upkeep { part }) = &action {
        if !UPKEEP_PARTS.contains(&part.as_str()) {
            return Err(ctx.error(
                Some(&format!("{prefix}action.part")),
                format!("unknown upkeep part `{part}`; expected one of {}", UPKEEP_PARTS.join(", ")),
            ));
        }
    }
    if let Some(Action::Cost { part }) = &action {
        if !COST_PARTS.contains(&part.as_str()) {
            return Err(ctx.error(
                Some(&format!("{prefix}action.part")),
                format!("unknown cost part `{part}`; expected one of {}", COST_PARTS.join(", ")),
            ));
        }
    }
    if let Some(Action::Incidents { part }) = &action {
        if !INCIDENT_PARTS.contains(&part.as_str()) {
            return Err(ctx.error(
                Some(&format!("{prefix}action.part")),
                format!("unknown incident part `{part}`; expected one of {}", INCIDENT_PARTS.join(", ")),
            ));
        }
    }
    if let Some(Action::SecurityReview { part }) = &action {
        if !SECURITY_PARTS.contains(&part.as_str()) {
            return Err(ctx.error(
                Some(&format!("{prefix}action.part")),
                format!("unknown security review part `{part}`; expected one of {}", SECURITY_PARTS.join(", ")),
            ));
        }
    }
    Ok(Step { id, text, commands, action })
}

/// Ids end up in occurrence keys (`<id>@<time>`) and `.ics` UIDs, so keep them plain.
fn check_id(id: &str) -> Result<(), String> {
    let plain = id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if id.is_empty() || !plain || id.starts_with('-') {
        return Err(format!("`{id}` is not a valid id: use lowercase letters, digits and `-`"));
    }
    Ok(())
}

/// Daily procedures may run on working days only (`FREQ=WEEKLY;BYDAY=MO,...`); quarterly
/// ones are written either as every third month or as four months of a year.
fn cadence_fits(cadence: Cadence, freq: rrule::Frequency) -> bool {
    use rrule::Frequency as F;
    match cadence {
        Cadence::Daily => matches!(freq, F::Daily | F::Weekly),
        Cadence::Weekly => freq == F::Weekly,
        Cadence::Monthly => freq == F::Monthly,
        Cadence::Quarterly => matches!(freq, F::Monthly | F::Yearly),
    }
}

/// The built-in catalog, replaced by the user's copy when `user` is `Some((path, text))`.
///
/// A user copy that fails validation is an error naming that file; the caller decides
/// whether to fall back to the built-in one.
pub fn load_catalog(user: Option<(&str, &str)>) -> Result<Catalog, CatalogError> {
    match user {
        Some((path, text)) => parse_catalog(path, text),
        None => parse_catalog("procedures.toml", BUILTIN_CATALOG),
    }
}
