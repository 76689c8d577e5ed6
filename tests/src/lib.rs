//! Test harness shared by the workspace's cross-crate tests.
//!
//! [`AppSession`] drives the real `hsof-control-center` binary: it starts `tauri-driver`
//! (which starts `WebKitWebDriver`, which starts the app) on free loopback ports, with a
//! private config file and data directory per spec, and speaks WebDriver to the webview.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};

pub use hsof_demo::exporter;
pub mod proxy;
pub mod registry;
pub mod servers;
pub mod statuspage;
pub mod webhook;
use tokio::process::{Child, Command};

/// How long any wait in a spec may take before it fails.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// A seeded xorshift64 stream of numbers uniform in [-0.5, 0.5): synthetic test data that
/// is the same on every run and machine.
pub fn uniform(seed: u64) -> impl FnMut() -> f64 {
    let mut state = seed;
    move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
    }
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free loopback port")
}

/// Workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The `hsofctl` binary in `target/debug`, built first when missing.
pub fn hsofctl() -> PathBuf {
    let bin = workspace_root().join("target/debug/hsofctl");
    if !bin.exists() {
        let ok = std::process::Command::new(env!("CARGO"))
            .args(["build", "-q", "-p", "hsofctl"])
            .current_dir(workspace_root())
            .status()
            .expect("cargo");
        assert!(ok.success(), "building hsofctl failed");
    }
    bin
}

/// The app binary: `$HSOF_E2E_APP` or `target/debug/hsof-control-center`.
pub fn app_binary() -> PathBuf {
    let p = std::env::var_os("HSOF_E2E_APP")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target/debug/hsof-control-center"));
    assert!(
        p.exists(),
        "{} not found: build it with `npx tauri build --debug --no-bundle` (make test does)",
        p.display()
    );
    p
}

/// Where specs save screenshots: `test-output/e2e/`.
pub fn output_dir() -> PathBuf {
    let d = workspace_root().join("test-output/e2e");
    std::fs::create_dir_all(&d).expect("create test-output/e2e");
    d
}

/// A process's state letter and parent pid from `/proc/PID/stat` (`pid (comm) state ppid
/// …`; comm may hold spaces and parentheses); `None` once it is gone.
fn proc_stat(pid: u32) -> Option<(char, u32)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let mut rest = stat.rsplit_once(')')?.1.split_whitespace();
    let state = rest.next()?.chars().next()?;
    Some((state, rest.next()?.parse().ok()?))
}

/// Asserts that the app's own files are private to their user: each folder of `dirs` is
/// `0700`, each file of `files` (and every file in those folders) `0600`, and, when the tests
/// run as root (for whom modes stop nothing), that uid 65534 (`setpriv`) can neither list
/// the folders nor read the files.
pub fn assert_private_to_user(dirs: &[&Path], files: &[&Path]) {
    use std::os::unix::fs::PermissionsExt as _;
    let mode =
        |p: &Path| std::fs::metadata(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())).permissions().mode() & 0o777;
    let mut all_files: Vec<PathBuf> = files.iter().map(|f| f.to_path_buf()).collect();
    for d in dirs {
        assert_eq!(mode(d), 0o700, "{} should be 0700", d.display());
        for e in std::fs::read_dir(d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let p = e.expect("entry").path();
            if p.is_file() {
                all_files.push(p);
            }
        }
    }
    for f in &all_files {
        assert_eq!(mode(f), 0o600, "{} should be 0600", f.display());
    }
    let root = std::process::Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    if !root {
        return;
    }
    let nobody = |script: String| {
        std::process::Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--", "sh", "-c", &script])
            .env_remove("LD_PRELOAD")
            .env_remove("FAKETIME")
            .output()
            .expect("setpriv (util-linux)")
    };
    // The check itself works: the same uid lists a folder everyone may read.
    let control = nobody("ls / >/dev/null".into());
    assert!(control.status.success(), "setpriv as uid 65534 cannot run at all: {control:?}");
    let denied = |out: &std::process::Output| String::from_utf8_lossy(&out.stderr).contains("Permission denied");
    for d in dirs {
        let out = nobody(format!("ls '{}'", d.display()));
        assert!(!out.status.success() && denied(&out), "uid 65534 could list {}: {out:?}", d.display());
    }
    for f in &all_files {
        let out = nobody(format!("cat '{}' >/dev/null", f.display()));
        assert!(!out.status.success() && denied(&out), "uid 65534 could read {}: {out:?}", f.display());
    }
}

/// True when process `pid` is gone, or a zombie its parent has yet to reap.
pub fn process_gone(pid: u32) -> bool {
    proc_stat(pid).is_none_or(|(state, _)| state == 'Z')
}

/// Private config and data locations of one spec.
#[derive(Debug)]
pub struct Profile {
    dir: tempfile::TempDir,
}

impl Profile {
    /// A fresh, empty profile.
    pub fn new() -> Self {
        Self { dir: tempfile::tempdir().expect("tempdir") }
    }
    /// The config file the app will use.
    pub fn config_file(&self) -> PathBuf {
        self.dir.path().join("config/config.toml")
    }
    /// Lets every user enter the profile's folder (a temporary folder is 0700), so that only
    /// the app's own modes keep others out of what it creates there.
    pub fn open_to_others(&self) {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(self.dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    /// The data directory the app will use.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The demo environment's profile directory for this spec (`HSOF_DEMO_DIR`).
    pub fn demo_dir(&self) -> PathBuf {
        self.dir.path().join("demo")
    }

    /// Writes `config` as the profile's config file.
    pub fn write_config(&self, config: &hsof_core::config::Config) {
        hsof_core::config::save(&self.config_file(), config).expect("write config");
    }

    /// Points the profile at `kube` (a kubeconfig beside the data directory) and writes
    /// the default config with it.
    pub fn with_cluster(&self, kube: &hsof_fake_kube::FakeKube) {
        let kubeconfig = self.data_dir().with_file_name("kubeconfig");
        std::fs::write(&kubeconfig, kube.kubeconfig()).expect("kubeconfig");
        let mut cfg = hsof_core::config::Config::default();
        cfg.cluster.kubeconfig = kubeconfig.display().to_string();
        self.write_config(&cfg);
    }
}

/// A fake API server with a kubeconfig for it in a temporary directory, where a suite
/// writes its `config.toml` and runs [`hsofctl_on`].
pub struct FakeCluster {
    /// The API server.
    pub kube: hsof_fake_kube::FakeKube,
    /// `dir/kubeconfig`.
    pub kubeconfig: PathBuf,
    /// The profile's directory.
    pub dir: tempfile::TempDir,
}

impl std::fmt::Debug for FakeCluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeCluster").field("url", &self.kube.url).field("dir", &self.dir.path()).finish()
    }
}

impl FakeCluster {
    /// Starts the API server on `store`.
    pub fn start(store: hsof_fake_kube::Store) -> Self {
        let kube = hsof_fake_kube::FakeKube::start(store);
        let dir = tempfile::tempdir().expect("tempdir");
        let kubeconfig = dir.path().join("kubeconfig");
        std::fs::write(&kubeconfig, kube.kubeconfig()).expect("kubeconfig");
        Self { kube, kubeconfig, dir }
    }

    /// Writes `text` as the profile's `config.toml`.
    pub fn write_config(&self, text: &str) {
        std::fs::write(self.dir.path().join("config.toml"), text).expect("config");
    }
}

/// The real `hsofctl` on the profile in `dir` (`config.toml`, `data/`, file secrets).
pub fn hsofctl_on(dir: &std::path::Path) -> std::process::Command {
    let mut c = std::process::Command::new(hsofctl());
    c.arg("--config")
        .arg(dir.join("config.toml"))
        .arg("--data-dir")
        .arg(dir.join("data"))
        .env("HSOF_CONTROL_SECRETS_BACKEND", "file");
    c
}

impl Default for Profile {
    fn default() -> Self {
        Self::new()
    }
}

/// `tauri-driver` serving one profile; each [`AppSession`] launches the app anew.
#[derive(Debug)]
pub struct Driver {
    child: Child,
    port: u16,
}

impl Driver {
    /// Starts `tauri-driver` with the profile's paths in the environment the app inherits.
    pub async fn start(profile: &Profile) -> Self {
        let (port, native) = (free_port(), free_port());
        let log = std::fs::File::create(output_dir().join(format!("tauri-driver-{port}.log"))).expect("driver log");
        let child = Command::new(std::env::var("TAURI_DRIVER").unwrap_or_else(|_| "tauri-driver".into()))
            .args(["--port", &port.to_string(), "--native-port", &native.to_string()])
            .env("HSOF_CONTROL_CONFIG", profile.config_file())
            .env("HSOF_CONTROL_DATA_DIR", profile.data_dir())
            .env("HSOF_CONTROL_SECRETS_BACKEND", "file")
            // The demo environment of this spec alone, never the machine's.
            .env("HSOF_DEMO_DIR", profile.demo_dir())
            .stdout(Stdio::null())
            .stderr(log)
            .kill_on_drop(true)
            // Its own process group, so stopping it also stops WebKitWebDriver and the app.
            .process_group(0)
            .spawn()
            .expect("tauri-driver on PATH: `cargo install tauri-driver --locked` (make test does)");
        // Both must listen before a session is asked for: tauri-driver forwards the request to
        // WebKitWebDriver (the native port), which it starts beside itself and which on a cold
        // machine can take a few seconds more; a request that arrives first is cut off
        // (hyper's IncompleteMessage, seen on a fresh clone's first spec).
        let start = Instant::now();
        for (what, p) in [("tauri-driver", port), ("WebKitWebDriver", native)] {
            while tokio::net::TcpStream::connect(("127.0.0.1", p)).await.is_err() {
                assert!(start.elapsed() < DEADLINE, "{what} did not listen on {p}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        Self { child, port }
    }

    /// Launches the app and connects to its webview.
    pub async fn launch(&self) -> AppSession {
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), "wry".into());
        caps.insert("tauri:options".into(), serde_json::json!({ "application": app_binary().display().to_string() }));
        // WebKitWebDriver waits for the app without end if it dies starting (a display it
        // cannot open): a spec fails naming the driver's log instead of hanging the run.
        let url = format!("http://127.0.0.1:{}", self.port);
        let mut builder = ClientBuilder::native();
        builder.capabilities(caps);
        let client = tokio::time::timeout(std::time::Duration::from_secs(90), builder.connect(&url))
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "the app did not start within 90 s: see {}",
                    output_dir().join(format!("tauri-driver-{}.log", self.port)).display()
                )
            })
            .expect("a WebDriver session with the app");
        let s = AppSession { client };
        s.wait_css("[data-testid=status-pill]").await;
        s
    }

    /// The app processes this driver started (through WebKitWebDriver), by walking the
    /// parent links in `/proc` down from the driver: never another spec's or a user's app.
    pub fn app_pids(&self) -> Vec<u32> {
        let Some(root) = self.child.id() else { return Vec::new() };
        let app = std::fs::canonicalize(app_binary()).unwrap_or_else(|_| app_binary());
        let parents: Vec<(u32, u32)> = std::fs::read_dir("/proc")
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| {
                let pid: u32 = e.file_name().to_str()?.parse().ok()?;
                Some((pid, proc_stat(pid)?.1))
            })
            .collect();
        let mut tree = vec![root];
        let mut i = 0;
        while i < tree.len() {
            let parent = tree[i];
            tree.extend(parents.iter().filter(|(_, pp)| *pp == parent).map(|(p, _)| *p));
            i += 1;
        }
        tree.into_iter()
            .filter(|pid| std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|exe| exe == app))
            .collect()
    }

    /// Stops the driver, the WebKitWebDriver it started and any app still running.
    pub async fn stop(self) {
        drop(self);
    }
}

impl Drop for Driver {
    // Also on a failed assertion: no WebKitWebDriver or app outlives its spec.
    fn drop(&mut self) {
        if let Some(pid) = self.child.id() {
            let _ = std::process::Command::new("kill").arg("--").arg(format!("-{pid}")).status();
        }
    }
}

/// One running app, driven through WebDriver.
#[derive(Debug)]
pub struct AppSession {
    /// The WebDriver client.
    pub client: Client,
}

impl AppSession {
    /// Waits until `css` matches, then returns the element.
    pub async fn wait_css(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(DEADLINE)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("`{css}` did not appear: {e}"))
    }

    /// Waits until `css` matches an enabled element (buttons stay disabled until their
    /// permission check answers).
    pub async fn wait_enabled(&self, css: &str) -> fantoccini::elements::Element {
        let start = Instant::now();
        loop {
            let el = self.wait_css(css).await;
            if el.is_enabled().await.unwrap_or(false) {
                return el;
            }
            if start.elapsed() > DEADLINE {
                self.screenshot("failed-enabled").await;
                panic!("`{css}` never became enabled (screenshot test-output/e2e/failed-enabled.png)");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Clicks the enabled element `css` once it can take the click: scrolled to the middle
    /// of the view first, and tried again while something transient (a toast, a panel
    /// growing under it) makes WebKit call it not interactable.
    pub async fn click(&self, css: &str) {
        let start = Instant::now();
        loop {
            let el = self.wait_enabled(css).await;
            let quoted = serde_json::to_string(css).unwrap_or_default();
            let _ = self
                .client
                .execute(
                    &format!("const e = document.querySelector({quoted}); if (e) e.scrollIntoView({{block: 'center'}}); return 0"),
                    vec![],
                )
                .await;
            match el.click().await {
                Ok(()) => return,
                Err(e) if start.elapsed() < DEADLINE => {
                    // On stderr: the spec's output shows it when the spec fails.
                    eprintln!("click on `{css}` retried: {e}");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(e) => {
                    self.screenshot("failed-click").await;
                    panic!("`{css}` could not be clicked: {e} (screenshot test-output/e2e/failed-click.png)");
                }
            }
        }
    }

    /// Waits until `css` matches an element whose text contains `text`.
    pub async fn wait_text(&self, css: &str, text: &str) -> String {
        let start = Instant::now();
        loop {
            if let Ok(el) = self.client.find(Locator::Css(css)).await {
                if let Ok(t) = el.text().await {
                    if t.contains(text) {
                        return t;
                    }
                }
            }
            if start.elapsed() > DEADLINE {
                let seen = match self.client.find(Locator::Css(css)).await {
                    Ok(el) => el.text().await.unwrap_or_default(),
                    Err(_) => "(no such element)".into(),
                };
                let name = format!("failed-{}", css.replace(|c: char| !c.is_ascii_alphanumeric(), "_"));
                self.screenshot(&name).await;
                panic!("`{css}` never contained {text:?}; it shows {seen:?} (screenshot test-output/e2e/{name}.png)");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the JavaScript expression `condition` is true in the page.
    pub async fn wait_until(&self, condition: &str) {
        let start = Instant::now();
        let script = format!("return Boolean({condition})");
        loop {
            if self.client.execute(&script, vec![]).await.ok().and_then(|v| v.as_bool()) == Some(true) {
                return;
            }
            if start.elapsed() > DEADLINE {
                self.screenshot("failed-wait-until").await;
                panic!("never true: {condition} (screenshot test-output/e2e/failed-wait-until.png)");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Clicks the sidebar entry of `section` and waits for its screen. A page that reloads
    /// under the click (a cluster switch reloads it) makes the entry stale or swallows the
    /// click: the entry is found and clicked again until the screen shows.
    pub async fn open(&self, section: &str) {
        let entry = format!("nav [data-section={section}]");
        let screen = format!("[data-testid=screen-{section}]");
        let start = Instant::now();
        loop {
            if let Ok(el) = self.client.find(Locator::Css(&entry)).await {
                if let Err(e) = el.click().await {
                    eprintln!("open {section}: click retried: {e}");
                }
            }
            let shown = Instant::now();
            while shown.elapsed() < Duration::from_secs(2) {
                if self.client.find(Locator::Css(&screen)).await.is_ok() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            if start.elapsed() > DEADLINE {
                self.screenshot("failed-open").await;
                panic!("section {section} never opened (screenshot test-output/e2e/failed-open.png)");
            }
        }
    }

    /// Errors the page reported (`console.error`, uncaught errors, rejections).
    pub async fn console_errors(&self) -> Vec<String> {
        let v = self.client.execute("return window.__hsofErrors || []", vec![]).await.expect("read errors");
        v.as_array().map(|a| a.iter().map(|x| x.to_string()).collect()).unwrap_or_default()
    }

    /// Runs `script` in the page and returns its value.
    pub async fn execute(&self, script: &str) -> serde_json::Value {
        self.client.execute(script, vec![]).await.expect("execute script")
    }

    /// Saves a PNG under `test-output/e2e/<name>.png`.
    pub async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.expect("screenshot");
        std::fs::write(output_dir().join(format!("{name}.png")), png).expect("write screenshot");
    }

    /// Ends the session, which closes the app.
    pub async fn close(self) {
        let _ = self.client.close().await;
    }
}
