//! `kubectl top` from metrics.k8s.io (metrics-server), with a clear answer when it is absent.

use serde::Serialize;
use serde_json::Value;

use crate::{Cluster, ClusterError};

/// Usage of one pod or node.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct TopRow {
    /// Name.
    pub name: String,
    /// CPU in millicores.
    pub cpu_millicores: f64,
    /// Memory in bytes.
    pub memory_bytes: f64,
    /// CPU as a share of allocatable (nodes only), percent.
    pub cpu_pct: Option<f64>,
    /// Memory as a share of allocatable (nodes only), percent.
    pub memory_pct: Option<f64>,
}

/// Parses a CPU quantity into millicores: `250m`, `1`, `1.5`, `123456n`, `5u`.
pub fn cpu_millicores(q: &str) -> Option<f64> {
    let (num, scale) = match q.char_indices().last()? {
        (i, 'n') => (&q[..i], 1e-6),
        (i, 'u') => (&q[..i], 1e-3),
        (i, 'm') => (&q[..i], 1.0),
        _ => (q, 1000.0),
    };
    num.parse::<f64>().ok().map(|v| v * scale)
}

/// Parses a memory quantity into bytes: `512Mi`, `1Gi`, `123456Ki`, `1G`, `1000`.
pub fn memory_bytes(q: &str) -> Option<f64> {
    const UNITS: [(&str, f64); 10] = [
        ("Ki", 1024.0),
        ("Mi", 1_048_576.0),
        ("Gi", 1_073_741_824.0),
        ("Ti", 1_099_511_627_776.0),
        ("Pi", 1_125_899_906_842_624.0),
        ("k", 1e3),
        ("M", 1e6),
        ("G", 1e9),
        ("T", 1e12),
        ("P", 1e15),
    ];
    for (u, m) in UNITS {
        if let Some(n) = q.strip_suffix(u) {
            return n.parse::<f64>().ok().map(|v| v * m);
        }
    }
    q.parse::<f64>().ok()
}

impl Cluster {
    async fn metrics(&self, path: &str) -> Result<Value, ClusterError> {
        let req = http::Request::get(path).body(Vec::new()).map_err(|e| ClusterError::Invalid(e.to_string()))?;
        self.client.request::<Value>(req).await.map_err(|e| match ClusterError::from_kube(e, "metrics.k8s.io") {
            ClusterError::NotFound(_) => ClusterError::NotFound("metrics-server is not installed in this cluster (metrics.k8s.io answered 404): `kubectl top` and these figures need it".into()),
            other => other,
        })
    }

    /// `kubectl top pods` in the namespace (CPU and memory summed over containers).
    pub async fn top_pods(&self) -> Result<Vec<TopRow>, ClusterError> {
        let v = self.metrics(&format!("/apis/metrics.k8s.io/v1beta1/namespaces/{}/pods", self.namespace)).await?;
        let rows = v["items"].as_array().cloned().unwrap_or_default();
        Ok(rows
            .iter()
            .map(|p| {
                let cs = p["containers"].as_array().cloned().unwrap_or_default();
                let sum = |f: fn(&str) -> Option<f64>, k: &str| {
                    cs.iter().filter_map(|c| c["usage"][k].as_str().and_then(f)).sum()
                };
                TopRow {
                    name: p["metadata"]["name"].as_str().unwrap_or_default().into(),
                    cpu_millicores: sum(cpu_millicores, "cpu"),
                    memory_bytes: sum(memory_bytes, "memory"),
                    cpu_pct: None,
                    memory_pct: None,
                }
            })
            .collect())
    }

    /// `kubectl top nodes`, with usage as a share of allocatable.
    pub async fn top_nodes(&self) -> Result<Vec<TopRow>, ClusterError> {
        let (usage, nodes) =
            futures_util::future::join(self.metrics("/apis/metrics.k8s.io/v1beta1/nodes"), self.nodes()).await;
        let (usage, nodes) = (usage?, nodes?);
        Ok(usage["items"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|n| {
                let name = n["metadata"]["name"].as_str().unwrap_or_default().to_string();
                let cpu = n["usage"]["cpu"].as_str().and_then(cpu_millicores).unwrap_or(0.0);
                let mem = n["usage"]["memory"].as_str().and_then(memory_bytes).unwrap_or(0.0);
                let alloc = nodes.iter().find(|x| x.name == name);
                let pct =
                    |used: f64, total: Option<f64>| total.filter(|t| *t > 0.0).map(|t| (100.0 * used / t).floor());
                TopRow {
                    cpu_pct: pct(cpu, alloc.and_then(|a| cpu_millicores(&a.cpu))),
                    memory_pct: pct(mem, alloc.and_then(|a| memory_bytes(&a.memory))),
                    name,
                    cpu_millicores: cpu,
                    memory_bytes: mem,
                }
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_parse_like_kubernetes() {
        assert_eq!(cpu_millicores("250m"), Some(250.0));
        assert_eq!(cpu_millicores("2"), Some(2000.0));
        assert_eq!(cpu_millicores("1500000n"), Some(1.5));
        assert_eq!(memory_bytes("1Gi"), Some(1_073_741_824.0));
        assert_eq!(memory_bytes("512Mi"), Some(536_870_912.0));
        assert_eq!(memory_bytes("1G"), Some(1e9));
        assert_eq!(memory_bytes("lots"), None);
    }
}
