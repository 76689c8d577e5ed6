//! Progress reports and cancellation.
//!
//! Cancellation uses [`tokio_util::sync::CancellationToken`] (re-exported as [`CancelToken`]): it is the
//! token the rest of HSOF Control Center passes around, and `is_cancelled()` needs no async runtime.
//! Every stage polls it inside its inner loops (per column, per candidate, per MCTS iteration, per
//! fold), so a cancelled run returns [`crate::SelectError::Cancelled`] well within a second.

use serde::{Deserialize, Serialize};

use crate::error::{Result, SelectError};

/// The cancellation token the caller keeps a clone of; `cancel()` stops the run.
pub type CancelToken = tokio_util::sync::CancellationToken;

/// A pipeline stage, as reported in [`Progress`] and in the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Reading and preparing the data.
    Load,
    /// Stage 1: variance, relevance and redundancy filter.
    Filter,
    /// Stage 2: Monte Carlo tree search over subsets.
    Search,
    /// Stage 3: cross-validated evaluation of candidate subsets.
    Evaluate,
}

/// One progress message: which stage, how far it is (0..=1) and what it is doing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct Progress {
    /// The stage reporting.
    pub stage: Stage,
    /// Fraction of that stage done, 0..=1.
    pub fraction: f32,
    /// Human-readable detail.
    pub message: String,
}

/// Bundles the caller's callback and token. Progress is only sent from the calling thread, so the
/// callback need not be `Sync`; parallel loops get the token alone.
/// Used by [`crate::run`]; build one with [`Ctl::new`] to call a stage on its own (benchmarks).
pub struct Ctl<'a> {
    /// Where progress goes.
    pub progress: &'a dyn Fn(Progress),
    /// The run's token.
    pub cancel: &'a CancelToken,
    /// The run's own thread pool when [`crate::SelectOptions::threads`] is set.
    pub(crate) pool: Option<&'a rayon::ThreadPool>,
}

impl std::fmt::Debug for Ctl<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ctl").field("cancelled", &self.cancel.is_cancelled()).finish_non_exhaustive()
    }
}

impl<'a> Ctl<'a> {
    /// A control on rayon's global pool.
    pub fn new(progress: &'a dyn Fn(Progress), cancel: &'a CancelToken) -> Self {
        Self { progress, cancel, pool: None }
    }

    /// Errors with `Cancelled` once the token is cancelled.
    pub fn check(&self) -> Result<()> {
        if self.cancel.is_cancelled() {
            Err(SelectError::Cancelled)
        } else {
            Ok(())
        }
    }

    /// Runs `op` (which may use rayon) in the run's thread pool.
    pub fn install<R: Send>(&self, op: impl FnOnce() -> R + Send) -> R {
        match self.pool {
            Some(p) => p.install(op),
            None => op(),
        }
    }

    /// Sends a progress message.
    pub fn report(&self, stage: Stage, fraction: f32, message: impl Into<String>) {
        (self.progress)(Progress { stage, fraction: fraction.clamp(0.0, 1.0), message: message.into() });
    }
}
