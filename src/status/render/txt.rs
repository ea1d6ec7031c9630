//! mod_jk's `mime=txt`: one line per object, `Kind: key=value …`, ending with
//! `Result: type=OK|ERROR message="…"` (what awk scripts read).

use super::fields::{Fields, Order, Value};
use super::lines::LineFormat;
use crate::status::error::StatusError;
use crate::status::escape::{txt_bare, txt_quoted};

#[derive(Default)]
pub struct Txt {
    out: String,
}

impl Txt {
    fn line(&mut self, kind: &str, fields: &Fields) {
        self.out.push_str(kind);
        self.out.push(':');
        for (key, value) in fields {
            self.out.push(' ');
            self.out.push_str(key);
            self.out.push('=');
            match value {
                Value::Bare(text) => self.out.push_str(&txt_bare(text)),
                Value::Quoted(text) => {
                    self.out.push('"');
                    self.out.push_str(&txt_quoted(text));
                    self.out.push('"');
                }
            }
        }
        self.out.push('\n');
    }
}

impl LineFormat for Txt {
    const ORDER: Order = Order::Lines;

    fn header(&mut self, server: &Fields, time: &Fields, software: &Fields) {
        self.line("Server", server);
        self.line("Time", time);
        self.line("Software", software);
    }

    fn balancers_begin(&mut self, count: usize) {
        self.out
            .push_str(&format!("Balancer Workers: count={count}\n"));
    }

    fn balancer_begin(&mut self, lb: &Fields) {
        self.line("Balancer Worker", lb);
    }

    fn member(&mut self, _lb: &str, member: &Fields) {
        self.line("Member", member);
    }

    fn ajp_workers_begin(&mut self, count: usize) {
        self.out.push_str(&format!("AJP Workers: count={count}\n"));
    }

    fn ajp_worker(&mut self, worker: &Fields) {
        self.line("AJP Worker", worker);
    }

    fn map(&mut self, _worker: &str, map: &Fields) {
        self.line("Map", map);
    }

    fn dump(&mut self, lines: &[&str]) {
        self.out.push_str("Configuration:\n");
        for line in lines {
            // One configuration line stays one line.
            self.out.push_str(&line.replace(['\n', '\r'], " "));
            self.out.push('\n');
        }
    }

    fn result(&mut self, outcome: &Result<(), StatusError>) {
        let (kind, message) = super::lines::result_text(outcome);
        let fields = vec![
            ("type", Value::Bare(kind.to_owned())),
            ("message", Value::Quoted(message)),
        ];
        self.line("Result", &fields);
    }

    fn finish(&mut self) -> String {
        std::mem::take(&mut self.out)
    }
}
