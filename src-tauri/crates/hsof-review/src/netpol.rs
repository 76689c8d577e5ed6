//! What the namespace's NetworkPolicies let through, with the API's semantics: a pod is
//! isolated in a direction once a policy of that type selects it, and then only what some
//! selecting policy's rules allow gets through. `policyTypes` defaults to Ingress, plus
//! Egress when the policy has egress rules. In a rule, a missing or empty `from`/`to`
//! means every peer and missing or empty `ports` every port; a peer with only a
//! podSelector means pods of the policy's namespace, only a namespaceSelector every pod
//! of the matching namespaces, both the matching pods of the matching namespaces, and an
//! ipBlock addresses (outside the cluster, less its `except`).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::api::networking::v1::{NetworkPolicy, NetworkPolicyPeer, NetworkPolicyPort};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::{Deserialize, Serialize};

use crate::{selector, Finding, FindingSeverity, Inputs, ReviewArea, Unread};

/// One pod and the policies that govern it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct PodPolicies {
    /// The pod.
    pub pod: String,
    /// Its workload (`hsof`, the Deployment; the pod's own name when it has no owner).
    pub group: String,
    /// Policies isolating it for ingress (empty: it accepts from anywhere).
    pub ingress: Vec<String>,
    /// Policies isolating it for egress (empty: it may connect anywhere).
    pub egress: Vec<String>,
}

/// One policy, summarised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct PolicySummary {
    /// Its name.
    pub name: String,
    /// Its podSelector as text.
    pub selector: String,
    /// Pods it selects.
    pub selects: u32,
    /// `Ingress`, `Egress`.
    pub types: Vec<String>,
    /// The directions it denies by default (empty selector, no rules for that type).
    pub default_deny: Vec<String>,
}

/// A connection the policies allow, for the picture.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, specta::Type)]
pub struct Reach {
    /// Source: a workload, `other namespaces` or `outside`.
    pub from: String,
    /// Destination: a workload, `other namespaces` or `outside`.
    pub to: String,
    /// `TCP/8000, TCP/9090` or `all ports`.
    pub ports: String,
}

/// The network-policy review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct NetworkReport {
    /// Every pod with its policies.
    pub pods: Vec<PodPolicies>,
    /// Every policy.
    pub policies: Vec<PolicySummary>,
    /// The workloads of the picture, then `other namespaces` and `outside`.
    pub groups: Vec<String>,
    /// Who may talk to whom (between the groups).
    pub reach: Vec<Reach>,
    /// Whether the NetworkPolicies could be read (when not, nothing here says anything).
    pub policies_read: bool,
}

/// Pseudo-groups of the picture.
pub const OTHER_NAMESPACES: &str = "other namespaces";
/// Addresses outside the cluster.
pub const OUTSIDE: &str = "outside";

/// The workload a pod belongs to: its ReplicaSet's Deployment, its Job (a CronJob's run
/// number dropped), StatefulSet or DaemonSet; itself when it has no owner.
pub fn group_of(p: &Pod) -> String {
    let name = p.metadata.name.clone().unwrap_or_default();
    let Some(owner) = p
        .metadata
        .owner_references
        .iter()
        .flatten()
        .find(|o| o.controller == Some(true))
        .or_else(|| p.metadata.owner_references.iter().flatten().next())
    else {
        return name;
    };
    let trim = |s: &str| s.rsplit_once('-').map_or(s.to_string(), |(a, _)| a.to_string());
    match owner.kind.as_str() {
        "ReplicaSet" => trim(&owner.name),
        "Job" => match owner.name.rsplit_once('-') {
            Some((base, run)) if run.len() >= 8 && run.chars().all(|c| c.is_ascii_digit()) => base.to_string(),
            _ => owner.name.clone(),
        },
        _ => owner.name.clone(),
    }
}

pub(crate) fn types_of(p: &NetworkPolicy) -> Vec<String> {
    let spec = p.spec.as_ref();
    match spec.and_then(|s| s.policy_types.clone()) {
        Some(t) if !t.is_empty() => t,
        _ => {
            let mut t = vec!["Ingress".to_string()];
            // The API server adds Egress only for a policy with egress rules.
            if spec.and_then(|s| s.egress.as_ref()).is_some_and(|e| !e.is_empty()) {
                t.push("Egress".into());
            }
            t
        }
    }
}

/// One port as written: `TCP/8000`, `TCP/8000-8010`, `TCP/http`, `UDP/all` (a protocol
/// without a port).
pub fn port_text(p: &NetworkPolicyPort) -> String {
    let proto = p.protocol.clone().unwrap_or_else(|| "TCP".into());
    match (&p.port, p.end_port) {
        (None, _) => format!("{proto}/all"),
        (Some(IntOrString::Int(n)), Some(end)) => format!("{proto}/{n}-{end}"),
        (Some(IntOrString::Int(n)), None) => format!("{proto}/{n}"),
        (Some(IntOrString::String(s)), _) => format!("{proto}/{s}"),
    }
}

/// `TCP/8000, UDP/53` for a rule's ports; `all ports` when there are none.
pub fn ports_text(ports: Option<&Vec<NetworkPolicyPort>>) -> String {
    let list = ports.map(Vec::as_slice).unwrap_or_default();
    if list.is_empty() {
        return "all ports".into();
    }
    list.iter().map(port_text).collect::<Vec<_>>().join(", ")
}

pub(crate) struct Ctx<'a> {
    ns: &'a str,
    ns_labels: BTreeMap<String, BTreeMap<String, String>>,
    namespaces_read: bool,
}

impl Ctx<'_> {
    fn own_labels(&self) -> BTreeMap<String, String> {
        self.ns_labels
            .get(self.ns)
            .cloned()
            .unwrap_or_else(|| BTreeMap::from([("kubernetes.io/metadata.name".to_string(), self.ns.to_string())]))
    }

    /// Whether a peer admits pod `p` of the policy's own namespace.
    pub(crate) fn peer_has_pod(&self, peer: &NetworkPolicyPeer, p: &Pod) -> bool {
        let labels = p.metadata.labels.clone().unwrap_or_default();
        let pod_ok = |s: &LabelSelector| selector::matches(s, &labels);
        match (&peer.pod_selector, &peer.namespace_selector, &peer.ip_block) {
            (_, _, Some(_)) => false,
            (Some(ps), None, None) => pod_ok(ps),
            (ps, Some(ns), None) => selector::matches(ns, &self.own_labels()) && ps.as_ref().is_none_or(pod_ok),
            (None, None, None) => false,
        }
    }

    /// The other namespaces a peer admits (`None` for "unknown: namespaces not read").
    pub(crate) fn peer_other_namespaces(&self, peer: &NetworkPolicyPeer) -> Option<Vec<String>> {
        let ns_sel = peer.namespace_selector.as_ref()?;
        if !self.namespaces_read {
            return Some(vec![format!("namespaces matching {}", selector::text(ns_sel))]);
        }
        let names: Vec<String> = self
            .ns_labels
            .iter()
            .filter(|(n, l)| n.as_str() != self.ns && selector::matches(ns_sel, l))
            .map(|(n, _)| n.clone())
            .collect();
        (!names.is_empty()).then_some(names)
    }
}

pub(crate) fn peers_allow_pod(cx: &Ctx<'_>, peers: Option<&Vec<NetworkPolicyPeer>>, p: &Pod) -> bool {
    match peers {
        None => true,
        Some(v) if v.is_empty() => true,
        Some(v) => v.iter().any(|peer| cx.peer_has_pod(peer, p)),
    }
}

/// Builds the network report and its findings.
pub fn analyse(i: &Inputs, findings: &mut Vec<Finding>, unread: &mut Vec<Unread>) -> NetworkReport {
    let mut miss = |what: &str, why: &String| {
        unread.push(Unread { area: ReviewArea::NetworkPolicies, what: what.into(), why: why.clone() })
    };
    let policies = match &i.network_policies {
        Ok(p) => p.clone(),
        Err(why) => {
            miss("NetworkPolicies", why);
            return NetworkReport {
                pods: Vec::new(),
                policies: Vec::new(),
                groups: Vec::new(),
                reach: Vec::new(),
                policies_read: false,
            };
        }
    };
    let pods = match &i.pods {
        Ok(p) => p.clone(),
        Err(why) => {
            miss("Pods", why);
            Vec::new()
        }
    };
    let (ns_labels, namespaces_read) = match &i.namespaces {
        Ok(list) => (
            list.iter()
                .map(|n| (n.metadata.name.clone().unwrap_or_default(), n.metadata.labels.clone().unwrap_or_default()))
                .collect(),
            true,
        ),
        Err(why) => {
            miss("Namespaces (namespaceSelectors are not resolved to names)", why);
            (BTreeMap::new(), false)
        }
    };
    let cx = Ctx { ns: &i.namespace, ns_labels, namespaces_read };
    let mut push = |key: String, severity, title: String, evidence: String| {
        findings.push(Finding { key, area: ReviewArea::NetworkPolicies, severity, title, evidence });
    };

    // Valid policies only; a malformed selector is named and the policy left out.
    let mut valid: Vec<(&NetworkPolicy, Vec<String>)> = Vec::new();
    for p in &policies {
        let name = p.metadata.name.clone().unwrap_or_default();
        let spec = p.spec.clone().unwrap_or_default();
        let mut bad = spec.pod_selector.as_ref().and_then(selector::invalid);
        let peers = spec
            .ingress
            .iter()
            .flatten()
            .flat_map(|r| r.from.iter().flatten())
            .chain(spec.egress.iter().flatten().flat_map(|r| r.to.iter().flatten()));
        for peer in peers {
            bad = bad
                .or_else(|| peer.pod_selector.as_ref().and_then(selector::invalid))
                .or_else(|| peer.namespace_selector.as_ref().and_then(selector::invalid));
        }
        match bad {
            Some(why) => push(
                format!("net:malformed:{name}"),
                FindingSeverity::Warning,
                format!("NetworkPolicy {name} has a selector the API would refuse; left out of the analysis"),
                why,
            ),
            None => valid.push((p, types_of(p))),
        }
    }

    let selects = |p: &NetworkPolicy, pod: &Pod| {
        let labels = pod.metadata.labels.clone().unwrap_or_default();
        p.spec.as_ref().and_then(|s| s.pod_selector.as_ref()).is_none_or(|s| selector::matches(s, &labels))
    };
    let mut rows = Vec::new();
    for pod in &pods {
        let mut row = PodPolicies {
            pod: pod.metadata.name.clone().unwrap_or_default(),
            group: group_of(pod),
            ingress: Vec::new(),
            egress: Vec::new(),
        };
        for (p, types) in &valid {
            if selects(p, pod) {
                let name = p.metadata.name.clone().unwrap_or_default();
                if types.iter().any(|t| t == "Ingress") {
                    row.ingress.push(name.clone());
                }
                if types.iter().any(|t| t == "Egress") {
                    row.egress.push(name);
                }
            }
        }
        rows.push(row);
    }

    let mut summaries = Vec::new();
    for (p, types) in &valid {
        let name = p.metadata.name.clone().unwrap_or_default();
        let spec = p.spec.clone().unwrap_or_default();
        let sel = spec.pod_selector.clone().unwrap_or_default();
        let count = pods.iter().filter(|pod| selects(p, pod)).count();
        let mut deny = Vec::new();
        if selector::is_empty(&sel) {
            if types.iter().any(|t| t == "Ingress") && spec.ingress.as_ref().is_none_or(Vec::is_empty) {
                deny.push("Ingress".to_string());
            }
            if types.iter().any(|t| t == "Egress") && spec.egress.as_ref().is_none_or(Vec::is_empty) {
                deny.push("Egress".to_string());
            }
        }
        if count == 0 && i.pods.is_ok() {
            push(
                format!("net:selects-nothing:{name}"),
                FindingSeverity::Info,
                format!("NetworkPolicy {name} selects no pod"),
                format!("podSelector {}", selector::text(&sel)),
            );
        }
        let has = |t: &str| types.iter().any(|x| x == t);
        // Rules of a type the policy does not have are ignored by Kubernetes.
        for (n, rule) in spec.egress.iter().flatten().enumerate().filter(|_| has("Egress")) {
            let anywhere = rule.to.as_ref().is_none_or(Vec::is_empty)
                || rule.to.iter().flatten().any(|peer| {
                    peer.ip_block.as_ref().is_some_and(|b| {
                        (b.cidr == "0.0.0.0/0" || b.cidr == "::/0") && b.except.as_ref().is_none_or(Vec::is_empty)
                    })
                });
            if anywhere {
                let ports = ports_text(rule.ports.as_ref());
                let all = ports == "all ports";
                push(
                    format!("net:egress-anywhere:{name}:{ports}"),
                    if all { FindingSeverity::Warning } else { FindingSeverity::Info },
                    format!("NetworkPolicy {name} lets its pods connect anywhere on {ports}"),
                    format!("egress[{n}] has no `to` (or 0.0.0.0/0): every address, in or out of the cluster"),
                );
            }
        }
        for (n, rule) in spec.ingress.iter().flatten().enumerate().filter(|_| has("Ingress")) {
            let ports = ports_text(rule.ports.as_ref());
            if rule.from.as_ref().is_none_or(Vec::is_empty) {
                push(
                    format!("net:ingress-anyone:{name}:{ports}"),
                    FindingSeverity::Warning,
                    format!("NetworkPolicy {name} opens {ports} to every namespace and outside"),
                    format!("ingress[{n}] has no `from`: any source"),
                );
                continue;
            }
            for peer in rule.from.iter().flatten() {
                if let Some(names) = cx.peer_other_namespaces(peer) {
                    push(
                        format!("net:ingress-namespaces:{name}:{}", names.join(",")),
                        FindingSeverity::Info,
                        format!("NetworkPolicy {name} opens {ports} to namespace(s) {}", names.join(", ")),
                        format!(
                            "ingress[{n}] namespaceSelector {}",
                            peer.namespace_selector.as_ref().map(selector::text).unwrap_or_default()
                        ),
                    );
                }
                if let Some(b) = &peer.ip_block {
                    let except = b.except.clone().unwrap_or_default();
                    push(
                        format!("net:ingress-ipblock:{name}:{}", b.cidr),
                        FindingSeverity::Info,
                        format!("NetworkPolicy {name} opens {ports} to addresses {}", b.cidr),
                        if except.is_empty() {
                            format!("ingress[{n}] ipBlock {}", b.cidr)
                        } else {
                            format!("ingress[{n}] ipBlock {} except {}", b.cidr, except.join(", "))
                        },
                    );
                }
            }
        }
        summaries.push(PolicySummary {
            name,
            selector: selector::text(&sel),
            selects: count as u32,
            types: types.clone(),
            default_deny: deny,
        });
    }

    if i.pods.is_ok() {
        for dir in ["Ingress", "Egress"] {
            if !summaries.iter().any(|s| s.default_deny.iter().any(|d| d == dir)) {
                push(
                    format!("net:no-default-deny:{dir}"),
                    if dir == "Ingress" { FindingSeverity::Warning } else { FindingSeverity::Info },
                    format!("no default-deny {} policy in {}", dir.to_lowercase(), i.namespace),
                    "a policy with an empty podSelector and no rules of that type would deny what no other policy allows".into(),
                );
            }
        }
        let mut uncovered: BTreeMap<(String, &str), Vec<String>> = BTreeMap::new();
        let finished: std::collections::BTreeSet<String> = pods
            .iter()
            .filter(|p| matches!(p.status.as_ref().and_then(|s| s.phase.as_deref()), Some("Succeeded" | "Failed")))
            .filter_map(|p| p.metadata.name.clone())
            .collect();
        for r in rows.iter().filter(|r| !finished.contains(&r.pod)) {
            if r.ingress.is_empty() {
                uncovered.entry((r.group.clone(), "ingress")).or_default().push(r.pod.clone());
            }
            if r.egress.is_empty() {
                uncovered.entry((r.group.clone(), "egress")).or_default().push(r.pod.clone());
            }
        }
        for ((group, dir), pods) in uncovered {
            push(
                format!("net:uncovered:{dir}:{group}"),
                if dir == "ingress" { FindingSeverity::Warning } else { FindingSeverity::Info },
                format!("{group}: {} pod(s) selected by no {dir} policy", pods.len()),
                format!(
                    "{} {} {}",
                    pods.iter().take(5).cloned().collect::<Vec<_>>().join(", "),
                    if pods.len() == 1 { "is" } else { "are" },
                    if dir == "ingress" { "open to connections from anywhere" } else { "free to connect anywhere" }
                ),
            );
        }
    }

    let (groups, reach) = crate::picture::picture(&cx, &valid, &pods);
    NetworkReport { pods: rows, policies: summaries, groups, reach, policies_read: true }
}
