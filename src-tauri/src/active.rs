//! Which profile the window shows: the user's own, or the demo's while it is tried from
//! Overview. Commands take [`Ctx`], the context current when they are called; the poller
//! asks for it on every round and drops a round that a switch overtook, so one screen
//! never shows two profiles' data.

use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};
use hsof_core::AppContext;
use tauri::ipc::{CommandArg, CommandItem, InvokeError};
use tauri::{Manager, Runtime};

/// The demo as the window holds it while it shows it.
#[derive(Debug)]
pub struct DemoSession {
    /// The user's own context, kept open and untouched while the demo is shown.
    pub home: Arc<AppContext>,
    /// The demo's profile.
    pub profile: hsof_demo::Profile,
    /// True when this app started the demo server (leaving stops it); false when it found
    /// one running (`make demo`, `hsofctl demo start`), which leaving leaves running.
    pub started: bool,
    /// When the window switched to it.
    pub since: DateTime<Utc>,
}

#[derive(Debug)]
struct Slot {
    ctx: Arc<AppContext>,
    demo: Option<DemoSession>,
}

/// The window's current context; managed by the shell in place of a bare [`AppContext`].
#[derive(Debug)]
pub struct Active {
    slot: RwLock<Slot>,
    /// Counts switches: a round of work that began before a switch does not report after it.
    generation: tokio::sync::watch::Sender<u64>,
    /// One switch at a time (a double click, or leaving while entering).
    switching: tokio::sync::Mutex<()>,
}

impl Active {
    /// The user's own context.
    pub fn new(ctx: AppContext) -> Self {
        Self {
            slot: RwLock::new(Slot { ctx: Arc::new(ctx), demo: None }),
            generation: tokio::sync::watch::channel(0).0,
            switching: tokio::sync::Mutex::new(()),
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Slot> {
        // A panic while holding the lock left a consistent slot (it is swapped whole).
        self.slot.read().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Slot> {
        self.slot.write().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The context the window shows now.
    pub fn get(&self) -> Arc<AppContext> {
        self.read().ctx.clone()
    }

    /// The current context from anywhere holding the app.
    pub fn of<R: Runtime>(app: &impl Manager<R>) -> Arc<AppContext> {
        app.state::<Active>().get()
    }

    /// The number of switches so far.
    pub fn generation(&self) -> u64 {
        *self.generation.borrow()
    }

    /// Resolves when the window switches profile (for long waits such as watches).
    pub fn changes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.generation.subscribe()
    }

    /// Serialises switches.
    pub async fn lock_switch(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.switching.lock().await
    }

    /// Shows `ctx` (another cluster's view of the same profile) in place of the current one.
    pub fn replace(&self, ctx: AppContext) {
        self.write().ctx = Arc::new(ctx);
        self.generation.send_modify(|g| *g += 1);
    }

    /// The demo's profile, whether this app started it, and since when, while it is shown.
    pub fn demo(&self) -> Option<(hsof_demo::Profile, bool, DateTime<Utc>)> {
        self.read().demo.as_ref().map(|d| (d.profile.clone(), d.started, d.since))
    }

    /// Shows `demo` instead of the user's context (kept open, untouched, for [`leave_demo`](Self::leave_demo)).
    /// Already in the demo: the demo's context is replaced and the user's kept.
    pub fn enter_demo(&self, demo: AppContext, profile: hsof_demo::Profile, started: bool, now: DateTime<Utc>) {
        {
            let mut slot = self.write();
            let home = match slot.demo.take() {
                Some(d) => d.home,
                None => slot.ctx.clone(),
            };
            *slot = Slot { ctx: Arc::new(demo), demo: Some(DemoSession { home, profile, started, since: now }) };
        }
        self.generation.send_modify(|g| *g += 1);
    }

    /// Shows the user's own context again; the demo's session (its context and whether
    /// this app started it) is returned for the caller to stop and drop.
    pub fn leave_demo(&self) -> Option<(Arc<AppContext>, DemoSession)> {
        let left = {
            let mut slot = self.write();
            let demo = slot.demo.take()?;
            let shown = std::mem::replace(&mut slot.ctx, demo.home.clone());
            (shown, demo)
        };
        self.generation.send_modify(|g| *g += 1);
        Some(left)
    }
}

/// The current [`AppContext`] as a command argument: what `State<'_, AppContext>` was
/// before the window could switch profiles.
#[derive(Debug, Clone)]
pub struct Ctx(pub Arc<AppContext>);

impl std::ops::Deref for Ctx {
    type Target = AppContext;
    fn deref(&self) -> &AppContext {
        &self.0
    }
}

impl<'de, R: Runtime> CommandArg<'de, R> for Ctx {
    fn from_command(command: CommandItem<'de, R>) -> Result<Self, InvokeError> {
        let active = command
            .message
            .webview_ref()
            .try_state::<Active>()
            .ok_or_else(|| InvokeError::from(format!("the app's context is not ready for `{}`", command.name)))?;
        Ok(Ctx(active.get()))
    }
}

/// Injected by the shell, not sent by the page: no type in the bindings.
impl specta::function::FunctionArg for Ctx {
    fn to_datatype(_: &mut specta::Types) -> Option<specta::datatype::DataType> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(dir: &std::path::Path) -> AppContext {
        AppContext::open(&hsof_core::Options {
            config: Some(dir.join("config.toml")),
            data_dir: Some(dir.join("data")),
            secrets: hsof_core::BackendChoice::File,
        })
    }

    #[test]
    fn the_demo_is_shown_and_left_with_the_users_context_kept() {
        let home = tempfile::tempdir().expect("tmp");
        let demo = tempfile::tempdir().expect("tmp");
        let active = Active::new(open(home.path()));
        let changes = active.changes();
        let user = active.get();
        assert!(active.demo().is_none());
        assert!(active.leave_demo().is_none(), "nothing to leave");
        assert_eq!(active.generation(), 0);

        let profile = hsof_demo::Profile { dir: demo.path().to_path_buf() };
        active.enter_demo(open(demo.path()), profile.clone(), true, Utc::now());
        assert_eq!(active.get().paths().config_file, demo.path().join("config.toml"));
        assert_eq!(active.generation(), 1);
        assert!(changes.has_changed().expect("sender alive"));
        let (p, started, _) = active.demo().expect("in the demo");
        assert_eq!(p.dir, profile.dir);
        assert!(started);

        // Entering again (a second click) keeps the user's context as home.
        active.enter_demo(open(demo.path()), profile, false, Utc::now());
        let (shown, session) = active.leave_demo().expect("left");
        assert_eq!(shown.paths().config_file, demo.path().join("config.toml"));
        assert!(!session.started);
        assert!(Arc::ptr_eq(&session.home, &user), "the very context the user had");
        assert!(Arc::ptr_eq(&active.get(), &user));
        assert!(active.demo().is_none());
        assert_eq!(active.generation(), 3);
    }
}
