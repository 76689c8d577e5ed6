//! WebKitGTK settings for an operator's console that loads only its own pages: the
//! smallest resource caches (`CacheModel::DocumentViewer`, no back/forward page cache),
//! and the compositing policy the environment asks for. Without a GPU render node (virtual
//! machines, remote X, CI under Xvfb) WebKit composites layers in software; turning that
//! off (`HSOF_CONTROL_COMPOSITING=off`) saves the web process over 100 MiB and the first
//! paint ~100 ms there. It is not the default: under Xvfb a WebDriver session then stops
//! answering when the GPU screen opens, and until that is understood a desktop must not
//! risk it (docs/benchmarks.md has the measurements).

/// Whether to let WebKit composite layers (its default, on demand), and why, for the log.
pub fn compositing(setting: Option<&str>, render_node: bool) -> (bool, &'static str) {
    match setting.map(str::trim).map(str::to_ascii_lowercase).as_deref() {
        Some("off") => (false, "HSOF_CONTROL_COMPOSITING=off"),
        Some("on") => (true, "HSOF_CONTROL_COMPOSITING=on"),
        _ if render_node => (true, "WebKit's default; a GPU render node is present"),
        _ => (true, "WebKit's default; no GPU render node, HSOF_CONTROL_COMPOSITING=off would save memory"),
    }
}

/// True when a DRM render node exists (a GPU the web process could render with).
pub fn has_render_node() -> bool {
    std::fs::read_dir("/dev/dri")
        .map(|d| d.flatten().any(|e| e.file_name().to_string_lossy().starts_with("renderD")))
        .unwrap_or(false)
}

/// Applies the settings to the window's web view.
pub fn tune(window: &tauri::WebviewWindow) {
    let (gpu, why) = compositing(std::env::var("HSOF_CONTROL_COMPOSITING").ok().as_deref(), has_render_node());
    tracing::info!(compositing = gpu, why, "web view settings");
    let applied = window.with_webview(move |wv| {
        #[cfg(target_os = "linux")]
        {
            use webkit2gtk::{CacheModel, HardwareAccelerationPolicy, SettingsExt, WebContextExt, WebViewExt};
            let view = wv.inner();
            if let Some(settings) = WebViewExt::settings(&view) {
                settings.set_hardware_acceleration_policy(if gpu {
                    HardwareAccelerationPolicy::OnDemand
                } else {
                    HardwareAccelerationPolicy::Never
                });
                settings.set_enable_page_cache(false);
            }
            if let Some(context) = view.context() {
                context.set_cache_model(CacheModel::DocumentViewer);
            }
        }
        #[cfg(not(target_os = "linux"))]
        let _ = (wv, gpu);
    });
    if let Err(e) = applied {
        tracing::warn!(error = %e, "web view settings not applied");
    }
}

#[cfg(test)]
mod tests {
    use super::compositing;

    #[test]
    fn compositing_is_webkits_default_unless_turned_off() {
        assert!(compositing(None, false).0, "WebKit's default unless asked");
        assert!(compositing(None, true).0);
        assert!(compositing(Some(" ON "), false).0);
        assert!(!compositing(Some("off"), true).0);
        assert!(compositing(Some("auto"), true).0);
        assert!(compositing(Some("bogus"), false).0);
    }
}
