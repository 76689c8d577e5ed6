//! `[[clusters]]`: the clusters HSOF runs in, each with its kubeconfig context, role and
//! endpoints. A file without the list (today's single `[cluster]` and `[endpoints]`
//! sections) is one cluster, as before.

use serde::{Deserialize, Serialize};

use super::validate::ConfigProblem;
use super::Config;

/// What a cluster is for: the DR drill fails over from the primary to a `dr` cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, specta::Type, Default)]
#[serde(rename_all = "lowercase")]
pub enum ClusterRole {
    /// Serves production; drift is measured against it.
    #[default]
    Primary,
    /// The disaster-recovery region the monthly drill fails over to.
    Dr,
    /// Pre-production.
    Staging,
}

impl ClusterRole {
    /// As written in the file.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Primary => "primary",
            Self::Dr => "dr",
            Self::Staging => "staging",
        }
    }
}

/// One `[[clusters]]` entry. Empty keys take the `[cluster]` / `[endpoints]` value, except
/// the three endpoints, which are the cluster's own (empty: not configured for it yet;
/// `hsofctl connect --cluster NAME --save` finds them through its service proxy).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type, Default)]
#[serde(deny_unknown_fields, default)]
pub struct ClusterEntry {
    /// A short name such as `prod-eu` (lowercase letters, digits and `-`).
    pub name: String,
    /// `primary`, `dr` or `staging`.
    pub role: ClusterRole,
    /// Kubeconfig file; empty: `cluster.kubeconfig`.
    pub kubeconfig: String,
    /// Kubeconfig context; empty: the kubeconfig's current context.
    pub context: String,
    /// Namespace HSOF runs in; empty: `cluster.namespace`.
    pub namespace: String,
    /// HSOF health base URL or `k8s-service://NS/NAME:PORT`.
    pub hsof_health_url: String,
    /// Prometheus base URL or `k8s-service://NS/NAME:PORT`.
    pub prometheus_url: String,
    /// AlertManager base URL or `k8s-service://NS/NAME:PORT`.
    pub alertmanager_url: String,
    /// Grafana base URL; empty: `endpoints.grafana_url`.
    pub grafana_url: String,
}

/// A cluster as the app uses it: the entry's name and role, and the key under which its
/// monitoring history is kept in the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct ClusterRef {
    /// Name (`--cluster NAME`).
    pub name: String,
    /// Role.
    pub role: ClusterRole,
    /// The kubeconfig context (empty: the kubeconfig's current one).
    pub context: String,
    /// True for the single cluster of a file without `[[clusters]]`.
    pub implicit: bool,
}

impl ClusterRef {
    /// The prefix of this cluster's keys in the store (health polls, series, last known
    /// values): empty for a file's single implicit cluster, so an older profile's history
    /// stays where it is; the name for a listed one.
    pub fn scope(&self) -> &str {
        if self.implicit {
            ""
        } else {
            &self.name
        }
    }
}

/// The name the single cluster of a file without `[[clusters]]` goes by.
pub const IMPLICIT_NAME: &str = "default";

impl Config {
    /// The clusters this file names, in file order: the `[[clusters]]` list, or the single
    /// cluster of `[cluster]` / `[endpoints]` (named after its context, else `default`).
    pub fn cluster_refs(&self) -> Vec<ClusterRef> {
        if self.clusters.is_empty() {
            let name = if self.cluster.context.trim().is_empty() {
                IMPLICIT_NAME.to_string()
            } else {
                self.cluster.context.trim().to_string()
            };
            return vec![ClusterRef {
                name,
                role: ClusterRole::Primary,
                context: self.cluster.context.clone(),
                implicit: true,
            }];
        }
        self.clusters
            .iter()
            .map(|c| ClusterRef { name: c.name.clone(), role: c.role, context: c.context.clone(), implicit: false })
            .collect()
    }

    /// The cluster the app opens on: the primary, else the first.
    pub fn default_cluster(&self) -> ClusterRef {
        let refs = self.cluster_refs();
        refs.iter().find(|r| r.role == ClusterRole::Primary).unwrap_or(&refs[0]).clone()
    }

    /// The cluster named `name`, or an error that lists the names there are.
    pub fn cluster_ref(&self, name: &str) -> Result<ClusterRef, String> {
        let refs = self.cluster_refs();
        refs.iter().find(|r| r.name == name).cloned().ok_or_else(|| {
            format!(
                "no cluster named {name:?} in the configuration: {}",
                refs.iter().map(|r| format!("{} ({})", r.name, r.role.as_str())).collect::<Vec<_>>().join(", ")
            )
        })
    }

    /// The configuration as one cluster sees it: `[cluster]` and `[endpoints]` carry the
    /// entry's kubeconfig, context, namespace and endpoints. A file without the list is one
    /// cluster whatever it is called (its name follows its context, which onboarding may
    /// change): every name sees the file as it is.
    pub fn for_cluster(&self, name: &str) -> Option<Config> {
        if self.clusters.is_empty() {
            return Some(self.clone());
        }
        let e = self.clusters.iter().find(|c| c.name == name)?;
        let mut c = self.clone();
        if !e.kubeconfig.is_empty() {
            c.cluster.kubeconfig = e.kubeconfig.clone();
        }
        c.cluster.context = e.context.clone();
        if !e.namespace.is_empty() {
            c.cluster.namespace = e.namespace.clone();
        }
        c.endpoints.hsof_health_url = e.hsof_health_url.clone();
        c.endpoints.prometheus_url = e.prometheus_url.clone();
        c.endpoints.alertmanager_url = e.alertmanager_url.clone();
        if !e.grafana_url.is_empty() {
            c.endpoints.grafana_url = e.grafana_url.clone();
        }
        Some(c)
    }

    /// Writes `cluster`'s kubeconfig context and endpoints back where they live: its
    /// `[[clusters]]` entry, or `[cluster]` / `[endpoints]` for the implicit one. `seen` is
    /// what [`for_cluster`](Self::for_cluster) gave (edited by the caller).
    pub fn store_cluster_view(&mut self, name: &str, seen: &Config) {
        match self.clusters.iter_mut().find(|c| c.name == name) {
            None => {
                self.cluster.kubeconfig = seen.cluster.kubeconfig.clone();
                self.cluster.context = seen.cluster.context.clone();
                self.endpoints.hsof_health_url = seen.endpoints.hsof_health_url.clone();
                self.endpoints.prometheus_url = seen.endpoints.prometheus_url.clone();
                self.endpoints.alertmanager_url = seen.endpoints.alertmanager_url.clone();
            }
            Some(e) => {
                if seen.cluster.kubeconfig != self.cluster.kubeconfig {
                    e.kubeconfig = seen.cluster.kubeconfig.clone();
                }
                e.context = seen.cluster.context.clone();
                e.hsof_health_url = seen.endpoints.hsof_health_url.clone();
                e.prometheus_url = seen.endpoints.prometheus_url.clone();
                e.alertmanager_url = seen.endpoints.alertmanager_url.clone();
            }
        }
    }
}

/// The list's own problems: names (present, a DNS label, unique), at most one primary,
/// endpoint forms.
pub(super) fn validate_clusters(config: &Config, problem: &mut dyn FnMut(ConfigProblem)) {
    let mut seen = std::collections::BTreeSet::new();
    let mut say = |key: String, expected: &str, found: &str| {
        problem(ConfigProblem { key, expected: expected.into(), found: found.into() });
    };
    for (i, c) in config.clusters.iter().enumerate() {
        let key = |k: &str| format!("clusters[{i}].{k}");
        let label = !c.name.is_empty()
            && c.name.len() <= 63
            && c.name.chars().all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-')
            && !c.name.starts_with('-')
            && !c.name.ends_with('-');
        if !label {
            say(key("name"), "a name such as prod-eu: lowercase letters, digits and -, at most 63", &c.name);
        } else if !seen.insert(c.name.clone()) {
            say(key("name"), "a name no other cluster has", &c.name);
        }
        if !c.namespace.is_empty() && !super::validate::is_dns_label(&c.namespace) {
            say(key("namespace"), "a Kubernetes namespace name", &c.namespace);
        }
        for (k, v) in [
            ("hsof_health_url", &c.hsof_health_url),
            ("prometheus_url", &c.prometheus_url),
            ("alertmanager_url", &c.alertmanager_url),
        ] {
            if !v.is_empty() && !super::validate::is_source(v) {
                say(key(k), "an http(s):// URL or k8s-service://NAMESPACE/NAME[:PORT]", v);
            }
        }
        if !c.grafana_url.is_empty() && !super::validate::is_url(&c.grafana_url) {
            say(key("grafana_url"), "an http(s):// URL", &c.grafana_url);
        }
    }
    let primaries: Vec<&str> =
        config.clusters.iter().filter(|c| c.role == ClusterRole::Primary).map(|c| c.name.as_str()).collect();
    if primaries.len() > 1 {
        say("clusters".into(), "at most one cluster with role = \"primary\"", &primaries.join(", "));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, role: ClusterRole, context: &str) -> ClusterEntry {
        ClusterEntry {
            name: name.into(),
            role,
            context: context.into(),
            hsof_health_url: format!("http://{name}.example:8080"),
            prometheus_url: "k8s-service://monitoring/prometheus:web".into(),
            alertmanager_url: format!("http://am.{name}.example:9093"),
            ..ClusterEntry::default()
        }
    }

    #[test]
    fn a_file_without_the_list_is_one_cluster_seen_as_it_is() {
        let mut c = Config::default();
        assert_eq!(c.cluster_refs()[0].name, "default");
        c.cluster.context = "prod".into();
        let refs = c.cluster_refs();
        assert_eq!(refs.len(), 1);
        assert_eq!((refs[0].name.as_str(), refs[0].scope(), refs[0].implicit), ("prod", "", true));
        assert_eq!(c.for_cluster("prod"), Some(c.clone()));
        assert_eq!(c.for_cluster("default"), Some(c.clone()), "renamed by onboarding: still the one cluster");
        assert!(c.cluster_ref("other").expect_err("unknown").contains("prod (primary)"));
    }

    #[test]
    fn each_listed_cluster_sees_its_own_context_namespace_and_endpoints() {
        let mut c = Config::default();
        c.cluster.kubeconfig = "/k/shared".into();
        c.clusters = vec![entry("staging", ClusterRole::Staging, "stg"), entry("prod-eu", ClusterRole::Primary, "eu")];
        c.clusters[1].namespace = "hsof-prod".into();
        assert_eq!(c.default_cluster().name, "prod-eu", "the primary, not the first");
        let eu = c.for_cluster("prod-eu").expect("listed");
        assert_eq!(
            (eu.cluster.kubeconfig.as_str(), eu.cluster.context.as_str(), eu.cluster.namespace.as_str()),
            ("/k/shared", "eu", "hsof-prod")
        );
        assert_eq!(eu.endpoints.hsof_health_url, "http://prod-eu.example:8080");
        let stg = c.for_cluster("staging").expect("listed");
        assert_eq!(stg.cluster.namespace, "hsof", "empty takes [cluster]");
        assert_eq!(c.cluster_ref("staging").expect("ref").scope(), "staging");

        // A change made on the cluster's view goes back into its entry, nowhere else.
        let mut seen = stg.clone();
        seen.cluster.context = "stg-2".into();
        seen.endpoints.prometheus_url = "http://prom.stg:9090".into();
        let before = c.clone();
        c.store_cluster_view("staging", &seen);
        assert_eq!(c.clusters[0].context, "stg-2");
        assert_eq!(c.clusters[0].prometheus_url, "http://prom.stg:9090");
        assert_eq!(c.clusters[0].kubeconfig, "", "unchanged kubeconfig stays inherited");
        assert_eq!(
            (c.cluster.clone(), c.endpoints.clone(), c.clusters[1].clone()),
            (before.cluster, before.endpoints, before.clusters[1].clone())
        );
    }

    #[test]
    fn the_list_is_written_as_array_tables_and_read_back() {
        let c = Config {
            clusters: vec![entry("prod-eu", ClusterRole::Primary, "eu"), entry("dr-us", ClusterRole::Dr, "us")],
            ..Config::default()
        };
        let text = super::super::render(&c);
        assert_eq!(text.lines().filter(|l| *l == "[[clusters]]").count(), 2, "{text}");
        assert!(text.contains("role = \"dr\""), "{text}");
        let back = super::super::parse(std::path::Path::new("/t/config.toml"), &text).expect("parses");
        assert_eq!(back, c);
        assert!(super::super::validate(&back).is_empty(), "{:?}", super::super::validate(&back));
        // The default file says the list exists and is empty.
        assert!(super::super::render(&Config::default()).contains("clusters = []"));
    }

    #[test]
    fn names_must_be_labels_unique_and_one_primary_at_most() {
        let mut c = Config {
            clusters: vec![
                entry("prod-eu", ClusterRole::Primary, "a"),
                entry("prod-eu", ClusterRole::Dr, "b"),
                entry("Prod_US", ClusterRole::Primary, "c"),
                entry("", ClusterRole::Staging, "d"),
            ],
            ..Config::default()
        };
        c.clusters[3].prometheus_url = "prometheus:9090".into();
        let problems = super::super::validate(&c);
        let keys: Vec<&str> = problems.iter().map(|p| p.key.as_str()).collect();
        assert!(keys.contains(&"clusters[1].name"), "{problems:?}");
        assert!(keys.contains(&"clusters[2].name"), "{problems:?}");
        assert!(keys.contains(&"clusters[3].name"), "{problems:?}");
        assert!(keys.contains(&"clusters[3].prometheus_url"), "{problems:?}");
        let primary = problems.iter().find(|p| p.key == "clusters").expect("two primaries");
        assert_eq!(primary.found, "prod-eu, Prod_US");
    }
}
