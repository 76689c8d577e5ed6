//! The post-mortem writes its own timeline: the incident's timeline, the audit log (every
//! change made through the app, with its before and after), the alerts that fired and
//! cleared (Prometheus' `ALERTS` series over the window), the namespace's Kubernetes
//! events and rollouts, and the SLO burn — merged in time order by hsof-ops, with the
//! impact computed from Prometheus, never typed. What the team writes (contributing
//! factors, lessons) is a PostMortem record in the team store.

use chrono::{DateTime, Duration, Utc};
use hsof_ops::incidents::postmortem::{self as pm, Entry, FollowUpLine, PostMortem, Source, SourceNote, Throughput};
use hsof_ops::incidents::roles;
use hsof_team::sync::Kind;
use serde::Serialize;
use serde_json::json;

use super::{at, write_id, FollowUpFilter};
use crate::{AppContext, Error};

/// How far before the declaration the timeline looks (the change or alert that started it).
const LOOKBACK_MINUTES: i64 = 60;
/// How long the API server keeps events by default (`--event-ttl`).
const EVENT_TTL_HOURS: i64 = 1;

/// A post-mortem as the incident page shows it.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct PostMortemView {
    /// The document's parts.
    pub postmortem: PostMortem,
    /// The whole document, Markdown (what Export writes).
    pub markdown: String,
    /// Its record in the team store (`pm-<incident>`).
    pub name: String,
    /// Writes made here and not in the team store yet.
    pub pending: u32,
    /// Who last wrote the contributing factors and the lessons.
    pub edited_by: Vec<String>,
    /// The window the timeline covers.
    pub from: DateTime<Utc>,
    /// Its end (the resolution, or now).
    pub to: DateTime<Utc>,
}

fn parse(t: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(t).ok().map(|t| t.with_timezone(&Utc))
}

/// A line diff of a change's before and after: `-` lines gone, `+` lines new.
fn diff(before: Option<&str>, after: Option<&str>) -> Option<String> {
    let (b, a) = (before.unwrap_or_default(), after.unwrap_or_default());
    if b.is_empty() && a.is_empty() {
        return None;
    }
    let bl: Vec<&str> = b.lines().collect();
    let al: Vec<&str> = a.lines().collect();
    let mut out = Vec::new();
    out.extend(bl.iter().filter(|l| !al.contains(l)).map(|l| format!("- {l}")));
    out.extend(al.iter().filter(|l| !bl.contains(l)).map(|l| format!("+ {l}")));
    let text = out.join("\n");
    if text.len() <= 4000 {
        return Some(text);
    }
    let mut end = 4000;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    Some(format!("{}…", &text[..end]))
}

impl AppContext {
    fn postmortem_name(&self, id: i64) -> Result<String, Error> {
        Ok(format!("pm-{}", self.incident_ref(id)?))
    }

    pub(crate) async fn alert_entries(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<Entry>, String> {
        let m = self.monitor();
        let prom = m.prom.clone()?;
        let step = 30;
        let series = prom
            .range("ALERTS{alertstate=\"firing\"}", from, to, std::time::Duration::from_secs(step))
            .await
            .map_err(|e| e.to_string())?;
        let mut out = Vec::new();
        for s in series {
            let name = s.labels.get("alertname").cloned().unwrap_or_else(|| "alert".into());
            let severity = s.labels.get("severity").map(|v| format!(" ({v})")).unwrap_or_default();
            let mut run_start: Option<f64> = None;
            let mut last = f64::NEG_INFINITY;
            let t = |x: f64| DateTime::from_timestamp(x as i64, 0).unwrap_or(from);
            let close = |start: f64, end: f64, out: &mut Vec<Entry>, open_at_end: bool| {
                if start > from.timestamp() as f64 {
                    out.push(Entry {
                        at: t(start),
                        source: Source::Alert,
                        who: None,
                        text: format!("{name}{severity} fired"),
                        detail: None,
                    });
                } else {
                    out.push(Entry {
                        at: t(start),
                        source: Source::Alert,
                        who: None,
                        text: format!("{name}{severity} firing (since before the window)"),
                        detail: None,
                    });
                }
                if !open_at_end {
                    out.push(Entry {
                        at: t(end + step as f64),
                        source: Source::Alert,
                        who: None,
                        text: format!("{name} resolved"),
                        detail: None,
                    });
                }
            };
            for (x, _) in &s.points {
                match run_start {
                    Some(st) if *x - last > step as f64 * 1.5 => {
                        close(st, last, &mut out, false);
                        run_start = Some(*x);
                    }
                    None => run_start = Some(*x),
                    _ => {}
                }
                last = *x;
            }
            if let Some(st) = run_start {
                let open = last + step as f64 * 1.5 >= to.timestamp() as f64;
                close(st, last, &mut out, open);
            }
        }
        Ok(out)
    }

    async fn slo_entries(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<(Vec<Entry>, Vec<pm::SloWindow>), String> {
        let windows = self.slo_windows(from, to).await;
        let mut entries = Vec::new();
        for w in &windows {
            if let Some(mins) = w.minutes_over.filter(|m| *m > 0.0) {
                let budget = match (w.bad_in_window, w.total_in_slo_window) {
                    (Some(b), Some(t)) if t > 0.0 => format!(
                        ", {:.1} % of the {}-day error budget",
                        100.0 * b / ((1.0 - w.objective) * t),
                        w.slo_window_days
                    ),
                    _ => String::new(),
                };
                entries.push(Entry {
                    at: to,
                    source: Source::Slo,
                    who: None,
                    text: format!("{} over its objective for {mins:.0} min of the window{budget}", w.title),
                    detail: None,
                });
            }
        }
        if windows.iter().all(|w| w.error.is_some()) {
            return Err(windows.first().and_then(|w| w.error.clone()).unwrap_or_else(|| "no SLO could be read".into()));
        }
        Ok((entries, windows))
    }

    /// The post-mortem of incident `id`, assembled now.
    pub async fn incident_postmortem(&self, id: i64, now: DateTime<Utc>) -> Result<PostMortemView, Error> {
        let detail = self.incident_detail(id, now)?;
        let incident = detail.view.incident.clone();
        let alert_start = incident
            .source_alert
            .as_ref()
            .and_then(|a| a["startsAt"].as_str())
            .and_then(parse)
            .filter(|t| *t < incident.declared_at);
        let impact_from = alert_start.unwrap_or(incident.declared_at);
        let to = incident.resolved_at.unwrap_or(now);
        let from = incident.declared_at.min(impact_from) - Duration::minutes(LOOKBACK_MINUTES);
        let mut sources: Vec<Vec<Entry>> = Vec::new();
        let mut notes: Vec<SourceNote> = Vec::new();
        let mut note = |source: Source, r: &Result<usize, String>| {
            notes.push(SourceNote {
                source,
                read: r.is_ok(),
                note: match r {
                    Ok(n) => format!("{n} entries"),
                    Err(e) => format!("not read: {e}"),
                },
            });
        };
        // The incident's own timeline.
        let own: Vec<Entry> = detail
            .timeline
            .iter()
            .filter(|e| !matches!(e.kind, hsof_ops::incidents::TimelineKind::SlackPosted))
            .map(|e| Entry {
                at: e.at,
                source: Source::Incident,
                who: Some(e.author.clone()),
                text: e.text.clone(),
                detail: None,
            })
            .collect();
        note(Source::Incident, &Ok(own.len()));
        sources.push(own);
        // Changes made through the app.
        let audit: Result<Vec<Entry>, String> = self.store().map_err(|e| e.to_string()).and_then(|s| {
            s.audit_between(&crate::time::ts(from), &crate::time::ts(to)).map_err(|e| e.to_string()).map(|rows| {
                rows.into_iter()
                    .filter_map(|r| {
                        let t = parse(&r.ts)?;
                        (t >= from && t <= to && !r.action.starts_with("incident.")).then(|| Entry {
                            at: t,
                            source: Source::Audit,
                            who: Some(r.actor.clone()),
                            text: format!("{} {} → {}", r.action, r.target, r.result),
                            detail: diff(r.before.as_deref(), r.after.as_deref()),
                        })
                    })
                    .collect()
            })
        });
        note(Source::Audit, &audit.as_ref().map(Vec::len).map_err(Clone::clone));
        sources.push(audit.unwrap_or_default());
        // Alerts that fired and cleared.
        let alerts = self.alert_entries(from, to).await;
        note(Source::Alert, &alerts.as_ref().map(Vec::len).map_err(Clone::clone));
        sources.push(alerts.unwrap_or_default());
        // The namespace's events and rollouts.
        let deployment = self.config().config.cluster.deployment;
        let (events, rollouts) = match self.cluster().await {
            Ok(c) => {
                let (e, h) = futures_util::future::join(c.events(), c.history(&deployment)).await;
                (e.map_err(|e| e.to_string()), h.map_err(|e| e.to_string()))
            }
            Err(e) => (Err(e.to_string()), Err(e.to_string())),
        };
        let events: Result<Vec<Entry>, String> = events.map(|rows| {
            rows.into_iter()
                .filter_map(|e| {
                    let t = parse(e.last_seen.as_deref()?)?;
                    (t >= from && t <= to).then(|| Entry {
                        at: t,
                        source: Source::Event,
                        who: None,
                        text: format!("{} {} {}: {}", e.kind, e.reason, e.object, e.message),
                        detail: (e.count > 1).then(|| format!("seen {} times", e.count)),
                    })
                })
                .collect()
        });
        note(Source::Event, &events.as_ref().map(Vec::len).map_err(Clone::clone));
        sources.push(events.unwrap_or_default());
        let rollouts: Result<Vec<Entry>, String> = rollouts.map(|revs| {
            revs.into_iter()
                .filter_map(|r| {
                    let t = parse(r.created.as_deref()?)?;
                    (t >= from && t <= to).then(|| Entry {
                        at: t,
                        source: Source::Rollout,
                        who: None,
                        text: format!(
                            "deployment/{deployment} revision {} ({}){}",
                            r.revision,
                            r.images.join(", "),
                            r.change_cause.map(|c| format!(": {c}")).unwrap_or_default()
                        ),
                        detail: None,
                    })
                })
                .collect()
        });
        note(Source::Rollout, &rollouts.as_ref().map(Vec::len).map_err(Clone::clone));
        sources.push(rollouts.unwrap_or_default());
        // SLO burn and the impact.
        let (slo, windows) = match self.slo_entries(impact_from, to).await {
            Ok((e, w)) => (Ok(e), w),
            Err(e) => (Err(e), vec![]),
        };
        note(Source::Slo, &slo.as_ref().map(Vec::len).map_err(Clone::clone));
        sources.push(slo.unwrap_or_default());
        if from < now - Duration::hours(EVENT_TTL_HOURS) {
            if let Some(n) = notes.iter_mut().find(|n| n.source == Source::Event && n.read) {
                n.note.push_str(&format!(
                    "; the API server keeps events about {EVENT_TTL_HOURS} h (--event-ttl), so older ones of the window may be gone"
                ));
            }
        }
        let throughput = self.throughput_around(impact_from, to).await;
        let mut impact = pm::impact(impact_from, to, &windows, &throughput);
        if windows.is_empty() {
            impact.unknown.push("SLOs: Prometheus could not be read".into());
        }
        let name = self.postmortem_name(id)?;
        let record = self.local_record(Kind::PostMortem, &name)?;
        let text =
            |k: &str| record.as_ref().and_then(|r| r.object["status"][k].as_str()).unwrap_or_default().to_string();
        let follow_ups = self
            .followups(&FollowUpFilter { incident_id: Some(id), ..Default::default() }, now)?
            .into_iter()
            .map(|f| FollowUpLine { title: f.title, owner: f.owner, due: f.due, state: f.state.as_str().to_string() })
            .collect();
        let roles = roles::current(&detail.timeline).into_iter().map(|h| (h.role.title().to_string(), h.who)).collect();
        let postmortem = PostMortem {
            incident,
            roles,
            timeline: pm::merge(sources),
            impact,
            contributing_factors: text("factors"),
            lessons: text("lessons"),
            follow_ups,
            sources: notes,
        };
        let tz: chrono_tz::Tz = self.config().config.team.timezone.parse().unwrap_or(chrono_tz::UTC);
        let edited_by = ["factorsBy", "lessonsBy"]
            .iter()
            .filter_map(|k| record.as_ref().and_then(|r| r.object["status"][k].as_str()).map(str::to_string))
            .collect();
        Ok(PostMortemView {
            markdown: pm::markdown(&postmortem, tz),
            postmortem,
            name,
            pending: record.map_or(0, |r| u32::try_from(r.pending).unwrap_or(u32::MAX)),
            edited_by,
            from,
            to,
        })
    }

    async fn throughput_around(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Throughput {
        let m = self.monitor();
        let Ok(prom) = m.prom.clone() else { return Throughput::default() };
        let secs = (to - from).num_seconds().max(60);
        let before = prom.scalar("sum(increase(hsof_datasets_processed_total[1h]))", Some(from)).await;
        let during = prom.scalar(&format!("sum(increase(hsof_datasets_processed_total[{secs}s]))"), Some(to)).await;
        Throughput { per_hour_before: before.ok().flatten(), processed_in_window: during.ok().flatten() }
    }

    /// Writes the team's parts of incident `id`'s post-mortem (each given field replaces
    /// the stored one); shared through the team store.
    pub async fn incident_postmortem_edit(
        &self,
        id: i64,
        factors: Option<&str>,
        lessons: Option<&str>,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<PostMortemView, Error> {
        if factors.is_none() && lessons.is_none() {
            return Err(Error::InvalidInput("nothing to write: give the contributing factors or the lessons".into()));
        }
        let name = self.postmortem_name(id)?;
        let i = self.incident(id)?;
        let current = self.local_record(Kind::PostMortem, &name)?;
        let op = json!({"op": "edit", "id": write_id(), "at": at(now), "by": actor, "incident": self.incident_ref(id)?,
            "incident_title": i.title, "factors": factors, "lessons": lessons});
        self.queue_record_write(Kind::PostMortem, &name, &op, current.as_ref())?;
        self.incident_postmortem(id, now).await
    }

    /// The post-mortems of the incidents resolved in [from, to) (drills left out): the
    /// monthly incident summary and the annual lessons read them.
    pub async fn postmortems_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Vec<PostMortemView>, Error> {
        let mut out = Vec::new();
        for rec in self.store()?.incidents()? {
            let Some(resolved) = rec.resolved_at.as_deref().and_then(parse) else { continue };
            if rec.drill.is_some() || resolved < from || resolved >= to {
                continue;
            }
            out.push(self.incident_postmortem(rec.id, now).await?);
        }
        out.sort_by_key(|p| p.postmortem.incident.declared_at);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::diff;

    #[test]
    fn a_change_shows_what_went_and_what_came() {
        let d = diff(Some("replicas: 3\nimage: a"), Some("replicas: 5\nimage: a")).expect("diff");
        assert_eq!(d, "- replicas: 3\n+ replicas: 5");
        assert_eq!(diff(None, None), None);
    }
}
