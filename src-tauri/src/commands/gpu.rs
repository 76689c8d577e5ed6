//! Local GPUs: the live reading with threshold states, and a device's history. The poller
//! samples every 2 s and sends each view as a `GpuSampled` event.

use crate::active::Ctx;
use chrono::Utc;
use hsof_core::gpu::{GpuHistory, GpuRange, GpuView};
use hsof_core::IpcError;
use serde::{Deserialize, Serialize};

/// Sent after each 2-second sample while a GPU is present.
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type, tauri_specta::Event)]
pub struct GpuSampled {
    /// The reading and each device's threshold states.
    pub view: GpuView,
}

/// The GPUs now (or why there are none) with each device's threshold states. Async so the
/// NVML read runs off the window's thread; it never fails (no GPU is a state).
#[tauri::command]
#[specta::specta]
pub async fn gpu_status(ctx: Ctx) -> Result<GpuView, IpcError> {
    Ok(ctx.gpu_status(Utc::now()))
}

/// One device's stored history over a range, about 300 buckets.
#[tauri::command]
#[specta::specta]
pub fn gpu_history(ctx: Ctx, uuid: String, range: GpuRange) -> Result<GpuHistory, IpcError> {
    Ok(ctx.gpu_history(&uuid, range, Utc::now())?)
}
