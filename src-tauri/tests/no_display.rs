//! Without a display the app explains itself and points to hsofctl instead of panicking.

#[test]
fn app_without_display_says_what_to_do() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hsof-control-center"))
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .expect("run the app");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("needs a graphical display") && err.contains("hsofctl"), "{err}");
}
