//! The floor for `scripts/bench.sh`: an empty Tauri window (the app's window size, a blank
//! page served by a custom protocol, no UI, no commands, no backend), timed the way the
//! app times itself: from `main` to the page's second animation frame, printed as
//! `first paint N ms`. With `HSOF_CONTROL_COMPOSITING` set the app's web view settings are
//! applied too, so both floors (WebKit's defaults, the app's settings) can be measured.
//!
//!   cargo build --release -p hsof-control-center --example empty_window

use std::time::Instant;

use tauri::http::Response;
use tauri::{WebviewUrl, WebviewWindowBuilder};

const PAGE: &str = "<!doctype html><html><body><script>\
requestAnimationFrame(() => requestAnimationFrame(() => fetch('floor://localhost/painted')));\
</script></body></html>";

fn main() {
    let started = Instant::now();
    let mut context = tauri::generate_context!();
    // No windows from the app's configuration: only the empty one below.
    context.config_mut().app.windows.clear();
    context.config_mut().app.tray_icon = None;
    tauri::Builder::default()
        .register_uri_scheme_protocol("floor", move |_, request| {
            if request.uri().path() == "/painted" {
                println!("first paint {} ms", started.elapsed().as_millis());
            }
            Response::builder().header("Content-Type", "text/html").body(PAGE.as_bytes().to_vec()).expect("response")
        })
        .setup(|app| {
            let url = "floor://localhost/".parse().expect("url");
            let window = WebviewWindowBuilder::new(app, "main", WebviewUrl::CustomProtocol(url))
                .title("empty")
                .inner_size(1280.0, 800.0)
                .build()?;
            if std::env::var_os("HSOF_CONTROL_COMPOSITING").is_some() {
                hsof_control_center_lib::webview::tune(&window);
            }
            Ok(())
        })
        .run(context)
        .expect("run");
}
