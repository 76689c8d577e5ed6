//! Kubernetes versions: the API server's and each node's kubelet against the version-skew
//! policy (<https://kubernetes.io/releases/version-skew-policy/>: a kubelet must not be
//! newer than the API server and may be up to three minor versions older — two before
//! 1.28), and each minor release's end of support from a dated table the user keeps
//! (`[upkeep] end_of_support`; the defaults are the dates kubernetes.io/releases
//! published, never fetched).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// `v1.30.4-gke.100` → `(1, 30)`.
pub fn minor_of(version: &str) -> Option<(u32, u32)> {
    let v = version.trim().trim_start_matches('v');
    let mut parts = v.split(['.', '-', '+']);
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.trim_end_matches(|c: char| !c.is_ascii_digit()).parse().ok()?;
    Some((major, minor))
}

/// The default end-of-support dates (`1.NN` → date), as published on kubernetes.io/releases.
pub const DEFAULT_END_OF_SUPPORT: &[(&str, &str)] = &[
    ("1.27", "2024-06-28"),
    ("1.28", "2024-10-28"),
    ("1.29", "2025-02-28"),
    ("1.30", "2025-06-28"),
    ("1.31", "2025-10-28"),
    ("1.32", "2026-02-28"),
    ("1.33", "2026-06-28"),
    ("1.34", "2026-10-27"),
    ("1.35", "2027-02-28"),
];

/// One component's version, judged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct Component {
    /// `api server` or the node's name.
    pub name: String,
    /// As reported (`v1.30.4`), or empty when it reports none.
    pub version: String,
    /// `ok`, `warn` (end of support within 60 days, or skew at the policy's limit), `fail`
    /// (unsupported, or skew outside the policy) or `unknown`.
    pub verdict: String,
    /// Why.
    pub note: String,
}

/// The versions review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct VersionReport {
    /// The API server, then every node.
    pub components: Vec<Component>,
    /// The end of support of the API server's release, when the table has it.
    pub end_of_support: Option<String>,
    /// What could not be read.
    pub unread: Vec<String>,
}

fn eos(table: &[(String, String)], minor: (u32, u32)) -> Option<NaiveDate> {
    let key = format!("{}.{}", minor.0, minor.1);
    table.iter().find(|(k, _)| *k == key).and_then(|(_, d)| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
}

fn support(table: &[(String, String)], minor: (u32, u32), today: NaiveDate) -> (String, String) {
    match eos(table, minor) {
        None => {
            ("unknown".into(), format!("no end-of-support date for {}.{} in [upkeep] end_of_support", minor.0, minor.1))
        }
        Some(d) if d < today => ("fail".into(), format!("{}.{} is out of support since {d}", minor.0, minor.1)),
        Some(d) if (d - today).num_days() <= 60 => {
            ("warn".into(), format!("{}.{} leaves support on {d}", minor.0, minor.1))
        }
        Some(d) => ("ok".into(), format!("supported until {d}")),
    }
}

/// Judges the API server's version and the nodes' kubelet versions (`(node, version)`;
/// an empty version is a node that reports none).
pub fn review(
    api: Result<String, String>,
    nodes: Result<Vec<(String, String)>, String>,
    table: &[(String, String)],
    today: NaiveDate,
) -> VersionReport {
    let mut out = VersionReport { components: Vec::new(), end_of_support: None, unread: Vec::new() };
    let server = match &api {
        Ok(v) => {
            let m = minor_of(v);
            let (verdict, note) = match m {
                Some(m) => support(table, m, today),
                None => ("unknown".into(), format!("`{v}` is not a Kubernetes version")),
            };
            out.end_of_support = m.and_then(|m| eos(table, m)).map(|d| d.to_string());
            out.components.push(Component { name: "api server".into(), version: v.clone(), verdict, note });
            m
        }
        Err(why) => {
            out.unread.push(format!("the API server's version: {why}"));
            None
        }
    };
    match nodes {
        Err(why) => out.unread.push(format!("nodes: {why}")),
        Ok(list) => {
            for (name, version) in list {
                let (verdict, note) = match (minor_of(&version), server) {
                    (None, _) if version.is_empty() => {
                        ("unknown".to_string(), "the node reports no kubelet version".to_string())
                    }
                    (None, _) => ("unknown".into(), format!("`{version}` is not a Kubernetes version")),
                    (Some(_), None) => ("unknown".into(), "the API server's version is not known".into()),
                    (Some(k), Some(s)) => skew(k, s),
                };
                out.components.push(Component { name, version, verdict, note });
            }
        }
    }
    out
}

/// A kubelet at `k` under an API server at `s`.
fn skew(k: (u32, u32), s: (u32, u32)) -> (String, String) {
    if k.0 != s.0 {
        return ("fail".into(), format!("major version {} under an API server of major {}", k.0, s.0));
    }
    let allowed = if s.1 >= 28 { 3 } else { 2 };
    if k.1 > s.1 {
        return ("fail".into(), format!("kubelet 1.{} is newer than the API server 1.{}: not supported", k.1, s.1));
    }
    let behind = s.1 - k.1;
    match behind {
        0 => ("ok".into(), "same minor version as the API server".into()),
        b if b < allowed => ("ok".into(), format!("{b} minor version(s) behind the API server (policy: up to {allowed})")),
        b if b == allowed => ("warn".into(), format!("{b} minor versions behind the API server: at the policy's limit, upgrade before the control plane moves")),
        b => ("fail".into(), format!("{b} minor versions behind the API server: outside the policy (up to {allowed})")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Vec<(String, String)> {
        DEFAULT_END_OF_SUPPORT.iter().map(|(a, b)| ((*a).to_string(), (*b).to_string())).collect()
    }

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    #[test]
    fn versions_parse_as_providers_write_them() {
        assert_eq!(minor_of("v1.30.4-gke.1200"), Some((1, 30)));
        assert_eq!(minor_of("v1.29.3+k3s1"), Some((1, 29)));
        assert_eq!(minor_of("1.31"), Some((1, 31)));
        assert_eq!(minor_of("v1.27+"), Some((1, 27)));
        assert_eq!(minor_of("latest"), None);
    }

    #[test]
    fn skew_follows_the_policy() {
        let r = review(
            Ok("v1.31.2".into()),
            Ok(vec![
                ("a".into(), "v1.31.0".into()),
                ("b".into(), "v1.28.9".into()),
                ("c".into(), "v1.27.1".into()),
                ("d".into(), "v1.32.0".into()),
                ("e".into(), String::new()),
            ]),
            &table(),
            day("2025-06-01"),
        );
        let v: Vec<&str> = r.components.iter().map(|c| c.verdict.as_str()).collect();
        assert_eq!(v, vec!["ok", "ok", "warn", "fail", "fail", "unknown"]);
        assert_eq!(r.end_of_support.as_deref(), Some("2025-10-28"));
        // Before 1.28 the policy allowed two minor versions.
        assert_eq!(skew((1, 24), (1, 26)).0, "warn");
        assert_eq!(skew((1, 23), (1, 26)).0, "fail");
    }

    #[test]
    fn end_of_support_from_the_table() {
        let r = review(Ok("v1.30.0".into()), Ok(vec![]), &table(), day("2025-07-01"));
        assert_eq!(r.components[0].verdict, "fail");
        let r = review(Ok("v1.30.0".into()), Ok(vec![]), &table(), day("2025-05-15"));
        assert_eq!(r.components[0].verdict, "warn");
        let r = review(Ok("v1.40.0".into()), Err("forbidden".into()), &table(), day("2025-05-15"));
        assert_eq!(r.components[0].verdict, "unknown");
        assert_eq!(r.unread, vec!["nodes: forbidden".to_string()]);
    }
}
