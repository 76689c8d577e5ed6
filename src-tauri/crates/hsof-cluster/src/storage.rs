//! Storage in the HSOF pod: `df -h` run inside it through exec (websocket), parsed into a
//! table (the runbook's weekly capacity check).

use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, AttachParams};
use serde::Serialize;
use tokio::io::AsyncReadExt;

use crate::{Cluster, ClusterError};

/// One filesystem as `df -h` prints it.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct DfRow {
    /// Device or filesystem.
    pub filesystem: String,
    /// Size (`97G`).
    pub size: String,
    /// Used.
    pub used: String,
    /// Available.
    pub avail: String,
    /// Use, percent.
    pub use_percent: u32,
    /// Mount point.
    pub mounted_on: String,
}

/// `df -h` in one pod.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct DfReport {
    /// The pod it ran in.
    pub pod: String,
    /// Its filesystems.
    pub rows: Vec<DfRow>,
}

/// Parses `df -h` (GNU or busybox): a header, then one row per filesystem; a long device
/// name may sit alone on its line with the figures on the next (old GNU and busybox).
pub fn parse_df(text: &str) -> Result<Vec<DfRow>, ClusterError> {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header = lines.next().ok_or_else(|| ClusterError::Invalid("df printed nothing".into()))?;
    if !header.starts_with("Filesystem") {
        return Err(ClusterError::Invalid(format!("df printed an unexpected header: {header}")));
    }
    let mut rows = Vec::new();
    let mut pending: Option<String> = None;
    for line in lines {
        let mut fields: Vec<&str> = line.split_whitespace().collect();
        if fields.len() == 1 {
            pending = Some(fields[0].to_string());
            continue;
        }
        let filesystem = match pending.take() {
            Some(fs) if fields.len() == 5 => fs,
            _ if fields.len() >= 6 => fields.remove(0).to_string(),
            _ => return Err(ClusterError::Invalid(format!("df row not understood: {line}"))),
        };
        let pct = fields[3].trim_end_matches('%');
        let use_percent = if pct == "-" {
            0
        } else {
            pct.parse().map_err(|_| ClusterError::Invalid(format!("df use% not a number: {line}")))?
        };
        rows.push(DfRow {
            filesystem,
            size: fields[0].into(),
            used: fields[1].into(),
            avail: fields[2].into(),
            use_percent,
            mounted_on: fields[4..].join(" "),
        });
    }
    Ok(rows)
}

impl Cluster {
    /// Runs `df -h` in a running, ready pod of `deployment` and parses it
    /// (`kubectl exec deployment/hsof-main -- df -h`).
    pub async fn df(&self, deployment: &str) -> Result<DfReport, ClusterError> {
        let pod = self.running_pod_of(deployment).await?;
        let api: Api<Pod> = Api::namespaced(self.client.clone(), &self.namespace);
        let what = format!("exec df -h in pod {pod}");
        let params = AttachParams::default().stdin(false).stdout(true).stderr(true);
        let mut proc = api.exec(&pod, ["df", "-h"], &params).await.map_err(|e| ClusterError::from_kube(e, &what))?;
        let mut out = String::new();
        let mut err = String::new();
        if let Some(mut s) = proc.stdout() {
            s.read_to_string(&mut out).await.map_err(|e| ClusterError::Unreachable(format!("{what}: {e}")))?;
        }
        if let Some(mut s) = proc.stderr() {
            // stderr is advisory; a failure to read it must not hide stdout.
            let _ = s.read_to_string(&mut err).await;
        }
        let status = match proc.take_status() {
            Some(s) => s.await,
            None => None,
        };
        proc.join().await.map_err(|e| ClusterError::Unreachable(format!("{what}: {e}")))?;
        if let Some(st) = status.filter(|s| s.status.as_deref() == Some("Failure")) {
            return Err(ClusterError::Invalid(format!(
                "{what}: {}{}",
                st.message.unwrap_or_default(),
                if err.trim().is_empty() { String::new() } else { format!(" — {}", err.trim()) }
            )));
        }
        Ok(DfReport { pod, rows: parse_df(&out)? })
    }

    /// A running pod of `deployment` whose containers are all ready.
    pub async fn running_pod_of(&self, deployment: &str) -> Result<String, ClusterError> {
        let (dep, _) = self.deployment_and_sets(deployment).await?;
        let pods: Vec<Pod> = self.list_selected(&crate::Selection::of_deployment(&dep)?, "list pods").await?;
        pods.iter()
            .filter(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running"))
            .find(|p| {
                p.status.as_ref().and_then(|s| s.container_statuses.as_ref()).is_some_and(|c| c.iter().all(|c| c.ready))
            })
            .and_then(|p| p.metadata.name.clone())
            .ok_or_else(|| ClusterError::NotFound(format!("no running, ready pod of deployment {deployment}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gnu_df_parses_with_spaces_in_mount_points_and_wrapped_devices() {
        let text = "Filesystem      Size  Used Avail Use% Mounted on\noverlay          97G   41G   56G  43% /\n/dev/mapper/very-long-volume-name\n                492G  391G  101G  80% /models\nfuse             1.0P     0  1.0P   -% /mnt/my bucket\n";
        let rows = parse_df(text).unwrap_or_default();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].mounted_on, "/");
        assert_eq!(rows[0].use_percent, 43);
        assert_eq!(rows[1].filesystem, "/dev/mapper/very-long-volume-name");
        assert_eq!(rows[1].use_percent, 80);
        assert_eq!(rows[2].mounted_on, "/mnt/my bucket");
        assert_eq!(rows[2].use_percent, 0);
    }

    #[test]
    fn output_that_is_not_df_is_an_error_not_an_empty_table() {
        assert!(parse_df("").is_err());
        assert!(parse_df("sh: df: not found").is_err());
        assert!(parse_df("Filesystem Size Used Avail Use% Mounted on\ngarbage here\n").is_err());
    }
}
