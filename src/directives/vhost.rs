//! What one server (main or virtual host) uses at request time, finished after the whole
//! configuration was read: its URI map (JkMount, `worker.<name>.mount`, JkMountFile with reload,
//! JkMountCopy), effective JkOptions, the environment variable names of the indicators, JkEnvVar,
//! JkStripSession and JkAutoAlias.

use super::options::{JkOptions, OptionSet};
use super::settings::{MountCopy, ServerSettings};
use crate::config::{ConfigError, Origin, Workers};
use crate::mount::{
    check_rules, parse_uri_worker_map, worker_definition_rules, MountMap, MountRule,
};
use std::ffi::CString;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Environment variable names read per request (indicator directives or mod_jk's defaults).
#[derive(Debug)]
pub struct EnvNames {
    pub worker: CString,
    pub https: CString,
    pub ssl_protocol: CString,
    pub certs: CString,
    pub cipher: CString,
    pub cert_chain_prefix: String,
    pub session: CString,
    pub key_size: CString,
    pub request_id: CString,
    pub remote_addr: CString,
    pub remote_port: CString,
    pub remote_host: CString,
    pub remote_user: CString,
    pub auth_type: CString,
    pub local_name: CString,
    pub local_addr: CString,
    pub local_port: CString,
    pub ignore_cl: CString,
    /// The nine indicators of the client, the server and the body (remote address, port, host
    /// and user, auth type, local name, address and port, ignore Content-Length) all have
    /// `JK_` names, as by default: a request without any `JK_*` variable has none of them.
    pub plain_indicators_jk: bool,
}

/// Whether a variable name starts with `JK_` (ASCII case ignored, as httpd's tables compare
/// names): the variables a request without any `JK_*` one cannot have.
#[inline]
pub fn is_jk_name(name: &[u8]) -> bool {
    matches!(name, [j, k, b'_', ..] if j | 0x20 == b'j' && k | 0x20 == b'k')
}

fn cname(set: &Option<String>, default: &str) -> CString {
    // Names were checked for NUL bytes when the directive was read.
    CString::new(set.as_deref().unwrap_or(default)).unwrap_or_default()
}

impl EnvNames {
    pub fn from_settings(s: &ServerSettings) -> EnvNames {
        let i = &s.indicators;
        let mut names = EnvNames {
            worker: cname(&i.worker, "JK_WORKER_NAME"),
            https: cname(&i.https, "HTTPS"),
            ssl_protocol: cname(&i.ssl_protocol, "SSL_PROTOCOL"),
            certs: cname(&i.certs, "SSL_CLIENT_CERT"),
            cipher: cname(&i.cipher, "SSL_CIPHER"),
            cert_chain_prefix: i
                .cert_chain_prefix
                .clone()
                .unwrap_or_else(|| "SSL_CLIENT_CERT_CHAIN_".into()),
            session: cname(&i.session, "SSL_SESSION_ID"),
            key_size: cname(&i.key_size, "SSL_CIPHER_USEKEYSIZE"),
            request_id: cname(&i.request_id, "UNIQUE_ID"),
            remote_addr: cname(&i.remote_addr, "JK_REMOTE_ADDR"),
            remote_port: cname(&i.remote_port, "JK_REMOTE_PORT"),
            remote_host: cname(&i.remote_host, "JK_REMOTE_HOST"),
            remote_user: cname(&i.remote_user, "JK_REMOTE_USER"),
            auth_type: cname(&i.auth_type, "JK_AUTH_TYPE"),
            local_name: cname(&i.local_name, "JK_LOCAL_NAME"),
            local_addr: cname(&i.local_addr, "JK_LOCAL_ADDR"),
            local_port: cname(&i.local_port, "JK_LOCAL_PORT"),
            ignore_cl: cname(&i.ignore_cl, "JK_IGNORE_CL"),
            plain_indicators_jk: false,
        };
        names.plain_indicators_jk = [
            &names.remote_addr,
            &names.remote_port,
            &names.remote_host,
            &names.remote_user,
            &names.auth_type,
            &names.local_name,
            &names.local_addr,
            &names.local_port,
            &names.ignore_cl,
        ]
        .iter()
        .all(|n| is_jk_name(n.as_bytes()));
        names
    }
}

/// One `JkEnvVar`: sent as an AJP request attribute of the same name.
#[derive(Debug)]
pub struct EnvVar {
    pub name: CString,
    pub default: Option<String>,
}

/// A `JkMountFile` and its reload state.
#[derive(Debug)]
struct MountFile {
    path: PathBuf,
    origin: Origin,
    /// `JkMountFileReload`; zero = never reload.
    reload: Duration,
    next_check: AtomicU64,
    mtime: AtomicU64,
}

#[derive(Debug)]
pub struct VhostConfig {
    pub options: OptionSet,
    pub env: EnvNames,
    pub extract_ssl: bool,
    pub env_vars: Vec<EnvVar>,
    /// JkStripSession: the path parameter to strip (e.g. `;jsessionid`) from unmapped URIs.
    pub strip_session: Option<String>,
    pub auto_alias: Option<PathBuf>,
    /// `JkLogFile`, opened at post_config (None: messages go to httpd's ErrorLog).
    pub log: std::sync::OnceLock<Arc<crate::jklog::JkLogFile>>,
    /// JkMount + `worker.X.mount` (+ copied main-server rules): the part that never reloads.
    fixed: Vec<MountRule>,
    file: Option<MountFile>,
    current: RwLock<Arc<MountMap>>,
    /// Without a JkMountFile the map never changes: requests take it from here, with no lock.
    steady: Option<Arc<MountMap>>,
}

fn mtime_secs(path: &Path) -> u64 {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs())
}

pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn read_mount_file(path: &Path, origin: &Origin) -> Result<Vec<MountRule>, Vec<ConfigError>> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        vec![ConfigError::new(
            origin,
            format!("cannot read JkMountFile '{}': {e}", path.display()),
        )]
    })?;
    parse_uri_worker_map(&text, &path.display().to_string()).map_err(|e| vec![e])
}

/// Rules + validation against the workers: errors fail, warnings are returned.
fn checked_map(
    rules: Vec<MountRule>,
    workers: &Workers,
) -> Result<(MountMap, Vec<ConfigError>), Vec<ConfigError>> {
    let problems = check_rules(&rules, workers);
    if !problems.errors.is_empty() {
        return Err(problems.errors);
    }
    let mut warnings = problems.warnings;
    warnings.extend(rules.iter().flat_map(|r| r.warnings.iter().cloned()));
    Ok((MountMap::new(rules), warnings))
}

impl VhostConfig {
    /// Finishes one server's configuration. `main` is the main server's own settings, `own` this
    /// server's (merged) settings; for the main server both are the same.
    pub fn build(
        workers: &Workers,
        main: &ServerSettings,
        own: &ServerSettings,
        is_main: bool,
    ) -> Result<(VhostConfig, Vec<ConfigError>), Vec<ConfigError>> {
        let copy = !is_main
            && match own.mount_copy {
                Some(MountCopy::On | MountCopy::All) => true,
                Some(MountCopy::Off) => false,
                None => main.mount_copy == Some(MountCopy::All),
            };
        let mut fixed = own.mounts.clone();
        if is_main || copy {
            if copy {
                fixed.extend(main.mounts.iter().cloned());
            }
            fixed.extend(worker_definition_rules(workers)?);
        }
        // A virtual host that copies the main server's mounts inherits its JkMountFile and
        // JkAutoAlias only when it has none of its own (reference §1.2).
        let mount_file =
            own.mount_file
                .clone()
                .or_else(|| if copy { main.mount_file.clone() } else { None });
        let auto_alias =
            own.auto_alias
                .clone()
                .or_else(|| if copy { main.auto_alias.clone() } else { None });
        let mut rules = fixed.clone();
        let file = match mount_file {
            Some((path, origin)) => {
                rules.extend(read_mount_file(&path, &origin)?);
                let reload = Duration::from_secs(own.mount_file_reload.unwrap_or(60));
                Some(MountFile {
                    mtime: AtomicU64::new(mtime_secs(&path)),
                    next_check: AtomicU64::new(unix_now() + reload.as_secs()),
                    path,
                    origin,
                    reload,
                })
            }
            None => None,
        };
        let (map, warnings) = checked_map(rules, workers)?;
        let options = JkOptions::effective(&main.options, (!is_main).then_some(&own.options));
        let env_vars = own
            .env_vars
            .iter()
            .map(|(n, d)| EnvVar {
                name: CString::new(n.as_str()).unwrap_or_default(),
                default: d.clone(),
            })
            .collect();
        let strip_session = match &own.strip_session {
            Some((true, name)) => Some(name.clone().unwrap_or_else(|| ";jsessionid".into())),
            _ => None,
        };
        let map = Arc::new(map);
        let cfg = VhostConfig {
            options,
            env: EnvNames::from_settings(own),
            extract_ssl: own.extract_ssl.unwrap_or(true),
            env_vars,
            strip_session: strip_session.map(|n| {
                if n.starts_with(';') {
                    n
                } else {
                    format!(";{n}")
                }
            }),
            auto_alias,
            log: std::sync::OnceLock::new(),
            steady: file.is_none().then(|| Arc::clone(&map)),
            fixed,
            file,
            current: RwLock::new(map),
        };
        Ok((cfg, warnings))
    }

    /// The URI map to use now. With a JkMountFile, its mtime is checked at most once per
    /// `JkMountFileReload` seconds (by one thread); a changed file replaces its own rules. A
    /// broken file keeps the previous map and reports why through `log`.
    /// `now` (seconds since the epoch) is asked for only when there is a file to check.
    pub fn map(
        &self,
        workers: &Workers,
        now: &dyn Fn() -> u64,
        log: &mut dyn FnMut(&str),
    ) -> Arc<MountMap> {
        if let Some(map) = &self.steady {
            return Arc::clone(map);
        }
        if let Some(f) = &self.file {
            let due = f.next_check.load(Ordering::Relaxed);
            let now = now();
            if !f.reload.is_zero()
                && now >= due
                && f.next_check
                    .compare_exchange(
                        due,
                        now + f.reload.as_secs(),
                        Ordering::AcqRel,
                        Ordering::Relaxed,
                    )
                    .is_ok()
            {
                self.reload_if_changed(f, workers, log);
            }
        }
        match self.current.read() {
            Ok(m) => Arc::clone(&m),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    fn reload_if_changed(&self, f: &MountFile, workers: &Workers, log: &mut dyn FnMut(&str)) {
        let mtime = mtime_secs(&f.path);
        if mtime == f.mtime.load(Ordering::Relaxed) {
            return;
        }
        f.mtime.store(mtime, Ordering::Relaxed);
        let rules = read_mount_file(&f.path, &f.origin).and_then(|file_rules| {
            let mut all = self.fixed.clone();
            all.extend(file_rules);
            checked_map(all, workers)
        });
        match rules {
            Ok((map, warnings)) => {
                for w in warnings {
                    log(&format!("{w}"));
                }
                log(&format!("reloaded JkMountFile {}", f.path.display()));
                match self.current.write() {
                    Ok(mut cur) => *cur = Arc::new(map),
                    Err(poisoned) => *poisoned.into_inner() = Arc::new(map),
                }
            }
            Err(errors) => {
                for e in errors {
                    log(&format!(
                        "JkMountFile not reloaded, keeping the previous rules: {e}"
                    ));
                }
            }
        }
    }
}

/// What JkAutoAlias makes of an unmapped URI (reference §1.1).
#[derive(Debug, PartialEq, Eq)]
pub enum AliasDecision {
    /// Not a context under the alias directory: httpd serves it as usual.
    NotAlias,
    /// `WEB-INF` / `META-INF` of a context: 404.
    Hidden,
    /// A `.war` context: 403.
    Forbidden,
    /// Serve this file from disk.
    File(PathBuf),
}

pub fn auto_alias(dir: &Path, uri: &str) -> AliasDecision {
    let mut segments = uri.trim_start_matches('/').splitn(3, '/');
    let Some(context) = segments
        .next()
        .filter(|c| !c.is_empty() && *c != "." && *c != "..")
    else {
        return AliasDecision::NotAlias;
    };
    if !dir.join(context).is_dir() {
        return AliasDecision::NotAlias;
    }
    if context.ends_with(".war") {
        return AliasDecision::Forbidden;
    }
    if let Some(second) = segments.next() {
        let second = second.split(';').next().unwrap_or("");
        if second.eq_ignore_ascii_case("WEB-INF") || second.eq_ignore_ascii_case("META-INF") {
            return AliasDecision::Hidden;
        }
    }
    AliasDecision::File(dir.join(uri.trim_start_matches('/')))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Properties;
    use crate::directives::{Directive, DirectiveContext};

    fn workers() -> Workers {
        let mut p = Properties::new();
        p.parse_str("worker.list=a,b\nworker.a.port=1\nworker.b.port=2\n", "w")
            .unwrap();
        Workers::build(&p).unwrap()
    }

    fn settings(lines: &[(Directive, &[&str])], main: bool) -> ServerSettings {
        let mut s = ServerSettings::default();
        for (d, args) in lines {
            let ctx = DirectiveContext {
                origin: Origin::new("httpd.conf", 1),
                location: None,
                main_server: main,
            };
            s.apply(*d, &ctx, args, &|p| PathBuf::from(p)).unwrap();
        }
        s
    }

    #[test]
    fn vhost_without_mount_copy_does_not_see_main_mounts() {
        let w = workers();
        let main = settings(&[(Directive::Mount, &["/m/*", "a"])], true);
        let vhost = ServerSettings::merge(
            &main,
            &settings(&[(Directive::Mount, &["/v/*", "b"])], false),
        );
        let (cfg, _) = VhostConfig::build(&w, &main, &vhost, false).unwrap();
        let map = cfg.map(&w, &|| 0, &mut |_| {});
        assert!(map.map("/m/x").is_none());
        assert_eq!(map.map("/v/x").unwrap().worker, "b");
    }

    #[test]
    fn mount_copy_all_in_main_copies_into_every_vhost() {
        let w = workers();
        let main = settings(
            &[
                (Directive::Mount, &["/m/*", "a"]),
                (Directive::MountCopy, &["All"]),
            ],
            true,
        );
        let vhost = ServerSettings::merge(&main, &settings(&[], false));
        let (cfg, _) = VhostConfig::build(&w, &main, &vhost, false).unwrap();
        assert_eq!(
            cfg.map(&w, &|| 0, &mut |_| {}).map("/m/x").unwrap().worker,
            "a"
        );
        let off =
            ServerSettings::merge(&main, &settings(&[(Directive::MountCopy, &["Off"])], false));
        let (cfg, _) = VhostConfig::build(&w, &main, &off, false).unwrap();
        assert!(cfg.map(&w, &|| 0, &mut |_| {}).map("/m/x").is_none());
    }

    #[test]
    fn mount_file_reloads_after_the_interval_and_keeps_old_rules_when_broken() {
        let dir = std::env::temp_dir().join(format!("jkrs-vhost-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("uriworkermap.properties");
        std::fs::write(&file, "/one/*=a\n").unwrap();
        let w = workers();
        let mut main = settings(&[(Directive::MountFileReload, &["5"])], true);
        main.mount_file = Some((file.clone(), Origin::new("httpd.conf", 3)));
        let (cfg, _) = VhostConfig::build(&w, &main, &main, true).unwrap();
        let t0 = unix_now();
        assert_eq!(
            cfg.map(&w, &|| t0, &mut |_| {})
                .map("/one/x")
                .unwrap()
                .worker,
            "a"
        );
        std::fs::write(&file, "/two/*=b\n").unwrap();
        // Pretend the file is older/newer: force a different mtime value.
        cfg.file.as_ref().unwrap().mtime.store(1, Ordering::Relaxed);
        assert!(
            cfg.map(&w, &|| t0, &mut |_| {}).map("/two/x").is_none(),
            "not before the interval"
        );
        let m = cfg.map(&w, &|| t0 + 6, &mut |_| {});
        assert!(m.map("/one/x").is_none());
        assert_eq!(m.map("/two/x").unwrap().worker, "b");
        std::fs::write(&file, "/three/*=b\nnot a rule\n").unwrap();
        cfg.file.as_ref().unwrap().mtime.store(1, Ordering::Relaxed);
        let mut logged = Vec::new();
        let m = cfg.map(&w, &|| t0 + 12, &mut |l| logged.push(l.to_string()));
        assert_eq!(
            m.map("/two/x").unwrap().worker,
            "b",
            "broken file keeps the previous map"
        );
        assert!(
            logged.iter().any(|l| l.contains("not reloaded")),
            "{logged:?}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn auto_alias_decisions() {
        let dir = std::env::temp_dir().join(format!("jkrs-alias-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("shop")).unwrap();
        std::fs::create_dir_all(dir.join("old.war")).unwrap();
        assert_eq!(
            auto_alias(&dir, "/shop/WEB-INF/web.xml"),
            AliasDecision::Hidden
        );
        assert_eq!(auto_alias(&dir, "/shop/meta-inf/x"), AliasDecision::Hidden);
        assert_eq!(auto_alias(&dir, "/old.war/x"), AliasDecision::Forbidden);
        assert_eq!(auto_alias(&dir, "/nope/x"), AliasDecision::NotAlias);
        assert_eq!(
            auto_alias(&dir, "/shop/img/a.png"),
            AliasDecision::File(dir.join("shop/img/a.png"))
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
