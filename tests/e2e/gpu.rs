//! The GPU screen on the machine the specs run on. CI has no NVIDIA driver: the screen must say
//! so plainly, say what would make it work, and offer to check again; with a GPU, a card per
//! device with its live figures and process table.

use hsof_tests::{Driver, Profile};

#[tokio::test(flavor = "multi_thread")]
async fn gpu_screen_says_plainly_when_there_is_no_gpu() {
    let has_gpu = !hsof_core::facts::read_gpus().devices.is_empty();
    let profile = Profile::new();
    let driver = Driver::start(&profile).await;
    let app = driver.launch().await;
    app.open("gpu").await;
    if has_gpu {
        app.wait_css("[data-testid=gpu-card]").await;
        app.wait_text("[data-testid=gpu-util]", "%").await;
        app.wait_css("[data-testid=gpu-processes]").await;
        app.wait_css("[data-testid=gpu-chart-temperature_c]").await;
        app.screenshot("gpu").await;
    } else {
        let reason = app.wait_text("[data-testid=gpu-none-reason]", "no NVIDIA GPU on this machine").await;
        assert!(reason.contains("driver"), "the reason names what is missing: {reason}");
        let panel = app.wait_text("[data-testid=gpu-none]", "install the driver").await;
        assert!(panel.contains("libnvidia-ml.so"), "{panel}");
        // Checking again keeps the honest answer (and never an error box).
        app.wait_enabled("[data-testid=gpu-recheck]").await.click().await.expect("check again");
        app.wait_text("[data-testid=gpu-none-reason]", "no NVIDIA GPU on this machine").await;
        app.screenshot("gpu-no-gpu").await;
    }
    app.close().await;
    driver.stop().await;
}
