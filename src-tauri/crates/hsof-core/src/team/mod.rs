//! The team store (hsof-team) from the app's side: installing it through the configured
//! cluster connection (read-only mode honoured, the install audited) and its status; the
//! sync of the outbox (`sync.rs`), the mirror of what the cluster holds (`mirror.rs`) and
//! the upload offer of records kept only here (`upload.rs`).

use chrono::{DateTime, Utc};
use hsof_store::NewAuditEntry;
use hsof_team::{Applied, TeamError, TeamStatus};

use crate::{AppContext, Error};

mod mirror;
mod sync;
mod upload;

pub use sync::{TeamChange, TeamOverview, TeamState, TeamSync};
pub use upload::UploadOffer;

impl From<TeamError> for Error {
    fn from(e: TeamError) -> Self {
        match e {
            TeamError::Cluster(c) => Error::Cluster(c),
            TeamError::Forbidden(m) => Error::Forbidden(m),
            TeamError::Conflict(m) => Error::InvalidInput(m),
            TeamError::Refused(m) => Error::InvalidInput(m),
            TeamError::Manifests(m) => Error::Unavailable(m),
        }
    }
}

impl AppContext {
    /// The view the team store is synced through when it is not this one: with several
    /// clusters the shared records live in the primary's team store (one outbox, one
    /// store; a view on another cluster never sends them elsewhere).
    pub(crate) fn team_elsewhere(&self) -> Option<AppContext> {
        let file = self.file_config().config;
        if file.clusters.is_empty() {
            return None;
        }
        let home = file.default_cluster().name;
        (home != self.current_cluster().name).then(|| self.on_cluster(&home).ok()).flatten()
    }

    /// Whether the team store is installed, of this app's version, and readable and
    /// writable for the current identity in the configured namespace.
    pub async fn team_status(&self) -> Result<TeamStatus, Error> {
        let cluster = self.cluster().await?;
        Ok(hsof_team::status(&cluster).await?)
    }

    /// Applies the team store's definitions and roles (server-side apply, idempotent).
    /// `dry_run` has the API server check everything and write nothing (not audited);
    /// otherwise the install is in the audit trail with what each object became.
    pub async fn team_install(&self, dry_run: bool, actor: &str, now: DateTime<Utc>) -> Result<Vec<Applied>, Error> {
        self.ensure_writable()?;
        let cluster = self.cluster().await?;
        let result = hsof_team::install(&cluster, dry_run).await;
        if dry_run {
            return Ok(result?);
        }
        let after = match &result {
            Ok(applied) => {
                applied.iter().map(|a| format!("{} {}: {}", a.kind, a.name, a.outcome)).collect::<Vec<_>>().join("; ")
            }
            Err(e) => format!("error: {e}"),
        };
        let who = self.audit_actor(actor, &cluster.context);
        let target = format!("team store {}/{} in cluster {}", hsof_team::GROUP, hsof_team::VERSION, cluster.context);
        let entry = NewAuditEntry {
            actor: &who,
            action: "team.install",
            target: &target,
            before: None,
            after: Some(&after),
            result: if result.is_ok() { "ok" } else { "error" },
        };
        self.store().and_then(|s| s.append_audit(&entry, now).map_err(Error::from)).map_err(|e| {
            Error::StoreUnavailable(format!(
                "the team store was installed but its audit record could not be written ({e})"
            ))
        })?;
        self.advance_audit_anchor();
        Ok(result?)
    }
}
