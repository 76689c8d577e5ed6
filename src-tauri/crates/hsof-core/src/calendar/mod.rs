//! The operations calendar: the runbook's recurring procedures (the built-in catalog, or
//! the team's copy in the config directory) laid out in the team time zone, each
//! occurrence a checklist whose automated steps run here and whose results are stored;
//! maintenance windows; the quality gates; the .ics export; overdue notices.

mod actions;
mod gates;
mod maintenance;

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use hsof_ops::calendar::{self as cal, Catalog, Occurrence, OccurrenceStatus, Procedure, Progress};
use hsof_store::{RunRecord, StepRecord};
use serde::Serialize;

pub use gates::GatesView;
pub use maintenance::{MaintenanceView, NewWindow};

use crate::{AppContext, Error};

/// The file name of the team's own catalog in the config directory.
pub const USER_CATALOG: &str = "procedures.toml";

pub(crate) use crate::time::ts;

/// An occurrence with what has been done for it.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct OccurrenceView {
    /// The occurrence.
    pub occurrence: Occurrence,
    /// Upcoming, due, done, partial, skipped, overdue.
    pub status: OccurrenceStatus,
    /// Steps with a result.
    pub steps_done: u32,
    /// Steps in the procedure.
    pub steps_total: u32,
}

/// The calendar for a range.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct CalendarView {
    /// IANA time zone the procedures are scheduled in.
    pub timezone: String,
    /// Occurrences in the range, by start.
    pub occurrences: Vec<OccurrenceView>,
    /// Maintenance windows overlapping the range.
    pub windows: Vec<MaintenanceView>,
    /// Post-mortems scheduled by resolved P0/P1 incidents, due in the range.
    pub reviews: Vec<ReviewView>,
    /// Open follow-up actions due in the range (and, when the range holds today, the
    /// overdue ones: they stay on the calendar until done).
    pub followups: Vec<crate::followthrough::FollowUpView>,
    /// Where the catalog came from: `built-in` or the user's file.
    pub catalog_source: String,
    /// Why the user's catalog was not used, when it was not.
    pub catalog_problem: Option<String>,
}

/// One step of an occurrence with its newest result.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct StepView {
    /// The step.
    pub step: cal::Step,
    /// Its newest result.
    pub result: Option<StepResult>,
}

/// A recorded step result.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct StepResult {
    /// When.
    pub at: String,
    /// Who.
    pub by: String,
    /// Run by the app.
    pub automated: bool,
    /// `pass`, `warn`, `fail`, `done`, `unknown`.
    pub verdict: String,
    /// What it found.
    pub output: String,
    /// Note.
    pub note: Option<String>,
    /// The cluster it was run against, when the configuration lists several.
    pub cluster: Option<String>,
}

/// A post-incident review on the calendar.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct ReviewView {
    /// The incident it reviews.
    #[specta(type = f64)]
    pub incident_id: i64,
    /// Title.
    pub title: String,
    /// Due (RFC 3339).
    pub due_at: String,
}

/// An occurrence's checklist.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct OccurrenceDetail {
    /// Occurrence, status and progress.
    pub view: OccurrenceView,
    /// The runbook section it comes from.
    pub section: String,
    /// Steps with their results.
    pub steps: Vec<StepView>,
    /// Completed at.
    pub completed_at: Option<String>,
    /// Completed by.
    pub completed_by: Option<String>,
    /// Skipped.
    pub skipped: bool,
    /// Note (why skipped, or a closing note).
    pub note: Option<String>,
}

/// A notice the calendar raises (an overdue procedure, a maintenance announcement due).
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct CalendarNotice {
    /// Title.
    pub title: String,
    /// Body.
    pub body: String,
}

fn step_result(r: &StepRecord) -> StepResult {
    StepResult {
        at: r.at.clone(),
        by: r.by.clone(),
        automated: r.automated,
        verdict: r.verdict.clone(),
        output: r.output.clone(),
        note: r.note.clone(),
        cluster: r.cluster.clone(),
    }
}

/// The occurrence's status; one that was over (end + grace) before the app's first
/// record (`since`) and has no run is untracked rather than overdue.
fn status(o: &Occurrence, prog: &Progress, has_run: bool, since: &str, now: DateTime<Utc>) -> OccurrenceStatus {
    match cal::status(o, prog, now) {
        OccurrenceStatus::Overdue if !has_run && ts(o.end + cal::grace(o.cadence)).as_str() < since => {
            OccurrenceStatus::Untracked
        }
        s => s,
    }
}

fn progress(p: &Procedure, run: Option<&RunRecord>, done: u32) -> Progress {
    Progress {
        steps_total: u32::try_from(p.steps.len()).unwrap_or(u32::MAX),
        steps_done: done,
        skipped: run.is_some_and(|r| r.skipped),
        completed: run.is_some_and(|r| r.completed_at.is_some() && !r.skipped),
    }
}

impl AppContext {
    /// The team time zone.
    pub fn team_tz(&self) -> Result<Tz, Error> {
        let tz = self.config().config.team.timezone;
        tz.parse().map_err(|_| Error::InvalidInput(format!("team.timezone {tz:?} is not an IANA time zone")))
    }

    /// The catalog in effect, where it came from, and the user file's problem if it was
    /// not usable (the built-in catalog is used then).
    pub fn catalog(&self) -> (Catalog, String, Option<String>) {
        let path = self.paths().config_file.with_file_name(USER_CATALOG);
        let user = std::fs::read_to_string(&path).ok();
        let name = path.display().to_string();
        match user.as_deref().map(|text| cal::load_catalog(Some((name.as_str(), text)))) {
            Some(Ok(c)) => (c, name, None),
            other => {
                let problem = match other {
                    Some(Err(e)) => Some(format!("{e}; using the built-in catalog")),
                    _ => None,
                };
                match cal::load_catalog(None) {
                    Ok(c) => (c, "built-in".into(), problem),
                    Err(e) => (Catalog { procedures: vec![] }, "built-in".into(), Some(e.to_string())),
                }
            }
        }
    }

    /// Occurrences starting in `[from, to)` with their status at `now`, and the windows.
    pub fn calendar(&self, from: DateTime<Utc>, to: DateTime<Utc>, now: DateTime<Utc>) -> Result<CalendarView, Error> {
        if to <= from || to - from > Duration::days(400) {
            return Err(Error::InvalidInput("the range must be positive and at most 400 days".into()));
        }
        let tz = self.team_tz()?;
        let (catalog, source, problem) = self.catalog();
        let store = self.store()?;
        let runs = store.runs_between(&ts(from - Duration::days(1)), &ts(to + Duration::days(1)))?;
        let since = store.tracking_since()?.unwrap_or_else(|| ts(now));
        let occurrences = cal::occurrences(&catalog, tz, from, to)
            .into_iter()
            .filter_map(|o| {
                let p = catalog.procedure(&o.procedure_id)?;
                let run = runs.iter().find(|(r, _)| r.occurrence_key == o.key);
                let prog = progress(p, run.map(|(r, _)| r), run.map_or(0, |(_, n)| *n));
                Some(OccurrenceView {
                    status: status(&o, &prog, run.is_some(), &since, now),
                    steps_done: prog.steps_done,
                    steps_total: prog.steps_total,
                    occurrence: o,
                })
            })
            .collect();
        let windows = self.windows()?.into_iter().filter(|w| w.window.end > from && w.window.start < to).collect();
        let (f, t) = (ts(from), ts(to));
        let reviews = store
            .reviews()?
            .into_iter()
            .filter(|r| r.due_at >= f && r.due_at < t)
            .map(|r| ReviewView { incident_id: r.incident_id, title: r.title, due_at: r.due_at })
            .collect();
        let today = self.team_today(now);
        let (first, last) = (from.with_timezone(&tz).date_naive(), to.with_timezone(&tz).date_naive());
        let followups = self
            .followups(&crate::followthrough::FollowUpFilter { open_only: true, ..Default::default() }, now)?
            .into_iter()
            .filter(|f| {
                chrono::NaiveDate::parse_from_str(&f.due, "%Y-%m-%d")
                    .is_ok_and(|d| (d >= first && d < last) || (d < today && today >= first && today < last))
            })
            .collect();
        Ok(CalendarView {
            timezone: tz.name().into(),
            occurrences,
            windows,
            reviews,
            followups,
            catalog_source: source,
            catalog_problem: problem,
        })
    }

    fn occurrence_and_procedure(&self, key: &str) -> Result<(Occurrence, Procedure), Error> {
        let (catalog, _, _) = self.catalog();
        let o = cal::occurrence_by_key(&catalog, self.team_tz()?, key)
            .ok_or_else(|| Error::NotFound(format!("no occurrence {key:?} in the procedures catalog")))?;
        let p = catalog
            .procedure(&o.procedure_id)
            .cloned()
            .ok_or_else(|| Error::NotFound(format!("no procedure {:?}", o.procedure_id)))?;
        Ok((o, p))
    }

    /// An occurrence's checklist with each step's newest result.
    pub fn occurrence(&self, key: &str, now: DateTime<Utc>) -> Result<OccurrenceDetail, Error> {
        let (o, p) = self.occurrence_and_procedure(key)?;
        let store = self.store()?;
        let results = store.step_results(key)?;
        let run = store.run(key)?;
        let done = u32::try_from(results.len()).unwrap_or(u32::MAX);
        let prog = progress(&p, run.as_ref(), done);
        let steps = p
            .steps
            .iter()
            .map(|s| StepView { step: s.clone(), result: results.iter().find(|r| r.step_id == s.id).map(step_result) })
            .collect();
        let since = store.tracking_since()?.unwrap_or_else(|| ts(now));
        let status = status(&o, &prog, run.is_some(), &since, now);
        Ok(OccurrenceDetail {
            view: OccurrenceView { status, steps_done: prog.steps_done, steps_total: prog.steps_total, occurrence: o },
            section: p.section.clone(),
            steps,
            completed_at: run.as_ref().and_then(|r| r.completed_at.clone()),
            completed_by: run.as_ref().and_then(|r| r.completed_by.clone()),
            skipped: run.as_ref().is_some_and(|r| r.skipped),
            note: run.and_then(|r| r.note),
        })
    }

    /// Ticks a manual step (or records a manual verdict for any step), with a note.
    pub fn tick_step(
        &self,
        key: &str,
        step_id: &str,
        note: &str,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<OccurrenceDetail, Error> {
        let (o, p) = self.occurrence_and_procedure(key)?;
        if !p.steps.iter().any(|s| s.id == step_id) {
            return Err(Error::NotFound(format!("procedure {} has no step {step_id:?}", p.id)));
        }
        let note = Some(note.trim()).filter(|n| !n.is_empty());
        self.store()?.record_step(&hsof_store::NewStepResult {
            occurrence_key: key,
            procedure_id: &p.id,
            starts_at: &ts(o.start),
            step_id,
            at: &ts(now),
            by: actor,
            automated: false,
            verdict: "done",
            output: note.unwrap_or("done"),
            note,
            cluster: self.record_cluster().as_deref(),
        })?;
        self.occurrence(key, now)
    }

    /// Completes an occurrence (who, when, a note); steps without a result make it partial.
    pub fn complete_occurrence(
        &self,
        key: &str,
        note: &str,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<OccurrenceDetail, Error> {
        self.finish_occurrence(key, false, note, actor, now)
    }

    /// Skips an occurrence; the reason is required.
    pub fn skip_occurrence(
        &self,
        key: &str,
        reason: &str,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<OccurrenceDetail, Error> {
        if reason.trim().is_empty() {
            return Err(Error::InvalidInput("say why the procedure is skipped".into()));
        }
        self.finish_occurrence(key, true, reason, actor, now)
    }

    fn finish_occurrence(
        &self,
        key: &str,
        skipped: bool,
        note: &str,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<OccurrenceDetail, Error> {
        let (o, p) = self.occurrence_and_procedure(key)?;
        self.store()?.finish_run(&RunRecord {
            occurrence_key: key.into(),
            procedure_id: p.id.clone(),
            starts_at: ts(o.start),
            completed_at: Some(ts(now)),
            completed_by: Some(actor.into()),
            skipped,
            note: Some(note.trim().to_string()).filter(|n| !n.is_empty()),
        })?;
        self.record_event(
            now,
            if skipped { "procedure.skip" } else { "procedure.complete" },
            &format!("{} {key}", p.title),
        );
        self.occurrence(key, now)
    }

    /// The .ics of every procedure and maintenance window, stamped (DTSTAMP) `now`.
    pub fn calendar_ics(&self, now: DateTime<Utc>) -> Result<String, Error> {
        let (catalog, _, _) = self.catalog();
        let windows: Vec<cal::MaintenanceWindow> =
            self.windows()?.into_iter().filter(|w| w.cancelled_at.is_none()).map(|w| w.window).collect();
        Ok(cal::export_ics(&catalog, self.team_tz()?, &windows, now))
    }

    /// The calendar clock (run by the poller): overdue occurrences of the last 7 days and
    /// maintenance announcements that are due, each noticed once.
    pub fn calendar_tick(&self, now: DateTime<Utc>) -> Result<Vec<CalendarNotice>, Error> {
        let view = self.calendar(now - Duration::days(7), now, now)?;
        let store = self.store()?;
        let mut out = Vec::new();
        for o in view.occurrences.iter().filter(|o| o.status == OccurrenceStatus::Overdue) {
            if store.mark_notice(&format!("overdue:{}", o.occurrence.key), &ts(now))? {
                out.push(CalendarNotice {
                    title: format!("Overdue: {}", o.occurrence.title),
                    body: format!(
                        "{} of {} steps done; it was due {}",
                        o.steps_done,
                        o.steps_total,
                        o.occurrence.start.with_timezone(&self.team_tz()?).format("%a %d %b %H:%M")
                    ),
                });
            }
        }
        out.extend(self.maintenance_notices(now)?);
        Ok(out)
    }

    /// How many occurrences are overdue now (the sidebar badge).
    pub fn overdue_count(&self, now: DateTime<Utc>) -> Result<u32, Error> {
        let view = self.calendar(now - Duration::days(7), now, now)?;
        Ok(u32::try_from(view.occurrences.iter().filter(|o| o.status == OccurrenceStatus::Overdue).count())
            .unwrap_or(0))
    }
}

/// Writes `text` to `path` through a temporary file and a rename, so a subscriber never
/// reads half a calendar. The path is the user's choice, so the file gets the user's umask
/// even in a process that keeps its own files private.
pub fn write_atomically(path: &std::path::Path, text: &str) -> Result<(), Error> {
    crate::private::write_user_file(path, text.as_bytes())
        .map_err(|e| Error::InvalidInput(format!("{}: {e}", path.display())))
}

impl AppContext {
    /// The occurrence of `procedure` on `date` (`YYYY-MM-DD` in the team time zone, or any
    /// time `parse_when` takes), or without a date the latest one that has started (else the next).
    pub fn find_occurrence(&self, procedure: &str, date: Option<&str>, now: DateTime<Utc>) -> Result<String, Error> {
        let tz = self.team_tz()?;
        let (catalog, _, _) = self.catalog();
        let p = catalog
            .procedure(procedure)
            .ok_or_else(|| {
                let ids: Vec<&str> = catalog.procedures.iter().map(|p| p.id.as_str()).collect();
                Error::NotFound(format!("no procedure {procedure:?}; the catalog has: {}", ids.join(", ")))
            })?
            .id
            .clone();
        let window = match date {
            Some(d) => {
                let start = if let Ok(day) = chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d") {
                    day.and_hms_opt(0, 0, 0)
                        .and_then(|t| t.and_local_timezone(tz).earliest())
                        .map(|t| t.with_timezone(&Utc))
                        .ok_or_else(|| Error::InvalidInput(format!("{d}: no such local day")))?
                } else {
                    crate::time::parse_when(d, "occurrence", now, tz, crate::time::Bound::Start)?
                };
                (start, start + Duration::days(1))
            }
            None => (now - Duration::days(400), now + Duration::days(400)),
        };
        let all: Vec<Occurrence> =
            cal::occurrences(&catalog, tz, window.0, window.1).into_iter().filter(|o| o.procedure_id == p).collect();
        let pick = match date {
            Some(_) => all.first(),
            None => all.iter().rev().find(|o| o.start <= now).or_else(|| all.iter().find(|o| o.start > now)),
        };
        pick.map(|o| o.key.clone()).ok_or_else(|| {
            Error::NotFound(format!(
                "procedure {p} has no occurrence {}",
                date.map_or("near now".into(), |d| format!("on {d}"))
            ))
        })
    }
}
