//! The differential test (issue #19): mod_jk_rs and Debian's mod_jk (`libapache2-mod-jk`) side by
//! side, the same requests through both, and what the backend receives and what the client gets
//! compared field by field.
//!
//! For every setup of [`SETUPS`] (one `#[test]` each) two httpds (event MPM) start with the same
//! `workers.properties`, `JkMount` lines and options: one loads mod_jk_rs (`jk_rs_module`), the
//! other `/usr/lib/apache2/modules/mod_jk.so` (`jk_module`); each is in front of its own fake
//! AJP13 backend (`tests/support/ajp_backend.rs`), so each backend's records are that front end's.
//! Every case of [`cases`] is sent to both, each request on its own connection from 127.0.0.2
//! (so the client's address is not the server's: `ForwardLocalAddress` shows).
//!
//! Compared per case:
//! * backend side — every [`RecordedRequest`] the case produced: method and its AJP code,
//!   protocol, URI, remote address and host, server name and port, SSL flag, the headers (their
//!   order, and each one's values), the attributes (their order, and each one's value, query
//!   string included), the body's length and SHA-256;
//! * client side — HTTP version, status, reason phrase, the body (an echo answer must be the echo
//!   of what its own backend received; any other body byte for byte), and every response header
//!   except `Date`, `Server`, `Keep-Alive`, `Connection` (per connection), `X-Backend-Connection`
//!   (the backend's connection serial), `ETag` and `Last-Modified` (each server directory's
//!   files are written at their own moment).
//!
//! Per-connection values are normalised: the front end's own port (`server_port`, `Host`, an
//! absolute `Location`, httpd's error pages) becomes `{front_port}`, the client's ephemeral port
//! (`AJP_REMOTE_PORT`) `{client_port}`.
//!
//! Some cases use a second request on the same connection (`next.*`), a client that stops sending
//! its body, or a backend fault (`?fault=`), where the two front ends differ most.
//!
//! Every difference is listed in ONE place, [`DIFFERENCES`] (case → fields → what differs → why):
//! the ones made on purpose point to their bullet of README.md's "Safer than mod_jk, by design"
//! (or the paragraph after it), the ones where mod_jk does better to README.md's "Not yet" row. The
//! comparison applies it: a listed difference must occur (if it disappears the test says so, so
//! the list stays true), and any other mismatch fails the test with a report naming setup, case,
//! field and both values. `MOD_JK_RS_DIFF_DUMP=<dir>` writes every case's fields, per setup and
//! front end, for a look at what agrees. Without Debian's mod_jk the test fails, naming the
//! package (`scripts/setup.sh` and CI install it).

#[path = "support/ajp_backend.rs"]
mod ajp_backend;
#[path = "support/e2e_common.rs"]
mod e2e_common;
#[path = "support/http_client.rs"]
mod http_client;
#[path = "support/httpd.rs"]
mod httpd;

use ajp_backend::{sha256_hex, AjpBackend, RecordedRequest};
use e2e_common::{noise, split_into};
use http_client::{Body, Connection, Request, Response};
use httpd::{module_path, Httpd, HttpdConfig, Mpm};
use socket2::{Domain, Socket, Type};
use std::fmt::Write as _;
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

/// Debian's mod_jk (package `libapache2-mod-jk`).
const MOD_JK: &str = "/usr/lib/apache2/modules/mod_jk.so";
/// Where every request comes from: not the address httpd listens on.
const CLIENT_IP: [u8; 4] = [127, 0, 0, 2];
/// Name of both backends (echoed in `X-Backend` and in echo answers).
const BACKEND_NAME: &str = "tomcat";
/// Set to a directory to get every case's fields written there, one file per setup and front end.
const DUMP_ENV: &str = "MOD_JK_RS_DIFF_DUMP";
/// A case that takes longer than this has hung (no case needs a second).
const CLIENT_TIMEOUT: Duration = Duration::from_secs(10);

// ------------------------------------------------------------------ the differences

/// Where a difference is explained. The text is a phrase of README.md (checked by
/// `differences_table_names_real_setups_cases_and_readme_text`).
#[derive(Clone, Copy, Debug)]
enum Why {
    /// On purpose, for safety: a bullet of README.md's "Safer than mod_jk, by design".
    Safer(&'static str),
    /// On purpose, not about safety: the paragraph after those bullets.
    Other(&'static str),
    /// mod_jk does better and we do not yet: README.md's "Not yet" row. None today (the last
    /// two, small answers without Content-Length and `599 Unknown Reason`, were fixed).
    #[allow(dead_code)]
    NotYet(&'static str),
}

/// One difference between mod_jk_rs and mod_jk that the test expects.
struct Difference {
    /// The setups where it occurs (names from [`SETUPS`]); empty = every setup.
    setups: &'static [&'static str],
    /// The case (a name from [`cases`]).
    case: &'static str,
    /// The fields that differ (as in the report; a trailing `*` matches a prefix). Each pattern
    /// must match a mismatch in every setup the entry applies to.
    fields: &'static [&'static str],
    /// Fields that may differ or not, as timing has it (not required to occur).
    maybe: &'static [&'static str],
    /// What differs.
    what: &'static str,
    why: Why,
}

const EVERY_SETUP: &[&str] = &[];
/// Every setup but `flush-packets`, where mod_jk writes each body packet at once as we do.
const BUFFERING: &[&str] = &[
    "defaults",
    "ForwardURIProxy",
    "ForwardURICompat",
    "ForwardURICompatUnparsed",
    "ForwardURIEscaped",
    "local-address+envvar+strip-session",
    "ssl-variables",
    "physical-address+remoteip",
];

/// Every difference between mod_jk_rs and Debian's mod_jk 1.2.48 that the cases show, in one
/// place. Anything else that differs fails the test, and so does an entry that no longer occurs.
/// Keep README.md's "Safer than mod_jk, by design" (and its "Not yet" row) in step.
const DIFFERENCES: &[Difference] = &[
    Difference {
        setups: &["ForwardURICompat"],
        case: "uri-double-encoded-dots",
        fields: &["backend.requests", "client.*"],
        maybe: &[],
        what: "mod_jk forwards /app/%2e%2e/other (Tomcat reads /other); mod_jk_rs does not map \
               it, httpd answers 404",
        why: Why::Safer("`ForwardURICompat` cannot be used for CVE-2007-1860."),
    },
    Difference {
        setups: EVERY_SETUP,
        case: "client-vanishes-mid-body",
        fields: &["backend.requests", "client.*"],
        maybe: &[],
        what: "mod_jk sends the request and the 100 bytes it got, then drops the client \
               connection; mod_jk_rs never contacts the backend and answers 400",
        why: Why::Safer("The body is read before the backend is contacted."),
    },
    Difference {
        setups: EVERY_SETUP,
        case: "client-sends-no-body",
        fields: &["client.*"],
        // mod_jk contacts the backend or not, as the client's end reaches it before or after it
        // has read the (missing) first body packet.
        maybe: &["backend.requests"],
        what: "the same with no body byte at all (CVE-2008-5519's trigger): mod_jk drops the \
               client connection without an answer, mod_jk_rs answers 400",
        why: Why::Safer("The body is read before the backend is contacted."),
    },
    Difference {
        setups: EVERY_SETUP,
        case: "post-backend-reset",
        fields: &["backend.requests"],
        maybe: &[],
        what: "the backend took the POST and closed: mod_jk sends it again (2 in all), \
               mod_jk_rs once (502 either way)",
        why: Why::Safer("No replay of non-idempotent requests."),
    },
    Difference {
        setups: EVERY_SETUP,
        case: "get-backend-reset",
        fields: &["backend.requests"],
        maybe: &[],
        what: "the backend takes every GET and closes: mod_jk sends it twice (retries=2), \
               mod_jk_rs three times — the failure on a pooled connection costs no attempt",
        why: Why::Safer("costs no attempt"),
    },
    Difference {
        setups: EVERY_SETUP,
        case: "backend-garbage",
        fields: &["backend.requests"],
        maybe: &[],
        what:
            "an answer that is not AJP: mod_jk sends the GET again, mod_jk_rs answers 502 at once",
        why: Why::Safer("A backend that breaks the protocol is not asked again."),
    },
    Difference {
        setups: EVERY_SETUP,
        case: "response-bad-chunk",
        fields: &["backend.requests", "client.*"],
        maybe: &[],
        what: "a body chunk longer than its packet (CVE-2006-7197): mod_jk sends the GET again \
               and answers 500, mod_jk_rs 502 at once",
        why: Why::Safer("A backend that breaks the protocol is not asked again."),
    },
    Difference {
        setups: EVERY_SETUP,
        case: "response-two-headers",
        fields: &["backend.requests", "client.*"],
        maybe: &[],
        what: "SEND_HEADERS twice: mod_jk sends the GET again and answers 500, mod_jk_rs 502 \
               at once",
        why: Why::Safer("A backend that breaks the protocol is not asked again."),
    },
    Difference {
        setups: EVERY_SETUP,
        case: "response-truncated",
        fields: &["backend.requests", "client.*"],
        maybe: &[],
        what: "the backend closes after half of a 100000-byte body: mod_jk sends the GET again \
               and appends the second answer to the first — the client gets 99376 bytes made of \
               two answers, or with FlushPackets all 100000, complete and wrong; mod_jk_rs cuts \
               the client off after the 50000 it had",
        why: Why::Safer("once part of it reached the client"),
    },
    Difference {
        setups: BUFFERING,
        case: "response-longer-than-content-length",
        fields: &["client.*"],
        maybe: &[],
        what: "Content-Length: 10 and 461 bytes of body: mod_jk passes all of it (httpd \
               recomputes the length), mod_jk_rs answers 502",
        why: Why::Safer("A backend that sends more body than its Content-Length"),
    },
    Difference {
        setups: &["flush-packets"],
        case: "response-longer-than-content-length",
        fields: &["client.*", "next.*"],
        // Whether mod_jk reads the next request before the client gives up on the garbage.
        maybe: &["backend.requests"],
        what: "the same with FlushPackets: mod_jk sends Content-Length: 10 and all 461 bytes, \
               the client reads the surplus as the answer to its next request; mod_jk_rs \
               answers 502",
        why: Why::Safer("A backend that sends more body than its Content-Length"),
    },
    Difference {
        setups: EVERY_SETUP,
        case: "response-much-longer-than-content-length",
        fields: &["client.*", "next.*"],
        // Whether mod_jk reads the next request before the client gives up on the garbage.
        maybe: &["backend.requests"],
        what: "Content-Length: 50000 and 100000 bytes of body: mod_jk passes the surplus, which \
               the client reads as the answer to its next request on the connection; mod_jk_rs \
               cuts the answer short and closes the connection",
        why: Why::Safer("A backend that sends more body than its Content-Length"),
    },
    Difference {
        setups: &["flush-packets"],
        case: "response-header-with-crlf",
        fields: &["client.*"],
        maybe: &[],
        what: "a header value with CR LF, which httpd refuses with its 500 page: with \
               FlushPackets mod_jk sends that page under the backend's Content-Length (longer \
               than the page: the client waits for bytes that never come), mod_jk_rs a \
               well-formed 500",
        why: Why::Safer("under the backend's Content-Length"),
    },
    Difference {
        setups: EVERY_SETUP,
        case: "browser",
        fields: &["backend.header order"],
        maybe: &[],
        what: "Accept-Language and Accept-Encoding: mod_jk_rs sends their AJP header codes, \
               mod_jk the names as the client spelled them",
        why: Why::Other("Accept-Charset"),
    },
    Difference {
        setups: EVERY_SETUP,
        case: "header-case-and-coded-names",
        fields: &["backend.header order"],
        maybe: &[],
        what: "ACCEPT-CHARSET: mod_jk_rs sends its AJP code, mod_jk the name as spelled",
        why: Why::Other("Accept-Charset"),
    },
    Difference {
        setups: EVERY_SETUP,
        case: "status-200-code-as-reason",
        fields: &["client.reason"],
        maybe: &[],
        what: "a reason phrase that only repeats the code (Tomcat 8.5+): mod_jk_rs `200 OK`, \
               mod_jk `200 200`",
        why: Why::Other("`200 OK`"),
    },
];

// ------------------------------------------------------------------ setups

/// One configuration, the same for both front ends.
struct Setup {
    name: &'static str,
    /// httpd.conf lines after the common ones ([`COMMON_LINES`]).
    lines: &'static [&'static str],
    /// More Debian modules to load.
    modules: &'static [&'static str],
}

/// httpd.conf lines of every setup. mod_jk needs a writable `JkShmFile`; both get the same lines.
const COMMON_LINES: &[&str] = &[
    "JkWorkersFile {dir}/workers.properties",
    "JkShmFile {dir}/jk.shm",
    "JkLogFile {dir}/jk.log",
    "JkLogLevel info",
    "JkMount /app/* w1",
    "JkMount /lb/* lb",
];

const SETUPS: &[Setup] = &[
    Setup {
        name: "defaults",
        lines: &[],
        modules: &[],
    },
    Setup {
        name: "ForwardURIProxy",
        lines: &["JkOptions +ForwardURIProxy"],
        modules: &[],
    },
    Setup {
        name: "ForwardURICompat",
        lines: &["JkOptions +ForwardURICompat"],
        modules: &[],
    },
    Setup {
        name: "ForwardURICompatUnparsed",
        lines: &["JkOptions +ForwardURICompatUnparsed"],
        modules: &[],
    },
    Setup {
        name: "ForwardURIEscaped",
        lines: &["JkOptions +ForwardURIEscaped"],
        modules: &[],
    },
    Setup {
        name: "local-address+envvar+strip-session",
        lines: &[
            "JkOptions +ForwardLocalAddress",
            "JkEnvVar DIFF_VAR fallback-value",
            "JkEnvVar DIFF_UNSET",
            "SetEnvIf Request_URI \"^/app/env\" DIFF_VAR=from-setenvif",
            "JkStripSession On",
        ],
        modules: &[],
    },
    Setup {
        name: "ssl-variables",
        lines: &[
            "SetEnv HTTPS on",
            "SetEnv SSL_CIPHER ECDHE-RSA-AES128-GCM-SHA256",
            "SetEnv SSL_SESSION_ID 0123abcd",
            "SetEnv SSL_CIPHER_USEKEYSIZE 128",
            "SetEnv SSL_PROTOCOL TLSv1.3",
            "SetEnv SSL_CLIENT_CERT \"-----BEGIN CERTIFICATE-----MIIB-----END CERTIFICATE-----\"",
            "SetEnv SSL_CLIENT_CERT_CHAIN_0 \"-----BEGIN CERTIFICATE-----MIIC-----END CERTIFICATE-----\"",
            "JkOptions +ForwardSSLCertChain",
        ],
        modules: &[],
    },
    Setup {
        name: "flush-packets",
        lines: &["JkOptions +FlushPackets"],
        modules: &[],
    },
    Setup {
        name: "physical-address+remoteip",
        lines: &[
            "RemoteIPHeader X-Forwarded-For",
            "RemoteIPInternalProxy 127.0.0.0/8",
            "JkOptions +ForwardPhysicalAddress",
        ],
        modules: &["remoteip"],
    },
];

/// The workers of every setup: `w1` for `/app/*` and an lb `lb` (one member with a route) for
/// `/lb/*`, both on the front end's own backend.
fn workers_properties(backend_port: u16) -> String {
    format!(
        "worker.list=w1,lb\n\
         worker.w1.type=ajp13\n\
         worker.w1.host=127.0.0.1\n\
         worker.w1.port={backend_port}\n\
         worker.w1.socket_connect_timeout=2000\n\
         worker.m1.type=ajp13\n\
         worker.m1.host=127.0.0.1\n\
         worker.m1.port={backend_port}\n\
         worker.m1.route=node1\n\
         worker.lb.type=lb\n\
         worker.lb.balance_workers=m1\n"
    )
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Front {
    Ours,
    ModJk,
}

impl Front {
    fn label(self) -> &'static str {
        match self {
            Front::Ours => "mod_jk_rs",
            Front::ModJk => "mod_jk",
        }
    }

    fn config(self, setup: &Setup, backend_port: u16) -> HttpdConfig {
        let mut cfg = HttpdConfig::with_module(Mpm::Event);
        if self == Front::ModJk {
            cfg.module = Some(MOD_JK.into());
            cfg.module_symbol = "jk_module".to_string();
        }
        // One child process: one connection pool, so whether a request finds a pooled backend
        // connection depends on the cases before it only.
        let mut global = String::from("StartServers 1\nServerLimit 1\nMaxRequestWorkers 25\n");
        for line in COMMON_LINES.iter().chain(setup.lines) {
            global.push_str(line);
            global.push('\n');
        }
        cfg.global = global;
        cfg.files = vec![(
            "workers.properties".to_string(),
            workers_properties(backend_port),
        )];
        cfg.extra_modules = setup.modules.iter().map(|m| m.to_string()).collect();
        cfg
    }
}

/// One front end with its backend.
struct Running {
    front: Front,
    backend: AjpBackend,
    httpd: Httpd,
}

impl Running {
    fn start(front: Front, setup: &Setup) -> Running {
        let backend = AjpBackend::start(BACKEND_NAME)
            .unwrap_or_else(|e| panic!("cannot start the backend of {}: {e}", front.label()));
        let httpd = Httpd::start(front.config(setup, backend.port())).unwrap_or_else(|e| {
            panic!(
                "{} httpd for setup {} did not start:\n{e}",
                front.label(),
                setup.name
            )
        });
        Running {
            front,
            backend,
            httpd,
        }
    }
}

// ------------------------------------------------------------------ cases

/// One request sent to both front ends. `{front_port}` in the target or a header value becomes
/// the port of the front end it is sent to.
struct Case {
    name: &'static str,
    request: Request,
    /// Send only this many bytes of the body, then half-close (a client that vanishes mid-body).
    cut_body: Option<usize>,
    /// A second request on the same connection after the answer (keep-alive), compared as
    /// `next.*`.
    then: Option<Request>,
}

fn case(name: &'static str, request: Request) -> Case {
    Case {
        name,
        request,
        cut_body: None,
        then: None,
    }
}

impl Case {
    fn cut_body(mut self, sent: usize) -> Case {
        self.cut_body = Some(sent);
        self
    }

    fn then(mut self, next: Request) -> Case {
        self.then = Some(next);
        self
    }
}

fn get(path: &str) -> Request {
    Request::get(path)
}

fn with_body(method: &str, path: &str, body: Vec<u8>) -> Request {
    Request::new(method, path).body(Body::Fixed(body))
}

/// Every case, in the order sent.
fn cases() -> Vec<Case> {
    let long_segment: String = (0..3000).map(|i| (b'a' + (i % 26) as u8) as char).collect();
    let too_long_segment: String = (0..5000).map(|i| (b'a' + (i % 26) as u8) as char).collect();
    let chunked_body = noise(100_000, 11);
    vec![
        // Methods and request bodies.
        case("get", get("/app/hello")),
        case("get-query", get("/app/q?a=1&b=two&empty=&flag")),
        case("head", Request::head("/app/head")),
        case("head-content-length", Request::head("/app/head?size=5000")),
        case(
            "head-no-content-length",
            Request::head("/app/head?size=100&nocl=1"),
        ),
        case(
            "post-form",
            with_body("POST", "/app/post", b"name=value&other=%C3%A9+x".to_vec())
                .header("Content-Type", "application/x-www-form-urlencoded"),
        ),
        case("post-empty", with_body("POST", "/app/post", Vec::new())),
        case("post-9k", with_body("POST", "/app/post", noise(9000, 1))),
        case("post-70k", with_body("POST", "/app/post", noise(70_000, 2))),
        case(
            "post-300k",
            with_body("POST", "/app/post", noise(300_000, 3)),
        ),
        case("put-20k", with_body("PUT", "/app/item/7", noise(20_000, 4))),
        case(
            "post-chunked",
            Request::new("POST", "/app/chunked").body(Body::Chunked(split_into(
                &noise(20_000, 5),
                &[1, 8000, 4096],
            ))),
        ),
        case(
            "post-chunked-100k",
            Request::new("POST", "/app/chunked")
                .body(Body::Chunked(split_into(&chunked_body, &[70_000, 3, 9999]))),
        ),
        case(
            "post-expect-100-continue",
            with_body("POST", "/app/expect", noise(10_000, 6)).header("Expect", "100-continue"),
        ),
        case("options", Request::new("OPTIONS", "/app/opt")),
        case("options-star", Request::new("OPTIONS", "*")),
        case("delete", Request::new("DELETE", "/app/item/7")),
        case(
            "patch",
            with_body(
                "PATCH",
                "/app/item/7",
                br#"{"op":"replace","v":1}"#.to_vec(),
            )
            .header("Content-Type", "application/json"),
        ),
        case(
            "propfind",
            with_body(
                "PROPFIND",
                "/app/dav/",
                b"<?xml version=\"1.0\"?><propfind xmlns=\"DAV:\"><allprop/></propfind>".to_vec(),
            )
            .header("Depth", "1")
            .header("Content-Type", "application/xml"),
        ),
        case("unknown-method", Request::new("FROBNICATE", "/app/x")),
        case("trace", Request::new("TRACE", "/app/trace")),
        // Request targets.
        case("uri-space", get("/app/a%20b")),
        case("uri-encoded-slash", get("/app/a%2Fb")),
        case("uri-double-encoded-dots", get("/app/%252e%252e/other")),
        case("uri-encoded-dots", get("/app/x/%2e%2e/y")),
        case("uri-dot-segments", get("/app//x/./y/../z")),
        case("uri-jsessionid", get("/app/page;jsessionid=ABC123.node1")),
        case(
            "uri-jsessionid-query",
            get("/app/page;jsessionid=ABC123.node1?x=1"),
        ),
        case("uri-path-parameter", get("/app/a;v=1/b;w=2")),
        case("uri-non-ascii-raw", get("/app/caf\u{e9}/\u{1F600}")),
        case("uri-non-ascii-encoded", get("/app/caf%C3%A9/%F0%9F%98%80")),
        case("uri-invalid-utf8-encoded", get("/app/%FF%FE")),
        case("uri-reserved", get("/app/a+b/c@d/e:f/~g!$&'()*,=")),
        case("uri-encoded-reserved", get("/app/%3F%23%25%26%3B")),
        case("uri-long", get(&format!("/app/{long_segment}"))),
        case("uri-too-long", get(&format!("/app/{too_long_segment}"))),
        case("uri-mount-root", get("/app")),
        case(
            "query-odd",
            get("/app/q?a=%zz&b=<x>&c=\"q\"&d=|^`{}&e=%00&f=\u{fc}&g=a+b%20c"),
        ),
        case("query-encoded", get("/app/q?path=%2F%2e%2e%2Fetc&x=%3D%26")),
        case("query-empty", get("/app/q?")),
        case("uri-encoded-nul", get("/app/a%00b")),
        case("uri-above-root", get("/app/../../x")),
        case("uri-fragment", get("/app/q?x=1#frag")),
        case(
            "uri-absolute-form",
            get("http://127.0.0.1:{front_port}/app/abs;jsessionid=A.node1?x=%41"),
        ),
        case("unmapped-static", get("/static.txt")),
        case(
            "unmapped-jsessionid",
            get("/static.txt;jsessionid=ABC123.node1"),
        ),
        case("unmapped-missing", get("/nothing-here")),
        // Request headers.
        case("http10", get("/app/old").http10()),
        case("http10-no-host", {
            let mut r = get("/app/old").http10();
            r.headers.push(("Host".into(), String::new()));
            r
        }),
        case(
            "browser",
            get("/app/page?id=5")
                .header(
                    "User-Agent",
                    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
                )
                .header(
                    "Accept",
                    "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
                )
                .header("Accept-Language", "de-DE,de;q=0.8,en-US;q=0.5,en;q=0.3")
                .header("Accept-Encoding", "gzip, deflate, br, zstd")
                .header("Referer", "http://127.0.0.1/app/index?x=1")
                .header("Cookie", "JSESSIONID=0123456789ABCDEF.node1; theme=dark")
                .header("Upgrade-Insecure-Requests", "1")
                .header("Sec-Fetch-Dest", "document")
                .header("Sec-Fetch-Mode", "navigate")
                .header("Pragma", "no-cache")
                .header("Cache-Control", "no-cache")
                .header("DNT", "1"),
        ),
        case(
            "repeated-headers",
            get("/app/dup")
                .header("X-Dup", "a")
                .header("X-Dup", "b")
                .header("Cookie", "a=1")
                .header("Cookie", "b=2")
                .header("Accept", "text/plain")
                .header("Accept", "text/html"),
        ),
        case(
            "empty-header-values",
            get("/app/empty")
                .header("X-Empty", "")
                .header("Referer", "")
                .header("X-After", "v"),
        ),
        case(
            "header-case-and-coded-names",
            get("/app/names")
                .header("user-agent", "lower")
                .header("ACCEPT-CHARSET", "utf-8")
                .header("Cookie2", "$Version=1")
                .header("Authorization", "Basic dXNlcjpwYXNz")
                .header("X-Mixed-CASE", "v"),
        ),
        case(
            "header-long-value",
            get("/app/long-header").header("X-Long", &"v".repeat(4000)),
        ),
        case(
            "header-non-ascii-value",
            get("/app/h").header("X-Name", "caf\u{e9}"),
        ),
        case("headers-too-big", {
            let mut r = get("/app/big-headers");
            for i in 0..3 {
                r = r.header(&format!("X-Big-{i}"), &"b".repeat(3000));
            }
            r
        }),
        case("many-headers", {
            let mut r = get("/app/many-headers");
            for i in 0..60 {
                r = r.header(&format!("X-H{i}"), &i.to_string());
            }
            r
        }),
        case(
            "content-length-and-chunked",
            Request::new("POST", "/app/both")
                .header("Content-Length", "5")
                .header("Transfer-Encoding", "chunked")
                .body(Body::Chunked(vec![b"hello world".to_vec()])),
        ),
        case("lowercase-method", Request::new("get", "/app/lower")),
        case(
            "keep-alive-two-requests",
            get("/app/one?size=100").header("Connection", "keep-alive"),
        )
        .then(get("/app/two")),
        case(
            "client-vanishes-mid-body",
            with_body("POST", "/app/cut", noise(10_000, 7)),
        )
        .cut_body(100),
        case(
            "client-sends-no-body",
            with_body("POST", "/app/cut", noise(10_000, 8)),
        )
        .cut_body(0),
        case(
            "host-with-port",
            get("/app/host").header("Host", "127.0.0.1:{front_port}"),
        ),
        case(
            "host-other-name",
            get("/app/host").header("Host", "www.example.test"),
        ),
        case(
            "x-forwarded-for",
            get("/app/xff").header("X-Forwarded-For", "203.0.113.9"),
        ),
        case("env-var", get("/app/env")),
        case(
            "content-type-lower-case",
            with_body("POST", "/app/ct", b"abc".to_vec()).header("content-type", "text/plain"),
        ),
        // Load balancer: stickiness by cookie and by path parameter.
        case(
            "lb-sticky-cookie",
            get("/lb/s").header("Cookie", "JSESSIONID=abc.node1"),
        ),
        case("lb-sticky-path", get("/lb/s;jsessionid=abc.node1")),
        case("lb-plain", get("/lb/plain?x=1")),
        // Answers chosen through the backend's query parameters.
        case("status-204", get("/app/r?status=204")),
        case(
            "status-301-location",
            get("/app/r?status=301&header=Location:http://example.test/moved"),
        ),
        case(
            "status-302-relative-location",
            get("/app/r?status=302&header=Location:/app/other"),
        ),
        case("status-304", get("/app/r?status=304")),
        case(
            "status-401",
            get("/app/r?status=401&header=WWW-Authenticate:Basic+realm=%22x%22"),
        ),
        case("status-404", get("/app/r?status=404")),
        case(
            "status-477-reason",
            get("/app/r?status=477&reason=Custom+Thing"),
        ),
        case(
            "status-200-reason",
            get("/app/r?status=200&reason=Fine+Thanks"),
        ),
        case("status-500", get("/app/r?status=500")),
        case(
            "status-503-retry-after",
            get("/app/r?status=503&header=Retry-After:30"),
        ),
        case(
            "set-cookies",
            get(
                "/app/r?header=Set-Cookie:a=1;+Path=/&header=Set-Cookie:b=2;+HttpOnly\
                 &header=Set-Cookie:JSESSIONID=xyz.node1;+Path=/app",
            ),
        ),
        case(
            "response-headers",
            get("/app/r?header=Content-Type:text/html;+charset=ISO-8859-1\
                 &header=Content-Language:de&header=X-Custom:v&header=Cache-Control:no-store"),
        ),
        case(
            "response-string-header-names",
            get("/app/r?strnames=1&header=X-Str:1&header=Content-Language:fr"),
        ),
        case("response-no-content-length", get("/app/r?nocl=1")),
        case(
            "response-no-content-length-http10",
            get("/app/r?nocl=1&size=20000").http10(),
        ),
        case("response-empty", get("/app/r?size=0")),
        case("response-1m", get("/app/r?size=1000000")),
        case("response-300k-chunked", get("/app/r?size=300000&nocl=1")),
        case(
            "response-small-packets",
            get("/app/r?size=50000&chunk=1000"),
        ),
        case(
            "response-flushes",
            get("/app/r?size=20000&chunk=4000&flush=1"),
        ),
        case("status-599", get("/app/r?status=599")),
        case("status-empty-reason", get("/app/r?status=200&reason=")),
        case(
            "status-599-code-as-reason",
            get("/app/r?status=599&reason=599"),
        ),
        case(
            "status-200-code-as-reason",
            get("/app/r?status=200&reason=200"),
        ),
        case("status-302-no-location", get("/app/r?status=302")),
        case(
            "response-repeated-headers",
            get(
                "/app/r?header=X-Multi:1&header=X-Multi:2&header=Cache-Control:no-cache\
                 &header=Cache-Control:private&header=Vary:Accept&header=Vary:Cookie",
            ),
        ),
        case(
            "response-content-encoding",
            get("/app/r?header=Content-Encoding:gzip&header=Vary:Accept-Encoding"),
        ),
        case(
            "response-empty-content-type",
            get("/app/r?header=Content-Type:"),
        ),
        case(
            "response-reason-with-crlf",
            get("/app/r?status=200&reason=OK%0D%0AX-Injected:+1"),
        ),
        case(
            "response-header-with-crlf",
            get("/app/r?header=X-A:b%0D%0AX-Injected:+1"),
        ),
        case(
            "response-longer-than-content-length",
            get("/app/r?nocl=1&header=Content-Length:10").header("Connection", "keep-alive"),
        )
        .then(get("/app/after")),
        case(
            "response-much-longer-than-content-length",
            get("/app/r?nocl=1&size=100000&header=Content-Length:50000")
                .header("Connection", "keep-alive"),
        )
        .then(get("/app/after")),
        // Backend failures. The first leaves an idle pooled connection for the next.
        case("get-before-faults", get("/app/warm")),
        case("get-backend-reset", get("/app/f?fault=reset")),
        case(
            "post-backend-reset",
            with_body("POST", "/app/f?fault=reset", b"order=1".to_vec()),
        ),
        case("backend-garbage", get("/app/f?fault=garbage")),
        case(
            "response-truncated",
            get("/app/f?size=100000&fault=truncated"),
        ),
        case("response-bad-chunk", get("/app/f?fault=badchunk")),
        case("response-two-headers", get("/app/f?fault=twoheaders")),
        case(
            "range-small",
            get("/app/r?size=5000").header("Range", "bytes=0-9"),
        ),
        case(
            "range-small-no-content-length",
            get("/app/r?size=5000&nocl=1").header("Range", "bytes=0-9"),
        ),
        case(
            "range-large",
            get("/app/r?size=100000").header("Range", "bytes=0-9"),
        ),
    ]
}

// ------------------------------------------------------------------ observing one case

/// What one front end did with one case, as (field, value) pairs in a stable order.
type Fields = Vec<(String, String)>;

/// Client headers not compared: per connection or per server directory.
const IGNORED_RESPONSE_HEADERS: &[&str] = &[
    "date",
    "server",
    "keep-alive",
    "connection",
    "x-backend-connection",
    "etag",
    "last-modified",
];

fn observe(run: &Running, case: &Case) -> Fields {
    let front_port = run.httpd.port();
    let before = run.backend.requests().len();
    let (client_port, answers) = exchange(run.httpd.addr(), case, front_port);
    if case.then.is_some() {
        // A follow-up on a connection the answer may have garbled (mod_jk passing a backend's
        // surplus body) can reach the backend after the client has its answers: wait until the
        // backend is quiet, so that late request counts here, not in the next case's window.
        settle(&run.backend);
    }
    // The backend records a request before answering it, so everything is in by now (a
    // follow-up's late request included, after `settle`).
    let records: Vec<RecordedRequest> = run.backend.requests().split_off(before);
    let ports = Ports {
        front: front_port,
        client: client_port,
    };
    let mut fields = Fields::new();
    for (label, answer) in ["client", "next"].into_iter().zip(answers) {
        match answer {
            Err(e) => fields.push((format!("{label}.error"), e)),
            Ok(resp) => client_fields(&mut fields, label, &resp, &records, &ports),
        }
    }
    fields.push(("backend.requests".into(), records.len().to_string()));
    for (i, record) in records.iter().enumerate() {
        let prefix = if i == 0 {
            "backend".to_string()
        } else {
            format!("backend#{}", i + 1)
        };
        record_fields(&mut fields, &prefix, record, &ports);
    }
    fields
}

/// Waits until the backend has recorded no new request for 200 ms (at most 3 s).
fn settle(backend: &AjpBackend) {
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut count = backend.requests().len();
    while Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
        let now = backend.requests().len();
        if now == count {
            return;
        }
        count = now;
    }
}

/// The request as sent to the front end on `port`; `close`: with `Connection: close` unless it
/// says otherwise.
fn for_front(request: &Request, port: u16, close: bool) -> Request {
    let mut request = request.clone();
    let port = port.to_string();
    request.path = request.path.replace("{front_port}", &port);
    for (_, value) in &mut request.headers {
        *value = value.replace("{front_port}", &port);
    }
    let has_connection = request
        .headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("connection"));
    if close && !has_connection {
        request.headers.push(("Connection".into(), "close".into()));
    }
    request
}

/// Sends the case on a new connection from [`CLIENT_IP`]: (client port, the answer and, with
/// `then`, the follow-up's answer).
fn exchange(
    addr: SocketAddr,
    case: &Case,
    front_port: u16,
) -> (u16, Vec<Result<Response, String>>) {
    let connect = || -> std::io::Result<(u16, Connection)> {
        let socket = Socket::new(Domain::IPV4, Type::STREAM, None)?;
        socket.bind(&SocketAddr::from((CLIENT_IP, 0)).into())?;
        socket.connect_timeout(&addr.into(), CLIENT_TIMEOUT)?;
        let stream: TcpStream = socket.into();
        let port = stream.local_addr()?.port();
        let mut connection = Connection::from_stream(stream)?;
        connection.set_timeout(CLIENT_TIMEOUT);
        Ok((port, connection))
    };
    let error = |e: std::io::Error| format!("{:?}: {e}", e.kind());
    let (port, mut connection) = match connect() {
        Ok(connected) => connected,
        Err(e) => return (0, vec![Err(format!("cannot connect from 127.0.0.2: {e}"))]),
    };
    let request = for_front(&case.request, front_port, case.then.is_none());
    let mut answers = Vec::new();
    let first = match case.cut_body {
        None => connection.send(&request),
        Some(sent) => {
            let mut bytes = request.head_bytes();
            bytes.extend(request.body_bytes().into_iter().take(sent));
            connection
                .send_raw(&bytes)
                .and_then(|()| connection.shutdown_write())
                .and_then(|()| connection.read_response(request.is_head()))
        }
    };
    answers.push(first.map_err(error));
    if let Some(next) = &case.then {
        let next = for_front(next, front_port, true);
        answers.push(connection.send(&next).map_err(error));
    }
    (port, answers)
}

/// The two per-connection ports that are normalised away.
struct Ports {
    front: u16,
    client: u16,
}

impl Ports {
    /// A port the front end reports as its own (`server_port`): `{front_port}` when it is.
    fn front_port(&self, value: &str) -> String {
        if value == self.front.to_string() {
            "{front_port}".to_string()
        } else {
            value.to_string()
        }
    }

    /// A port the front end reports as the client's (`AJP_REMOTE_PORT`): `{client_port}` when it
    /// is, else as [`Ports::front_port`]. (The client binds 127.0.0.2, so its port may have the
    /// front end's number.)
    fn client_port(&self, value: &str) -> String {
        if value == self.client.to_string() {
            "{client_port}".to_string()
        } else {
            self.front_port(value)
        }
    }

    /// Text that may name the front end's address (`Host`, `Location`, httpd's error pages).
    fn text(&self, value: &str) -> String {
        value
            .replace(&format!(":{}", self.front), ":{front_port}")
            .replace(&format!("Port {}", self.front), "Port {front_port}")
    }
}

fn client_fields(
    fields: &mut Fields,
    label: &str,
    resp: &Response,
    records: &[RecordedRequest],
    ports: &Ports,
) {
    let mut push = |name: String, value: String| fields.push((name, value));
    push(format!("{label}.version"), resp.version.clone());
    push(format!("{label}.status"), resp.status.to_string());
    push(format!("{label}.reason"), format!("{:?}", resp.reason));
    let mut names: Vec<String> = Vec::new();
    for (name, _) in &resp.headers {
        let name = name.to_ascii_lowercase();
        if !IGNORED_RESPONSE_HEADERS.contains(&name.as_str()) && !names.contains(&name) {
            names.push(name);
        }
    }
    names.sort();
    for name in names {
        let values: Vec<String> = resp
            .headers_all(&name)
            .into_iter()
            .map(|v| format!("{:?}", ports.text(v)))
            .collect();
        push(format!("{label}.header.{name}"), values.join(" | "));
    }
    push(
        format!("{label}.body"),
        describe_body(&resp.body, records, ports),
    );
    if !resp.trailers.is_empty() {
        push(format!("{label}.trailers"), format!("{:?}", resp.trailers));
    }
}

fn describe_body(body: &[u8], records: &[RecordedRequest], ports: &Ports) -> String {
    if body.is_empty() {
        return "(empty)".to_string();
    }
    for (i, record) in records.iter().enumerate() {
        if body == record.echo(BACKEND_NAME).as_bytes() {
            return format!("the echo of request #{} its backend received", i + 1);
        }
    }
    match std::str::from_utf8(body) {
        Ok(text) if body.len() <= 600 => format!("{:?}", ports.text(text)),
        _ => format!(
            "{} bytes, sha256 {}, starting {:?}",
            body.len(),
            &sha256_hex(body)[..16],
            String::from_utf8_lossy(&body[..body.len().min(40)])
        ),
    }
}

fn record_fields(fields: &mut Fields, prefix: &str, r: &RecordedRequest, ports: &Ports) {
    let mut push = |name: &str, value: String| fields.push((format!("{prefix}.{name}"), value));
    push("method", format!("{} (code {})", r.method, r.method_code));
    push("protocol", format!("{:?}", r.protocol));
    push("uri", format!("{:?}", ports.text(&r.uri)));
    push("remote_addr", format!("{:?}", r.remote_addr));
    push("remote_host", format!("{:?}", r.remote_host));
    push("server_name", format!("{:?}", r.server_name));
    push("server_port", ports.front_port(&r.server_port.to_string()));
    push("is_ssl", r.is_ssl.to_string());
    let header_names: Vec<&str> = r.headers.iter().map(|(n, _)| n.as_str()).collect();
    push("header order", header_names.join(", "));
    let mut seen: Vec<String> = Vec::new();
    for (name, _) in &r.headers {
        let key = name.to_ascii_lowercase();
        if seen.contains(&key) {
            continue;
        }
        let values: Vec<String> = r
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| {
                let v = if key == "host" {
                    ports.text(v)
                } else {
                    v.clone()
                };
                format!("{v:?}")
            })
            .collect();
        push(&format!("header.{key}"), values.join(" | "));
        seen.push(key);
    }
    let attribute_names: Vec<&str> = r.attributes.iter().map(|(n, _)| n.as_str()).collect();
    push("attribute order", attribute_names.join(", "));
    for (name, value) in &r.attributes {
        let value = match name.as_str() {
            "AJP_REMOTE_PORT" => ports.client_port(value),
            _ => format!("{value:?}"),
        };
        push(&format!("attr.{name}"), value);
    }
    push(
        "body",
        format!("{} bytes, sha256 {}", r.body_len, &r.body_sha256[..16]),
    );
}

// ------------------------------------------------------------------ comparing

/// One field where the two front ends differ.
struct Mismatch {
    case: &'static str,
    field: String,
    ours: String,
    theirs: String,
}

impl Mismatch {
    fn line(&self, request: &str) -> String {
        format!(
            "case `{}` ({request}): {}\n        mod_jk_rs: {}\n        mod_jk:    {}",
            self.case, self.field, self.ours, self.theirs
        )
    }
}

/// The fields where `ours` and `theirs` differ. When the backends received a different number of
/// requests only that count is compared on the backend side (every field would differ).
fn compare(case: &'static str, ours: &Fields, theirs: &Fields) -> Vec<Mismatch> {
    let lookup = |fields: &Fields, name: &str| {
        fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    let counts_differ = lookup(ours, "backend.requests") != lookup(theirs, "backend.requests");
    let mut names: Vec<&str> = Vec::new();
    for (name, _) in ours.iter().chain(theirs) {
        if !names.contains(&name.as_str()) {
            names.push(name);
        }
    }
    names
        .into_iter()
        .filter(|name| {
            !(counts_differ && name.starts_with("backend") && *name != "backend.requests")
        })
        .filter_map(|name| {
            let (a, b) = (lookup(ours, name), lookup(theirs, name));
            (a != b).then(|| Mismatch {
                case,
                field: name.to_string(),
                ours: a.unwrap_or_else(|| "(absent)".into()),
                theirs: b.unwrap_or_else(|| "(absent)".into()),
            })
        })
        .collect()
}

fn field_matches(pattern: &str, field: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => field.starts_with(prefix),
        None => field == pattern,
    }
}

fn applies_to(entry: &Difference, setup: &str) -> bool {
    entry.setups.is_empty() || entry.setups.contains(&setup)
}

/// A one-line description of a case's request for the report.
fn summary(request: &Request) -> String {
    let mut path = request.path.clone();
    if path.len() > 60 {
        path.truncate(57);
        path.push_str("...");
    }
    let body = match &request.body {
        Body::None => String::new(),
        Body::Fixed(b) => format!(", {} body bytes", b.len()),
        Body::Chunked(c) => format!(
            ", {} body bytes chunked",
            c.iter().map(Vec::len).sum::<usize>()
        ),
    };
    format!("{} {path} {}{body}", request.method, request.version)
}

/// Runs every case through both front ends of `setup` and fails with a report of every mismatch
/// that [`DIFFERENCES`] does not list, and of every listed difference that did not occur.
fn run_setup(setup_name: &str) {
    let started = Instant::now();
    let setup = SETUPS
        .iter()
        .find(|s| s.name == setup_name)
        .unwrap_or_else(|| panic!("no setup {setup_name}"));
    assert!(
        Path::new(MOD_JK).exists(),
        "{MOD_JK} is missing: the differential test compares against Debian's mod_jk \
         (apt-get install libapache2-mod-jk; scripts/setup.sh installs it)"
    );
    // The module must exist before two threads ask for it.
    module_path();
    let (ours, theirs) = std::thread::scope(|s| {
        let ours = s.spawn(|| Running::start(Front::Ours, setup));
        let theirs = Running::start(Front::ModJk, setup);
        (ours.join().expect("starting mod_jk_rs"), theirs)
    });
    let cases = cases();
    let listed: Vec<&Difference> = DIFFERENCES
        .iter()
        .filter(|d| applies_to(d, setup.name))
        .collect();
    // Per listed entry, per field pattern: whether a mismatch matched it.
    let mut seen: Vec<Vec<bool>> = listed.iter().map(|d| vec![false; d.fields.len()]).collect();
    let mut unlisted: Vec<String> = Vec::new();
    let mut expected = 0;
    for case in &cases {
        let t0 = Instant::now();
        let a = observe(&ours, case);
        let t1 = Instant::now();
        let b = observe(&theirs, case);
        let request = summary(&case.request);
        if let Some(dir) = std::env::var_os(DUMP_ENV) {
            let timed = format!(
                "{request}; {} ms / {} ms",
                (t1 - t0).as_millis(),
                t1.elapsed().as_millis()
            );
            dump(
                Path::new(&dir),
                setup.name,
                case.name,
                &timed,
                [(&ours, &a), (&theirs, &b)],
            );
        }
        for m in compare(case.name, &a, &b) {
            let mut explained = false;
            for (entry, seen) in listed.iter().zip(&mut seen) {
                if entry.case != m.case {
                    continue;
                }
                for (pattern, seen) in entry.fields.iter().zip(seen.iter_mut()) {
                    if field_matches(pattern, &m.field) {
                        *seen = true;
                        explained = true;
                    }
                }
                explained |= entry.maybe.iter().any(|f| field_matches(f, &m.field));
            }
            if explained {
                expected += 1;
            } else {
                unlisted.push(m.line(&request));
            }
        }
    }
    // Every listed difference must have occurred, field by field.
    let mut vanished: Vec<String> = Vec::new();
    for (entry, seen) in listed.iter().zip(&seen) {
        for (pattern, _) in entry.fields.iter().zip(seen).filter(|(_, seen)| !**seen) {
            vanished.push(format!(
                "case `{}`: the listed difference in {pattern} did not occur ({}) — if mod_jk_rs \
                 and mod_jk now agree, remove it from DIFFERENCES and from README.md",
                entry.case, entry.what
            ));
        }
    }
    let elapsed = started.elapsed();
    eprintln!(
        "differential setup {}: {} cases, {expected} field differences as listed, {} unlisted, \
         {:.1} s",
        setup.name,
        cases.len(),
        unlisted.len(),
        elapsed.as_secs_f64()
    );
    if unlisted.is_empty() && vanished.is_empty() {
        return;
    }
    let mut report = format!(
        "setup `{}` ({}): mod_jk_rs and Debian's mod_jk differ where tests/differential.rs's \
         DIFFERENCES does not say they do (or do not where it says they do)\n",
        setup.name,
        if setup.lines.is_empty() {
            "no extra lines".to_string()
        } else {
            setup.lines.join("; ")
        }
    );
    for line in unlisted.iter().chain(&vanished) {
        let _ = writeln!(report, "  - {line}");
    }
    let _ = writeln!(
        report,
        "server dirs: mod_jk_rs {}, mod_jk {} (kept; error.log, jk.log)",
        ours.httpd.dir().display(),
        theirs.httpd.dir().display()
    );
    panic!("{report}");
}

/// Appends one case's fields to `<dir>/<setup>.<front>.txt` (see [`DUMP_ENV`]).
fn dump(dir: &Path, setup: &str, case: &str, request: &str, fronts: [(&Running, &Fields); 2]) {
    use std::io::Write as _;
    let _ = std::fs::create_dir_all(dir);
    for (run, fields) in fronts {
        let path = dir.join(format!("{setup}.{}.txt", run.front.label()));
        let mut text = format!("== {case} ({request})\n");
        for (name, value) in fields {
            let _ = writeln!(text, "{name} = {value}");
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path);
        if let Ok(mut file) = file {
            let _ = file.write_all(text.as_bytes());
        }
    }
}

// ------------------------------------------------------------------ the tests

#[test]
fn defaults() {
    run_setup("defaults");
}

#[test]
fn forward_uri_proxy() {
    run_setup("ForwardURIProxy");
}

#[test]
fn forward_uri_compat() {
    run_setup("ForwardURICompat");
}

#[test]
fn forward_uri_compat_unparsed() {
    run_setup("ForwardURICompatUnparsed");
}

#[test]
fn forward_uri_escaped() {
    run_setup("ForwardURIEscaped");
}

#[test]
fn forward_local_address_env_var_strip_session() {
    run_setup("local-address+envvar+strip-session");
}

#[test]
fn ssl_variables_from_the_environment() {
    run_setup("ssl-variables");
}

#[test]
fn flush_packets() {
    run_setup("flush-packets");
}

#[test]
fn forward_physical_address_behind_remoteip() {
    run_setup("physical-address+remoteip");
}

/// The table names only setups and cases that exist, its README.md phrases are there, and every
/// setup has its test.
#[test]
fn differences_table_names_real_setups_cases_and_readme_text() {
    let cases = cases();
    let mut names: Vec<&str> = cases.iter().map(|c| c.name).collect();
    let count = names.len();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), count, "two cases share a name");
    assert!(count >= 40, "only {count} cases");
    let readme = include_str!("../README.md");
    let safer = section(readme, "## Safer than mod_jk, by design");
    let not_yet = readme
        .lines()
        .find(|l| l.starts_with("| Not yet |"))
        .expect("README.md's table has a `Not yet` row");
    for entry in DIFFERENCES {
        assert!(
            names.contains(&entry.case),
            "DIFFERENCES names case `{}`, which cases() does not have",
            entry.case
        );
        for setup in entry.setups {
            assert!(
                SETUPS.iter().any(|s| s.name == *setup),
                "DIFFERENCES entry for `{}` names setup `{setup}`, which SETUPS does not have",
                entry.case
            );
        }
        assert!(!entry.fields.is_empty() && !entry.what.is_empty());
        let (phrase, place, text) = match entry.why {
            Why::Safer(phrase) => (phrase, "a bullet of \"Safer than mod_jk, by design\"", {
                let bullets: Vec<&str> = safer.split("\n* ").skip(1).collect();
                bullets.concat()
            }),
            Why::Other(phrase) => (
                phrase,
                "\"Safer than mod_jk, by design\"",
                safer.to_string(),
            ),
            Why::NotYet(phrase) => (phrase, "the `Not yet` row", not_yet.to_string()),
        };
        // Compared with line breaks as spaces: README.md is wrapped at 100 columns.
        let flat = |t: &str| t.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            flat(&text).contains(&flat(phrase)),
            "DIFFERENCES entry for `{}` points to {place} of README.md containing {phrase:?}, \
             which is not there",
            entry.case
        );
    }
    assert!(
        safer.contains("tests/differential.rs"),
        "README.md's \"Safer than mod_jk, by design\" does not point to tests/differential.rs"
    );
    let source = include_str!("differential.rs");
    for setup in SETUPS {
        assert!(
            source.contains(&format!("run_setup(\"{}\")", setup.name)),
            "setup {} has no #[test]",
            setup.name
        );
    }
}

/// The text of a README section, from its heading to the next `## `.
fn section<'a>(text: &'a str, heading: &str) -> &'a str {
    let start = text
        .find(heading)
        .unwrap_or_else(|| panic!("README.md has no {heading:?}"));
    let rest = &text[start + heading.len()..];
    &rest[..rest.find("\n## ").unwrap_or(rest.len())]
}
