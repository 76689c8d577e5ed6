use std::path::{Path, PathBuf};

use serde::Serialize;

/// Kubeconfig files and the contexts they define.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct KubeFacts {
    /// Files read (explicit path, `$KUBECONFIG` entries or `~/.kube/config`).
    pub sources: Vec<String>,
    /// Contexts found.
    pub contexts: Vec<KubeContext>,
    /// The kubeconfig's `current-context`.
    pub current_context: Option<String>,
    /// A problem reading them (parse error, unreadable file).
    pub error: Option<String>,
    /// What to do when none was found.
    pub hint: Option<String>,
}

/// One kubeconfig context.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct KubeContext {
    /// Context name.
    pub name: String,
    /// Cluster it points at.
    pub cluster: String,
    /// User (auth info) it uses.
    pub user: String,
    /// Default namespace, if set.
    pub namespace: Option<String>,
}

/// Finds and parses kubeconfig files: `explicit` if given, else `kubeconfig_env`
/// (`$KUBECONFIG`, `:`-separated), else `<home>/.kube/config`.
pub fn read_kubeconfig(explicit: Option<&Path>, kubeconfig_env: Option<&str>, home: Option<&Path>) -> KubeFacts {
    let candidates: Vec<PathBuf> = match (explicit, kubeconfig_env.filter(|v| !v.is_empty())) {
        (Some(p), _) => vec![p.to_path_buf()],
        (None, Some(env)) => std::env::split_paths(env).collect(),
        (None, None) => home.map(|h| vec![h.join(".kube").join("config")]).unwrap_or_default(),
    };
    let existing: Vec<PathBuf> = candidates.iter().filter(|p| p.exists()).cloned().collect();
    let mut facts = KubeFacts {
        sources: existing.iter().map(|p| p.display().to_string()).collect(),
        contexts: vec![],
        current_context: None,
        error: None,
        hint: None,
    };
    if existing.is_empty() {
        let looked = candidates.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ");
        facts.hint = Some(format!(
            "no kubeconfig found (looked at: {}). Add one with your cloud's CLI (e.g. `gcloud container clusters get-credentials`, `aws eks update-kubeconfig`) or set cluster.kubeconfig in the config",
            if looked.is_empty() { "nothing: HOME is unset".to_string() } else { looked }
        ));
        return facts;
    }
    let mut merged: Option<kube::config::Kubeconfig> = None;
    for path in &existing {
        // Through hsof-cluster's reader: a damaged file is an error, never a panic.
        match hsof_cluster::read_kubeconfig(Some(path)) {
            Ok(k) => {
                merged = Some(match merged.take() {
                    None => k,
                    Some(m) => match m.clone().merge(k) {
                        Ok(x) => x,
                        Err(e) => {
                            facts.error = Some(format!("{}: {e}", path.display()));
                            m
                        }
                    },
                })
            }
            Err(e) => {
                facts.error = Some(format!("{} could not be parsed: {}", path.display(), error_chain(&e)));
            }
        }
    }
    if let Some(k) = merged {
        facts.current_context = k.current_context.clone();
        facts.contexts = k
            .contexts
            .iter()
            .map(|c| KubeContext {
                name: c.name.clone(),
                cluster: c.context.as_ref().map(|x| x.cluster.clone()).unwrap_or_default(),
                user: c.context.as_ref().and_then(|x| x.user.clone()).unwrap_or_default(),
                namespace: c.context.as_ref().and_then(|x| x.namespace.clone()),
            })
            .collect();
    }
    facts
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(inner) = cur {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        cur = inner.source();
    }
    s
}
