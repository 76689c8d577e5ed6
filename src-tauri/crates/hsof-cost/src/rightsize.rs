//! Right-sizing: each container's request against the 95th percentile of its use.

use std::cmp::Ordering;

use crate::num;

/// Hours in an average month (8760 / 12).
pub const HOURS_PER_MONTH: f64 = 730.0;

const MIB: f64 = 1024.0 * 1024.0;
const GIB: f64 = 1024.0 * MIB;

/// A resource a container requests: CPU in cores, memory in bytes, GPUs in devices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum CostResource {
    /// CPU, in cores.
    Cpu,
    /// Memory, in bytes.
    Memory,
    /// GPUs, in whole devices.
    Gpu,
}

/// One container's request, limit and use of one resource over the window.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, specta::Type)]
pub struct ContainerUsage {
    /// Deployment, StatefulSet or Job name.
    pub workload: String,
    /// Container name.
    pub container: String,
    /// Mean number of replicas over the window.
    pub replicas: f64,
    /// Which resource.
    pub resource: CostResource,
    /// Request per replica (cores, bytes or devices).
    pub request: Option<f64>,
    /// Limit per replica.
    pub limit: Option<f64>,
    /// 95th percentile of use per replica over the window.
    pub p95: Option<f64>,
    /// Highest use per replica over the window.
    pub max: Option<f64>,
    /// Price of one unit for one hour: per core-hour, per GiB-hour (memory) or per GPU-hour.
    pub price_per_unit_hour: Option<f64>,
}

/// How a request compares with use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum SizingVerdict {
    /// The recommendation is below 80 % of the request: money reserved and not used.
    Over,
    /// The 95th percentile of use is above the request.
    Under,
    /// The request fits the use.
    Right,
    /// No request is set (a recommendation is still made).
    NoRequest,
    /// No usage samples: nothing to size from.
    NoData,
}

/// One container's sizing verdict and recommendation for one resource.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, specta::Type)]
pub struct RightSizing {
    /// Workload name.
    pub workload: String,
    /// Container name.
    pub container: String,
    /// Which resource.
    pub resource: CostResource,
    /// Request per replica.
    pub request: Option<f64>,
    /// Limit per replica.
    pub limit: Option<f64>,
    /// 95th percentile of use per replica.
    pub p95: Option<f64>,
    /// p95 × (1 + headroom), rounded up: CPU to 10 millicores (at least 10m), memory to
    /// 16 MiB (at least 16Mi), GPUs to a whole device (at least 1 when any is used).
    pub recommended: Option<f64>,
    /// The recommendation as a Kubernetes quantity: `250m`, `2`, `1536Mi`, `2Gi`, `1`.
    pub recommended_text: Option<String>,
    /// (request − recommended) × price per unit-hour × 730 hours × replicas, when
    /// over-provisioned and priced (memory priced per GiB).
    pub monthly_saving: Option<f64>,
    /// The verdict.
    pub verdict: SizingVerdict,
    /// Why, in words, with the numbers.
    pub reason: String,
}

/// The recommendation for a 95th percentile: the value and its Kubernetes quantity.
fn recommend(resource: CostResource, p95: f64, headroom: f64) -> (f64, String) {
    let want = p95.max(0.0) * (1.0 + headroom.max(0.0));
    match resource {
        CostResource::Cpu => {
            let milli = (((want * 100.0) - 1e-9).ceil().max(1.0) * 10.0) as u64;
            let text = if milli.is_multiple_of(1000) { format!("{}", milli / 1000) } else { format!("{milli}m") };
            (milli as f64 / 1000.0, text)
        }
        CostResource::Memory => {
            let mi = ((want / (16.0 * MIB) - 1e-9).ceil().max(1.0) as u64) * 16;
            let text = if mi.is_multiple_of(1024) { format!("{}Gi", mi / 1024) } else { format!("{mi}Mi") };
            (mi as f64 * MIB, text)
        }
        CostResource::Gpu => {
            let n = if p95 > 0.0 { (want - 1e-9).ceil().max(1.0) } else { 0.0 };
            (n, format!("{n:.0}"))
        }
    }
}

/// An amount in words: `250m`, `1.5 cores`, `512 MiB`, `2 GiB`, `1 GPU`.
fn show(resource: CostResource, v: f64) -> String {
    match resource {
        CostResource::Cpu if v < 1.0 => format!("{:.0}m", v * 1000.0),
        CostResource::Cpu => format!("{} cores", num(v)),
        CostResource::Memory if v >= GIB => format!("{} GiB", num(v / GIB)),
        CostResource::Memory => format!("{} MiB", num(v / MIB)),
        CostResource::Gpu if v == 1.0 => "1 GPU".to_string(),
        CostResource::Gpu => format!("{} GPUs", num(v)),
    }
}

/// Units the price is per: memory is priced per GiB.
fn priced_units(resource: CostResource, v: f64) -> f64 {
    match resource {
        CostResource::Memory => v / GIB,
        CostResource::Cpu | CostResource::Gpu => v,
    }
}

/// Sizes each container's request from its 95th percentile of use.
///
/// Recommended = p95 × (1 + `headroom`), rounded up (see [`RightSizing::recommended`]).
/// Verdict: no p95 → no data; no request (or a request of 0) → no request; p95 above the
/// request → under; recommended below 80 % of the request → over; otherwise right. When
/// a limit is set and p95 is within 10 % of it the reason says so: CPU gets throttled at
/// its limit, memory gets the container OOM-killed. Sorted by monthly saving, largest
/// first, then under-provisioned before the rest.
pub fn right_size(rows: &[ContainerUsage], headroom: f64) -> Vec<RightSizing> {
    let mut out: Vec<RightSizing> = rows.iter().map(|r| size_one(r, headroom)).collect();
    out.sort_by(|a, b| {
        let by_saving = match (a.monthly_saving, b.monthly_saving) {
            (Some(x), Some(y)) => y.total_cmp(&x),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        };
        by_saving
            .then_with(|| rank(a.verdict).cmp(&rank(b.verdict)))
            .then_with(|| a.workload.cmp(&b.workload))
            .then_with(|| a.container.cmp(&b.container))
    });
    out
}

/// Order of the verdicts after the savings: the urgent ones first.
fn rank(v: SizingVerdict) -> u8 {
    match v {
        SizingVerdict::Under => 0,
        SizingVerdict::NoRequest => 1,
        SizingVerdict::Over => 2,
        SizingVerdict::Right => 3,
        SizingVerdict::NoData => 4,
    }
}

/// Sizes one container and resource.
fn size_one(r: &ContainerUsage, headroom: f64) -> RightSizing {
    let res = r.resource;
    let rec = r.p95.filter(|p| p.is_finite()).map(|p| recommend(res, p, headroom));
    let request = r.request.filter(|q| q.is_finite() && *q > 0.0);
    let pct = format!("{:.0} %", headroom * 100.0);
    let mut monthly_saving = None;
    let (verdict, mut reason) = match (r.p95.filter(|p| p.is_finite()), request, &rec) {
        (Some(p95), _, Some((rv, rt))) => match request {
            None => (
                SizingVerdict::NoRequest,
                format!(
                    "no request set, so the scheduler reserves nothing for it; p95 use is {}: request {rt} \
                     (p95 + {pct} headroom, rounded up)",
                    show(res, p95)
                ),
            ),
            Some(q) if p95 > q => (
                SizingVerdict::Under,
                format!(
                    "p95 use {} is above the request {}: the node can be overcommitted and the container \
                     squeezed; request {rt} (p95 + {pct} headroom, rounded up)",
                    show(res, p95),
                    show(res, q)
                ),
            ),
            Some(q) if *rv < 0.8 * q => {
                let price = r.price_per_unit_hour.filter(|p| p.is_finite() && *p >= 0.0);
                monthly_saving = price.map(|p| priced_units(res, q - rv) * p * HOURS_PER_MONTH * r.replicas.max(0.0));
                let saving = match monthly_saving {
                    Some(s) => format!(", saving {} a month over {} replicas", num(s), num(r.replicas)),
                    None => " (no price configured for this resource, so no saving is shown)".to_string(),
                };
                (
                    SizingVerdict::Over,
                    format!(
                        "p95 use {} is {:.0} % of the request {}: {rt} (p95 + {pct} headroom, rounded up) \
                         would do{saving}",
                        show(res, p95),
                        p95 / q * 100.0,
                        show(res, q)
                    ),
                )
            }
            Some(q) => (
                SizingVerdict::Right,
                format!(
                    "p95 use {} fits the request {}: the recommendation {rt} is at least 80 % of it",
                    show(res, p95),
                    show(res, q)
                ),
            ),
        },
        _ => (SizingVerdict::NoData, "no usage samples in the window: nothing to size from".to_string()),
    };
    if let (Some(p95), Some(limit)) = (r.p95, r.limit.filter(|l| l.is_finite() && *l > 0.0)) {
        if p95 >= 0.9 * limit {
            let risk = match res {
                CostResource::Cpu => "throttling risk (CPU)",
                CostResource::Memory => "OOM kill risk (memory)",
                CostResource::Gpu => "no headroom left",
            };
            reason.push_str(&format!(
                "; p95 within 10 % of the limit ({} of {}): {risk}",
                show(res, p95),
                show(res, limit)
            ));
        }
    }
    RightSizing {
        workload: r.workload.clone(),
        container: r.container.clone(),
        resource: res,
        request: r.request,
        limit: r.limit,
        p95: r.p95,
        recommended: rec.as_ref().map(|x| x.0),
        recommended_text: rec.map(|x| x.1),
        monthly_saving,
        verdict,
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(resource: CostResource, request: Option<f64>, p95: Option<f64>, price: Option<f64>) -> ContainerUsage {
        ContainerUsage {
            workload: "engine".to_string(),
            container: "main".to_string(),
            replicas: 2.0,
            resource,
            request,
            limit: None,
            p95,
            max: p95,
            price_per_unit_hour: price,
        }
    }

    #[test]
    fn recommendations_round_up_to_kubernetes_steps() {
        assert_eq!(recommend(CostResource::Cpu, 0.2, 0.15), (0.23, "230m".to_string()));
        assert_eq!(recommend(CostResource::Cpu, 0.201, 0.15).1, "240m");
        assert_eq!(recommend(CostResource::Cpu, 0.0, 0.15).1, "10m");
        assert_eq!(recommend(CostResource::Cpu, 1.74, 0.15).1, "2010m");
        assert_eq!(recommend(CostResource::Cpu, 1.739, 0.15).1, "2");
        assert_eq!(recommend(CostResource::Memory, 1000.0 * MIB, 0.15).1, "1152Mi");
        assert_eq!(recommend(CostResource::Memory, 1780.0 * MIB, 0.15).1, "2Gi");
        assert_eq!(recommend(CostResource::Memory, 0.0, 0.15).1, "16Mi");
        assert_eq!(recommend(CostResource::Gpu, 0.3, 0.15), (1.0, "1".to_string()));
        assert_eq!(recommend(CostResource::Gpu, 1.0, 0.15), (2.0, "2".to_string()));
        assert_eq!(recommend(CostResource::Gpu, 0.0, 0.15), (0.0, "0".to_string()));
    }

    #[test]
    fn over_provisioned_cpu_saves_money() {
        // Request 2 cores, p95 0.4 → 460m; saving (2 − 0.46) × 0.05 × 730 × 2.
        let r = right_size(&[usage(CostResource::Cpu, Some(2.0), Some(0.4), Some(0.05))], 0.15);
        assert_eq!(r[0].verdict, SizingVerdict::Over);
        assert_eq!(r[0].recommended_text.as_deref(), Some("460m"));
        let want = (2.0 - 0.46) * 0.05 * 730.0 * 2.0;
        assert!((r[0].monthly_saving.expect("priced") - want).abs() < 1e-9);
    }

    #[test]
    fn memory_is_priced_per_gib() {
        // Request 4 GiB, p95 1000 MiB → 1152 MiB; saving (4 − 1.125) GiB × 0.01 × 730 × 2.
        let r = right_size(&[usage(CostResource::Memory, Some(4.0 * GIB), Some(1000.0 * MIB), Some(0.01))], 0.15);
        assert_eq!(r[0].verdict, SizingVerdict::Over);
        let want = (4.0 - 1.125) * 0.01 * 730.0 * 2.0;
        assert!((r[0].monthly_saving.expect("priced") - want).abs() < 1e-9);
    }

    #[test]
    fn verdicts_and_order() {
        let rows = [
            usage(CostResource::Cpu, Some(1.0), Some(0.85), Some(0.05)),
            usage(CostResource::Cpu, Some(0.5), Some(0.6), None),
            usage(CostResource::Memory, None, Some(100.0 * MIB), None),
            usage(CostResource::Gpu, Some(1.0), None, None),
            usage(CostResource::Gpu, Some(4.0), Some(1.0), Some(2.0)),
        ];
        let r = right_size(&rows, 0.15);
        let verdicts: Vec<SizingVerdict> = r.iter().map(|x| x.verdict).collect();
        use SizingVerdict::*;
        assert_eq!(verdicts, vec![Over, Under, NoRequest, Right, NoData]);
        assert_eq!(r[0].monthly_saving, Some(2.0 * 2.0 * 730.0 * 2.0));
        assert_eq!(r[2].recommended_text.as_deref(), Some("128Mi"));
        assert_eq!(r[4].recommended, None);
    }

    #[test]
    fn near_the_limit_is_named() {
        let mut u = usage(CostResource::Memory, Some(1.0 * GIB), Some(0.95 * GIB), None);
        u.limit = Some(1.0 * GIB);
        let r = right_size(&[u], 0.15);
        assert_eq!(r[0].verdict, SizingVerdict::Right);
        assert!(r[0].reason.contains("p95 within 10 % of the limit"), "{}", r[0].reason);
        assert!(r[0].reason.contains("OOM kill"), "{}", r[0].reason);
    }
}
