//! `tracing` to a daily rolling file in the data directory, filtered by `RUST_LOG`.

use std::path::Path;

use tracing_subscriber::{fmt, layer::SubscriberExt, util::SubscriberInitExt, EnvFilter, Layer};

/// Keeps the background log writer alive; drop it last.
pub type LogGuard = tracing_appender::non_blocking::WorkerGuard;

/// Installs the global subscriber: a rolling file in `log_dir` (created `0700` when it can
/// be; the files are private when the process's umask is, see [`crate::private::restrict_umask`])
/// and, when `stderr` is set, human-readable lines on stderr. Secrets never reach it:
/// they are [`crate::SecretValue`]s, which print as `***`.
pub fn init(log_dir: &Path, file_prefix: &str, stderr: bool) -> Option<LogGuard> {
    let filter = || EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let (file_layer, guard) = match crate::private::create_dir_all(log_dir) {
        Ok(()) => {
            let appender = tracing_appender::rolling::daily(log_dir, file_prefix);
            let (writer, guard) = tracing_appender::non_blocking(appender);
            (Some(fmt::layer().with_ansi(false).with_writer(writer).with_filter(filter())), Some(guard))
        }
        Err(_) => (None, None),
    };
    let stderr_layer = stderr.then(|| fmt::layer().with_writer(std::io::stderr).with_filter(filter()));
    let _ = tracing_subscriber::registry().with(file_layer).with(stderr_layer).try_init();
    guard
}
