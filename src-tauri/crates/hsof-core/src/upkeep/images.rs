//! The images the namespace runs against their registries: the tags each registry offers,
//! the newest release by semantic version and its age, the running one's age, and whether
//! the tag still points at the digest that runs (a moved tag). Credentials come from the
//! pods' pull secrets, read for this check and dropped after it.

use std::time::Duration;

use chrono::{DateTime, Utc};
use hsof_registry::{versions, Client, ImageRef};
use serde::{Deserialize, Serialize};

use hsof_cluster::RunningImage;

use crate::AppContext;

/// One running image against its registry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct ImageUpdate {
    /// As the pods name it.
    pub image: String,
    /// The registry host.
    pub registry: String,
    /// The tag running, if named.
    pub running_tag: Option<String>,
    /// The digest the kubelet reports running.
    pub running_digest: Option<String>,
    /// The digest the tag points at now.
    pub tag_digest: Option<String>,
    /// The tag now points elsewhere than what runs.
    pub moved: bool,
    /// When the running tag's image was built (RFC 3339).
    pub running_created: Option<String>,
    /// The newest release by semantic version.
    pub newest: Option<String>,
    /// When it was built (RFC 3339).
    pub newest_created: Option<String>,
    /// Whether it is newer than the running tag.
    pub newer: bool,
    /// Tags in the repository.
    pub tags: u32,
    /// Of those, tags that are not versions (`latest`, `main`, …).
    pub not_versions: u32,
    /// Why the registry could not be asked, if so.
    pub error: Option<String>,
}

fn ts(t: Option<DateTime<Utc>>) -> Option<String> {
    t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

async fn one(client: &Client, image: &str, running_digest: Option<String>) -> ImageUpdate {
    let mut u = ImageUpdate {
        image: image.to_string(),
        registry: String::new(),
        running_tag: None,
        running_digest: running_digest.clone(),
        tag_digest: None,
        moved: false,
        running_created: None,
        newest: None,
        newest_created: None,
        newer: false,
        tags: 0,
        not_versions: 0,
        error: None,
    };
    let Some(r) = ImageRef::parse(image) else {
        u.error = Some(format!("`{image}` is not an image reference"));
        return u;
    };
    u.registry = r.registry.clone();
    u.running_tag = r.tag.clone();
    let tags = match client.tags(&r).await {
        Ok(t) => t,
        Err(e) => {
            u.error = Some(e.to_string());
            return u;
        }
    };
    u.tags = tags.len() as u32;
    let (newest, other) = versions::newest(&tags);
    u.not_versions = other as u32;
    if let Some(tag) = &r.tag {
        match client.digest(&r, tag).await {
            Ok(d) => {
                u.moved = running_digest.as_ref().is_some_and(|rd| *rd != d);
                u.tag_digest = Some(d);
            }
            Err(e) => u.error = Some(e.to_string()),
        }
        u.running_created = ts(client.created(&r, r.digest.as_deref().unwrap_or(tag)).await.ok().flatten());
        u.newer = newest.as_deref().is_some_and(|n| versions::is_newer(n, tag));
    }
    if let Some(n) = &newest {
        u.newest_created = ts(client.created(&r, n).await.ok().flatten());
    }
    u.newest = newest;
    u
}

impl AppContext {
    /// The images `running` against their registries, and what could not be read.
    pub(super) async fn image_updates(
        &self,
        cluster: &hsof_cluster::Cluster,
        running: &[RunningImage],
    ) -> (Vec<ImageUpdate>, Vec<String>) {
        let mut names: Vec<String> = running.iter().flat_map(|r| r.pull_secrets.clone()).collect();
        names.sort();
        names.dedup();
        let (creds, mut problems) = cluster.registry_credentials(&names).await;
        let timeout = Duration::from_secs(u64::from(self.config().config.endpoints.request_timeout_secs).max(1));
        let client = match Client::new(creds, timeout) {
            Ok(c) => c,
            Err(e) => {
                problems.push(e.to_string());
                return (Vec::new(), problems);
            }
        };
        let list =
            futures_util::future::join_all(running.iter().map(|r| one(&client, &r.image, r.digest.clone()))).await;
        (list, problems)
    }
}
