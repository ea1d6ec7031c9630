//! `mime=json` (ours): the same content as the line formats as one JSON document, with the
//! schema written down in `src/status/SCHEMA.md` — mod_jk's key names, numbers as
//! numbers, flags as booleans, plus each member's rating.

use super::fields::{self, Fields, Order, Value};
use super::lines::result_text;
use super::{Body, View};
use crate::status::error::StatusError;
use crate::status::escape::json as quote;
use crate::status::model::{AjpWorker, Balancer, Member};
use crate::status::rating::rate;
use crate::status::request::DisplayOption;
use crate::status::target::Target;

/// The `schema` value; bumped only when a key changes meaning or goes away.
pub const SCHEMA: &str = "mod_jk_rs.status/1";

/// Keys whose values stay strings even when they look like numbers.
const TEXT_KEYS: [&str; 20] = [
    "name",
    "type",
    "host",
    "address",
    "source",
    "activation",
    "route",
    "redirect",
    "domain",
    "state",
    "method",
    "lock",
    "uri",
    "server",
    "fail_on_status",
    "active",
    "disabled",
    "stopped",
    "datetime",
    "tz",
];

fn value(key: &str, value: &Value) -> String {
    let text = value.text();
    if TEXT_KEYS.contains(&key) || key.ends_with("_datetime") || key.ends_with("_tz") {
        return quote(text);
    }
    match text {
        "True" => "true".to_owned(),
        "False" => "false".to_owned(),
        _ if text.parse::<i64>().is_ok() || text.parse::<u64>().is_ok() => text.to_owned(),
        _ => quote(text),
    }
}

/// `"k":v,…` of `fields` (without braces), `skip` keys left out.
fn members_of(fields: &Fields, skip: &[&str]) -> Vec<String> {
    fields
        .iter()
        .filter(|(key, _)| !skip.contains(key))
        .map(|(key, v)| format!("{}:{}", quote(key), value(key, v)))
        .collect()
}

fn object(fields: &Fields) -> String {
    format!("{{{}}}", members_of(fields, &[]).join(","))
}

fn array(items: Vec<String>) -> String {
    format!("[{}]", items.join(","))
}

pub fn document(view: &View<'_>, body: &Body<'_>, outcome: &Result<(), StatusError>) -> String {
    let mut parts = vec![format!("\"schema\":{}", quote(SCHEMA))];
    if *body != Body::ResultOnly {
        parts.push(format!("\"server\":{}", object(&fields::server(view))));
        parts.push(format!(
            "\"time\":{}",
            object(&fields::time(view.snapshot.now))
        ));
        parts.push(format!("\"software\":{}", object(&fields::software(view))));
    }
    let snapshot = view.snapshot;
    let (balancers, ajp_workers) = match body {
        Body::List => (
            (!view.hides(DisplayOption::HideBalancers)).then(|| {
                snapshot
                    .balancers
                    .iter()
                    .map(|lb| balancer(view, lb, &lb.members.iter().collect::<Vec<_>>()))
                    .collect()
            }),
            (!view.hides(DisplayOption::HideAjpWorkers)).then(|| {
                snapshot
                    .ajp_workers
                    .iter()
                    .map(|w| ajp_worker(view, w))
                    .collect()
            }),
        ),
        Body::Show(Target::Balancer { lb, members, .. }) => {
            (Some(vec![balancer(view, lb, members)]), None)
        }
        Body::Show(Target::Ajp(worker)) => (None, Some(vec![ajp_worker(view, worker)])),
        _ => (None, None),
    };
    if let Some(items) = balancers {
        parts.push(format!("\"balancers\":{}", array(items)));
    }
    if let Some(items) = ajp_workers {
        parts.push(format!("\"ajp_workers\":{}", array(items)));
    }
    if *body == Body::Dump {
        let lines = snapshot.dump_lines().map(quote).collect();
        parts.push(format!("\"configuration\":{}", array(lines)));
    }
    let (kind, message) = result_text(outcome);
    parts.push(format!(
        "\"result\":{{\"type\":{},\"message\":{}}}",
        quote(kind),
        quote(&message)
    ));
    format!("{{{}}}\n", parts.join(","))
}

fn maps(view: &View<'_>, maps: &[crate::status::model::UriMap]) -> String {
    if view.hides(DisplayOption::HideMaps) {
        return "[]".to_owned();
    }
    array(
        maps.iter()
            .enumerate()
            .map(|(i, m)| object(&fields::map(i + 1, m)))
            .collect(),
    )
}

fn balancer(view: &View<'_>, lb: &Balancer, members: &[&Member]) -> String {
    let mut parts = members_of(&fields::balancer(view, lb), &[]);
    let config = &lb.config;
    parts.push(format!("\"retry_interval\":{}", config.retry_interval_ms));
    let shown: Vec<String> = if view.hides(DisplayOption::HideMembers) {
        Vec::new()
    } else {
        members.iter().map(|m| member(view, m)).collect()
    };
    parts.push(format!("\"members\":{}", array(shown)));
    parts.push(format!("\"maps\":{}", maps(view, &lb.maps)));
    format!("{{{}}}", parts.join(","))
}

/// The error time comes as `last_error_at` (null when none) instead of mod_jk's four keys.
const ERROR_KEYS: [&str; 4] = [
    "error_time_datetime",
    "error_time_tz",
    "error_time_unix_seconds",
    "error_time_ago",
];

fn last_error(at: Option<i64>) -> String {
    format!(
        "\"last_error_at\":{}",
        at.filter(|&t| t > 0)
            .map_or("null".to_owned(), |t| t.to_string())
    )
}

fn member(view: &View<'_>, m: &Member) -> String {
    let mut parts = members_of(&fields::member(view, m, Order::Lines), &ERROR_KEYS);
    let health = rate(m, view.status.good_mask, view.status.bad_mask);
    parts.push(format!("\"rating\":{}", quote(health.name())));
    parts.push(format!("\"retry_interval\":{}", m.ajp.retry_interval_ms));
    parts.push(format!("\"connection_pool_size\":{}", m.ajp.pool_size));
    parts.push(last_error(m.last_error));
    format!("{{{}}}", parts.join(","))
}

fn ajp_worker(view: &View<'_>, w: &AjpWorker) -> String {
    let mut parts = members_of(&fields::ajp_worker(view, w, Order::Lines), &ERROR_KEYS);
    parts.push(format!("\"state\":{}", quote(w.state.name())));
    parts.push(format!("\"retry_interval\":{}", w.ajp.retry_interval_ms));
    parts.push(format!("\"connection_pool_size\":{}", w.ajp.pool_size));
    parts.push(last_error(w.last_error));
    parts.push(format!("\"maps\":{}", maps(view, &w.maps)));
    format!("{{{}}}", parts.join(","))
}
