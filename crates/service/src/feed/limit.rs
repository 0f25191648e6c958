//! How many streams one caller may hold open at once, so that a single token
//! (a runaway integration, or an attack) cannot exhaust the server.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tonic::Status;
use tonic_types::{ErrorDetails, StatusExt};

/// Open streams per caller.
#[derive(Clone, Default)]
pub struct StreamLimit {
    open: Arc<Mutex<HashMap<String, usize>>>,
}

/// One open stream; dropping it frees the caller's slot.
pub struct Permit {
    limit: StreamLimit,
    caller: String,
}

impl StreamLimit {
    /// Take a slot for `caller`, or refuse when it holds `max` already.
    pub fn acquire(&self, caller: &str, max: usize) -> Result<Permit, Status> {
        let mut open = self.open.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let n = open.entry(caller.to_owned()).or_default();
        if *n >= max {
            let info =
                ErrorDetails::with_error_info("TOO_MANY_STREAMS", "peerlab", [("limit".to_owned(), max.to_string())]);
            return Err(Status::with_error_details(
                tonic::Code::ResourceExhausted,
                format!("at most {max} open event streams per caller; close one first"),
                info,
            ));
        }
        *n += 1;
        Ok(Permit { limit: self.clone(), caller: caller.to_owned() })
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut open = self.limit.open.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(n) = open.get_mut(&self.caller) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.remove(&self.caller);
            }
        }
    }
}
