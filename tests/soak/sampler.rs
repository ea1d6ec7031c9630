//! Samples every httpd child's resident memory and open file descriptors from /proc while the
//! soak runs, and compares the first minute with the last.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::time::Duration;

/// TCP state of a socket in /proc/net/tcp: CLOSE_WAIT (the peer closed, we have not).
const CLOSE_WAIT: u8 = 0x08;

/// What a sampling round knows about the loopback TCP sockets: inode → (local port, remote
/// port, state), from /proc/net/tcp and /proc/net/tcp6.
pub struct TcpTable(HashMap<u64, (u16, u16, u8)>);

impl TcpTable {
    pub fn read() -> TcpTable {
        let mut map = HashMap::new();
        for file in ["/proc/net/tcp", "/proc/net/tcp6"] {
            let text = fs::read_to_string(file).unwrap_or_default();
            for line in text.lines().skip(1) {
                let f: Vec<&str> = line.split_whitespace().collect();
                let port = |field: &str| {
                    let hex = field.rsplit(':').next()?;
                    u16::from_str_radix(hex, 16).ok()
                };
                let parsed = (|| {
                    let local = port(f.get(1)?)?;
                    let remote = port(f.get(2)?)?;
                    let state = u8::from_str_radix(f.get(3)?, 16).ok()?;
                    let inode = f.get(9)?.parse::<u64>().ok()?;
                    Some((inode, (local, remote, state)))
                })();
                if let Some((inode, entry)) = parsed {
                    map.insert(inode, entry);
                }
            }
        }
        TcpTable(map)
    }
}

/// The ports that tell the sockets apart: httpd's (client connections, listener) and the
/// backends'.
pub struct Ports {
    pub httpd: u16,
    pub backends: Vec<u16>,
}

/// One look at one child.
#[derive(Clone, Copy, Debug)]
pub struct Sample {
    /// Seconds since the load started.
    pub at: f64,
    pub pid: u32,
    pub rss_kib: u64,
    /// Open descriptors that are sockets (client and backend connections, listeners, …).
    pub sockets: usize,
    /// Of those, connections to a backend; and how many of them the backend has closed
    /// (CLOSE_WAIT: in the pool until the next liveness check, or leaked).
    pub backend_sockets: usize,
    pub backend_close_wait: usize,
    /// Sockets that are neither a client connection (local port httpd's) nor a backend
    /// connection: listeners, Unix sockets, closed TCP sockets still open. Should never move.
    pub unaccounted_sockets: usize,
    /// Every other open descriptor (logs, pipes, epoll, the shm file, …): should never move.
    pub other_fds: usize,
}

/// `VmRSS` (KiB) and the descriptors of `pid`; None if it is gone (or not readable).
/// A socket opened after `tcp` was read is looked up again in a fresh table (once per call).
pub fn sample(pid: u32, at: f64, tcp: &mut TcpTable, ports: &Ports) -> Option<Sample> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let rss_kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    let (mut sockets, mut other_fds, mut backend_sockets, mut backend_close_wait) = (0, 0, 0, 0);
    let mut client_sockets = 0;
    let mut refreshed = false;
    for entry in fs::read_dir(format!("/proc/{pid}/fd")).ok()? {
        let Ok(entry) = entry else { continue };
        match fs::read_link(entry.path()) {
            Ok(target) if target.to_string_lossy().starts_with("socket:") => {
                sockets += 1;
                let inode = target
                    .to_string_lossy()
                    .trim_start_matches("socket:[")
                    .trim_end_matches(']')
                    .parse::<u64>()
                    .ok();
                let mut entry = inode.and_then(|i| tcp.0.get(&i)).copied();
                if entry.is_none() && !refreshed {
                    if let Some(i) = inode {
                        refreshed = true;
                        *tcp = TcpTable::read();
                        entry = tcp.0.get(&i).copied();
                    }
                }
                match entry.as_ref() {
                    Some(&(local, remote, _)) if local == ports.httpd && remote != 0 => {
                        client_sockets += 1
                    }
                    Some(&(_, remote, state)) if ports.backends.contains(&remote) => {
                        backend_sockets += 1;
                        backend_close_wait += usize::from(state == CLOSE_WAIT);
                    }
                    _ => {}
                }
            }
            Ok(_) => other_fds += 1,
            // Closed between the listing and the readlink.
            Err(_) => {}
        }
    }
    Some(Sample {
        at,
        pid,
        rss_kib,
        sockets,
        backend_sockets,
        backend_close_wait,
        unaccounted_sockets: sockets - client_sockets - backend_sockets,
        other_fds,
    })
}

/// The window compared: from `from` to `to` seconds after the start.
#[derive(Clone, Copy, Debug)]
pub struct Window {
    pub from: f64,
    pub to: f64,
}

/// One child's (or all children's) figures in the two windows.
#[derive(Clone, Debug, Default)]
pub struct Compared {
    /// Children seen in both windows (prefork may start and stop children in between).
    pub children: usize,
    /// Sum over those children of their largest RSS in the window (KiB).
    pub rss_first: u64,
    pub rss_last: u64,
    /// The largest child's RSS, and the median child's (KiB).
    pub rss_max_first: u64,
    pub rss_max_last: u64,
    pub rss_median_first: u64,
    pub rss_median_last: u64,
    /// The child whose RSS grew most, (pid, first, last): a prefork child that served little in
    /// the first minute grows when it starts serving, so this one is reported, not judged.
    pub worst_rss: Option<(u32, u64, u64)>,
    /// Largest count of non-socket descriptors of one child in the window, and the largest
    /// increase of one child between the windows.
    pub other_fds_first: usize,
    pub other_fds_last: usize,
    pub worst_other_fds_growth: i64,
    /// Largest count of backend connections of one child in the window, the largest increase
    /// of one child between the windows, and the most in CLOSE_WAIT at once in the window.
    pub backend_first: usize,
    pub backend_last: usize,
    pub worst_backend_growth: i64,
    pub close_wait_first: usize,
    pub close_wait_last: usize,
    /// Largest count of unaccounted sockets of one child, and the largest increase.
    pub unaccounted_first: usize,
    pub unaccounted_last: usize,
    pub worst_unaccounted_growth: i64,
    /// Sum over all children of sockets, mean over the samples of the window.
    pub sockets_first: f64,
    pub sockets_last: f64,
}

/// Compares the children's largest RSS and descriptor counts in `first` and `last`.
pub fn compare(samples: &[Sample], first: Window, last: Window) -> Compared {
    let inside = |s: &Sample, w: Window| s.at >= w.from && s.at <= w.to;
    let per_child = |w: Window| {
        let mut map: BTreeMap<u32, (u64, usize, usize, usize)> = BTreeMap::new();
        for s in samples.iter().filter(|s| inside(s, w)) {
            let e = map.entry(s.pid).or_default();
            e.0 = e.0.max(s.rss_kib);
            e.1 = e.1.max(s.other_fds);
            e.2 = e.2.max(s.backend_sockets);
            e.3 = e.3.max(s.unaccounted_sockets);
        }
        map
    };
    let (a, b) = (per_child(first), per_child(last));
    let mut out = Compared::default();
    let (mut rss_a_all, mut rss_b_all) = (Vec::new(), Vec::new());
    for (pid, &(rss_a, fds_a, backend_a, other_a)) in &a {
        let Some(&(rss_b, fds_b, backend_b, other_b)) = b.get(pid) else {
            continue;
        };
        out.children += 1;
        rss_a_all.push(rss_a);
        rss_b_all.push(rss_b);
        out.rss_first += rss_a;
        out.rss_last += rss_b;
        let growth = rss_b as i64 - rss_a as i64;
        if out
            .worst_rss
            .is_none_or(|(_, f, l)| growth > l as i64 - f as i64)
        {
            out.worst_rss = Some((*pid, rss_a, rss_b));
        }
        out.other_fds_first = out.other_fds_first.max(fds_a);
        out.other_fds_last = out.other_fds_last.max(fds_b);
        out.worst_other_fds_growth = out.worst_other_fds_growth.max(fds_b as i64 - fds_a as i64);
        out.backend_first = out.backend_first.max(backend_a);
        out.backend_last = out.backend_last.max(backend_b);
        out.worst_backend_growth = out
            .worst_backend_growth
            .max(backend_b as i64 - backend_a as i64);
        out.unaccounted_first = out.unaccounted_first.max(other_a);
        out.unaccounted_last = out.unaccounted_last.max(other_b);
        out.worst_unaccounted_growth = out
            .worst_unaccounted_growth
            .max(other_b as i64 - other_a as i64);
    }
    for (all, max, median) in [
        (
            &mut rss_a_all,
            &mut out.rss_max_first,
            &mut out.rss_median_first,
        ),
        (
            &mut rss_b_all,
            &mut out.rss_max_last,
            &mut out.rss_median_last,
        ),
    ] {
        all.sort_unstable();
        *max = all.last().copied().unwrap_or(0);
        *median = all.get(all.len() / 2).copied().unwrap_or(0);
    }
    out.close_wait_first = max_close_wait(samples, first);
    out.close_wait_last = max_close_wait(samples, last);
    out.sockets_first = mean_socket_total(samples, first);
    out.sockets_last = mean_socket_total(samples, last);
    out
}

/// Most backend connections in CLOSE_WAIT over all children in one sampling round of `w`.
fn max_close_wait(samples: &[Sample], w: Window) -> usize {
    let mut rounds: BTreeMap<u64, usize> = BTreeMap::new();
    for s in samples.iter().filter(|s| s.at >= w.from && s.at <= w.to) {
        *rounds.entry(s.at.to_bits()).or_default() += s.backend_close_wait;
    }
    rounds.values().copied().max().unwrap_or(0)
}

/// Mean over the sampling rounds in `w` of the sockets summed over all children.
fn mean_socket_total(samples: &[Sample], w: Window) -> f64 {
    let mut rounds: BTreeMap<u64, usize> = BTreeMap::new();
    for s in samples.iter().filter(|s| s.at >= w.from && s.at <= w.to) {
        // Samples of one round share their timestamp (taken once per round).
        *rounds.entry(s.at.to_bits()).or_default() += s.sockets;
    }
    if rounds.is_empty() {
        return 0.0;
    }
    rounds.values().sum::<usize>() as f64 / rounds.len() as f64
}

/// Per minute of the run: the sum over the children of each one's largest RSS in that minute
/// (KiB).
pub fn rss_by_minute(samples: &[Sample]) -> Vec<u64> {
    let mut minutes: BTreeMap<u64, BTreeMap<u32, u64>> = BTreeMap::new();
    for s in samples {
        let child = minutes
            .entry((s.at / 60.0) as u64)
            .or_default()
            .entry(s.pid)
            .or_default();
        *child = (*child).max(s.rss_kib);
    }
    minutes.values().map(|m| m.values().sum()).collect()
}

/// How often the sampler looks.
pub const PERIOD: Duration = Duration::from_secs(2);
