//! WebKitGTK settings for an operator's console that loads only its own pages: the
//! smallest resource caches (`CacheModel::DocumentViewer`, no back/forward page cache),
//! and the compositing policy the machine calls for. Without a GPU render node (virtual
//! machines, remote X, CI under Xvfb) WebKit would composite its layers with a software
//! GL (llvmpipe): over 100 MiB more in the web process and a first frame that takes about
//! twice as long, for nothing a console needs, so the app paints without compositing
//! there. With a render node WebKit keeps its default. Under WebDriver (Tauri allows
//! automation only when `TAURI_WEBVIEW_AUTOMATION=true`, as tauri-driver sets it) the
//! default is kept too: WebKitWebDriver's screenshot waits for a composited frame, which
//! a page painted without compositing may never send once it is idle (docs/benchmarks.md).
//! `HSOF_CONTROL_COMPOSITING=on|off` overrides all of this.

/// Whether to let WebKit composite layers, and why, for the log.
pub fn compositing(setting: Option<&str>, render_node: bool, automation: bool) -> (bool, &'static str) {
    match setting.map(str::trim).map(str::to_ascii_lowercase).as_deref() {
        Some("off") => (false, "HSOF_CONTROL_COMPOSITING=off"),
        Some("on") => (true, "HSOF_CONTROL_COMPOSITING=on"),
        _ if automation => {
            (true, "WebKit's default under WebDriver automation (its screenshots wait for a composited frame)")
        }
        _ if render_node => (true, "WebKit's default; a GPU render node is present"),
        _ => (
            false,
            "no GPU render node: painting without software compositing (HSOF_CONTROL_COMPOSITING=on to force it)",
        ),
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
    let setting = std::env::var("HSOF_CONTROL_COMPOSITING").ok();
    let render_node = has_render_node();
    let applied = window.with_webview(move |wv| {
        #[cfg(target_os = "linux")]
        {
            use webkit2gtk::{CacheModel, HardwareAccelerationPolicy, SettingsExt, WebContextExt, WebViewExt};
            let view = wv.inner();
            let automation = view.context().is_some_and(|c| c.is_automation_allowed());
            let (gpu, why) = compositing(setting.as_deref(), render_node, automation);
            tracing::info!(compositing = gpu, why, "web view settings");
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
        let _ = (wv, setting, render_node);
    });
    if let Err(e) = applied {
        tracing::warn!(error = %e, "web view settings not applied");
    }
}

#[cfg(test)]
mod tests {
    use super::compositing;

    #[test]
    fn compositing_follows_the_render_node_unless_asked_or_automated() {
        assert!(!compositing(None, false, false).0, "no render node: no software compositing");
        assert!(compositing(None, true, false).0, "a render node: WebKit's default");
        assert!(compositing(None, false, true).0, "WebDriver: WebKit's default");
        assert!(compositing(Some(" ON "), false, false).0);
        assert!(!compositing(Some("off"), true, true).0);
        assert!(!compositing(Some("auto"), false, false).0, "an unknown value is the automatic choice");
        assert!(compositing(Some("bogus"), true, false).0);
    }
}
