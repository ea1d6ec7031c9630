//! The typed ajp13 worker (mod_jk reference §2.4) with its lb-member side (§2.6): every
//! property with mod_jk's default, unit and clamping rules.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::reader::{Reader, Unit};

/// AJP13's default port.
pub const DEFAULT_PORT: u16 = 8009;
/// Smallest and largest AJP packet (mod_jk `max_packet_size` clamps to this range).
pub const MIN_PACKET_SIZE: usize = 8192;
pub const MAX_PACKET_SIZE: usize = 65536;
const PACKET_SIZE_STEP: usize = 1024;

/// The prefix of a `host` that names a Unix domain socket (as in mod_proxy's worker URLs).
pub const UNIX_PREFIX: &str = "unix:";

/// Longest Unix socket path (`sun_path` less its terminating NUL).
const MAX_SOCKET_PATH: usize = 107;

/// Which CPing/CPong probes a worker sends (`ping_mode` letters C, P, I; A = all).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PingMode {
    /// CPing after opening a connection.
    pub connect: bool,
    /// CPing before sending each request.
    pub prepost: bool,
    /// CPing idle connections every `connection_ping_interval`.
    pub interval: bool,
}

impl PingMode {
    /// Parses `ping_mode` letters, case-insensitive; `Err` carries the first unknown letter.
    pub fn parse(text: &str) -> Result<PingMode, char> {
        let mut mode = PingMode::default();
        for c in text.chars() {
            match c.to_ascii_uppercase() {
                'C' => mode.connect = true,
                'P' => mode.prepost = true,
                'I' => mode.interval = true,
                'A' => {
                    mode = PingMode {
                        connect: true,
                        prepost: true,
                        interval: true,
                    }
                }
                _ => return Err(c),
            }
        }
        Ok(mode)
    }
}

/// Whether an lb member takes requests (`activation`, §2.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    /// Takes any request.
    Active,
    /// Takes only requests sticky to it.
    Disabled,
    /// Takes no requests.
    Stopped,
}

impl Activation {
    /// `Active`/`Disabled`/`Stopped` (any case, any prefix such as `d`) or `0`/`1`/`2`, as
    /// mod_jk reads them.
    pub fn parse(text: &str) -> Option<Activation> {
        super::value::keyword(
            text,
            &[
                ("Active", Activation::Active),
                ("Disabled", Activation::Disabled),
                ("Stopped", Activation::Stopped),
            ],
        )
    }

    /// The short code mod_jk sends as `JK_LB_ACTIVATION` and shows on the status page.
    pub fn code(self) -> &'static str {
        match self {
            Activation::Active => "ACT",
            Activation::Disabled => "DIS",
            Activation::Stopped => "STP",
        }
    }
}

/// An ajp13 worker: one Tomcat AJP connector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AjpWorker {
    pub name: String,
    /// Host name or address, without brackets or an embedded `:port`; `unix:/path` for a
    /// Unix domain socket (then `unix_socket` holds the path).
    pub host: String,
    /// 0 means "no contact": as an lb member it starts stopped. Always 0 with a Unix socket.
    pub port: u16,
    /// The socket path when `host` is `unix:/path` (`port` is then unused).
    pub unix_socket: Option<PathBuf>,
    /// Local address to bind outgoing connections to.
    pub source: Option<String>,
    pub prefer_ipv6: bool,
    /// seconds in the file, 0 => None
    pub socket_timeout: Option<Duration>,
    /// ms; default socket_timeout*1000; 0 => None
    pub socket_connect_timeout: Option<Duration>,
    pub socket_keepalive: bool,
    /// SO_SNDBUF/SO_RCVBUF; never below `max_packet_size`. None = OS default.
    pub socket_buffer: Option<usize>,
    pub ping_mode: PingMode,
    /// default 10000 ms
    pub ping_timeout: Duration,
    /// Some => CPing after connect, waiting this long (ping_mode C without a value uses ping_timeout).
    pub connect_timeout: Option<Duration>,
    /// Some => CPing before each request, waiting this long (ping_mode P uses ping_timeout).
    pub prepost_timeout: Option<Duration>,
    /// Some => CPing connections idle this long (ping_mode I defaults to ping_timeout/100 seconds).
    pub connection_ping_interval: Option<Duration>,
    /// None => the MPM's ThreadsPerChild decides at run time
    pub connection_pool_size: Option<usize>,
    /// None => (pool size + 1) / 2, see [`AjpWorker::pool_minsize`].
    pub connection_pool_minsize: Option<usize>,
    /// Idle pooled connections older than this are closed at maintenance (seconds in the file).
    pub connection_pool_timeout: Option<Duration>,
    /// How long to wait for a free pooled connection; default retries × retry_interval,
    /// 0 in the file => None (do not wait).
    pub connection_acquire_timeout: Option<Duration>,
    /// Longest wait between two packets from Tomcat (ms).
    pub reply_timeout: Option<Duration>,
    /// mod_jk_rs only: longest time the whole reply may take, from the moment the backend has
    /// the whole request to END_RESPONSE (ms in the file; 0 or unset: no limit). Unlike
    /// `reply_timeout` it cannot be defeated by a backend that sends a little at a time.
    pub reply_deadline: Option<Duration>,
    /// mod_jk_rs only: bytes of a request body read from the client before the backend is
    /// contacted (0: none, the default; the body streams as in mod_jk).
    pub request_body_buffer: u64,
    /// Attempts including the first; default 2, min 1.
    pub retries: u32,
    /// Pause between attempts; default 100 ms.
    pub retry_interval: Duration,
    /// Bit set: 1 no retry after Tomcat got the request, 2 no retry after headers went to the
    /// client, 4 close backend connection on client error, 8 always retry HEAD, 16 always GET.
    pub recovery_options: u32,
    /// Responses with these statuses become 503; negative = do not put the lb member in error.
    pub fail_on_status: Vec<i32>,
    /// Most concurrent requests (0 = no limit).
    pub busy_limit: u32,
    /// default 8192, rounded up to a multiple of 1024, clamped to 8192..=65536
    pub max_packet_size: usize,
    /// AJP `secret` attribute; an lb member without its own gets the lb's.
    pub secret: Option<String>,
    // member-side (used when the worker is an lb member)
    /// Weight; default 1, min 1.
    pub lbfactor: u32,
    /// Tomcat jvmRoute; default = name.
    pub route: String,
    /// Replication domain; default = route up to its first '.' (if any).
    pub domain: String,
    /// Route of the preferred failover member.
    pub redirect: String,
    /// Lower is preferred.
    pub distance: u32,
    pub activation: Activation,
    /// URI patterns from `worker.<name>.mount` (only used when the worker is in worker.list).
    pub mount: Vec<String>,
}

impl AjpWorker {
    /// A worker with every mod_jk default (what a name in worker.list without properties gets).
    pub fn with_defaults(name: &str) -> AjpWorker {
        AjpWorker {
            name: name.to_owned(),
            host: "localhost".to_owned(),
            port: DEFAULT_PORT,
            unix_socket: None,
            source: None,
            prefer_ipv6: false,
            socket_timeout: None,
            socket_connect_timeout: None,
            socket_keepalive: false,
            socket_buffer: None,
            ping_mode: PingMode::default(),
            ping_timeout: Duration::from_millis(10_000),
            connect_timeout: None,
            prepost_timeout: None,
            connection_ping_interval: None,
            connection_pool_size: None,
            connection_pool_minsize: None,
            connection_pool_timeout: None,
            connection_acquire_timeout: Some(Duration::from_millis(200)),
            reply_timeout: None,
            reply_deadline: None,
            request_body_buffer: 0,
            retries: 2,
            retry_interval: Duration::from_millis(100),
            recovery_options: 0,
            fail_on_status: Vec::new(),
            busy_limit: 0,
            max_packet_size: MIN_PACKET_SIZE,
            secret: None,
            lbfactor: 1,
            route: name.to_owned(),
            domain: String::new(),
            redirect: String::new(),
            distance: 0,
            activation: Activation::Active,
            mount: Vec::new(),
        }
    }

    /// Connections kept when the pool shrinks, given the pool size in effect.
    pub fn pool_minsize(&self, pool_size: usize) -> usize {
        match self.connection_pool_minsize {
            Some(min) => min.min(pool_size),
            None => pool_size.div_ceil(2),
        }
    }
}

/// `max_packet_size` as mod_jk applies it: rounded up to 1 KiB, clamped to 8..64 KiB.
pub fn round_packet_size(requested: i64) -> usize {
    let requested = usize::try_from(requested).unwrap_or(0);
    let rounded = requested
        .div_ceil(PACKET_SIZE_STEP)
        .saturating_mul(PACKET_SIZE_STEP);
    rounded.clamp(MIN_PACKET_SIZE, MAX_PACKET_SIZE)
}

/// Checks the path of `host=unix:<path>`: absolute, in a directory that exists. `Err` says
/// what is wrong.
fn check_socket_path(path: &Path) -> Result<(), String> {
    if !path.is_absolute() {
        return Err(format!(
            "the socket path '{}' is not absolute: write unix:/full/path/to/ajp.sock",
            path.display()
        ));
    }
    // sun_path holds 108 bytes with the terminating NUL.
    let len = path.as_os_str().len();
    if len > MAX_SOCKET_PATH {
        return Err(format!(
            "the socket path is {len} bytes long; a Unix socket path has at most {MAX_SOCKET_PATH}"
        ));
    }
    let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) else {
        return Err(format!("'{}' names no socket file", path.display()));
    };
    if path.file_name().is_none() {
        return Err(format!("'{}' names no socket file", path.display()));
    }
    if !dir.is_dir() {
        return Err(format!(
            "the directory '{}' of the socket '{}' does not exist; create it or correct the path",
            dir.display(),
            path.display()
        ));
    }
    Ok(())
}

/// Splits `host:port` or `[v6]:port`; a bare IPv6 address (several ':') stays whole.
fn split_host_port(host: &str) -> (&str, Option<&str>) {
    if let Some(rest) = host.strip_prefix('[') {
        if let Some((address, after)) = rest.split_once(']') {
            return (address, after.strip_prefix(':'));
        }
        return (host, None);
    }
    match host.split_once(':') {
        Some((name, port)) if !port.contains(':') => (name, Some(port)),
        _ => (host, None),
    }
}

fn port_number(reader: &mut Reader<'_, '_>, attr: &str, text: &str) -> Option<u16> {
    match super::value::parse_int(text)
        .ok()
        .and_then(|v| u16::try_from(v).ok())
    {
        Some(port) => Some(port),
        None => {
            let message = format!(
                "bad port '{text}' in {}: expected a number from 0 to 65535",
                reader.key(attr)
            );
            reader.error(attr, message);
            None
        }
    }
}

/// Builds an ajp13 worker from its resolved attributes.
pub(crate) fn build(reader: &mut Reader<'_, '_>) -> AjpWorker {
    let name = reader.worker.to_owned();
    let mut worker = AjpWorker::with_defaults(&name);

    // host, with an optional embedded port (workers.xml: "host can have a port embedded").
    // A socket path is not a name: it may be longer than mod_jk's 60 characters.
    if let Some(path) = reader
        .text("host")
        .and_then(|t| t.strip_prefix(UNIX_PREFIX))
    {
        build_unix(reader, &mut worker, PathBuf::from(path));
        return build_rest(reader, worker);
    }
    let mut embedded_port = None;
    if let Some(text) = reader.short_text("host") {
        let (host, port) = split_host_port(&text);
        if host.is_empty() {
            let message = format!("{} has no host name before the port", reader.key("host"));
            reader.error("host", message);
        }
        worker.host = host.to_owned();
        embedded_port = port.and_then(|p| port_number(reader, "host", p));
    }
    let explicit_port = reader
        .text("port")
        .and_then(|text| port_number(reader, "port", text));
    worker.port = match (embedded_port, explicit_port) {
        (Some(embedded), Some(explicit)) if embedded != explicit => {
            let message = format!(
                "{} says port {embedded} but {} says {explicit}",
                reader.key("host"),
                reader.key("port")
            );
            reader.error("port", message);
            explicit
        }
        (_, Some(port)) | (Some(port), None) => port,
        (None, None) => DEFAULT_PORT,
    };
    build_rest(reader, worker)
}

/// `host=unix:<path>`: the path checked, `port` ignored (with a warning when set).
fn build_unix(reader: &mut Reader<'_, '_>, worker: &mut AjpWorker, path: PathBuf) {
    if let Err(what) = check_socket_path(&path) {
        let message = format!("{}: {what}", reader.key("host"));
        reader.error("host", message);
    }
    if reader.is_set("port") {
        let message = format!(
            "{} is ignored: {} names a Unix domain socket",
            reader.key("port"),
            reader.key("host")
        );
        reader.warn("port", message);
    }
    worker.host = format!("{UNIX_PREFIX}{}", path.display());
    worker.port = 0;
    worker.unix_socket = Some(path);
}

/// Everything after the address.
fn build_rest(reader: &mut Reader<'_, '_>, mut worker: AjpWorker) -> AjpWorker {
    worker.source = reader.short_text("source");
    worker.prefer_ipv6 = reader.bool("prefer_ipv6", false);

    // sockets
    worker.socket_timeout = reader.timeout("socket_timeout", Unit::Seconds).flatten();
    worker.socket_connect_timeout = match reader.timeout("socket_connect_timeout", Unit::Millis) {
        Some(explicit) => explicit,
        None => worker.socket_timeout,
    };
    worker.socket_keepalive = reader.bool("socket_keepalive", false);
    if let Some(requested) = reader.int("max_packet_size", "a size in bytes") {
        worker.max_packet_size = round_packet_size(requested);
        if usize::try_from(requested).ok() != Some(worker.max_packet_size) {
            let message = format!(
                "{} = {requested} is used as {} (a multiple of 1024 from 8192 to 65536)",
                reader.key("max_packet_size"),
                worker.max_packet_size
            );
            reader.warn("max_packet_size", message);
        }
    }
    if let Some(size) = reader.int("socket_buffer", "a size in bytes") {
        // 0 or less: leave the OS default. mod_jk raises small buffers to the packet size.
        worker.socket_buffer = usize::try_from(size)
            .ok()
            .filter(|&s| s > 0)
            .map(|s| s.max(worker.max_packet_size));
    }

    // CPing/CPong
    if let Some(text) = reader.text("ping_mode") {
        match PingMode::parse(text) {
            Ok(mode) => worker.ping_mode = mode,
            Err(letter) => {
                let message = format!(
                    "unknown letter '{letter}' in {} = '{text}': use C (connect), P (prepost), I (interval) or A (all)",
                    reader.key("ping_mode")
                );
                reader.error("ping_mode", message);
            }
        }
    }
    worker.ping_timeout = reader.duration("ping_timeout", Unit::Millis, worker.ping_timeout);
    let ping = Some(worker.ping_timeout).filter(|d| !d.is_zero());
    worker.connect_timeout = reader
        .timeout("connect_timeout", Unit::Millis)
        .flatten()
        .or(if worker.ping_mode.connect { ping } else { None });
    worker.prepost_timeout = reader
        .timeout("prepost_timeout", Unit::Millis)
        .flatten()
        .or(if worker.ping_mode.prepost { ping } else { None });
    // mod_jk: interval mode without an interval pings after ping_timeout/100 seconds
    // (ten times the timeout).
    let default_interval = Some(Duration::from_secs(
        u64::try_from(worker.ping_timeout.as_millis() / 100).unwrap_or(u64::MAX),
    ))
    .filter(|d| worker.ping_mode.interval && !d.is_zero());
    worker.connection_ping_interval = reader
        .timeout("connection_ping_interval", Unit::Seconds)
        .flatten()
        .or(default_interval);

    // connection pool
    if let Some(attr) = reader.first_set(&["connection_pool_size", "cachesize"]) {
        match reader.int(attr, "a number of connections") {
            Some(size) if size >= 1 => {
                worker.connection_pool_size = usize::try_from(size).ok();
            }
            Some(size) => {
                let message = format!(
                    "{} must be at least 1 (found {size}); leave it unset to use ThreadsPerChild",
                    reader.key(attr)
                );
                reader.error(attr, message);
            }
            None => {}
        }
    }
    if reader.is_set("connection_pool_minsize") {
        let min = reader.count("connection_pool_minsize", 0) as usize;
        match worker.connection_pool_size {
            Some(size) if min > size => {
                let message = format!(
                    "{} = {min} is larger than the pool size {size}; using {size}",
                    reader.key("connection_pool_minsize")
                );
                reader.warn("connection_pool_minsize", message);
                worker.connection_pool_minsize = Some(size);
            }
            _ => worker.connection_pool_minsize = Some(min),
        }
    }
    if let Some(attr) = reader.first_set(&[
        "connection_pool_timeout",
        "cache_timeout",
        "recycle_timeout",
    ]) {
        worker.connection_pool_timeout = reader.timeout(attr, Unit::Seconds).flatten();
    }

    // retries and failures
    worker.reply_timeout = reader.timeout("reply_timeout", Unit::Millis).flatten();
    worker.reply_deadline = reader.timeout("reply_deadline", Unit::Millis).flatten();
    worker.request_body_buffer = u64::from(reader.count("request_body_buffer", 0));
    worker.retries = reader.count_at_least("retries", 2, 1);
    worker.retry_interval = reader.duration("retry_interval", Unit::Millis, worker.retry_interval);
    worker.connection_acquire_timeout = match reader
        .timeout("connection_acquire_timeout", Unit::Millis)
    {
        Some(explicit) => explicit,
        None => Some(worker.retry_interval.saturating_mul(worker.retries)).filter(|d| !d.is_zero()),
    };
    worker.recovery_options = reader.count("recovery_options", 0);
    if worker.recovery_options > 31 {
        let message = format!(
            "{} = {} has bits mod_jk does not define (known: 1, 2, 4, 8, 16)",
            reader.key("recovery_options"),
            worker.recovery_options
        );
        reader.warn("recovery_options", message);
    }
    worker.fail_on_status = reader.status_codes("fail_on_status");
    worker.busy_limit = reader.count("busy_limit", 0);
    // Read only to catch a malformed value: lb_retries means something on lb workers only.
    let _ = reader.int("lb_retries", "a whole number");
    worker.secret = reader.text("secret").map(str::to_owned);

    // lb member side
    worker.lbfactor = reader.count_at_least("lbfactor", 1, 1);
    if let Some(attr) = reader.first_set(&["route", "jvm_route"]) {
        worker.route = reader.short_text(attr).unwrap_or_default();
    }
    worker.domain = match reader.short_text("domain") {
        Some(domain) => domain,
        None => worker
            .route
            .split_once('.')
            .map(|(domain, _)| domain.to_owned())
            .unwrap_or_default(),
    };
    worker.redirect = reader.short_text("redirect").unwrap_or_default();
    worker.distance = reader.count("distance", 0);
    worker.activation = if let Some(text) = reader.text("activation") {
        match Activation::parse(text) {
            Some(activation) => activation,
            None => {
                let message = format!(
                    "unknown activation '{text}' for {}: use Active, Disabled or Stopped",
                    reader.key("activation")
                );
                reader.error("activation", message);
                Activation::Active
            }
        }
    } else if reader.bool("stopped", false) {
        Activation::Stopped
    } else if reader.bool("disabled", false) {
        Activation::Disabled
    } else {
        Activation::Active
    };
    if worker.port == 0 && worker.unix_socket.is_none() {
        // mod_jk's provisioning trick: a member without a port waits, stopped, for the
        // status worker to give it one.
        worker.activation = Activation::Stopped;
    }
    worker.mount = reader
        .list("mount")
        .into_iter()
        .map(|(pattern, _)| pattern.to_owned())
        .collect();
    worker
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packet_size_rounds_up_and_clamps() {
        let cases = [
            (0, 8192),
            (-5, 8192),
            (100, 8192),
            (8192, 8192),
            (8193, 9216),
            (9216, 9216),
            (16000, 16384),
            (65536, 65536),
            (65537, 65536),
            (1_000_000, 65536),
        ];
        for (requested, expected) in cases {
            assert_eq!(round_packet_size(requested), expected, "{requested}");
        }
    }

    #[test]
    fn ping_mode_letters_combine_case_insensitively() {
        let cases = [
            ("", Ok(PingMode::default())),
            (
                "C",
                Ok(PingMode {
                    connect: true,
                    prepost: false,
                    interval: false,
                }),
            ),
            (
                "pi",
                Ok(PingMode {
                    connect: false,
                    prepost: true,
                    interval: true,
                }),
            ),
            (
                "A",
                Ok(PingMode {
                    connect: true,
                    prepost: true,
                    interval: true,
                }),
            ),
            ("CX", Err('X')),
        ];
        for (text, expected) in cases {
            assert_eq!(PingMode::parse(text), expected, "{text:?}");
        }
    }

    #[test]
    fn activation_reads_word_prefix_or_digit() {
        let cases = [
            ("Active", Some(Activation::Active)),
            ("0", Some(Activation::Active)),
            ("disabled", Some(Activation::Disabled)),
            ("1", Some(Activation::Disabled)),
            ("S", Some(Activation::Stopped)),
            ("2", Some(Activation::Stopped)),
            ("x", None),
            ("stop", Some(Activation::Stopped)),
            ("standby", None),
            ("", None),
        ];
        for (text, expected) in cases {
            assert_eq!(Activation::parse(text), expected, "{text:?}");
        }
    }

    #[test]
    fn host_port_split_handles_ipv6() {
        let cases = [
            ("tomcat", ("tomcat", None)),
            ("tomcat:8010", ("tomcat", Some("8010"))),
            ("[::1]:8010", ("::1", Some("8010"))),
            ("[::1]", ("::1", None)),
            ("::1", ("::1", None)),
            ("fe80::1:2", ("fe80::1:2", None)),
        ];
        for (text, expected) in cases {
            assert_eq!(split_host_port(text), expected, "{text:?}");
        }
    }

    #[test]
    fn pool_minsize_defaults_to_half_rounded_up() {
        let worker = AjpWorker::with_defaults("a");
        assert_eq!(worker.pool_minsize(25), 13);
        assert_eq!(worker.pool_minsize(1), 1);
    }
}
