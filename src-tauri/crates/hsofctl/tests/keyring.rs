//! The OS keyring backend against a real Secret Service: gnome-keyring-daemon on a private
//! D-Bus session (`dbus-run-session`), from Debian (the bootstrap installs both). Nothing
//! of the value may reach the secrets file, and the audit anchor lives there too.

use std::process::Command;

/// Runs `script` (bash) inside a fresh D-Bus session with an unlocked gnome-keyring.
fn in_keyring_session(dir: &std::path::Path, script: &str) -> std::process::Output {
    let prelude = "printf 'test-password' | gnome-keyring-daemon --unlock --components=secrets >/dev/null\n";
    Command::new("dbus-run-session")
        .args(["--", "bash", "-euo", "pipefail", "-c", &format!("{prelude}{script}")])
        .env("HSOFCTL", env!("CARGO_BIN_EXE_hsofctl"))
        // A keyring of its own: gnome-keyring creates `login` there, unlocked by the password.
        .env("HOME", dir)
        .env("XDG_DATA_HOME", dir.join("xdg-data"))
        .env("XDG_RUNTIME_DIR", dir)
        .env("HSOF_CONTROL_CONFIG", dir.join("config.toml"))
        .env("HSOF_CONTROL_DATA_DIR", dir.join("data"))
        .env_remove("HSOF_CONTROL_SECRETS_BACKEND")
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .output()
        .expect("dbus-run-session (Debian's dbus-bin; `make test` installs gnome-keyring)")
}

#[test]
fn secrets_round_trip_through_a_real_secret_service_and_never_touch_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = in_keyring_session(
        dir.path(),
        r#"
printf 'https://hooks.slack.test/T0/B0/first' | "$HSOFCTL" --json secret set slack-webhook
printf 'https://hooks.slack.test/T0/B0/second' | "$HSOFCTL" --json secret set slack-webhook
"$HSOFCTL" --json secret check slack-webhook
"$HSOFCTL" --json doctor > "$HSOF_CONTROL_DATA_DIR/../doctor.json"
"$HSOFCTL" secret delete slack-webhook
if "$HSOFCTL" secret check slack-webhook 2>"$HSOF_CONTROL_DATA_DIR/../missing.txt"; then exit 42; fi
"#,
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<serde_json::Value> =
        serde_json::Deserializer::from_str(&stdout).into_iter::<serde_json::Value>().map_while(Result::ok).collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    for l in &lines {
        assert_eq!(l["backend"]["kind"], "os_keyring", "the Secret Service answered: {l}");
    }
    let doctor: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("doctor.json")).expect("doctor")).expect("json");
    assert_eq!(doctor["secrets"]["kind"], "os_keyring");
    let missing = std::fs::read_to_string(dir.path().join("missing.txt")).expect("stderr");
    assert!(missing.contains("no secret named `slack-webhook`"), "{missing}");
    let file = dir.path().join("data/secrets.toml");
    assert!(
        !file.exists() || !std::fs::read_to_string(&file).unwrap_or_default().contains("hooks.slack.test"),
        "the value never reaches the secrets file"
    );
}
