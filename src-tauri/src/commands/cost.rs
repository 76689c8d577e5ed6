//! The Cost & Capacity screen: cost per dataset, the budget and idle GPUs; right-sizing,
//! autoscaling, growth, patterns and regressions.

use chrono::Utc;
use hsof_core::cost::{CapacityView, CostView};
use hsof_core::time::Bound;
use hsof_core::IpcError;

use crate::active::Ctx;

/// Cost of HSOF in the window's cluster.
#[tauri::command]
#[specta::specta]
pub async fn cost_view(ctx: Ctx) -> Result<CostView, IpcError> {
    Ok(ctx.cost_view(Utc::now()).await?)
}

/// Capacity of HSOF in the window's cluster; `baseline_from`/`baseline_to` (dates in the
/// team time zone) choose the regression baseline, default the last quarter.
#[tauri::command]
#[specta::specta]
pub async fn capacity_view(
    ctx: Ctx,
    baseline_from: Option<String>,
    baseline_to: Option<String>,
) -> Result<CapacityView, IpcError> {
    let now = Utc::now();
    let baseline = match (baseline_from, baseline_to) {
        (Some(a), Some(b)) => Some((
            ctx.parse_when(&a, "baseline from", now, Bound::Start)?,
            ctx.parse_when(&b, "baseline to", now, Bound::End)?,
        )),
        (None, None) => None,
        _ => return Err(hsof_core::Error::InvalidInput("a baseline needs both its start and its end".into()).into()),
    };
    Ok(ctx.capacity_view(now, None, baseline).await?)
}
