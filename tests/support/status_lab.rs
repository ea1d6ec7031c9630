//! The status worker's lab for the end-to-end tests (`e2e_status.rs`, `e2e_status_browser.rs`):
//! one httpd with our module in front of an lb `lb` over three fake AJP backends `b1 b2 b3`, a
//! plain ajp13 worker `solo` (busy_limit 1) on a fourth, and status workers:
//!
//! | mount | worker | what |
//! |---|---|---|
//! | `/jkstatus` | `stat1` | plain status worker |
//! | `/jkstatus-ro` | `stat_ro` | `read_only=true` |
//! | `/jkstatus-user` | `stat_user` | `user=alice`, behind mod_auth_basic (`Require valid-user`) |
//! | `/jkstatus-open` | `stat_user` | the same worker without httpd authentication |
//! | `/jkstatus-env` | `stat_user` | `JK_REMOTE_USER=alice` set by `SetEnvIf`, no authentication |
//!
//! `b3` has a `domain` that needs escaping in every format (`<dom&"'>`). A second access log,
//! `pids.log`, has the pid of the child that served each request (`%P`) and the request line.
//! Also: small helpers around the status page (fetch, parse `key=value` lines, a python3 runner
//! for the real parsers).
//!
//! Included after `httpd`, `http_client`, `ajp_backend`, and `e2e_common` as
//! `#[path = "support/status_lab.rs"] mod status_lab;`.
#![allow(dead_code)]

use crate::ajp_backend::AjpBackend;
use crate::e2e_common::{backend, must_send};
use crate::http_client::{Request, Response};
use crate::httpd::{Httpd, HttpdConfig, Mpm};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The domain of b3, as written in workers.properties: every format must escape it.
pub const HOSTILE_DOMAIN: &str = r#"<dom&"'>"#;
/// The last line of every successful txt answer.
pub const OK: &str = "Result: type=OK message=\"Action finished\"";
/// alice's and bob's password in the htpasswd file.
pub const PASSWORD: &str = "s3cret";
/// The folder of mod_jk 1.2.48's captured status pages.
pub const SAMPLES: &str = "/work/shared/reference/jkstatus-samples";

/// The running lab. Fields drop in order: httpd first, then the backends.
pub struct Lab {
    pub httpd: Httpd,
    pub b1: AjpBackend,
    pub b2: AjpBackend,
    pub b3: AjpBackend,
    pub solo: AjpBackend,
}

/// workers.properties of the lab (ports of b1, b2, b3, solo).
pub fn workers_properties(ports: [u16; 4]) -> String {
    let mut text = String::from(
        "# written by tests/support/status_lab.rs\n\
         worker.list=lb,solo,stat1,stat_ro,stat_user\n",
    );
    for (name, port) in ["b1", "b2", "b3", "solo"].iter().zip(ports) {
        let _ = writeln!(text, "worker.{name}.type=ajp13");
        let _ = writeln!(text, "worker.{name}.host=127.0.0.1");
        let _ = writeln!(text, "worker.{name}.port={port}");
        let _ = writeln!(text, "worker.{name}.socket_connect_timeout=1000");
        let _ = writeln!(text, "worker.{name}.reply_timeout=5000");
    }
    let _ = writeln!(text, "worker.b3.domain={HOSTILE_DOMAIN}");
    text.push_str(
        "worker.solo.busy_limit=1\n\
         worker.lb.type=lb\n\
         worker.lb.balance_workers=b1,b2,b3\n\
         worker.stat1.type=status\n\
         worker.stat_ro.type=status\n\
         worker.stat_ro.read_only=true\n\
         worker.stat_user.type=status\n\
         worker.stat_user.user=alice\n",
    );
    text
}

/// An htpasswd line for `user` (bcrypt, made by Debian's `htpasswd`).
fn htpasswd_line(user: &str) -> String {
    let out = Command::new("htpasswd")
        .args(["-nbB", user, PASSWORD])
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run htpasswd ({e}): install Debian's apache2-utils (apt-get install -y apache2-utils)")
        });
    assert!(out.status.success(), "htpasswd failed: {out:?}");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// The httpd.conf lines after `JkWorkersFile`.
pub fn lab_conf() -> String {
    String::from(
        "LogFormat \"%P %>s \\\"%r\\\"\" pids\n\
         CustomLog \"{dir}/pids.log\" pids\n\
         JkMount /app/* lb\n\
         JkMount /solo/* solo\n\
         JkMount /jkstatus stat1\n\
         JkMount /jkstatus-ro stat_ro\n\
         JkMount /jkstatus-user stat_user\n\
         JkMount /jkstatus-open stat_user\n\
         JkMount /jkstatus-env stat_user\n\
         SetEnvIf Request_URI \"^/jkstatus-env\" JK_REMOTE_USER=alice\n\
         <Location /jkstatus-user>\n\
         \x20   AuthType Basic\n\
         \x20   AuthName \"jkstatus\"\n\
         \x20   AuthBasicProvider file\n\
         \x20   AuthUserFile \"{dir}/htpasswd\"\n\
         \x20   Require valid-user\n\
         </Location>\n",
    )
}

impl Lab {
    /// Starts the backends and httpd (`mpm`, `children` prefork children); `more_conf` is
    /// appended to the httpd.conf lines.
    pub fn start(mpm: Mpm, children: usize, more_conf: &str) -> Lab {
        let (b1, b2, b3, solo) = (backend("b1"), backend("b2"), backend("b3"), backend("solo"));
        let mut cfg = HttpdConfig::with_module(mpm);
        cfg.prefork_children = children;
        cfg.extra_modules = vec![
            "auth_basic".into(),
            "authn_core".into(),
            "authn_file".into(),
            "authz_user".into(),
        ];
        cfg.global = format!(
            "JkWorkersFile {{dir}}/workers.properties\n{}{more_conf}\n",
            lab_conf()
        );
        let htpasswd = format!("{}\n{}\n", htpasswd_line("alice"), htpasswd_line("bob"));
        cfg.files = vec![
            (
                "workers.properties".to_string(),
                workers_properties([b1.port(), b2.port(), b3.port(), solo.port()]),
            ),
            ("htpasswd".to_string(), htpasswd),
        ];
        let httpd = Httpd::start(cfg).unwrap_or_else(|e| panic!("httpd did not start:\n{e}"));
        Lab {
            httpd,
            b1,
            b2,
            b3,
            solo,
        }
    }

    /// Some traffic: `n` requests through the lb and `n` of 2000 bytes through `solo`.
    pub fn warm_up(&self, n: usize) {
        for i in 0..n {
            self.get(&format!("/app/warm{i}"));
            self.get("/solo/x?size=2000");
        }
    }

    /// GET `path` on a new connection (transport errors fail the test).
    pub fn get(&self, path: &str) -> Response {
        must_send(&self.httpd, &Request::get(path))
    }

    pub fn send(&self, req: &Request) -> Response {
        must_send(&self.httpd, req)
    }

    /// The `Host` header a browser would send to this server.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.httpd.port())
    }

    /// `/jkstatus?mime=txt`: the member line of `member` parsed.
    pub fn member_txt(&self, member: &str) -> Vec<(String, String)> {
        let text = self.get("/jkstatus?mime=txt").text();
        line_with(&text, "Member:", "name", member)
            .unwrap_or_else(|| panic!("no Member line for {member} in:\n{text}"))
    }

    /// `key` of `member` in `/jkstatus?mime=txt`.
    pub fn member_value(&self, member: &str, key: &str) -> String {
        value_of(&self.member_txt(member), key).unwrap_or_default()
    }

    /// Lines of pids.log: (pid, status, request line).
    pub fn pid_log(&self) -> Vec<(u32, u16, String)> {
        let text = std::fs::read_to_string(self.httpd.dir().join("pids.log")).unwrap_or_default();
        text.lines()
            .filter_map(|l| {
                let mut parts = l.splitn(3, ' ');
                let pid = parts.next()?.parse().ok()?;
                let status = parts.next()?.parse().ok()?;
                Some((pid, status, parts.next()?.trim_matches('"').to_string()))
            })
            .collect()
    }

    /// The pid of the child that served the request whose line contains `marker` (waits for
    /// httpd to log it).
    pub fn pid_of(&self, marker: &str) -> Option<u32> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if let Some((pid, _, _)) = self
                .pid_log()
                .into_iter()
                .find(|(_, _, l)| l.contains(marker))
            {
                return Some(pid);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Splits a txt line's `key=value` pairs after its `Prefix:` (values may be quoted with `\"`
/// escapes inside; the quotes are kept off, the escapes are kept as they are).
pub fn pairs(line: &str) -> Vec<(String, String)> {
    let rest = line.split_once(": ").map_or(line, |(_, r)| r);
    let mut out = Vec::new();
    let mut chars = rest.chars().peekable();
    loop {
        while chars.peek() == Some(&' ') {
            chars.next();
        }
        let mut key = String::new();
        for c in chars.by_ref() {
            if c == '=' {
                break;
            }
            key.push(c);
        }
        if key.is_empty() {
            return out;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => {
                        value.push('\\');
                        if let Some(n) = chars.next() {
                            value.push(n);
                        }
                    }
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ' ' {
                    break;
                }
                value.push(c);
                chars.next();
            }
        }
        out.push((key, value));
    }
}

pub fn keys(pairs: &[(String, String)]) -> Vec<String> {
    pairs.iter().map(|(k, _)| k.clone()).collect()
}

pub fn value_of(pairs: &[(String, String)], key: &str) -> Option<String> {
    pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone())
}

/// The first txt line starting with `prefix` whose `key` is `value`, parsed.
pub fn line_with(
    text: &str,
    prefix: &str,
    key: &str,
    value: &str,
) -> Option<Vec<(String, String)>> {
    text.lines()
        .filter(|l| l.starts_with(prefix))
        .map(pairs)
        .find(|p| value_of(p, key).as_deref() == Some(value))
}

/// The first line starting with `prefix` in a sample file, parsed.
pub fn sample_line(file: &str, prefix: &str) -> Vec<(String, String)> {
    let text = sample(file);
    text.lines()
        .find(|l| l.starts_with(prefix))
        .map(pairs)
        .unwrap_or_else(|| panic!("sample {file} has no line starting {prefix:?}"))
}

pub fn sample(file: &str) -> String {
    let path = Path::new(SAMPLES).join(file);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read mod_jk sample {}: {e}", path.display()))
}

/// Debian's python3 (where `apt-get install python3-…` puts modules), else the first on PATH.
pub fn python() -> &'static str {
    if Path::new("/usr/bin/python3").exists() {
        "/usr/bin/python3"
    } else {
        "python3"
    }
}

/// Runs `script` with `args` under python3, `input` on stdin: Ok(stdout) or Err(stderr).
pub fn run_python(script: &str, args: &[&str], input: &[u8]) -> Result<String, String> {
    let mut child = Command::new(python())
        .arg("-c")
        .arg(script)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e} (install Debian's python3)", python()))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(input)
            .map_err(|e| format!("cannot feed python3: {e}"))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| format!("python3 did not finish: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// The real parsers, one mode per format. Each prints one line per element, object or sample:
/// - `xml`: `tag<TAB>key,key,…<TAB>{attributes as JSON}` for every element (ElementTree);
/// - `json`: the document re-serialised by `json.dumps` (so `"key": value` with `, ` and `: `);
/// - `prometheus`: `family<TAB>type<TAB>sample name<TAB>{labels as JSON}<TAB>value`
///   (prometheus_client's text parser).
pub const PARSERS: &str = r#"
import sys, json
mode = sys.argv[1]
data = sys.stdin.buffer.read().decode('utf-8')
if mode == 'xml':
    import xml.etree.ElementTree as ET
    root = ET.fromstring(data.encode('utf-8'))
    for el in root.iter():
        tag = el.tag.split('}')[-1]
        print(tag + '\t' + ','.join(el.attrib.keys()) + '\t' + json.dumps(el.attrib))
elif mode == 'json':
    print(json.dumps(json.loads(data)))
elif mode == 'prometheus':
    try:
        from prometheus_client.parser import text_string_to_metric_families
    except ImportError:
        sys.stderr.write('MISSING prometheus_client\n')
        sys.exit(3)
    for fam in text_string_to_metric_families(data):
        for s in fam.samples:
            print('\t'.join([fam.name, fam.type, s.name, json.dumps(s.labels, sort_keys=True), repr(s.value)]))
"#;

/// Parses `body` with the real parser for `mode`; a parse error fails the test with the body.
pub fn parse_with_python(mode: &str, body: &str) -> String {
    match run_python(PARSERS, &[mode], body.as_bytes()) {
        Ok(out) => out,
        Err(e) if e.contains("MISSING prometheus_client") => panic!(
            "the Prometheus check needs prometheus_client for {}: install Debian's \
             python3-prometheus-client (apt-get install -y python3-prometheus-client)",
            python()
        ),
        Err(e) => panic!("python3 could not parse the {mode} answer: {e}\n--- body ---\n{body}"),
    }
}

/// The `name="token" value="…"` of the first form in an HTML page.
pub fn form_token(html: &str) -> Option<String> {
    let at = html.find("name=\"token\" value=\"")? + "name=\"token\" value=\"".len();
    let end = html[at..].find('"')?;
    Some(html[at..at + end].to_string())
}
