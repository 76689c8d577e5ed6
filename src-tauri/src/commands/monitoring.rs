use crate::active::Ctx;
use chrono::Utc;
use hsof_core::monitoring::{
    AlertsView, ChartKind, ChartView, Checklist, HealthView, KeyMetricsView, MorningView, SloReport, ThresholdView,
};
use hsof_core::{os_user, Error, IpcError};

/// Polls HSOF's health endpoints now.
#[tauri::command]
#[specta::specta]
pub async fn health_check(ctx: Ctx) -> Result<HealthView, IpcError> {
    Ok(ctx.health_check(Utc::now).await?)
}

/// The runbook's key metrics (last known, marked stale, when Prometheus is away).
#[tauri::command]
#[specta::specta]
pub async fn key_metrics(ctx: Ctx) -> Result<KeyMetricsView, IpcError> {
    Ok(ctx.key_metrics(Utc::now()).await?)
}

/// Active alerts by severity, and silences.
#[tauri::command]
#[specta::specta]
pub async fn alerts(ctx: Ctx) -> Result<AlertsView, IpcError> {
    Ok(ctx.alerts(Utc::now()).await?)
}

/// Opens a Grafana link in the desktop's browser. Only pages of the configured
/// `endpoints.grafana_url` are opened, so the webview cannot launch arbitrary URLs.
#[tauri::command]
#[specta::specta]
pub async fn open_grafana(ctx: Ctx, url: String) -> Result<(), IpcError> {
    let base = ctx.config().config.endpoints.grafana_url.clone();
    if !hsof_monitor::grafana::is_under(&base, &url) {
        return Err(Error::InvalidInput(format!("not a page of the configured Grafana ({base:?}): {url}")).into());
    }
    open_with_user_umask(&url).map_err(|e| Error::Unavailable(format!("no browser could open {url}: {e}")))?;
    Ok(())
}

/// Opens `url` with the desktop's opener (xdg-open, gio, …: the `open` crate's candidates),
/// started with the user's own umask rather than the app's private 077, so that what a
/// browser it starts saves later is the user's as usual.
fn open_with_user_umask(url: &str) -> std::io::Result<()> {
    let on_path = |prog: &std::ffi::OsStr| {
        let p = std::path::Path::new(prog);
        p.is_absolute()
            || std::env::var_os("PATH").is_some_and(|path| std::env::split_paths(&path).any(|d| d.join(p).is_file()))
    };
    let Some(cmd) = open::commands(url).into_iter().find(|c| on_path(c.get_program())) else {
        return Err(std::io::Error::new(std::io::ErrorKind::NotFound, "no xdg-open, gio or other opener on the PATH"));
    };
    let mut child = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("umask {:03o}; exec \"$@\"", hsof_core::private::user_umask()))
        .arg("sh")
        .arg(cmd.get_program())
        .args(cmd.get_args())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()?;
    // Reaped when the opener exits (xdg-open hands the page to a browser and returns).
    std::thread::spawn(move || child.wait());
    Ok(())
}

/// Acknowledges an alert with a silence of `minutes`; returns the silence id.
#[tauri::command]
#[specta::specta]
pub async fn ack_alert(ctx: Ctx, fingerprint: String, minutes: u32, comment: String) -> Result<String, IpcError> {
    Ok(ctx
        .ack_alert(&fingerprint, chrono::Duration::minutes(i64::from(minutes)), &comment, &os_user(), Utc::now())
        .await?)
}

/// Ends a silence.
#[tauri::command]
#[specta::specta]
pub async fn expire_silence(ctx: Ctx, id: String) -> Result<(), IpcError> {
    Ok(ctx.expire_silence(&id, &os_user(), Utc::now()).await?)
}

/// Hands an alert to the incidents feature; returns the link id.
#[tauri::command]
#[specta::specta]
pub async fn link_alert(ctx: Ctx, fingerprint: String) -> Result<f64, IpcError> {
    Ok(ctx.link_alert(&fingerprint, &os_user(), Utc::now()).await? as f64)
}

/// The four SLOs.
#[tauri::command]
#[specta::specta]
pub async fn slo_report(ctx: Ctx) -> Result<SloReport, IpcError> {
    Ok(ctx.slo_report(Utc::now()).await?)
}

/// A chart as SVG over the last `range_secs`.
#[tauri::command]
#[specta::specta]
pub async fn chart(ctx: Ctx, kind: ChartKind, range_secs: u32, dark: bool) -> Result<ChartView, IpcError> {
    Ok(ctx.chart(kind, range_secs, dark, Utc::now()).await?)
}

/// The morning check with the health, alerts and metrics behind it (Overview).
#[tauri::command]
#[specta::specta]
pub async fn morning(ctx: Ctx) -> Result<MorningView, IpcError> {
    Ok(ctx.morning(Utc::now).await?)
}

/// The morning check the poller last ran (no new requests), or a fresh one if none ran yet.
#[tauri::command]
#[specta::specta]
pub async fn last_morning(ctx: Ctx) -> Result<MorningView, IpcError> {
    match ctx.last_morning() {
        Some(m) => Ok(m),
        None => Ok(ctx.morning(Utc::now).await?),
    }
}

/// Runs the morning or evening checklist.
#[tauri::command]
#[specta::specta]
pub async fn run_check(ctx: Ctx, which: String) -> Result<Checklist, IpcError> {
    match which.as_str() {
        "morning" => Ok(ctx.check_morning(Utc::now).await?),
        "evening" => Ok(ctx.check_evening(Utc::now).await?),
        other => Err(Error::InvalidInput(format!("no checklist named `{other}`: morning or evening")).into()),
    }
}

/// The runbook's threshold rules over the stored samples.
#[tauri::command]
#[specta::specta]
pub async fn thresholds(ctx: Ctx) -> Result<ThresholdView, IpcError> {
    Ok(ctx.evaluate_thresholds(Utc::now())?)
}

/// Mutes notifications of one rule for `minutes`.
#[tauri::command]
#[specta::specta]
pub async fn snooze_threshold(ctx: Ctx, rule_id: String, minutes: u32) -> Result<(), IpcError> {
    Ok(ctx.snooze_threshold(&rule_id, Utc::now() + chrono::Duration::minutes(i64::from(minutes)))?)
}
