//! The worker a request goes to, as the handler sees it: a plain ajp13 worker or an lb, found
//! by name with [`Runtime::target`](super::Runtime::target), served the same way
//! ([`Target::forward`]) and reported the same way ([`Served`]).
#![forbid(unsafe_code)]

use super::client::{Client, Outcome};
use super::lb::LbService;
use super::plain_worker::PlainWorker;
use super::request::RequestInfo;
use crate::balancer::RequestHints;
use crate::shm::ShortText;
use std::fmt;

/// Where a request goes: a single AJP worker or a load balancer.
#[derive(Clone, Copy)]
pub enum Target<'w> {
    Ajp(&'w PlainWorker),
    Lb(&'w LbService),
}

/// Why a worker name has no [`Target`]: the handler logs it and answers 500 (reference §4.9).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetError {
    /// No worker of that name is defined.
    Unknown { worker: String },
    /// The worker exists but has a type requests cannot be forwarded to (a status worker
    /// until the status page is served).
    NotServed {
        worker: String,
        type_name: &'static str,
    },
}

impl fmt::Display for TargetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TargetError::Unknown { worker } => write!(f, "unknown worker {worker}"),
            TargetError::NotServed { worker, type_name } => write!(
                f,
                "worker {worker} has type {type_name}, which this build does not serve yet"
            ),
        }
    }
}

/// What serving a request did, for its notes and the request log.
pub struct Served<'w> {
    pub outcome: Outcome,
    /// The route of the worker, or of the lb member that answered last.
    pub route: Option<ServedRoute<'w>>,
    /// Shared-memory record indices of the first and the last lb member tried (the
    /// `JK_LB_FIRST_*`, `JK_LB_LAST_*` notes, see [`member_notes`](super::member_notes)).
    pub first: Option<usize>,
    pub last: Option<usize>,
}

/// A route as `JK_WORKER_ROUTE` shows it.
#[derive(Clone, Copy)]
pub enum ServedRoute<'w> {
    /// A plain worker's, from its settings.
    Worker(&'w str),
    /// An lb member's, copied from shared memory (the status page may change it).
    Member(ShortText),
}

impl Served<'_> {
    /// Only an outcome: nobody was tried.
    pub(super) fn answer(outcome: Outcome) -> Served<'static> {
        Served {
            outcome,
            route: None,
            first: None,
            last: None,
        }
    }

    pub fn route(&self) -> Option<&str> {
        match &self.route {
            Some(ServedRoute::Worker(route)) => Some(route),
            Some(ServedRoute::Member(route)) => Some(route.as_str()),
            None => None,
        }
    }
}

impl<'w> Target<'w> {
    /// `JK_WORKER_TYPE`.
    pub fn type_name(&self) -> &'static str {
        self.type_name_c().to_str().unwrap_or("")
    }

    /// [`Target::type_name`] as a C string (a request note).
    pub fn type_name_c(&self) -> &'static std::ffi::CStr {
        match self {
            Target::Ajp(_) => c"ajp13",
            Target::Lb(_) => c"lb",
        }
    }

    /// Whether the session route (and so the request's cookies) matters.
    pub fn is_lb(&self) -> bool {
        matches!(self, Target::Lb(_))
    }

    /// Serves `req`. `session_uri` (for `;jsessionid`), `cookies` (the Cookie header values)
    /// and `hints` only matter to an lb.
    pub fn forward<'a>(
        &self,
        req: &RequestInfo<'_>,
        session_uri: &'a str,
        cookies: &[&'a str],
        hints: &RequestHints<'a>,
        client: &mut dyn Client,
    ) -> Served<'w> {
        match *self {
            Target::Ajp(worker) => Served {
                route: Some(ServedRoute::Worker(&worker.backend().settings.route)),
                ..Served::answer(worker.forward(req, client))
            },
            Target::Lb(lb) => lb.forward(req, session_uri, cookies, hints, client),
        }
    }
}
