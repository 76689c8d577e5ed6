//! State changes of an incident: declare, acknowledge, escalate, record an update, resolve.
//! Each checks that the current status allows it; storage persists the result.

use chrono::{DateTime, Utc};

use super::{Incident, IncidentError, IncidentStatus, NewIncident};

impl Incident {
    /// A new open incident from validated input. `id` is the storage id (0 before insertion).
    pub fn declare(id: i64, new: NewIncident, by: &str, at: DateTime<Utc>) -> Result<Self, IncidentError> {
        new.validate()?;
        let by = by.trim();
        if by.is_empty() {
            return Err(IncidentError::invalid("an incident must be declared by someone"));
        }
        Ok(Self {
            id,
            title: new.title.trim().to_string(),
            severity: new.severity,
            status: IncidentStatus::Open,
            components: new.components.into_iter().map(|c| c.trim().to_string()).filter(|c| !c.is_empty()).collect(),
            description: new.description,
            declared_at: at,
            declared_by: by.to_string(),
            acknowledged_at: None,
            escalated_at: None,
            resolved_at: None,
            last_update_at: None,
            source_alert: new.source_alert,
            drill: new.drill,
            shared_name: None,
        })
    }

    /// Open → acknowledged.
    pub fn acknowledge(&mut self, at: DateTime<Utc>) -> Result<(), IncidentError> {
        if self.is_resolved() || self.is_acknowledged() {
            return Err(self.refuse("acknowledged"));
        }
        self.not_before_declaration(at)?;
        self.status = IncidentStatus::Acknowledged;
        self.acknowledged_at = Some(at);
        Ok(())
    }

    /// Marks the incident escalated (once; not after resolution).
    pub fn escalate(&mut self, at: DateTime<Utc>) -> Result<(), IncidentError> {
        if self.is_resolved() || self.escalated_at.is_some() {
            return Err(self.refuse("escalated"));
        }
        self.not_before_declaration(at)?;
        self.escalated_at = Some(at);
        Ok(())
    }

    /// Records that a status update was posted, restarting the update timer.
    pub fn record_update(&mut self, at: DateTime<Utc>) -> Result<(), IncidentError> {
        if self.is_resolved() {
            return Err(self.refuse("updated"));
        }
        self.not_before_declaration(at)?;
        self.last_update_at = Some(at);
        Ok(())
    }

    /// Open or acknowledged → resolved.
    pub fn resolve(&mut self, at: DateTime<Utc>) -> Result<(), IncidentError> {
        if self.is_resolved() {
            return Err(self.refuse("resolved"));
        }
        self.not_before_declaration(at)?;
        self.status = IncidentStatus::Resolved;
        self.resolved_at = Some(at);
        Ok(())
    }

    fn refuse(&self, action: &'static str) -> IncidentError {
        let status = if self.is_resolved() { IncidentStatus::Resolved } else { self.status };
        let status = if status == IncidentStatus::Open && self.is_acknowledged() {
            IncidentStatus::Acknowledged
        } else {
            status
        };
        IncidentError::InvalidTransition { id: self.id, status, action }
    }

    fn not_before_declaration(&self, at: DateTime<Utc>) -> Result<(), IncidentError> {
        if at < self.declared_at {
            return Err(IncidentError::invalid(format!(
                "{} is before incident #{} was declared ({})",
                at.to_rfc3339(),
                self.id,
                self.declared_at.to_rfc3339()
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::incidents::Severity;

    fn t(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, h, m, 0).single().expect("valid time")
    }

    fn declared() -> Incident {
        let new = NewIncident {
            title: "  GPU OOM  ".into(),
            severity: Severity::P1,
            components: vec!["gpu".into(), " ".into()],
            description: String::new(),
            source_alert: None,
            drill: None,
        };
        Incident::declare(7, new, "alice", t(10, 0)).expect("valid")
    }

    #[test]
    fn a_declared_incident_moves_through_its_statuses_once() {
        let mut i = declared();
        assert_eq!((i.title.as_str(), i.components.len(), i.status), ("GPU OOM", 1, IncidentStatus::Open));
        i.acknowledge(t(10, 4)).expect("ack");
        assert_eq!(i.status, IncidentStatus::Acknowledged);
        let err = i.acknowledge(t(10, 5)).expect_err("twice");
        assert_eq!(err.to_string(), "incident #7 is acknowledged; it cannot be acknowledged");
        i.escalate(t(10, 30)).expect("escalate");
        assert!(i.escalate(t(10, 31)).is_err());
        i.record_update(t(10, 15)).expect("update");
        i.resolve(t(11, 0)).expect("resolve");
        assert_eq!(i.resolved_at, Some(t(11, 0)));
        let err = i.record_update(t(11, 5)).expect_err("resolved");
        assert_eq!(err.to_string(), "incident #7 is resolved; it cannot be updated");
    }

    #[test]
    fn times_before_the_declaration_are_refused() {
        let mut i = declared();
        assert!(matches!(i.resolve(t(9, 0)), Err(IncidentError::InvalidInput(_))));
        assert_eq!(i.status, IncidentStatus::Open);
    }
}
