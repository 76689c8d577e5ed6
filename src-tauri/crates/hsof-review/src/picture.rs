//! Who may talk to whom: for each pair of workloads (one pod standing for each), whether
//! the source's egress and the destination's ingress both let a connection through, and on
//! which ports — the intersection of what each side allows; plus what reaches in from other
//! namespaces and outside, and what goes out. Ports compare as written (`TCP/8080`,
//! `TCP/http`, `TCP/8000-8010`); `PROTO/all` (a protocol without a port) matches every port
//! of that protocol. Named ports are not resolved to numbers here.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::api::networking::v1::{NetworkPolicy, NetworkPolicyPort};

use crate::netpol::{group_of, peers_allow_pod, port_text, Ctx, Reach, OTHER_NAMESPACES, OUTSIDE};
use crate::selector;

/// What one side lets through: `None` every port, else these ports.
pub type Ports = Option<BTreeSet<String>>;

/// A rule's ports, one entry each.
pub fn ports_of(ports: Option<&Vec<NetworkPolicyPort>>) -> Ports {
    let list = ports.map(Vec::as_slice).unwrap_or_default();
    if list.is_empty() {
        return None;
    }
    Some(list.iter().map(port_text).collect())
}

/// What both sides let through; `Some(empty)` when nothing.
pub fn intersect(a: &Ports, b: &Ports) -> Ports {
    match (a, b) {
        (None, x) | (x, None) => x.clone(),
        (Some(a), Some(b)) => {
            let mut out = BTreeSet::new();
            for x in a {
                for y in b {
                    let proto = |p: &str| p.split('/').next().unwrap_or_default().to_string();
                    if x == y || (x.ends_with("/all") && proto(x) == proto(y)) {
                        out.insert(y.clone());
                    } else if y.ends_with("/all") && proto(x) == proto(y) {
                        out.insert(x.clone());
                    }
                }
            }
            Some(out)
        }
    }
}

/// The union of what several rules let through; `None` (nothing allowed) for no rule.
fn union(rules: Vec<Ports>) -> Option<Ports> {
    let mut out: Option<Ports> = None;
    for r in rules {
        out = Some(match (out, r) {
            (Some(None), _) | (_, None) => None,
            (None, Some(x)) => Some(x),
            (Some(Some(mut acc)), Some(x)) => {
                acc.extend(x);
                Some(acc)
            }
        });
    }
    out
}

/// `all ports` or the ports, for the screen.
pub fn text(p: &Ports) -> String {
    match p {
        None => "all ports".into(),
        Some(s) => s.iter().cloned().collect::<Vec<_>>().join(", "),
    }
}

fn selecting<'a>(valid: &'a [(&'a NetworkPolicy, Vec<String>)], pod: &Pod, dir: &str) -> Vec<&'a NetworkPolicy> {
    let labels = pod.metadata.labels.clone().unwrap_or_default();
    valid
        .iter()
        .filter(|(p, t)| {
            t.iter().any(|x| x == dir)
                && p.spec.as_ref().and_then(|s| s.pod_selector.as_ref()).is_none_or(|s| selector::matches(s, &labels))
        })
        .map(|(p, _)| *p)
        .collect()
}

/// Where a connection comes from or goes to.
#[derive(Clone, Copy)]
enum Peer<'a> {
    Pod(&'a Pod),
    OtherNamespaces,
    Outside,
}

fn peer_matches(
    cx: &Ctx<'_>,
    peers: Option<&Vec<k8s_openapi::api::networking::v1::NetworkPolicyPeer>>,
    who: Peer<'_>,
) -> bool {
    match who {
        Peer::Pod(p) => peers_allow_pod(cx, peers, p),
        Peer::OtherNamespaces => {
            peers.is_none_or(Vec::is_empty)
                || peers.into_iter().flatten().any(|peer| cx.peer_other_namespaces(peer).is_some())
        }
        Peer::Outside => {
            peers.is_none_or(Vec::is_empty) || peers.into_iter().flatten().any(|peer| peer.ip_block.is_some())
        }
    }
}

/// What `dst`'s ingress lets in from `src`: `None` nothing, `Some(ports)`.
fn ingress(cx: &Ctx<'_>, valid: &[(&NetworkPolicy, Vec<String>)], dst: &Pod, src: Peer<'_>) -> Option<Ports> {
    let pols = selecting(valid, dst, "Ingress");
    if pols.is_empty() {
        return Some(None);
    }
    let rules = pols
        .iter()
        .flat_map(|p| p.spec.as_ref().and_then(|s| s.ingress.as_ref()).into_iter().flatten())
        .filter(|r| peer_matches(cx, r.from.as_ref(), src))
        .map(|r| ports_of(r.ports.as_ref()))
        .collect();
    union(rules)
}

/// What `src`'s egress lets out to `dst`.
fn egress(cx: &Ctx<'_>, valid: &[(&NetworkPolicy, Vec<String>)], src: &Pod, dst: Peer<'_>) -> Option<Ports> {
    let pols = selecting(valid, src, "Egress");
    if pols.is_empty() {
        return Some(None);
    }
    let rules = pols
        .iter()
        .flat_map(|p| p.spec.as_ref().and_then(|s| s.egress.as_ref()).into_iter().flatten())
        .filter(|r| peer_matches(cx, r.to.as_ref(), dst))
        .map(|r| ports_of(r.ports.as_ref()))
        .collect();
    union(rules)
}

/// The workloads of the picture (then the two pseudo-groups) and what may reach what.
pub(crate) fn picture(
    cx: &Ctx<'_>,
    valid: &[(&NetworkPolicy, Vec<String>)],
    pods: &[Pod],
) -> (Vec<String>, Vec<Reach>) {
    let mut rep: BTreeMap<String, &Pod> = BTreeMap::new();
    for p in pods {
        rep.entry(group_of(p)).or_insert(p);
    }
    let mut reach = Vec::new();
    let mut add = |from: &str, to: &str, p: Option<Ports>| {
        if let Some(p) = p {
            if p.as_ref().is_none_or(|s| !s.is_empty()) {
                reach.push(Reach { from: from.into(), to: to.into(), ports: text(&p) });
            }
        }
    };
    for (from, s) in &rep {
        for (to, d) in &rep {
            let both = match (egress(cx, valid, s, Peer::Pod(d)), ingress(cx, valid, d, Peer::Pod(s))) {
                (Some(e), Some(i)) => Some(intersect(&e, &i)),
                _ => None,
            };
            add(from, to, both);
        }
        add(from, OTHER_NAMESPACES, egress(cx, valid, s, Peer::OtherNamespaces));
        add(from, OUTSIDE, egress(cx, valid, s, Peer::Outside));
    }
    for (to, d) in &rep {
        add(OTHER_NAMESPACES, to, ingress(cx, valid, d, Peer::OtherNamespaces));
        add(OUTSIDE, to, ingress(cx, valid, d, Peer::Outside));
    }
    let mut groups: Vec<String> = rep.keys().cloned().collect();
    groups.push(OTHER_NAMESPACES.into());
    groups.push(OUTSIDE.into());
    reach.sort();
    (groups, reach)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(v: &[&str]) -> Ports {
        Some(v.iter().map(|s| (*s).to_string()).collect())
    }

    #[test]
    fn ports_intersect_per_port_and_protocol() {
        assert_eq!(intersect(&None, &set(&["TCP/80"])), set(&["TCP/80"]));
        assert_eq!(intersect(&set(&["TCP/8000"]), &set(&["TCP/5432"])), set(&[]), "nothing in common");
        assert_eq!(intersect(&set(&["TCP/8000", "TCP/9090"]), &set(&["TCP/9090"])), set(&["TCP/9090"]));
        assert_eq!(intersect(&set(&["TCP/all"]), &set(&["TCP/443", "UDP/53"])), set(&["TCP/443"]));
        assert_eq!(union(vec![set(&["TCP/1"]), None]), Some(None), "a rule without ports opens every port");
        assert_eq!(union(vec![]), None, "no rule: nothing allowed");
        assert_eq!(text(&None), "all ports");
    }
}
