//! The runbook's steps that read incidents, alerts, the on-call rotation and follow-ups:
//! the evening review (*review any incidents or degradations*, *check scheduled
//! maintenance*, *verify the on-call rotation*), the standup (*planned activities*,
//! *known issues*), the weekly meeting's *issue review*, the monthly *incident summary*
//! and the annual *lessons learned*. Each records its evidence and a verdict; what could
//! not be read makes the verdict unknown and says so, never "nothing found".

use chrono::{DateTime, Duration, Utc};
use hsof_ops::incidents::followups::Due;

use super::FollowUpFilter;
use crate::incidents::IncidentFilter;
use crate::{AppContext, Error};

fn worst(a: &'static str, b: &'static str) -> &'static str {
    let rank = |v: &str| match v {
        "fail" => 3,
        "unknown" => 2,
        "warn" => 1,
        _ => 0,
    };
    if rank(b) > rank(a) {
        b
    } else {
        a
    }
}

impl AppContext {
    fn local_time(&self, t: DateTime<Utc>) -> String {
        let tz = self.team_tz().unwrap_or(chrono_tz::UTC);
        t.with_timezone(&tz).format("%a %Y-%m-%d %H:%M").to_string()
    }

    /// The maintenance windows not cancelled, counted, one line each in team time.
    fn window_lines(&self, windows: &[crate::calendar::MaintenanceView]) -> String {
        let live: Vec<_> = windows.iter().filter(|w| w.cancelled_at.is_none()).collect();
        let mut out = format!("Maintenance windows: {}\n", live.len());
        for w in live {
            out.push_str(&format!(
                "  {} → {}: {}\n",
                self.local_time(w.window.start),
                self.local_time(w.window.end),
                w.window.title
            ));
        }
        out
    }

    /// One part of the incident follow-through for a calendar step.
    pub(crate) async fn followthrough_step(
        &self,
        part: &str,
        now: DateTime<Utc>,
    ) -> Result<(&'static str, String), Error> {
        match part {
            "day-review" => self.day_review(now).await,
            "maintenance" => self.maintenance_review(now).await,
            "on-call" => self.oncall_step(now),
            "planned" => self.planned_today(now),
            "known-issues" => self.known_issues(now).await,
            "follow-ups" => self.followup_review(now),
            "summary" => self.incident_summary_step(now - Duration::days(31), now, false).await,
            "channel" => self.channel_step(now),
            "week-ahead" => self.week_ahead(now),
            "weekend" => self.weekend_maintenance(now),
            "runbook-inputs" => self.runbook_inputs(now).await,
            "response-review" => self.response_review(now - Duration::days(92), now),
            "process" => self.process_review(now - Duration::days(31), now),
            "process-week" => self.process_review(now - Duration::days(7), now),
            "lessons" => self.incident_summary_step(now - Duration::days(365), now, true).await,
            other => Err(Error::InvalidInput(format!("unknown incident part {other:?}"))),
        }
    }

    async fn day_review(&self, now: DateTime<Utc>) -> Result<(&'static str, String), Error> {
        let from = now - Duration::hours(24);
        let mut verdict = "pass";
        let mut out = String::new();
        let incidents: Vec<_> = self
            .incidents(&IncidentFilter::default(), now)?
            .into_iter()
            .filter(|v| v.incident.drill.is_none())
            .filter(|v| v.incident.declared_at >= from || v.incident.resolved_at.is_none_or(|r| r >= from))
            .collect();
        out.push_str(&format!("Incidents of the last 24 h: {}\n", incidents.len()));
        for v in &incidents {
            let i = &v.incident;
            let state = if i.is_resolved() { "resolved" } else { "OPEN" };
            out.push_str(&format!(
                "  {} {} {} — {} (declared {})\n",
                i.reference(),
                i.severity,
                state,
                i.title,
                self.local_time(i.declared_at)
            ));
            let sev_high = matches!(i.severity, hsof_ops::incidents::Severity::P0 | hsof_ops::incidents::Severity::P1);
            verdict = worst(verdict, if !i.is_resolved() && sev_high { "fail" } else { "warn" });
        }
        match self.alert_entries(from, now).await {
            Ok(entries) => {
                let fired: Vec<_> = entries.iter().filter(|e| !e.text.ends_with("resolved")).collect();
                out.push_str(&format!("Alerts that fired (Prometheus ALERTS): {}\n", fired.len()));
                for e in fired.iter().take(20) {
                    out.push_str(&format!("  {} {}\n", self.local_time(e.at), e.text));
                }
                if !fired.is_empty() {
                    verdict = worst(verdict, "warn");
                }
            }
            Err(e) => {
                out.push_str(&format!("Alerts: not read ({e})\n"));
                verdict = worst(verdict, "unknown");
            }
        }
        let windows = self.slo_windows(from, now).await;
        out.push_str("SLO burn and degradations (last 24 h):\n");
        for w in &windows {
            match (&w.error, w.minutes_over) {
                (_, Some(m)) => {
                    let budget = match (w.bad_in_window, w.total_in_slo_window) {
                        (Some(b), Some(t)) if t > 0.0 => {
                            format!(", {:.1} % of the error budget", 100.0 * b / ((1.0 - w.objective) * t))
                        }
                        _ => String::new(),
                    };
                    out.push_str(&format!("  {}: {m:.0} min over its objective{budget}\n", w.title));
                    if m > 0.0 {
                        verdict = worst(verdict, "warn");
                    }
                }
                (Some(e), None) => {
                    out.push_str(&format!("  {}: not read ({e})\n", w.title));
                    verdict = worst(verdict, "unknown");
                }
                (None, None) => out.push_str(&format!("  {}: no data\n", w.title)),
            }
        }
        Ok((verdict, out))
    }

    async fn maintenance_review(&self, now: DateTime<Utc>) -> Result<(&'static str, String), Error> {
        let horizon = now + Duration::days(7);
        let mut out = String::new();
        let windows: Vec<_> = self
            .windows()?
            .into_iter()
            .filter(|w| w.cancelled_at.is_none() && w.window.end > now && w.window.start < horizon)
            .collect();
        out.push_str(&format!("Maintenance windows in the next 7 days: {}\n", windows.len()));
        let mut verdict = "pass";
        for w in &windows {
            let notice = if w.notice_ok { "" } else { " — announced later than the notice period" };
            out.push_str(&format!(
                "  {} → {}: {} (impact: {}){notice}\n",
                self.local_time(w.window.start),
                self.local_time(w.window.end),
                w.window.title,
                w.impact
            ));
            if !w.notice_ok {
                verdict = "warn";
            }
        }
        let deployment = self.config().config.cluster.deployment;
        match self.cluster().await {
            Ok(c) => match c.history(&deployment).await {
                Ok(revs) => {
                    let recent: Vec<_> = revs
                        .iter()
                        .filter(|r| {
                            r.created
                                .as_deref()
                                .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                                .is_some_and(|t| t.with_timezone(&Utc) > now - Duration::hours(24))
                        })
                        .collect();
                    out.push_str(&format!(
                        "Deployments of deployment/{deployment} in the last 24 h: {}\n",
                        recent.len()
                    ));
                    for r in recent {
                        out.push_str(&format!("  revision {} {}\n", r.revision, r.images.join(", ")));
                    }
                }
                Err(e) => {
                    out.push_str(&format!("Deployments: not read ({e})\n"));
                    verdict = worst(verdict, "unknown");
                }
            },
            Err(e) => {
                out.push_str(&format!("Deployments: not read ({e})\n"));
                verdict = worst(verdict, "unknown");
            }
        }
        Ok((verdict, out))
    }

    fn oncall_step(&self, now: DateTime<Utc>) -> Result<(&'static str, String), Error> {
        let v = self.oncall(now)?;
        let (a, b) = v.tonight;
        let mut out = format!("Tonight: {} → {} ({})\n", self.local_time(a), self.local_time(b), v.timezone);
        for s in &v.tonight_shifts {
            let why = match &s.source {
                hsof_ops::oncall::ShiftSource::Override { reason, .. } => format!(" (override: {reason})"),
                hsof_ops::oncall::ShiftSource::Rotation => String::new(),
            };
            let contact = v.members.iter().find(|m| m.name == s.who).and_then(|m| m.contact.clone());
            out.push_str(&format!(
                "  {} → {}: {}{why}{}\n",
                self.local_time(s.start),
                self.local_time(s.end),
                s.who,
                contact.map(|c| format!(" — {c}")).unwrap_or_default()
            ));
        }
        for p in &v.problems {
            out.push_str(&format!("  problem: {p}\n"));
        }
        if v.tonight_gaps.is_empty() {
            let who: Vec<&str> = v.tonight_shifts.iter().map(|s| s.who.as_str()).collect();
            out.insert_str(0, &format!("Tonight is covered by {}.\n", who.join(", then ")));
            Ok(("pass", out))
        } else {
            out.insert_str(0, "Tonight is NOT fully covered:\n");
            for g in &v.tonight_gaps {
                out.push_str(&format!("  gap {g}\n"));
            }
            Ok(("fail", out))
        }
    }

    fn planned_today(&self, now: DateTime<Utc>) -> Result<(&'static str, String), Error> {
        let tz = self.team_tz()?;
        let day = now.with_timezone(&tz).date_naive();
        let start = crate::time::local_midnight(tz, day);
        let end = crate::time::local_midnight(tz, day + Duration::days(1));
        let cal = self.calendar(start, end, now)?;
        let mut out = format!("Planned for {day} ({}):\n", tz.name());
        out.push_str(&format!("Procedures: {}\n", cal.occurrences.len()));
        for o in &cal.occurrences {
            out.push_str(
                &format!("  {} {} ({:?})\n", self.local_time(o.occurrence.start), o.occurrence.title, o.status)
                    .to_lowercase(),
            );
        }
        out.push_str(&self.window_lines(&cal.windows));
        out.push_str(&format!("Post-mortems due: {}\n", cal.reviews.len()));
        for r in &cal.reviews {
            out.push_str(&format!("  {} (#{})\n", r.title, r.incident_id));
        }
        let due: Vec<_> = self
            .followups(&FollowUpFilter { open_only: true, ..Default::default() }, now)?
            .into_iter()
            .filter(|f| f.due_state == Due::Today)
            .collect();
        out.push_str(&format!("Follow-ups due today: {}\n", due.len()));
        for f in &due {
            out.push_str(&format!("  {} — {} ({})\n", f.name, f.title, f.owner));
        }
        let oc = self.oncall(now)?;
        if let Some(s) = &oc.now {
            out.push_str(&format!("On call now: {} until {}\n", s.who, self.local_time(s.end)));
        }
        Ok(("pass", out))
    }

    async fn known_issues(&self, now: DateTime<Utc>) -> Result<(&'static str, String), Error> {
        let mut verdict = "pass";
        let open = self.incidents(&IncidentFilter { open_only: true, ..Default::default() }, now)?;
        let open: Vec<_> = open.into_iter().filter(|v| v.incident.drill.is_none()).collect();
        let mut out = format!("Open incidents: {}\n", open.len());
        for v in &open {
            let i = &v.incident;
            out.push_str(&format!(
                "  {} {} — {} (since {})\n",
                i.reference(),
                i.severity,
                i.title,
                self.local_time(i.declared_at)
            ));
            verdict = "warn";
        }
        match self.alerts(now).await {
            Ok(a) => {
                let n: usize = a.groups.iter().map(|g| g.alerts.len()).sum();
                out.push_str(&format!("Active alerts (AlertManager): {n}\n"));
                for g in &a.groups {
                    for al in &g.alerts {
                        out.push_str(&format!("  {} ({})\n", al.name(), al.severity()));
                    }
                }
                if a.active_count("critical") > 0 {
                    verdict = worst(verdict, "fail");
                } else if n > 0 {
                    verdict = worst(verdict, "warn");
                }
            }
            Err(e) => {
                out.push_str(&format!("Active alerts: not read ({e})\n"));
                verdict = worst(verdict, "unknown");
            }
        }
        let overdue =
            self.followups(&FollowUpFilter { open_only: true, overdue_only: true, ..Default::default() }, now)?;
        out.push_str(&format!("Overdue follow-ups: {}\n", overdue.len()));
        for f in &overdue {
            out.push_str(&format!("  {} — {} ({}, due {})\n", f.name, f.title, f.owner, f.due));
        }
        if !overdue.is_empty() {
            verdict = worst(verdict, "warn");
        }
        Ok((verdict, out))
    }

    fn followup_review(&self, now: DateTime<Utc>) -> Result<(&'static str, String), Error> {
        let open = self.followups(&FollowUpFilter { open_only: true, ..Default::default() }, now)?;
        let mut verdict = "pass";
        let overdue = open.iter().filter(|f| matches!(f.due_state, Due::Overdue { .. })).count();
        let mut out = format!("Open follow-ups: {} ({overdue} overdue)\n", open.len());
        for f in &open {
            let due = match f.due_state {
                Due::Overdue { days } => format!("OVERDUE by {days} d"),
                Due::Today => "due today".into(),
                Due::Later { days } => format!("due in {days} d"),
                Due::Closed => "closed".into(),
            };
            out.push_str(&format!(
                "  {} [{}] {} — owner {}, {due}{}\n",
                f.name,
                f.state,
                f.title,
                f.owner,
                f.incident.as_ref().map(|i| format!(", from {i}")).unwrap_or_default()
            ));
            for p in &f.problems {
                out.push_str(&format!("    ! {p}\n"));
                verdict = worst(verdict, "warn");
            }
        }
        if overdue > 0 {
            verdict = worst(verdict, "warn");
        }
        let closed = self
            .followups(&FollowUpFilter::default(), now)?
            .into_iter()
            .filter(|f| f.state.is_closed())
            .filter(|f| {
                f.closed_at
                    .as_deref()
                    .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                    .is_some_and(|t| t.with_timezone(&Utc) > now - Duration::days(7))
            })
            .count();
        out.push_str(&format!("Closed in the last 7 days: {closed}\n"));
        Ok((verdict, out))
    }

    async fn incident_summary_step(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        lessons: bool,
    ) -> Result<(&'static str, String), Error> {
        let pms = self.postmortems_between(from, to, to).await?;
        let mut verdict = "pass";
        let mut out =
            format!("Incidents resolved {} → {}: {}\n", self.local_time(from), self.local_time(to), pms.len());
        for p in &pms {
            out.push_str(&hsof_ops::incidents::postmortem::summary_line(&p.postmortem));
            out.push('\n');
            let needs = matches!(
                p.postmortem.incident.severity,
                hsof_ops::incidents::Severity::P0 | hsof_ops::incidents::Severity::P1
            );
            if lessons {
                if p.postmortem.lessons.trim().is_empty() {
                    if needs {
                        out.push_str("    lessons: not written yet\n");
                        verdict = "warn";
                    }
                } else {
                    for l in p.postmortem.lessons.lines().filter(|l| !l.trim().is_empty()) {
                        out.push_str(&format!("    {l}\n"));
                    }
                }
            }
            if !p.postmortem.impact.unknown.is_empty() {
                verdict = worst(verdict, "unknown");
                for u in &p.postmortem.impact.unknown {
                    out.push_str(&format!("    unknown: {u}\n"));
                }
            }
        }
        Ok((verdict, out))
    }

    /// The incident channel as this app sees it: messages of the last 24 h, posted or not.
    fn channel_step(&self, now: DateTime<Utc>) -> Result<(&'static str, String), Error> {
        let since = now - Duration::hours(24);
        let mut verdict = "pass";
        let channel = self.config().config.slack.channel;
        let mut posted = 0;
        let mut out = String::new();
        let mut lines = Vec::new();
        for v in self.incidents(&IncidentFilter::default(), now)? {
            if v.incident.resolved_at.is_some_and(|r| r < since) {
                continue;
            }
            for p in self.incident_detail(v.incident.id, now)?.slack {
                let created = DateTime::parse_from_rfc3339(&p.created_at).map(|t| t.with_timezone(&Utc)).ok();
                if created.is_some_and(|c| c < since) && p.posted_at.is_some() {
                    continue;
                }
                let first = p.text.lines().next().unwrap_or_default().chars().take(100).collect::<String>();
                match (&p.posted_at, p.gave_up) {
                    (Some(_), _) => posted += 1,
                    (None, true) => {
                        verdict = "fail";
                        lines.push(format!(
                            "  REFUSED {} — {first}: {}",
                            v.incident.reference(),
                            p.last_error.unwrap_or_default()
                        ));
                    }
                    (None, false) => {
                        verdict = worst(verdict, "warn");
                        lines.push(format!(
                            "  waiting {} — {first}: {}",
                            v.incident.reference(),
                            p.last_error.unwrap_or_else(|| "queued".into())
                        ));
                    }
                }
            }
        }
        out.push_str(&format!("{channel}: {posted} message(s) posted in the last 24 h, {} not posted\n", lines.len()));
        for l in lines {
            out.push_str(&l);
            out.push('\n');
        }
        if self.webhook_url().is_err() {
            out.push_str("No Slack webhook is configured: the channel hears nothing from the app.\n");
            verdict = worst(verdict, "warn");
        }
        Ok((verdict, out))
    }

    /// The week ahead: procedures, maintenance windows, post-mortems, follow-ups due, and
    /// the on-call week with its gaps.
    fn week_ahead(&self, now: DateTime<Utc>) -> Result<(&'static str, String), Error> {
        let cal = self.calendar(now, now + Duration::days(7), now)?;
        let mut verdict = "pass";
        let mut out = format!("Procedures in the next 7 days: {}\n", cal.occurrences.len());
        let mut by: std::collections::BTreeMap<&str, u32> = Default::default();
        for o in &cal.occurrences {
            *by.entry(o.occurrence.title.as_str()).or_default() += 1;
        }
        for (t, n) in by {
            out.push_str(&format!("  {t} ×{n}\n"));
        }
        out.push_str(&self.window_lines(&cal.windows));
        out.push_str(&format!("Post-mortems due: {}\n", cal.reviews.len()));
        for r in &cal.reviews {
            out.push_str(&format!("  {} ({})\n", r.title, r.due_at));
        }
        out.push_str(&format!("Follow-ups due or overdue: {}\n", cal.followups.len()));
        for f in &cal.followups {
            out.push_str(&format!("  {} — {} ({}, due {})\n", f.name, f.title, f.owner, f.due));
        }
        let cov = self.oncall_coverage(now, now + Duration::days(7))?;
        out.push_str("On call:\n");
        for s in &cov.shifts {
            out.push_str(&format!("  {} → {}: {}\n", self.local_time(s.start), self.local_time(s.end), s.who));
        }
        for g in &cov.gaps {
            out.push_str(&format!("  GAP {} → {}: {}\n", self.local_time(g.start), self.local_time(g.end), g.why));
            verdict = "fail";
        }
        Ok((verdict, out))
    }

    /// The coming weekend: maintenance windows on it, their 48-hour notice, and who is on
    /// call while they run.
    fn weekend_maintenance(&self, now: DateTime<Utc>) -> Result<(&'static str, String), Error> {
        use chrono::Datelike;
        let tz = self.team_tz()?;
        let today = now.with_timezone(&tz).date_naive();
        let to_saturday = (6 - i64::from(today.weekday().number_from_monday())).rem_euclid(7);
        let saturday = today + Duration::days(to_saturday);
        let (from, to) =
            (crate::time::local_midnight(tz, saturday), crate::time::local_midnight(tz, saturday + Duration::days(2)));
        let windows: Vec<_> = self
            .windows()?
            .into_iter()
            .filter(|w| w.cancelled_at.is_none() && w.window.end > from && w.window.start < to)
            .collect();
        let mut verdict = "pass";
        let mut out =
            format!("Weekend {saturday} – {}: {} maintenance window(s)\n", saturday + Duration::days(1), windows.len());
        if windows.is_empty() {
            out.push_str("  none scheduled (schedule one with 48 hours' notice: hsofctl maintenance add)\n");
        }
        for w in &windows {
            out.push_str(&format!(
                "  {} → {}: {} (impact: {})\n",
                self.local_time(w.window.start),
                self.local_time(w.window.end),
                w.window.title,
                w.impact
            ));
            if !w.notice_ok {
                out.push_str(&format!("    announced less than 48 hours ahead (notice was due {})\n", w.notice_due));
                verdict = worst(verdict, "warn");
            }
            let cov = self.oncall_coverage(w.window.start, w.window.end)?;
            let who: Vec<&str> = cov.shifts.iter().map(|s| s.who.as_str()).collect();
            if cov.gaps.is_empty() {
                out.push_str(&format!("    on call during it: {}\n", who.join(", ")));
            } else {
                out.push_str(&format!("    NOBODY on call for part of it: {}\n", cov.gaps[0].why));
                verdict = "fail";
            }
        }
        Ok((verdict, out))
    }

    /// What the week's incidents teach the runbook: each incident with its lessons and
    /// follow-ups, and the ones whose post-mortem has no lessons yet.
    async fn runbook_inputs(&self, now: DateTime<Utc>) -> Result<(&'static str, String), Error> {
        let pms = self.postmortems_between(now - Duration::days(7), now, now).await?;
        let mut verdict = "pass";
        let mut out = format!("Incidents resolved this week: {}\n", pms.len());
        for p in &pms {
            let i = &p.postmortem.incident;
            out.push_str(&format!("{} {} — {}\n", i.reference(), i.severity, i.title));
            if p.postmortem.lessons.trim().is_empty() {
                out.push_str("  lessons: not written yet (the post-mortem's Lessons learned)\n");
                verdict = worst(verdict, "warn");
            } else {
                for l in p.postmortem.lessons.lines().filter(|l| !l.trim().is_empty()) {
                    out.push_str(&format!("  lesson: {l}\n"));
                }
            }
            for f in &p.postmortem.follow_ups {
                out.push_str(&format!("  follow-up [{}] {} ({}, due {})\n", f.state, f.title, f.owner, f.due));
            }
        }
        Ok((verdict, out))
    }

    /// Response times per severity against their targets over [from, to).
    fn response_review(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<(&'static str, String), Error> {
        let mut verdict = "pass";
        let mut out =
            format!("Incident response {} → {} (drills left out)\n", self.local_time(from), self.local_time(to));
        for s in self.incident_stats(from, to)? {
            let policy = self.incident_policy(s.severity)?;
            let target = policy.response.num_seconds() as f64;
            let mins = |v: Option<f64>| v.map_or("—".into(), |v| format!("{:.0} min", v / 60.0));
            let missed = s.mtta_secs.is_some_and(|m| m > target);
            out.push_str(&format!(
                "  {}: {} incident(s), MTTA {} (target {}), MTTR {}{}\n",
                s.severity,
                s.count,
                mins(s.mtta_secs),
                mins(Some(target)),
                mins(s.mttr_secs),
                if missed { " — response target MISSED on average" } else { "" }
            ));
            if missed {
                verdict = worst(verdict, "warn");
            }
        }
        let escalated = self
            .incidents(&IncidentFilter::default(), to)?
            .into_iter()
            .filter(|v| {
                v.incident.drill.is_none() && v.incident.declared_at >= from && v.incident.escalated_at.is_some()
            })
            .count();
        out.push_str(&format!("Escalated: {escalated}\n"));
        Ok((verdict, out))
    }

    /// How the team's processes ran over [from, to): procedures done on time, follow-ups
    /// opened and closed, response against targets.
    fn process_review(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<(&'static str, String), Error> {
        let cal = self.calendar(from, to, to)?;
        let done =
            cal.occurrences.iter().filter(|o| matches!(o.status, hsof_ops::calendar::OccurrenceStatus::Done)).count();
        let overdue = cal
            .occurrences
            .iter()
            .filter(|o| matches!(o.status, hsof_ops::calendar::OccurrenceStatus::Overdue))
            .count();
        let mut verdict = if overdue > 0 { "warn" } else { "pass" };
        let mut out = format!(
            "Procedures {} → {}: {done} of {} done, {overdue} overdue\n",
            self.local_time(from),
            self.local_time(to),
            cal.occurrences.len()
        );
        let all = self.followups(&FollowUpFilter::default(), to)?;
        let at = |t: &str| DateTime::parse_from_rfc3339(t).ok().map(|t| t.with_timezone(&Utc));
        let opened = all.iter().filter(|f| at(&f.created_at).is_some_and(|t| t >= from)).count();
        let closed = all.iter().filter(|f| f.closed_at.as_deref().and_then(at).is_some_and(|t| t >= from)).count();
        let overdue_f = all.iter().filter(|f| matches!(f.due_state, Due::Overdue { .. })).count();
        out.push_str(&format!("Follow-ups: {opened} opened, {closed} closed, {overdue_f} overdue now\n"));
        if overdue_f > 0 {
            verdict = worst(verdict, "warn");
        }
        let (v, r) = self.response_review(from, to)?;
        out.push_str(&r);
        Ok((worst(verdict, v), out))
    }
}
