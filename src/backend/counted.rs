//! How many connections to a worker are open, across every process: each connection this
//! process opens counts once in the worker's shared records (as a plain worker and as a member
//! of each lb that names it) until it is closed. The status page shows the figure as
//! `connected` / `max_connected`.
use crate::shm::SharedState;
use std::sync::Arc;

/// The shared records one worker's connections count in.
pub struct OpenConnections {
    shared: Arc<SharedState>,
    records: Vec<usize>,
}

impl OpenConnections {
    pub fn new(shared: Arc<SharedState>, records: Vec<usize>) -> OpenConnections {
        OpenConnections { shared, records }
    }

    pub(crate) fn opened(&self) {
        for &r in &self.records {
            if let Some(record) = self.shared.member(r) {
                record.connection_opened();
            }
        }
    }

    pub(crate) fn closed(&self) {
        for &r in &self.records {
            if let Some(record) = self.shared.member(r) {
                record.connection_closed();
            }
        }
    }
}
