//! mod_jk's `mime=prop`: `<prefix>.<name>.<key>=value` lines (java.util.Properties
//! syntax), mounts as `<prefix>.<worker>.map.<n>.<key>`, ending with
//! `<prefix>.result.type` and `.message`.

use super::fields::{Fields, Order};
use super::lines::LineFormat;
use super::View;
use crate::status::error::StatusError;
use crate::status::escape::{prop_key, prop_value};

pub struct Prop {
    prefix: String,
    out: String,
}

impl Prop {
    pub fn new(view: &View<'_>) -> Prop {
        Prop {
            prefix: prop_key(&view.status.prefix),
            out: String::new(),
        }
    }

    /// `<prefix>[.<name>].<key>=<value>`.
    fn entry(&mut self, name: Option<&str>, key: &str, value: &str) {
        self.out.push_str(&self.prefix);
        if let Some(name) = name {
            self.out.push('.');
            self.out.push_str(&prop_key(name));
        }
        self.out.push('.');
        // Keys are ours (one, as in mod_jk, with a blank); only names come from outside.
        self.out.push_str(key);
        self.out.push('=');
        self.out.push_str(&prop_value(value));
        self.out.push('\n');
    }

    /// A worker of `worker.list`: `<prefix>.list=<name>`, then its fields.
    fn listed(&mut self, fields: &Fields) {
        self.entry(None, "list", fields[0].1.text());
        self.object(fields, |name| name.to_owned());
    }

    /// Every field but `name` under `name`, with the key spelling `rename` gives.
    fn object(&mut self, fields: &Fields, owner: impl Fn(&str) -> String) {
        let name = fields[0].1.text().to_owned();
        for (key, value) in &fields[1..] {
            let (owner, key) = match *key {
                // mod_jk files a member's reset and error times under its lb, and spells
                // two of the error keys with a blank.
                "error_time_unix_seconds" => (owner(&name), "error_time_unix seconds"),
                "error_time_ago" => (owner(&name), "error_time_ago seconds"),
                k if k.starts_with("last_reset") || k.starts_with("error_time") => {
                    (owner(&name), k)
                }
                k => (name.clone(), k),
            };
            self.entry(Some(&owner), key, value.text());
        }
    }
}

impl LineFormat for Prop {
    const ORDER: Order = Order::Lines;

    fn header(&mut self, server: &Fields, time: &Fields, software: &Fields) {
        for (group, fields) in [("server", server), ("time", time)] {
            for (key, value) in fields {
                self.entry(None, &format!("{group}_{key}"), value.text());
            }
        }
        for (key, value) in software {
            self.entry(None, key, value.text());
        }
    }

    fn balancers_begin(&mut self, count: usize) {
        self.entry(None, "lb_count", &count.to_string());
    }

    fn balancer_begin(&mut self, lb: &Fields) {
        self.listed(lb);
    }

    fn member(&mut self, lb: &str, member: &Fields) {
        self.entry(Some(lb), "balance_workers", member[0].1.text());
        self.object(member, |_| lb.to_owned());
    }

    fn ajp_workers_begin(&mut self, count: usize) {
        self.entry(None, "ajp_count", &count.to_string());
    }

    fn ajp_worker(&mut self, worker: &Fields) {
        self.listed(worker);
    }

    fn map(&mut self, worker: &str, map: &Fields) {
        let id = map[0].1.text().to_owned();
        for (key, value) in &map[1..] {
            self.entry(Some(worker), &format!("map.{id}.{key}"), value.text());
        }
    }

    fn dump(&mut self, lines: &[&str]) {
        for line in lines {
            self.out.push_str(&line.replace(['\n', '\r'], " "));
            self.out.push('\n');
        }
    }

    fn result(&mut self, outcome: &Result<(), StatusError>) {
        let (kind, message) = super::lines::result_text(outcome);
        self.entry(Some("result"), "type", kind);
        self.entry(Some("result"), "message", &message);
    }

    fn finish(&mut self) -> String {
        std::mem::take(&mut self.out)
    }
}
