//! Long operations the UI can cancel by id (a log follow, an experiment run): each holds
//! a cancellation token until it finishes.

use std::collections::HashMap;
use std::sync::Mutex;

use tokio_util::sync::CancellationToken;

use crate::{AppContext, Error};

/// The running operations.
#[derive(Debug, Default)]
pub struct Operations(Mutex<HashMap<String, CancellationToken>>);

impl Operations {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, CancellationToken>> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Ends the operation when dropped, however the work ends.
#[derive(Debug)]
pub struct OperationGuard<'a> {
    ctx: &'a AppContext,
    id: String,
    /// Fires when the operation is cancelled.
    pub token: CancellationToken,
}

impl Drop for OperationGuard<'_> {
    fn drop(&mut self) {
        self.ctx.operations().map().remove(&self.id);
    }
}

impl AppContext {
    /// Registers operation `id`; an id already running is refused.
    pub fn begin_operation(&self, id: &str) -> Result<OperationGuard<'_>, Error> {
        let mut map = self.operations().map();
        if map.contains_key(id) {
            return Err(Error::InvalidInput(format!("operation `{id}` is already running")));
        }
        let token = CancellationToken::new();
        map.insert(id.to_string(), token.clone());
        Ok(OperationGuard { ctx: self, id: id.to_string(), token })
    }

    /// Cancels operation `id`; false when no such operation runs.
    pub fn cancel_operation(&self, id: &str) -> bool {
        self.operations().map().get(id).map(CancellationToken::cancel).is_some()
    }
}
