//! mod_jk's `mime=xml`: one attribute per line under `<jk:status>` (element prefix `ns`,
//! namespace `xmlns`, optional `doctype`), lbs nesting their members and mounts, ending
//! with `<jk:result type=… message=…/>`.

use super::fields::{Fields, Order};
use super::lines::LineFormat;
use super::View;
use crate::status::error::StatusError;
use crate::status::escape::xml;

pub struct Xml {
    ns: String,
    out: String,
}

impl Xml {
    pub fn new(view: &View<'_>) -> Xml {
        let status = view.status;
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n");
        if let Some(doctype) = status.doctype.as_deref().filter(|d| !d.is_empty()) {
            out.push_str(doctype);
            out.push('\n');
        }
        let ns = status.ns.clone();
        out.push_str(&format!("<{ns}status\n"));
        if !status.xmlns.is_empty() {
            out.push_str("  ");
            out.push_str(&status.xmlns);
        }
        out.push_str(">\n");
        Xml { ns, out }
    }

    /// `<ns:name` + one `key="value"` line per field + `/>` or `>`.
    fn element(&mut self, indent: usize, name: &str, fields: &Fields, empty: bool) {
        let pad = " ".repeat(indent);
        self.out.push_str(&format!("{pad}<{}{name}\n", self.ns));
        for (key, value) in fields {
            self.out
                .push_str(&format!("{pad}  {key}=\"{}\"\n", xml(value.text())));
        }
        self.out.push_str(&pad);
        self.out.push_str(if empty { "/>\n" } else { ">\n" });
    }

    fn close(&mut self, indent: usize, name: &str) {
        let pad = " ".repeat(indent);
        self.out.push_str(&format!("{pad}</{}{name}>\n", self.ns));
    }

    fn counted(&mut self, name: &str, count: usize) {
        let fields = vec![("count", super::fields::Value::Bare(count.to_string()))];
        self.element(0, name, &fields, false);
    }
}

impl LineFormat for Xml {
    const ORDER: Order = Order::Xml;

    fn header(&mut self, server: &Fields, time: &Fields, software: &Fields) {
        self.element(0, "server", server, true);
        self.element(0, "time", time, true);
        self.element(0, "software", software, true);
    }

    fn balancers_begin(&mut self, count: usize) {
        self.counted("balancers", count);
    }

    fn balancers_end(&mut self) {
        self.close(0, "balancers");
    }

    fn balancer_begin(&mut self, lb: &Fields) {
        self.element(2, "balancer", lb, false);
    }

    fn balancer_end(&mut self) {
        self.close(2, "balancer");
    }

    fn member(&mut self, _lb: &str, member: &Fields) {
        self.element(6, "member", member, true);
    }

    fn ajp_workers_begin(&mut self, count: usize) {
        self.counted("ajp_workers", count);
    }

    fn ajp_workers_end(&mut self) {
        self.close(0, "ajp_workers");
    }

    fn ajp_worker(&mut self, worker: &Fields) {
        self.element(2, "ajp", worker, true);
    }

    fn map(&mut self, _worker: &str, map: &Fields) {
        self.element(6, "map", map, true);
    }

    fn dump(&mut self, lines: &[&str]) {
        let pairs: Vec<(String, String)> = lines
            .iter()
            .map(|line| {
                let (key, value) = line.split_once('=').unwrap_or((line, ""));
                (key.trim().to_owned(), value.trim().to_owned())
            })
            .collect();
        self.out.push_str(&format!("  <{}configuration\n", self.ns));
        for (key, value) in pairs {
            // A key is an attribute name here: keep only characters XML names allow.
            let key: String = key
                .chars()
                .filter(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | ':'))
                .collect();
            self.out
                .push_str(&format!("    {key}=\"{}\"\n", xml(&value)));
        }
        self.out.push_str("  />\n");
    }

    fn result(&mut self, outcome: &Result<(), StatusError>) {
        let (kind, message) = super::lines::result_text(outcome);
        let bare = |s: &str| super::fields::Value::Bare(s.to_owned());
        let fields = vec![("type", bare(kind)), ("message", bare(&message))];
        self.element(2, "result", &fields, true);
    }

    fn finish(&mut self) -> String {
        self.close(0, "status");
        std::mem::take(&mut self.out)
    }
}
