//! A request as a table, for the gathering tests.
use super::Source;
use crate::config::{Origin, Properties, Workers};
use crate::directives::{
    spec_at, Args, DirectiveContext, EnvNames, ServerSettings, VhostConfig, LIST,
};
use std::ffi::CStr;
use std::path::PathBuf;

#[derive(Default)]
pub struct FakeRequest {
    pub env: Vec<(&'static str, &'static str)>,
    pub headers: Vec<(&'static str, &'static str)>,
    pub method: &'static str,
    pub uri: &'static str,
    pub unparsed: &'static str,
    pub args: Option<&'static str>,
    pub useragent: (&'static str, u16),
    pub client_ip: &'static str,
    pub local_ip: &'static str,
    pub user: Option<&'static str>,
}

fn lookup(table: &[(&'static str, &'static str)], name: &[u8]) -> Option<&'static [u8]> {
    table
        .iter()
        .find(|(k, _)| k.as_bytes().eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_bytes())
}

impl FakeRequest {
    pub fn get(uri: &'static str) -> FakeRequest {
        FakeRequest {
            method: "GET",
            uri,
            unparsed: uri,
            useragent: ("192.0.2.7", 50123),
            client_ip: "10.9.8.7",
            local_ip: "127.0.0.1",
            ..FakeRequest::default()
        }
    }

    /// Settings made of `(directive name, argument)` lines.
    pub fn settings(lines: &[(&str, &str)]) -> ServerSettings {
        let mut s = ServerSettings::default();
        for (name, arg) in lines {
            let i = LIST
                .iter()
                .position(|d| d.name.to_str() == Ok(name))
                .unwrap_or_else(|| panic!("no directive {name}"));
            let spec = spec_at(i).unwrap();
            let ctx = DirectiveContext {
                origin: Origin::new("httpd.conf", 1),
                location: None,
                main_server: true,
            };
            let args: Vec<&str> = match spec.args {
                Args::Line => vec![arg],
                _ => arg.split(' ').collect(),
            };
            s.apply(spec.directive, &ctx, &args, &|p| PathBuf::from(p))
                .unwrap();
        }
        s
    }

    pub fn names(lines: &[(&str, &str)]) -> EnvNames {
        EnvNames::from_settings(&FakeRequest::settings(lines))
    }

    /// A main server's finished configuration made of directive lines.
    pub fn vhost(lines: &[(&str, &str)]) -> VhostConfig {
        let mut p = Properties::new();
        p.parse_str("worker.list=w\nworker.w.port=1\n", "w")
            .unwrap();
        let workers = Workers::build(&p).unwrap();
        let s = FakeRequest::settings(lines);
        VhostConfig::build(&workers, &s, &s, true).unwrap().0
    }
}

impl Source<'static> for FakeRequest {
    fn env(&self, name: &CStr) -> Option<&'static [u8]> {
        lookup(&self.env, name.to_bytes())
    }
    fn env_has_prefix(&self, prefix: &[u8]) -> bool {
        self.env.iter().any(|(k, _)| {
            k.len() >= prefix.len() && k.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix)
        })
    }
    fn header(&self, name: &CStr) -> Option<&'static [u8]> {
        lookup(&self.headers, name.to_bytes())
    }
    fn header_values(&self, name: &CStr, out: &mut dyn FnMut(&'static str)) {
        for (k, v) in &self.headers {
            if k.as_bytes().eq_ignore_ascii_case(name.to_bytes()) {
                out(v);
            }
        }
    }
    fn method(&self) -> &'static [u8] {
        self.method.as_bytes()
    }
    fn protocol(&self) -> &'static [u8] {
        b"HTTP/1.1"
    }
    fn uri(&self) -> Option<&'static [u8]> {
        Some(self.uri.as_bytes())
    }
    fn unparsed_uri(&self) -> Option<&'static [u8]> {
        Some(self.unparsed.as_bytes())
    }
    fn args(&self) -> Option<&'static [u8]> {
        self.args.map(str::as_bytes)
    }
    fn useragent_ip(&self) -> &'static [u8] {
        self.useragent.0.as_bytes()
    }
    fn useragent_port(&self) -> u16 {
        self.useragent.1
    }
    fn client_ip(&self) -> &'static [u8] {
        self.client_ip.as_bytes()
    }
    fn client_port(&self) -> u16 {
        40001
    }
    fn local_ip(&self) -> &'static [u8] {
        self.local_ip.as_bytes()
    }
    fn remote_host(&self) -> Option<&'static [u8]> {
        Some(self.useragent.0.as_bytes())
    }
    fn server_name(&self) -> &'static [u8] {
        b"www.example.com"
    }
    fn server_port(&self) -> u16 {
        80
    }
    fn user(&self) -> Option<&'static [u8]> {
        self.user.map(str::as_bytes)
    }
    fn auth_type(&self) -> Option<&'static [u8]> {
        None
    }
}
