//! Between the store's columns and the incident model.

use chrono::{DateTime, Utc};
use hsof_ops::incidents::{Incident, TimelineEvent};
use hsof_store::{IncidentRecord, TimelineRecord};

use crate::Error;

pub(crate) use crate::time::ts;

fn parse(s: &str, what: &str) -> Result<DateTime<Utc>, Error> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| Error::Unavailable(format!("stored {what} {s:?} is not a time: {e}")))
}

fn parse_opt(s: Option<&String>, what: &str) -> Result<Option<DateTime<Utc>>, Error> {
    s.map(|s| parse(s, what)).transpose()
}

pub(crate) fn incident(r: &IncidentRecord) -> Result<Incident, Error> {
    let bad = |what: &str, e: &dyn std::fmt::Display| Error::Unavailable(format!("incident #{}: {what}: {e}", r.id));
    Ok(Incident {
        id: r.id,
        title: r.title.clone(),
        severity: r.severity.parse().map_err(|e| bad("severity", &e))?,
        status: r.status.parse().map_err(|e| bad("status", &e))?,
        components: serde_json::from_str(&r.components).map_err(|e| bad("components", &e))?,
        description: r.description.clone(),
        declared_at: parse(&r.declared_at, "declared_at")?,
        declared_by: r.declared_by.clone(),
        acknowledged_at: parse_opt(r.acknowledged_at.as_ref(), "acknowledged_at")?,
        escalated_at: parse_opt(r.escalated_at.as_ref(), "escalated_at")?,
        resolved_at: parse_opt(r.resolved_at.as_ref(), "resolved_at")?,
        last_update_at: parse_opt(r.last_update_at.as_ref(), "last_update_at")?,
        source_alert: r.source_alert.as_deref().and_then(|s| serde_json::from_str(s).ok()),
        drill: r.drill.clone(),
        shared_name: r.team_name.clone(),
    })
}

pub(crate) fn event(r: &TimelineRecord) -> Result<TimelineEvent, Error> {
    Ok(TimelineEvent {
        id: r.id,
        at: parse(&r.at, "timeline time")?,
        author: r.author.clone(),
        kind: r.kind.parse().map_err(|e| Error::Unavailable(format!("timeline #{}: {e}", r.id)))?,
        text: r.text.clone(),
        data: serde_json::from_str(&r.data).unwrap_or(serde_json::Value::Null),
    })
}
