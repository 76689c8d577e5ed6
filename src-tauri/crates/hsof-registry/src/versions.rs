//! Which tag is the newest release: tags read as semantic versions (`1.5.0`, `v1.5`, `2`;
//! a `-suffix` is a pre-release, never "newest"); tags that are not versions (`latest`,
//! `main`, `sha-1a2b`) are counted and left out.

use std::cmp::Ordering;

/// A tag as a version: numbers and whether it is a pre-release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    /// Major, minor, patch (missing parts are 0).
    pub parts: [u64; 3],
    /// The pre-release suffix (`rc1`), if any.
    pub pre: Option<String>,
}

impl Version {
    /// `v1.2.3-rc1` → 1.2.3, pre `rc1`; `None` for a tag that is not a version.
    pub fn parse(tag: &str) -> Option<Self> {
        let t = tag.strip_prefix('v').unwrap_or(tag);
        let (nums, pre) = match t.split_once('-') {
            Some((n, p)) => (n, Some(p.to_string())),
            None => (t, None),
        };
        let nums = nums.split_once('+').map_or(nums, |(n, _)| n);
        let mut parts = [0u64; 3];
        let pieces: Vec<&str> = nums.split('.').collect();
        if pieces.is_empty() || pieces.len() > 3 {
            return None;
        }
        for (i, p) in pieces.iter().enumerate() {
            if p.is_empty() || !p.chars().all(|c| c.is_ascii_digit()) || p.len() > 9 {
                return None;
            }
            parts[i] = p.parse().ok()?;
        }
        Some(Self { parts, pre })
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        self.parts.cmp(&other.parts).then_with(|| match (&self.pre, &other.pre) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Greater,
            (Some(_), None) => Ordering::Less,
            (Some(a), Some(b)) => a.cmp(b),
        })
    }
}

/// The newest release among `tags` (pre-releases left out), and how many tags are not
/// versions at all.
pub fn newest(tags: &[String]) -> (Option<String>, usize) {
    let mut best: Option<(Version, &String)> = None;
    let mut other = 0;
    for t in tags {
        match Version::parse(t) {
            Some(v) if v.pre.is_none() => {
                if best.as_ref().is_none_or(|(b, _)| v > *b) {
                    best = Some((v, t));
                }
            }
            Some(_) => {}
            None => other += 1,
        }
    }
    (best.map(|(_, t)| t.clone()), other)
}

/// Whether `candidate` is a newer release than `running` (both versions; `false` when
/// either is not).
pub fn is_newer(candidate: &str, running: &str) -> bool {
    matches!((Version::parse(candidate), Version::parse(running)), (Some(c), Some(r)) if c > r)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(t: &[&str]) -> Vec<String> {
        t.iter().map(|s| (*s).to_string()).collect()
    }

    #[test]
    fn newest_by_semantic_version_not_by_text() {
        assert_eq!(newest(&tags(&["1.9.0", "1.10.0", "1.2.0"])), (Some("1.10.0".into()), 0));
        assert_eq!(
            newest(&tags(&["v1.5", "v1.5.1", "1.6.0-rc1", "latest", "main", "sha-1a2b3c"])),
            (Some("v1.5.1".into()), 3)
        );
        assert_eq!(newest(&tags(&["latest"])), (None, 1));
        assert!(is_newer("1.6.0", "1.5.9") && !is_newer("1.5.0", "1.5") && !is_newer("latest", "1.0"));
        assert!(Version::parse("1.2.3.4").is_none() && Version::parse("1..2").is_none());
        assert!(Version::parse("2.0.0-rc1").expect("v") < Version::parse("2.0.0").expect("v"));
    }
}
