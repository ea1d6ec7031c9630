//! The walk the three line formats share (mod_jk reference §5.5): header, lbs with their
//! members and mounts, plain ajp13 workers, the dump, and the closing result — each format
//! implements [`LineFormat`] to give the pieces its syntax.

use super::fields::{self, Fields, Order};
use super::{Body, View};
use crate::status::error::StatusError;
use crate::status::model::{AjpWorker, Balancer, Member};
use crate::status::request::DisplayOption;
use crate::status::target::Target;

/// One format's syntax for the pieces of a status answer; each appends to its own buffer.
pub trait LineFormat {
    /// The order of the ajp settings in this format.
    const ORDER: Order;
    fn begin(&mut self) {}
    fn header(&mut self, server: &Fields, time: &Fields, software: &Fields);
    fn balancers_begin(&mut self, count: usize);
    fn balancers_end(&mut self) {}
    fn balancer_begin(&mut self, lb: &Fields);
    fn balancer_end(&mut self) {}
    fn member(&mut self, lb: &str, member: &Fields);
    fn ajp_workers_begin(&mut self, count: usize);
    fn ajp_workers_end(&mut self) {}
    fn ajp_worker(&mut self, worker: &Fields);
    fn map(&mut self, worker: &str, map: &Fields);
    fn dump(&mut self, lines: &[&str]);
    fn result(&mut self, outcome: &Result<(), StatusError>);
    /// The text written so far (the buffer is left empty).
    fn finish(&mut self) -> String;
}

/// Renders `body` and `outcome` with `format`.
pub fn write<F: LineFormat>(
    view: &View<'_>,
    body: &Body<'_>,
    outcome: &Result<(), StatusError>,
    format: &mut F,
) -> String {
    format.begin();
    if *body != Body::ResultOnly {
        format.header(
            &fields::server(view),
            &fields::time(view.snapshot.now),
            &fields::software(view),
        );
    }
    match body {
        Body::List => list(view, format),
        Body::Show(Target::Balancer { lb, members, .. }) => balancer(view, format, lb, members),
        Body::Show(Target::Ajp(worker)) => ajp_worker(view, format, worker),
        Body::Dump => format.dump(&view.snapshot.dump_lines().collect::<Vec<_>>()),
        Body::Version | Body::ResultOnly | Body::Edit(_) => {}
    }
    format.result(outcome);
    format.finish()
}

fn list<F: LineFormat>(view: &View<'_>, format: &mut F) {
    let snapshot = view.snapshot;
    if !view.hides(DisplayOption::HideBalancers) {
        format.balancers_begin(snapshot.balancers.len());
        for lb in &snapshot.balancers {
            balancer(view, format, lb, &lb.members.iter().collect::<Vec<_>>());
        }
        format.balancers_end();
    }
    if !snapshot.ajp_workers.is_empty() && !view.hides(DisplayOption::HideAjpWorkers) {
        format.ajp_workers_begin(snapshot.ajp_workers.len());
        for worker in &snapshot.ajp_workers {
            ajp_worker(view, format, worker);
        }
        format.ajp_workers_end();
    }
}

fn balancer<F: LineFormat>(view: &View<'_>, format: &mut F, lb: &Balancer, members: &[&Member]) {
    format.balancer_begin(&fields::balancer(view, lb));
    if !view.hides(DisplayOption::HideMembers) {
        for member in members {
            format.member(&lb.name, &fields::member(view, member, F::ORDER));
        }
    }
    maps(view, format, &lb.name, &lb.maps);
    format.balancer_end();
}

fn ajp_worker<F: LineFormat>(view: &View<'_>, format: &mut F, worker: &AjpWorker) {
    format.ajp_worker(&fields::ajp_worker(view, worker, F::ORDER));
    maps(view, format, &worker.name, &worker.maps);
}

fn maps<F: LineFormat>(
    view: &View<'_>,
    format: &mut F,
    worker: &str,
    maps: &[crate::status::model::UriMap],
) {
    if view.hides(DisplayOption::HideMaps) {
        return;
    }
    for (index, map) in maps.iter().enumerate() {
        format.map(worker, &fields::map(index + 1, map));
    }
}

/// The result's `type` and `message`: `OK`/`Action finished` or `ERROR`/mod_jk's text.
pub fn result_text(outcome: &Result<(), StatusError>) -> (&'static str, String) {
    match outcome {
        Ok(()) => ("OK", "Action finished".to_owned()),
        Err(error) => ("ERROR", error.to_string()),
    }
}
