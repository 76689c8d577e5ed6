//! The committed TypeScript bindings must match the Rust commands and types.
//! `UPDATE_BINDINGS=1 cargo test -p hsof-control-center --test bindings` rewrites them.

#[test]
fn ui_bindings_are_up_to_date() {
    let committed = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/src/lib/ipc/bindings.ts");
    let dir = tempfile::tempdir().expect("tempdir");
    let fresh_path = dir.path().join("bindings.ts");
    hsof_control_center_lib::specta_builder()
        .export(hsof_control_center_lib::typescript(), &fresh_path)
        .expect("export bindings");
    let fresh = std::fs::read_to_string(&fresh_path).expect("read fresh");
    if std::env::var_os("UPDATE_BINDINGS").is_some() {
        std::fs::write(&committed, &fresh).expect("write bindings");
        return;
    }
    let current = std::fs::read_to_string(&committed).unwrap_or_default();
    assert!(current == fresh, "ui/src/lib/ipc/bindings.ts is stale: run `make bindings` and commit the result");
}
