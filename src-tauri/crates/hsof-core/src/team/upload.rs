//! Records kept only on this desktop (made before the team store, or while sharing was
//! off), offered for upload once.

use serde::Serialize;

use crate::{AppContext, Error};

impl AppContext {
    /// Records kept only here (made before the team store, or while it was off) not yet
    /// offered for upload; empty once the offer was answered.
    pub fn team_upload_offer(&self) -> Result<UploadOffer, Error> {
        let store = self.store()?;
        if !store.team_enabled()? || store.team_meta("upload")?.is_some() {
            return Ok(UploadOffer::default());
        }
        let (runs, windows) = store.team_local_only_calendar()?;
        Ok(UploadOffer { incidents: store.team_local_only_incidents()?, runs, windows })
    }

    /// Answers the upload offer: `accept` shares every local-only incident (declaration and
    /// timeline), procedure run (step results and completion) and maintenance window; their
    /// writes go to the outbox in order. Either way the offer is not made again. Returns how
    /// many records were queued.
    pub fn team_upload(&self, accept: bool) -> Result<usize, Error> {
        let store = self.store()?;
        if !store.team_enabled()? {
            return Err(Error::InvalidInput(format!(
                "the team store is not on for this desktop: `hsofctl team status` says why ({})",
                hsof_team::INSTALL_HINT
            )));
        }
        let mut n = 0;
        if accept {
            let offer = self.team_upload_offer()?;
            for id in offer.incidents {
                n += usize::from(store.team_share_incident(id)?.is_some());
            }
            for key in offer.runs {
                n += usize::from(store.team_share_run(&key)?.is_some());
            }
            for id in offer.windows {
                n += usize::from(store.team_share_window(id)?.is_some());
            }
        }
        store.set_team_meta("upload", if accept { "done" } else { "declined" })?;
        Ok(n)
    }
}

/// What is kept only on this desktop and offered for upload once.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct UploadOffer {
    /// Incidents (local ids).
    pub incidents: Vec<i64>,
    /// Procedure runs (occurrence keys).
    pub runs: Vec<String>,
    /// Maintenance windows (local ids).
    pub windows: Vec<i64>,
}

impl UploadOffer {
    /// How many records.
    pub fn len(&self) -> usize {
        self.incidents.len() + self.runs.len() + self.windows.len()
    }

    /// Nothing to offer.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
