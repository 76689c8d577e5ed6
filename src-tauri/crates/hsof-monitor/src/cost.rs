//! The PromQL behind cost and capacity. Every series is hourly: a point at `t` holds the
//! increase (counters) or the mean (gauges) over the hour ending at `t`, so the cost
//! arithmetic (`hsof-cost`) adds hours into days, weeks and months in the team's time zone.

/// The queries for one namespace, with the label that names a series' node.
#[derive(Debug, Clone)]
pub struct CostQueries {
    ns: String,
    node: String,
}

/// The three cost sources, in the order they are tried.
pub const HSOF_COST_METRIC: &str = "hsof_compute_cost_dollars_total";

impl CostQueries {
    /// Queries for `namespace`; `node_label` names the node on kube-state-metrics,
    /// OpenCost and HSOF series (`node` by default).
    pub fn new(namespace: &str, node_label: &str) -> Self {
        Self {
            ns: namespace.replace('"', ""),
            node: node_label.replace(|c: char| !c.is_ascii_alphanumeric() && c != '_', ""),
        }
    }

    /// HSOF's own cost counter, increase per hour.
    pub fn hsof_cost(&self) -> String {
        format!("sum(increase({HSOF_COST_METRIC}[1h]))")
    }

    /// Datasets processed, increase per hour (counter resets handled by `increase`).
    pub fn datasets(&self) -> String {
        "sum(increase(hsof_datasets_processed_total[1h]))".into()
    }

    /// Requests served, increase per hour.
    pub fn requests(&self) -> String {
        "sum(increase(hsof_requests_total[1h]))".into()
    }

    /// OpenCost: the namespace's allocation of `resource` (`cpu`, `gpu`, `memory`) by node,
    /// mean over each hour (cores, GPUs, bytes).
    pub fn opencost_allocation(&self, resource: &str) -> String {
        let metric = match resource {
            "memory" => "container_memory_allocation_bytes",
            "gpu" => "container_gpu_allocation",
            _ => "container_cpu_allocation",
        };
        format!("sum by ({n}) (avg_over_time({metric}{{namespace=\"{ns}\"}}[1h]))", n = self.node, ns = self.ns)
    }

    /// OpenCost: each node's hourly price of `resource` (per core, per GPU, per GiB).
    pub fn opencost_price(&self, resource: &str) -> String {
        let metric = match resource {
            "memory" => "node_ram_hourly_cost",
            "gpu" => "node_gpu_hourly_cost",
            _ => "node_cpu_hourly_cost",
        };
        format!("max by ({n}) (avg_over_time({metric}[1h]))", n = self.node)
    }

    /// Whether OpenCost's node prices were in Prometheus over the last 35 days (instant).
    pub fn opencost_present(&self) -> String {
        "count(last_over_time(node_cpu_hourly_cost[35d])) or count(last_over_time(node_gpu_hourly_cost[35d]))".into()
    }

    /// Whether HSOF's cost counter is in Prometheus at all (instant, over the last 35 days).
    pub fn hsof_cost_present(&self) -> String {
        format!("count(last_over_time({HSOF_COST_METRIC}[35d]))")
    }

    /// The larger of request and use, summed over the namespace's containers, mean over each
    /// hour: CPU in cores.
    pub fn cpu_billed(&self) -> String {
        let req = format!(
            "sum by (pod, container) (kube_pod_container_resource_requests{{namespace=\"{}\",resource=\"cpu\"}})",
            self.ns
        );
        let used = format!(
            "sum by (pod, container) (rate(container_cpu_usage_seconds_total{{namespace=\"{}\",container!=\"\"}}[5m]))",
            self.ns
        );
        format!("sum(avg_over_time((({req} >= {used}) or {used} or {req})[1h:5m]))")
    }

    /// The same for memory, in GiB.
    pub fn memory_billed(&self) -> String {
        let req = format!(
            "sum by (pod, container) (kube_pod_container_resource_requests{{namespace=\"{}\",resource=\"memory\"}})",
            self.ns
        );
        let used = format!(
            "sum by (pod, container) (container_memory_working_set_bytes{{namespace=\"{}\",container!=\"\"}})",
            self.ns
        );
        format!("sum(avg_over_time((({req} >= {used}) or {used} or {req})[1h:5m])) / 1073741824")
    }

    /// GPUs requested by the namespace's pods, by node, mean over each hour.
    pub fn gpus_by_node(&self) -> String {
        format!(
            "sum by ({n}) (avg_over_time(kube_pod_container_resource_requests{{namespace=\"{ns}\",resource=\"nvidia_com_gpu\"}}[1h]))",
            n = self.node,
            ns = self.ns
        )
    }

    /// HSOF's GPU utilisation by node, mean over each hour (percent).
    pub fn gpu_util_by_node(&self) -> String {
        format!("avg by ({n}) (avg_over_time(hsof_gpu_utilization_percent[1h]))", n = self.node)
    }

    /// DCGM's GPU utilisation of the namespace's pods by node, mean over each hour (percent).
    pub fn dcgm_util_by_node(&self) -> String {
        format!(
            "avg by ({n}) (avg_over_time(DCGM_FI_DEV_GPU_UTIL{{namespace=\"{ns}\"}}[1h]))",
            n = self.node,
            ns = self.ns
        )
    }

    /// The 95th percentile over the last 7 days of a container's use, the highest over the
    /// workload's pods (`pods` a regex of its pod names): CPU cores.
    pub fn cpu_p95(&self, pods: &str, container: &str) -> String {
        format!(
            "max(quantile_over_time(0.95, sum by (pod) (rate(container_cpu_usage_seconds_total{{namespace=\"{}\",pod=~\"{pods}\",container=\"{container}\"}}[5m]))[7d:5m]))",
            self.ns
        )
    }

    /// The same for memory (working set bytes).
    pub fn memory_p95(&self, pods: &str, container: &str) -> String {
        format!(
            "max(quantile_over_time(0.95, sum by (pod) (container_memory_working_set_bytes{{namespace=\"{}\",pod=~\"{pods}\",container=\"{container}\"}})[7d:5m]))",
            self.ns
        )
    }

    /// GPUs in use per replica at the 95th percentile of 7 days: a pod's GPUs times their
    /// mean utilisation (a GPU at 30 % is 0.3 of a device busy).
    pub fn gpu_p95(&self, pods: &str) -> String {
        format!(
            "quantile_over_time(0.95, (avg(kube_pod_container_resource_requests{{namespace=\"{ns}\",pod=~\"{pods}\",resource=\"nvidia_com_gpu\"}}) * avg(hsof_gpu_utilization_percent) / 100)[7d:5m])",
            ns = self.ns
        )
    }

    /// An HPA's replicas over time: `current`, `desired`, `min` or `max` (kube-state-metrics).
    pub fn hpa_replicas(&self, hpa: &str, which: &str) -> String {
        let metric = match which {
            "current" => "kube_horizontalpodautoscaler_status_current_replicas",
            "min" => "kube_horizontalpodautoscaler_spec_min_replicas",
            "max" => "kube_horizontalpodautoscaler_spec_max_replicas",
            _ => "kube_horizontalpodautoscaler_status_desired_replicas",
        };
        format!("max({metric}{{namespace=\"{}\",horizontalpodautoscaler=\"{hpa}\"}})", self.ns)
    }

    /// P95 request latency, seconds, over each hour.
    pub fn latency_p95(&self) -> String {
        "histogram_quantile(0.95, sum by (le) (increase(hsof_request_duration_seconds_bucket[1h])))".into()
    }

    /// Error rate over each hour, percent of requests.
    pub fn error_rate(&self) -> String {
        "100 * sum(increase(hsof_requests_total{status=~\"5..\"}[1h])) / sum(increase(hsof_requests_total[1h]))".into()
    }

    /// The metrics regressions compare, each over one week (evaluated at week ends):
    /// `(id, name, unit, higher is better, query)`.
    pub fn weekly_metrics(&self) -> Vec<(&'static str, &'static str, &'static str, bool, String)> {
        vec![
            (
                "latency_p95",
                "P95 latency",
                "s",
                false,
                "histogram_quantile(0.95, sum by (le) (increase(hsof_request_duration_seconds_bucket[1w])))".into(),
            ),
            ("throughput", "Throughput", "datasets/h", true, "sum(increase(hsof_datasets_processed_total[1w])) / 168".into()),
            (
                "error_rate",
                "Error rate",
                "%",
                false,
                "100 * sum(increase(hsof_requests_total{status=~\"5..\"}[1w])) / sum(increase(hsof_requests_total[1w]))"
                    .into(),
            ),
            ("quality", "Selection quality", "score", true, "avg(avg_over_time(hsof_selection_quality_score[1w]))".into()),
        ]
    }

    /// Mean selection quality score over each hour.
    pub fn quality(&self) -> String {
        "avg(avg_over_time(hsof_selection_quality_score[1h]))".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_cannot_break_out_of_the_query() {
        let q = CostQueries::new("hs\"of", "no}de");
        assert!(q.gpus_by_node().contains("sum by (node)"));
        assert!(q.gpus_by_node().contains("namespace=\"hsof\""));
    }
}
