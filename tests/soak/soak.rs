//! `soak`: the bounded soak test of issue #19, driven by `scripts/soak.sh` (not run in CI).
//!
//! For each MPM asked for: two `ajp-backend` processes (tomcatA, tomcatB) behind an lb worker with
//! sticky sessions in a real httpd with the release module; `--connections` keep-alive clients
//! send `--requests` requests (mostly GETs, some POSTs with a body, a few 64 KiB answers), each
//! with a unique id the backend echoes; meanwhile one backend after the other is killed with
//! SIGKILL and started again on the same port. Afterwards:
//!
//! * wrong-client answers (echoed id or body hash not the request's) must be 0;
//! * POST ids a backend received whole more than once (its request log) must be 0;
//! * a GET must never fail, except while every member was down (5xx) or when a backend was
//!   killed while its answer was on the way (cut short: httpd aborts the connection);
//! * a POST may fail (5xx or cut short) only if a backend was killed while it was in flight:
//!   counted and reported;
//! * every httpd child's RSS and descriptors, first minute against last (see [`Limits`]).
//!
//! Prints a summary table and exits 1 on any failure. Only processes it started are signalled.

#[path = "../support/ajp_backend.rs"]
mod ajp_backend;
#[path = "../support/http_client.rs"]
mod http_client;
#[path = "../support/httpd.rs"]
mod httpd;

mod backends;
mod load;
mod sampler;

use backends::Backend;
use httpd::{Httpd, HttpdConfig, Mpm};
use load::{Failure, Mix, Tally, Transport};
use sampler::{Compared, Sample, Window};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const USAGE: &str = "usage: soak [--mpm prefork|event|both] [--requests 300000] [--connections 200]
            [--duration 300] [--warmup 20000] [--kill-every 4] [--down 1.5] [--time-limit 600]
            [--post-per-mille 100]
            [--module PATH] [--backend-bin PATH] [--out DIR]";

/// What "flat" means for the children, first minute against last.
struct Limits;

impl Limits {
    /// The children's RSS (children alive in both windows, each child's largest in the window)
    /// may grow by less than this fraction: summed over the children, and the largest child's.
    /// (The median is reported: a child that served little at first grows as it is used.)
    const RSS_GROWTH: f64 = 0.10;
    /// Non-socket descriptors of a child may grow by at most this many.
    const OTHER_FDS: i64 = 2;
    /// Sockets that are neither client nor backend connections (listeners, …) of a child may
    /// grow by at most this many. A child's backend connections (its pools: they grow with the
    /// concurrency it sees) must stay within the pools' bound, a connection per thread and
    /// member; client connections are the load, not the module's: reported, not judged.
    const UNACCOUNTED_SOCKETS: i64 = 2;
}

struct Args {
    mpms: Vec<Mpm>,
    requests: usize,
    connections: usize,
    /// Pace the requests to take this long (0: as fast as httpd answers).
    duration: Duration,
    /// Requests sent flat out before the measured run (not counted).
    warmup: usize,
    kill_every: Duration,
    down: Duration,
    time_limit: Duration,
    post_per_mille: usize,
    module: PathBuf,
    backend_bin: PathBuf,
    out: PathBuf,
}

fn parse_args() -> Result<Args, String> {
    // target/release/examples/soak: the module and the backend are built beside it.
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let examples = exe.parent().unwrap_or(Path::new(".")).to_path_buf();
    let profile = examples.parent().unwrap_or(Path::new(".")).to_path_buf();
    let mut args = Args {
        mpms: vec![Mpm::Prefork, Mpm::Event],
        requests: 300_000,
        connections: 200,
        duration: Duration::from_secs(300),
        warmup: 20_000,
        kill_every: Duration::from_secs(4),
        down: Duration::from_millis(1500),
        time_limit: Duration::from_secs(600),
        post_per_mille: 100,
        module: profile.join("libmod_jk_rs.so"),
        backend_bin: examples.join("ajp-backend"),
        out: profile.parent().unwrap_or(Path::new(".")).join("soak"),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "-h" || flag == "--help" {
            return Err(USAGE.to_string());
        }
        let value = it
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        let number = |v: &str| {
            v.parse::<f64>()
                .ok()
                .filter(|n| n.is_finite() && *n >= 0.0)
                .ok_or_else(|| format!("{flag}: bad number {v:?}"))
        };
        match flag.as_str() {
            "--mpm" => {
                args.mpms = match value.as_str() {
                    "prefork" => vec![Mpm::Prefork],
                    "event" => vec![Mpm::Event],
                    "worker" => vec![Mpm::Worker],
                    "both" => vec![Mpm::Prefork, Mpm::Event],
                    other => return Err(format!("--mpm: {other:?}?\n{USAGE}")),
                }
            }
            "--requests" => args.requests = number(&value)? as usize,
            "--connections" => args.connections = (number(&value)? as usize).max(1),
            "--warmup" => args.warmup = number(&value)? as usize,
            "--duration" => args.duration = Duration::from_secs_f64(number(&value)?),
            "--kill-every" => args.kill_every = Duration::from_secs_f64(number(&value)?),
            "--down" => args.down = Duration::from_secs_f64(number(&value)?),
            "--time-limit" => args.time_limit = Duration::from_secs_f64(number(&value)?),
            "--post-per-mille" => args.post_per_mille = (number(&value)? as usize).min(1000),
            "--module" => args.module = value.into(),
            "--backend-bin" => args.backend_bin = value.into(),
            "--out" => args.out = value.into(),
            _ => return Err(format!("unknown argument {flag}\n{USAGE}")),
        }
    }
    for (what, path) in [("module", &args.module), ("backend", &args.backend_bin)] {
        if !path.is_file() {
            return Err(format!(
                "no {what} at {} (scripts/soak.sh builds it)",
                path.display()
            ));
        }
    }
    Ok(args)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let mut reports = Vec::new();
    let mut all_ok = true;
    for &mpm in &args.mpms {
        match run(&args, mpm) {
            Ok(report) => {
                all_ok &= report.failures.is_empty();
                print!("{}", report.text);
                reports.push(report);
            }
            Err(e) => {
                eprintln!("soak {}: could not run: {e}", mpm.name());
                all_ok = false;
            }
        }
    }
    if reports.len() > 1 {
        print!("{}", side_by_side(&reports));
    }
    for report in &reports {
        for failure in &report.failures {
            println!("FAIL ({}): {failure}", report.mpm.name());
        }
    }
    if all_ok {
        println!("soak: PASS");
        ExitCode::SUCCESS
    } else {
        println!("soak: FAIL");
        ExitCode::FAILURE
    }
}

/// One MPM's outcome.
struct Report {
    mpm: Mpm,
    /// (label, value) rows of the summary table.
    rows: Vec<(String, String)>,
    text: String,
    failures: Vec<String>,
}

/// A backend going down (killed: `at` just before SIGKILL, `until` once it was reaped) or up
/// (accepting again: both the same).
#[derive(Clone, Copy)]
struct Event {
    at: Instant,
    until: Instant,
    backend: usize,
    up: bool,
}

fn run(args: &Args, mpm: Mpm) -> Result<Report, String> {
    let out = args.out.join(mpm.name());
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    eprintln!(
        "soak {}: {} requests over {} connections in {:?}, a backend killed every {:?} for {:?}; logs in {}",
        mpm.name(),
        args.requests,
        args.connections,
        args.duration,
        args.kill_every,
        args.down,
        out.display()
    );

    let names = ["tomcatA", "tomcatB"];
    let mut backends: Vec<Backend> = names
        .iter()
        .map(|name| Backend::new(&args.backend_bin, &out, name, httpd::free_port()))
        .collect();
    for b in &mut backends {
        backends::truncate(&b.request_log).map_err(|e| e.to_string())?;
        b.start()?;
    }
    let httpd = Httpd::start(httpd_config(args, mpm, &backends))?;

    let tag = format!("{}{}", &mpm.name()[..1], std::process::id());
    let mix = Mix {
        tag: tag.clone(),
        total: args.requests,
        interval: args.duration / args.requests.max(1) as u32,
        post_per_mille: args.post_per_mille,
        large_per_mille: 20,
        routes: names.iter().map(|n| n.to_string()).collect(),
    };
    let warmup = warm_up(args, &httpd, &mix)?;
    let next = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let finished = Arc::new(AtomicUsize::new(0));
    let samples: Arc<Mutex<Vec<Sample>>> = Arc::default();

    let start = Instant::now();
    let mut clients = Vec::new();
    for client in 0..args.connections {
        let (mix, next, stop, finished) =
            (mix.clone(), next.clone(), stop.clone(), finished.clone());
        let addr = httpd.addr();
        let handle = std::thread::Builder::new()
            .name(format!("client-{client}"))
            .stack_size(256 * 1024)
            .spawn(move || {
                let tally = load::client(addr, client, &mix, &next, &stop, start);
                finished.fetch_add(1, Ordering::SeqCst);
                tally
            })
            .map_err(|e| format!("cannot start client thread: {e}"))?;
        clients.push(handle);
    }
    let sampler = {
        let (samples, finished, stop) = (samples.clone(), finished.clone(), stop.clone());
        let httpd_pid = httpd.pid();
        let connections = args.connections;
        let ports = sampler::Ports {
            httpd: httpd.port(),
            backends: backends.iter().map(|b| b.port).collect(),
        };
        std::thread::spawn(move || {
            while finished.load(Ordering::SeqCst) < connections && !stop.load(Ordering::SeqCst) {
                let at = start.elapsed().as_secs_f64();
                let mut tcp = sampler::TcpTable::read();
                let round: Vec<Sample> = httpd::children_of(httpd_pid)
                    .into_iter()
                    .filter_map(|pid| sampler::sample(pid, at, &mut tcp, &ports))
                    .collect();
                samples
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .extend(round);
                std::thread::sleep(sampler::PERIOD);
            }
        })
    };

    // The killer, on this thread (it started the backends: their PR_SET_PDEATHSIG is tied to it).
    let mut events: Vec<Event> = Vec::new();
    let mut victim = 0;
    let mut next_kill = start + Duration::from_secs(2);
    let mut progress = start;
    let mut timed_out = false;
    let mut kill_error = None;
    while finished.load(Ordering::SeqCst) < args.connections {
        let now = Instant::now();
        if now - start > args.time_limit && !timed_out {
            timed_out = true;
            stop.store(true, Ordering::SeqCst);
        }
        if now - progress >= Duration::from_secs(30) {
            progress = now;
            eprintln!(
                "soak {}: {:.0} s, {} requests sent",
                mpm.name(),
                (now - start).as_secs_f64(),
                next.load(Ordering::Relaxed).min(args.requests)
            );
        }
        if now >= next_kill && kill_error.is_none() && !stop.load(Ordering::SeqCst) {
            next_kill += args.kill_every;
            let b = &mut backends[victim];
            let at = Instant::now();
            b.kill();
            events.push(Event {
                at,
                until: Instant::now(),
                backend: victim,
                up: false,
            });
            sleep_unless_done(args.down, &finished, args.connections);
            match b.start() {
                Ok(()) => events.push(Event {
                    at: Instant::now(),
                    until: Instant::now(),
                    backend: victim,
                    up: true,
                }),
                Err(e) => {
                    kill_error = Some(e);
                    stop.store(true, Ordering::SeqCst);
                }
            }
            victim = (victim + 1) % backends.len();
            continue;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut tally = Tally::default();
    for handle in clients {
        tally.merge(
            handle
                .join()
                .map_err(|_| "a client thread panicked".to_string())?,
        );
    }
    let load_time = start.elapsed();
    let _ = sampler.join();
    let samples = std::mem::take(&mut *samples.lock().unwrap_or_else(|e| e.into_inner()));

    let error_log = httpd.error_log();
    let _ = std::fs::write(out.join("error.log"), &error_log);
    let access_log = httpd.access_log();
    let _ = std::fs::write(out.join("access.log"), &access_log);
    // Ids of the requests httpd read (it logs each after its answer, even an aborted one).
    let in_access_log: HashSet<String> = access_log
        .lines()
        .filter_map(|l| {
            let after = l.split_once("?id=")?.1;
            Some(after.split(['&', ' ']).next()?.to_string())
        })
        .collect();
    drop(httpd);
    let kills = events.iter().filter(|e| !e.up).count();
    let starts: Vec<usize> = backends.iter().map(|b| b.starts).collect();
    drop(backends);

    let mut logs: Vec<(String, String)> = Vec::new();
    for name in names {
        let path = out.join(format!("{name}.requests.log"));
        logs.extend(backends::read_request_log(&path).map_err(|e| e.to_string())?);
    }
    let prefix = format!("{tag}-");
    let mut received: HashMap<String, (String, usize)> = HashMap::new();
    for (method, id) in logs.into_iter().filter(|(_, id)| id.starts_with(&prefix)) {
        received.entry(id).or_insert((method, 0)).1 += 1;
    }
    let verdict = Verdict {
        args,
        mpm,
        tally: &tally,
        warmup: &warmup,
        received: &received,
        in_access_log: &in_access_log,
        pool_bound: backends_per_child_bound(mpm, names.len()),
        events: &events,
        start,
        load_time,
        samples: &samples,
        error_log: &error_log,
        timed_out,
        kill_error,
        kills,
        starts,
    };
    Ok(verdict.report())
}

/// Before the measured run, with every backend up: `--warmup` requests as fast as httpd
/// answers over all the connections, so every child and thread has served (its buffers,
/// pools and malloc arenas have their working size) before the first minute is sampled.
fn warm_up(args: &Args, httpd: &Httpd, mix: &Mix) -> Result<Tally, String> {
    let mix = Mix {
        tag: format!("{}w", mix.tag),
        total: args.warmup,
        interval: Duration::ZERO,
        ..mix.clone()
    };
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let start = Instant::now();
    let addr = httpd.addr();
    let mut tally = Tally::default();
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..args.connections)
            .map(|client| {
                let (mix, next, stop) = (&mix, &next, &stop);
                std::thread::Builder::new()
                    .stack_size(256 * 1024)
                    .spawn_scoped(scope, move || {
                        load::client(addr, client, mix, next, stop, start)
                    })
            })
            .collect();
        for handle in handles {
            let handle = handle.map_err(|e| format!("cannot start client thread: {e}"))?;
            tally.merge(
                handle
                    .join()
                    .map_err(|_| "a client thread panicked".to_string())?,
            );
        }
        Ok::<(), String>(())
    })?;
    eprintln!(
        "soak {}: warm-up, {} requests in {:.1} s",
        httpd.config().mpm.name(),
        tally.requests(),
        start.elapsed().as_secs_f64()
    );
    Ok(tally)
}

/// Sleeps `d` in small steps, returning early once every client is done.
fn sleep_unless_done(d: Duration, finished: &AtomicUsize, clients: usize) {
    let end = Instant::now() + d;
    while Instant::now() < end && finished.load(Ordering::SeqCst) < clients {
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn httpd_config(args: &Args, mpm: Mpm, backends: &[Backend]) -> HttpdConfig {
    let mut props = String::from("# written by tests/soak (scripts/soak.sh)\nworker.list=lb\n");
    // Maintenance (recovery of a member in error) once a second, so a restarted backend is
    // taken back within seconds.
    props.push_str("worker.maintain=1\n");
    for b in backends {
        let n = &b.name;
        let _ = writeln!(props, "worker.{n}.type=ajp13");
        let _ = writeln!(props, "worker.{n}.host=127.0.0.1");
        let _ = writeln!(props, "worker.{n}.port={}", b.port);
        let _ = writeln!(props, "worker.{n}.socket_connect_timeout=1000");
        let _ = writeln!(props, "worker.{n}.reply_timeout=10000");
        // mod_jk's recovery_options 1 (never send a request again once the backend received
        // it: a POST is not replayed) plus 8 and 16 (HEAD and GET, idempotent, may be).
        let _ = writeln!(props, "worker.{n}.recovery_options=25");
    }
    let members: Vec<&str> = backends.iter().map(|b| b.name.as_str()).collect();
    let _ = writeln!(props, "worker.lb.type=lb");
    let _ = writeln!(props, "worker.lb.balance_workers={}", members.join(","));
    props.push_str("worker.lb.sticky_session=true\nworker.lb.recover_time=2\n");

    let mut cfg = HttpdConfig::with_module_at(mpm, args.module.clone());
    cfg.log_level = "warn".to_string();
    // Room for every client connection at once: prefork needs a child per connection
    // (ServerLimit = 4 × StartServers in the harness); event gets 4 × 64 threads.
    cfg.prefork_children = (args.connections * 13 / 40).max(8);
    cfg.threads_per_child = THREADS_PER_CHILD;
    cfg.global = "JkWorkersFile {dir}/workers.properties\nJkMount /app/* lb\n".to_string();
    if mpm.is_threaded() {
        // All four processes from the start and never one stopped for being idle: a process
        // that stops closes its idle keep-alive connections, which the clients would see as
        // failures (the keep-alive race), and its RSS could not be followed to the last minute.
        cfg.global.push_str("StartServers 4\nMaxSpareThreads 256\n");
    }
    cfg.files = vec![("workers.properties".to_string(), props)];
    cfg
}

/// Everything a run produced, judged.
struct Verdict<'a> {
    args: &'a Args,
    mpm: Mpm,
    tally: &'a Tally,
    warmup: &'a Tally,
    /// Request id → (method, how many times a backend received it whole).
    received: &'a HashMap<String, (String, usize)>,
    in_access_log: &'a HashSet<String>,
    /// Most backend connections a child's pools may hold.
    pool_bound: usize,
    events: &'a [Event],
    start: Instant,
    load_time: Duration,
    samples: &'a [Sample],
    error_log: &'a str,
    timed_out: bool,
    kill_error: Option<String>,
    kills: usize,
    starts: Vec<usize>,
}

/// How the failed requests divide.
#[derive(Default)]
struct Classes {
    get_5xx_all_down: usize,
    get_cut_by_kill: usize,
    get_unexplained: Vec<String>,
    post_5xx_received: usize,
    post_5xx_not_received: usize,
    post_cut_by_kill: usize,
    post_unexplained: Vec<String>,
    /// Closed by httpd before it read the request (not in its access log, no backend got it)
    /// on a reused keep-alive connection: the race every HTTP client must handle by retrying.
    keepalive_race: usize,
    by_status: BTreeMap<String, usize>,
}

impl Verdict<'_> {
    /// Intervals in which every backend was down.
    fn all_down(&self) -> Vec<(Instant, Instant)> {
        let n = self.starts.len();
        let mut down: HashSet<usize> = HashSet::new();
        let mut out = Vec::new();
        let mut since = None;
        for e in self.events {
            if e.up {
                down.remove(&e.backend);
            } else {
                down.insert(e.backend);
            }
            match (down.len() == n, since) {
                (true, None) => since = Some(e.at),
                (false, Some(from)) => {
                    out.push((from, e.at));
                    since = None;
                }
                _ => {}
            }
        }
        if let Some(from) = since {
            out.push((from, Instant::now()));
        }
        out
    }

    /// Whether a backend was being killed while `f` was in flight.
    fn killed_during(&self, f: &Failure) -> bool {
        self.events
            .iter()
            .any(|e| !e.up && e.at <= f.ended && e.until >= f.started)
    }

    /// A request on a reused keep-alive connection that got no answer and reached neither
    /// httpd's access log nor a backend: httpd closed the connection before reading it.
    fn never_read(&self, f: &Failure) -> bool {
        f.reused
            && f.transport == Some(Transport::NoAnswer)
            && !self.in_access_log.contains(&f.id)
            && !self.received.contains_key(&f.id)
    }

    fn classify(&self) -> Classes {
        let all_down = self.all_down();
        let mut c = Classes::default();
        for f in &self.tally.failures {
            let label = match (f.status, f.transport) {
                (0, Some(t)) => format!("{} {t:?}", method(f.post)),
                (status, _) => format!("{} {status}", method(f.post)),
            };
            *c.by_status.entry(label.clone()).or_default() += 1;
            let during_all_down = all_down
                .iter()
                .any(|&(from, to)| from <= f.ended && to >= f.started);
            let killed = self.killed_during(f);
            let why = format!(
                "{label} for {} at {:.1} s",
                f.id,
                (f.started - self.start).as_secs_f64()
            );
            let never_read = self.never_read(f);
            match (f.post, f.status, f.transport) {
                _ if never_read => c.keepalive_race += 1,
                (false, 500..=599, _) if during_all_down => c.get_5xx_all_down += 1,
                (false, 0, Some(Transport::CutShort)) if killed => c.get_cut_by_kill += 1,
                (false, _, _) => c.get_unexplained.push(why),
                (true, 500..=599, _) if killed || during_all_down => {
                    if self.received.contains_key(&f.id) {
                        c.post_5xx_received += 1;
                    } else {
                        c.post_5xx_not_received += 1;
                    }
                }
                (true, 0, Some(Transport::CutShort)) if killed => c.post_cut_by_kill += 1,
                (true, _, _) => c.post_unexplained.push(why),
            }
        }
        c
    }

    fn report(&self) -> Report {
        let t = self.tally;
        let c = self.classify();
        let mut failures: Vec<String> = Vec::new();
        let duplicated_posts: Vec<&String> = self
            .received
            .iter()
            .filter(|(_, (m, n))| m == "POST" && *n > 1)
            .map(|(id, _)| id)
            .collect();
        let resent_gets = self
            .received
            .values()
            .filter(|(m, n)| m == "GET" && *n > 1)
            .count();
        let unlogged_posts: Vec<&String> = t
            .posts_ok
            .iter()
            .filter(|id| !self.received.contains_key(*id))
            .collect();
        let crashes: Vec<&str> = self
            .error_log
            .lines()
            .filter(|l| l.contains("exit signal") || l.contains("panicked at"))
            .collect();

        let secs = self.load_time.as_secs_f64();
        let (first, last) = windows(secs);
        let flat = sampler::compare(self.samples, first, last);

        if self.timed_out {
            failures.push(format!(
                "not finished within the time limit ({:?}): {} of {} requests",
                self.args.time_limit,
                t.requests(),
                self.args.requests
            ));
        }
        if let Some(e) = &self.kill_error {
            failures.push(format!("a backend could not be restarted: {e}"));
        }
        if t.requests() < self.args.requests {
            failures.push(format!(
                "{} of {} requests sent",
                t.requests(),
                self.args.requests
            ));
        }
        list_failure(
            &mut failures,
            "wrong-client answers in the warm-up",
            &self.warmup.wrong_client,
        );
        // As in the measured run: a request on a reused keep-alive connection that httpd closed
        // before reading it (event MPM, every worker busy) reached neither httpd's log nor a
        // backend; a real client sends it again. Counted, not a failure.
        let (warmup_races, warmup_failed): (Vec<_>, Vec<_>) = self
            .warmup
            .failures
            .iter()
            .partition(|f| self.never_read(f));
        list_failure(
            &mut failures,
            "failed requests in the warm-up (every backend up)",
            &warmup_failed
                .iter()
                .map(|f| format!("{} {} {:?}", f.id, f.status, f.transport))
                .collect::<Vec<_>>(),
        );
        list_failure(&mut failures, "wrong-client answers", &t.wrong_client);
        list_failure(&mut failures, "wrong bodies", &t.bad_body);
        list_failure(&mut failures, "duplicated POSTs", &duplicated_posts);
        list_failure(
            &mut failures,
            "POSTs answered 200 that no backend logged",
            &unlogged_posts,
        );
        list_failure(&mut failures, "failed GETs", &c.get_unexplained);
        list_failure(
            &mut failures,
            "failed POSTs with no backend killed meanwhile",
            &c.post_unexplained,
        );
        list_failure(&mut failures, "crashed children", &crashes);
        self.check_flat(&flat, &mut failures);

        let mut rows: Vec<(String, String)> = Vec::new();
        let mut row = |k: &str, v: String| rows.push((k.to_string(), v));
        row(
            "warm-up (not counted below)",
            format!(
                "{} requests, {} failed, {} keep-alive closes before httpd read them",
                self.warmup.requests(),
                warmup_failed.len(),
                warmup_races.len()
            ),
        );
        row(
            "requests",
            format!("{} ({} GET, {} POST)", t.requests(), t.gets, t.posts),
        );
        row("load time", format!("{secs:.1} s"));
        row("requests/s", format!("{:.0}", t.requests() as f64 / secs));
        row("200 OK", t.ok.to_string());
        row(
            "answers per backend",
            t.by_backend
                .iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect::<Vec<_>>()
                .join(", "),
        );
        row(
            "backend kills (restarts)",
            format!(
                "{} ({})",
                self.kills,
                self.starts
                    .iter()
                    .map(|s| s.saturating_sub(1).to_string())
                    .collect::<Vec<_>>()
                    .join(" + ")
            ),
        );
        row("wrong-client answers", t.wrong_client.len().to_string());
        row("wrong bodies", t.bad_body.len().to_string());
        row("duplicated POSTs", duplicated_posts.len().to_string());
        row(
            "POSTs 200 not logged by a backend",
            unlogged_posts.len().to_string(),
        );
        row(
            "GETs received twice (resent, allowed)",
            resent_gets.to_string(),
        );
        row(
            "failed, by kind",
            if c.by_status.is_empty() {
                "none".to_string()
            } else {
                c.by_status
                    .iter()
                    .map(|(k, v)| format!("{k}: {v}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            },
        );
        row(
            "GET 5xx while all members down",
            c.get_5xx_all_down.to_string(),
        );
        row("GET cut short by a kill", c.get_cut_by_kill.to_string());
        row(
            "GET failures otherwise",
            c.get_unexplained.len().to_string(),
        );
        row(
            "POST 5xx, backend killed meanwhile",
            format!(
                "{} (it had received it: {}, it had not: {})",
                c.post_5xx_received + c.post_5xx_not_received,
                c.post_5xx_received,
                c.post_5xx_not_received
            ),
        );
        row("POST cut short by a kill", c.post_cut_by_kill.to_string());
        row(
            "POST failures otherwise",
            c.post_unexplained.len().to_string(),
        );
        row(
            "keep-alive close before httpd read it",
            c.keepalive_race.to_string(),
        );
        row("sticky requests moved", t.sticky_moved.to_string());
        row("client (re)connections", t.reconnects.to_string());
        row("crashed children", crashes.len().to_string());
        row(
            "windows compared",
            format!(
                "{:.0}-{:.0} s vs {:.0}-{:.0} s, {} children in both",
                first.from, first.to, last.from, last.to, flat.children
            ),
        );
        row(
            "children RSS (sum of maxima)",
            format!(
                "{:.1} MiB -> {:.1} MiB ({:+.1} %)",
                flat.rss_first as f64 / 1024.0,
                flat.rss_last as f64 / 1024.0,
                percent(flat.rss_first as f64, flat.rss_last as f64)
            ),
        );
        row(
            "child RSS, median and largest",
            format!(
                "{} KiB -> {} KiB, {} KiB -> {} KiB",
                flat.rss_median_first, flat.rss_median_last, flat.rss_max_first, flat.rss_max_last
            ),
        );
        row(
            "child RSS, most grown (not judged)",
            match flat.worst_rss {
                Some((pid, a, b)) => format!("pid {pid}: {a} KiB -> {b} KiB"),
                None => "-".to_string(),
            },
        );
        row(
            "children RSS by minute (sum)",
            sampler::rss_by_minute(self.samples)
                .iter()
                .map(|kib| format!("{:.1}", *kib as f64 / 1024.0))
                .collect::<Vec<_>>()
                .join(" ")
                + " MiB",
        );
        row(
            "non-socket fds per child (max)",
            format!(
                "{} -> {} (largest growth {:+})",
                flat.other_fds_first, flat.other_fds_last, flat.worst_other_fds_growth
            ),
        );
        row(
            "backend conns per child (max)",
            format!(
                "{} -> {} (largest growth {:+}; pool bound {})",
                flat.backend_first, flat.backend_last, flat.worst_backend_growth, self.pool_bound
            ),
        );
        row(
            "other sockets per child (max)",
            format!(
                "{} -> {} (largest growth {:+})",
                flat.unaccounted_first, flat.unaccounted_last, flat.worst_unaccounted_growth
            ),
        );
        row(
            "backend conns in CLOSE_WAIT (max)",
            format!("{} -> {}", flat.close_wait_first, flat.close_wait_last),
        );
        row(
            "sockets, all children (mean)",
            format!("{:.1} -> {:.1}", flat.sockets_first, flat.sockets_last),
        );
        row(
            "result",
            if failures.is_empty() { "PASS" } else { "FAIL" }.to_string(),
        );

        let mut text = format!("\n== soak, MPM {} ==\n", self.mpm.name());
        let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
        for (k, v) in &rows {
            let _ = writeln!(text, "{k:<width$}  {v}");
        }
        if !t.transport_errors.is_empty() {
            let _ = writeln!(text, "transport errors:");
            for (e, n) in &t.transport_errors {
                let _ = writeln!(text, "  {n:>6}  {e}");
            }
        }
        Report {
            mpm: self.mpm,
            rows,
            text,
            failures,
        }
    }

    fn check_flat(&self, flat: &Compared, failures: &mut Vec<String>) {
        if flat.children == 0 {
            failures.push("no httpd child was sampled in both windows".to_string());
            return;
        }
        for (what, a, b) in [
            ("summed", flat.rss_first, flat.rss_last),
            ("largest child", flat.rss_max_first, flat.rss_max_last),
        ] {
            if b as f64 >= a as f64 * (1.0 + Limits::RSS_GROWTH) {
                failures.push(format!(
                    "the children's RSS ({what}) grew from {a} KiB to {b} KiB (allowed: < {:.0} %)",
                    Limits::RSS_GROWTH * 100.0
                ));
            }
        }
        if flat.worst_other_fds_growth > Limits::OTHER_FDS {
            failures.push(format!(
                "a child's non-socket descriptors grew by {} (allowed: {})",
                flat.worst_other_fds_growth,
                Limits::OTHER_FDS
            ));
        }
        if flat.backend_first.max(flat.backend_last) > self.pool_bound {
            failures.push(format!(
                "a child held {} backend connections, more than its pools' {}",
                flat.backend_first.max(flat.backend_last),
                self.pool_bound
            ));
        }
        if flat.worst_unaccounted_growth > Limits::UNACCOUNTED_SOCKETS {
            failures.push(format!(
                "a child's other sockets grew by {} (allowed: {})",
                flat.worst_unaccounted_growth,
                Limits::UNACCOUNTED_SOCKETS
            ));
        }
    }
}

/// A child's pools hold at most a connection per thread (ThreadsPerChild, 1 under prefork)
/// and member (connection_pool_size unset).
fn backends_per_child_bound(mpm: Mpm, members: usize) -> usize {
    let threads = if mpm.is_threaded() {
        THREADS_PER_CHILD
    } else {
        1
    };
    threads * members
}

/// Event/worker ThreadsPerChild (4 children: room for 256 connections at once).
const THREADS_PER_CHILD: usize = 64;

fn method(post: bool) -> &'static str {
    if post {
        "POST"
    } else {
        "GET"
    }
}

fn percent(a: f64, b: f64) -> f64 {
    if a == 0.0 {
        0.0
    } else {
        (b - a) / a * 100.0
    }
}

/// The first and the last minute of a run of `secs` seconds; thirds of a run shorter than
/// 2.5 minutes.
fn windows(secs: f64) -> (Window, Window) {
    if secs >= 150.0 {
        (
            Window {
                from: 0.0,
                to: 60.0,
            },
            Window {
                from: secs - 60.0,
                to: secs,
            },
        )
    } else {
        (
            Window {
                from: 0.0,
                to: secs / 3.0,
            },
            Window {
                from: secs * 2.0 / 3.0,
                to: secs,
            },
        )
    }
}

/// "`n` `what`: the first few …" when `items` is not empty.
fn list_failure<T: std::fmt::Display>(failures: &mut Vec<String>, what: &str, items: &[T]) {
    if items.is_empty() {
        return;
    }
    let shown: Vec<String> = items.iter().take(5).map(|i| i.to_string()).collect();
    failures.push(format!(
        "{} {what}: {}{}",
        items.len(),
        shown.join("; "),
        if items.len() > 5 { "; …" } else { "" }
    ));
}

/// The reports' rows in one table, one column per MPM.
fn side_by_side(reports: &[Report]) -> String {
    let mut text = String::from("\n== soak summary ==\n");
    let width = reports[0]
        .rows
        .iter()
        .map(|(k, _)| k.len())
        .max()
        .unwrap_or(0);
    let _ = write!(text, "{:<width$}", "");
    for r in reports {
        let _ = write!(text, "  | {}", r.mpm.name());
    }
    text.push('\n');
    for (i, (k, _)) in reports[0].rows.iter().enumerate() {
        let _ = write!(text, "{k:<width$}");
        for r in reports {
            let v = r.rows.get(i).map(|(_, v)| v.as_str()).unwrap_or("");
            let _ = write!(text, "  | {v}");
        }
        text.push('\n');
    }
    text
}
