//! Per-server settings (the main server and each `<VirtualHost>`) collected from the `Jk*`
//! directives — all 37 of mod_jk 1.2.50 (reference §1.2) — and how a virtual host inherits
//! them from the main server.

use super::list::{spec_of, Directive};
use super::options::JkOptions;
use crate::config::Origin;
use crate::mount::{parse_mount, MountRule, MountSource};
use std::path::PathBuf;

/// Environment variable names that carry request facts (`Jk*Indicator`, reference §1.2).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Indicators {
    pub worker: Option<String>,
    pub https: Option<String>,
    pub ssl_protocol: Option<String>,
    pub certs: Option<String>,
    pub cipher: Option<String>,
    pub cert_chain_prefix: Option<String>,
    pub session: Option<String>,
    pub key_size: Option<String>,
    pub request_id: Option<String>,
    pub remote_addr: Option<String>,
    pub remote_port: Option<String>,
    pub remote_host: Option<String>,
    pub remote_user: Option<String>,
    pub auth_type: Option<String>,
    pub local_name: Option<String>,
    pub local_addr: Option<String>,
    pub local_port: Option<String>,
    pub ignore_cl: Option<String>,
}

impl Indicators {
    /// The field an indicator directive (or `JkCERTCHAINPrefix`) sets.
    fn slot(&mut self, d: Directive) -> Option<&mut Option<String>> {
        Some(match d {
            Directive::WorkerIndicator => &mut self.worker,
            Directive::HttpsIndicator => &mut self.https,
            Directive::SslProtocolIndicator => &mut self.ssl_protocol,
            Directive::CertsIndicator => &mut self.certs,
            Directive::CipherIndicator => &mut self.cipher,
            Directive::CertChainPrefix => &mut self.cert_chain_prefix,
            Directive::SessionIndicator => &mut self.session,
            Directive::KeySizeIndicator => &mut self.key_size,
            Directive::RequestIdIndicator => &mut self.request_id,
            Directive::RemoteAddrIndicator => &mut self.remote_addr,
            Directive::RemotePortIndicator => &mut self.remote_port,
            Directive::RemoteHostIndicator => &mut self.remote_host,
            Directive::RemoteUserIndicator => &mut self.remote_user,
            Directive::AuthTypeIndicator => &mut self.auth_type,
            Directive::LocalNameIndicator => &mut self.local_name,
            Directive::LocalAddrIndicator => &mut self.local_addr,
            Directive::LocalPortIndicator => &mut self.local_port,
            Directive::IgnoreClIndicator => &mut self.ignore_cl,
            _ => return None,
        })
    }
}

/// `JkMountCopy`: whether a virtual host gets the main server's mounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MountCopy {
    Off,
    On,
    /// Main server only: `On` for every virtual host that does not say otherwise.
    All,
}

#[derive(Debug, Clone, Default)]
pub struct ServerSettings {
    /// `JkWorkersFile` (global only), resolved against ServerRoot.
    pub workers_file: Option<(PathBuf, Origin)>,
    /// `JkWorkerProperty` lines (global only).
    pub worker_properties: Vec<(String, Origin)>,
    /// `JkMount` / `JkUnMount` rules of this server.
    pub mounts: Vec<MountRule>,
    pub mount_file: Option<(PathBuf, Origin)>,
    /// `JkMountFileReload` seconds (default 60, 0 = never).
    pub mount_file_reload: Option<u64>,
    pub mount_copy: Option<MountCopy>,
    pub auto_alias: Option<PathBuf>,
    pub log_file: Option<String>,
    pub log_level: Option<String>,
    pub log_stamp_format: Option<String>,
    pub request_log_format: Option<String>,
    pub shm_file: Option<PathBuf>,
    /// `JkShmSize` in KiB (accepted; the segment is sized from the workers).
    pub shm_size: Option<u64>,
    pub watchdog_interval: Option<u64>,
    pub extract_ssl: Option<bool>,
    pub indicators: Indicators,
    pub options: JkOptions,
    pub options_set: bool,
    /// `JkEnvVar name [default]`.
    pub env_vars: Vec<(String, Option<String>)>,
    /// `JkStripSession On|Off [name]`.
    pub strip_session: Option<(bool, Option<String>)>,
    /// Warnings to log once the error log is open (ignored options, `JkShmSize`, …).
    pub warnings: Vec<String>,
}

/// Where a directive stands.
pub struct DirectiveContext<'a> {
    pub origin: Origin,
    /// The `<Location>` path when the directive is inside one.
    pub location: Option<&'a str>,
    /// True for the main server, false inside `<VirtualHost>`.
    pub main_server: bool,
}

const LOG_LEVELS: [&str; 6] = ["trace", "debug", "info", "warn", "error", "emerg"];

fn parse_seconds(name: &str, v: &str) -> Result<u64, String> {
    v.trim()
        .parse::<u64>()
        .map_err(|_| format!("{name} takes a number of seconds (0 or more), not '{v}'"))
}

/// `path` if it names an existing file, else the directive's error.
fn existing_file(name: &str, path: PathBuf) -> Result<PathBuf, String> {
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!(
            "{name} '{}' does not exist or is not a file",
            path.display()
        ))
    }
}

fn on_off(name: &str, v: &str) -> Result<bool, String> {
    match v.to_ascii_lowercase().as_str() {
        "on" => Ok(true),
        "off" => Ok(false),
        _ => Err(format!("{name} must be On or Off, not '{v}'")),
    }
}

fn env_name(name: &str, v: &str) -> Result<String, String> {
    if v.is_empty() || v.bytes().any(|b| b.is_ascii_whitespace() || b == 0) {
        return Err(format!(
            "{name} takes the name of an environment variable, not '{v}'"
        ));
    }
    Ok(v.to_string())
}

/// `JkLogStampFormat`: strftime text with at most one of `%Q` (ms) / `%q` (µs), ≤ 63 chars.
fn check_stamp_format(format: &str) -> Result<(), String> {
    if format.len() > 63 {
        return Err(format!(
            "JkLogStampFormat is {} characters long; the limit is 63",
            format.len()
        ));
    }
    if format.matches("%Q").count() + format.matches("%q").count() > 1 {
        return Err("JkLogStampFormat may contain only one %Q or %q".into());
    }
    Ok(())
}

impl ServerSettings {
    /// A virtual host's settings over the main server's (mod_jk's inheritance, reference §1.2):
    /// global settings come from the main server; mounts stay the virtual host's own (the copy
    /// of the main server's, per `JkMountCopy`, happens when the maps are built); everything
    /// else is inherited unless the virtual host sets it.
    pub fn merge(base: &ServerSettings, vhost: &ServerSettings) -> ServerSettings {
        fn or<T: Clone>(own: &Option<T>, base: &Option<T>) -> Option<T> {
            own.clone().or_else(|| base.clone())
        }
        let b = &base.indicators;
        let v = &vhost.indicators;
        ServerSettings {
            workers_file: base.workers_file.clone(),
            worker_properties: base.worker_properties.clone(),
            mounts: vhost.mounts.clone(),
            mount_file: vhost.mount_file.clone(),
            mount_file_reload: or(&vhost.mount_file_reload, &base.mount_file_reload),
            mount_copy: vhost.mount_copy,
            auto_alias: vhost.auto_alias.clone(),
            log_file: or(&vhost.log_file, &base.log_file),
            log_level: or(&vhost.log_level, &base.log_level),
            log_stamp_format: or(&vhost.log_stamp_format, &base.log_stamp_format),
            request_log_format: or(&vhost.request_log_format, &base.request_log_format),
            shm_file: base.shm_file.clone(),
            shm_size: base.shm_size,
            watchdog_interval: base.watchdog_interval,
            extract_ssl: vhost.extract_ssl.or(base.extract_ssl),
            indicators: Indicators {
                worker: or(&v.worker, &b.worker),
                https: or(&v.https, &b.https),
                ssl_protocol: or(&v.ssl_protocol, &b.ssl_protocol),
                certs: or(&v.certs, &b.certs),
                cipher: or(&v.cipher, &b.cipher),
                cert_chain_prefix: or(&v.cert_chain_prefix, &b.cert_chain_prefix),
                session: or(&v.session, &b.session),
                key_size: or(&v.key_size, &b.key_size),
                request_id: or(&v.request_id, &b.request_id),
                remote_addr: or(&v.remote_addr, &b.remote_addr),
                remote_port: or(&v.remote_port, &b.remote_port),
                remote_host: or(&v.remote_host, &b.remote_host),
                remote_user: or(&v.remote_user, &b.remote_user),
                auth_type: or(&v.auth_type, &b.auth_type),
                local_name: or(&v.local_name, &b.local_name),
                local_addr: or(&v.local_addr, &b.local_addr),
                local_port: or(&v.local_port, &b.local_port),
                ignore_cl: or(&v.ignore_cl, &b.ignore_cl),
            },
            // Kept apart: the effective bits are `JkOptions::effective(main, own)`.
            options: vhost.options,
            options_set: vhost.options_set,
            env_vars: {
                // JkEnvVar merges main → vhost; the virtual host's own default wins.
                let mut all = base.env_vars.clone();
                for (name, default) in &vhost.env_vars {
                    all.retain(|(n, _)| n != name);
                    all.push((name.clone(), default.clone()));
                }
                all
            },
            strip_session: or(&vhost.strip_session, &base.strip_session),
            warnings: vhost.warnings.clone(),
        }
    }

    /// Applies one directive. `args` are httpd's words (TAKE1/TAKE12) or the raw line (RAW_ARGS);
    /// `resolve` turns a path into one relative to ServerRoot. Errors are the message httpd shows
    /// after "Syntax error on line N of FILE:".
    pub fn apply(
        &mut self,
        d: Directive,
        ctx: &DirectiveContext<'_>,
        args: &[&str],
        resolve: &dyn Fn(&str) -> PathBuf,
    ) -> Result<(), String> {
        let first = args.first().copied().unwrap_or("");
        let second = args.get(1).copied();
        if let Some(slot) = self.indicators.slot(d) {
            *slot = Some(env_name(spec_of(d).name.to_str().unwrap_or("?"), first)?);
            return Ok(());
        }
        match d {
            Directive::WorkersFile | Directive::WorkerProperty => {
                self.apply_workers(d, ctx, first, resolve)
            }
            Directive::Mount | Directive::UnMount => self.apply_mount(d, ctx, first, second),
            Directive::MountFile
            | Directive::MountFileReload
            | Directive::MountCopy
            | Directive::AutoAlias => self.apply_mount_setting(d, ctx, first, resolve),
            Directive::LogFile
            | Directive::LogLevel
            | Directive::LogStampFormat
            | Directive::RequestLogFormat => self.apply_logging(d, first),
            _ => self.apply_other(d, ctx, first, second, resolve),
        }
    }

    fn apply_workers(
        &mut self,
        d: Directive,
        ctx: &DirectiveContext<'_>,
        first: &str,
        resolve: &dyn Fn(&str) -> PathBuf,
    ) -> Result<(), String> {
        match d {
            Directive::WorkersFile => {
                if let Some((_, prev)) = &self.workers_file {
                    return Err(format!(
                        "JkWorkersFile given twice (first at {}:{})",
                        prev.file, prev.line
                    ));
                }
                let path = existing_file("JkWorkersFile", resolve(first))?;
                self.workers_file = Some((path, ctx.origin.clone()));
            }
            Directive::WorkerProperty => {
                let line = first.trim();
                if !line.contains('=') {
                    return Err(format!("JkWorkerProperty expects name=value, got '{line}'"));
                }
                self.worker_properties
                    .push((line.to_string(), ctx.origin.clone()));
            }
            _ => {}
        }
        Ok(())
    }

    fn apply_mount(
        &mut self,
        d: Directive,
        ctx: &DirectiveContext<'_>,
        first: &str,
        second: Option<&str>,
    ) -> Result<(), String> {
        let name = if d == Directive::Mount {
            "JkMount"
        } else {
            "JkUnMount"
        };
        let (pattern, worker) = match (ctx.location, second) {
            (Some(loc), None) => (loc, first),
            (None, Some(w)) => (first, w),
            (Some(_), Some(_)) => {
                return Err(format!(
                "{name} inside <Location> takes only the worker name (the location is the pattern)"
            ))
            }
            (None, None) => return Err(format!("{name} needs a URI pattern and a worker name")),
        };
        let rules = parse_mount(
            pattern,
            worker,
            MountSource::JkMount,
            ctx.origin.clone(),
            d == Directive::UnMount,
        )
        .map_err(|e| e.message)?;
        self.mounts.extend(rules);
        Ok(())
    }

    fn apply_mount_setting(
        &mut self,
        d: Directive,
        ctx: &DirectiveContext<'_>,
        first: &str,
        resolve: &dyn Fn(&str) -> PathBuf,
    ) -> Result<(), String> {
        match d {
            Directive::MountFile => {
                let path = existing_file("JkMountFile", resolve(first))?;
                self.mount_file = Some((path, ctx.origin.clone()));
            }
            Directive::MountFileReload => {
                self.mount_file_reload = Some(parse_seconds("JkMountFileReload", first)?)
            }
            Directive::MountCopy => {
                self.mount_copy = Some(match first.to_ascii_lowercase().as_str() {
                    "on" => MountCopy::On,
                    "off" => MountCopy::Off,
                    "all" if ctx.main_server => MountCopy::All,
                    "all" => return Err(
                        "JkMountCopy All belongs in the main server; use On inside <VirtualHost>"
                            .into(),
                    ),
                    _ => {
                        return Err(format!(
                            "JkMountCopy must be On, Off or All (main server), not '{first}'"
                        ))
                    }
                })
            }
            Directive::AutoAlias => {
                let path = resolve(first);
                if !path.is_dir() {
                    return Err(format!(
                        "JkAutoAlias '{}' is not a directory",
                        path.display()
                    ));
                }
                self.auto_alias = Some(path);
            }
            _ => {}
        }
        Ok(())
    }

    fn apply_logging(&mut self, d: Directive, first: &str) -> Result<(), String> {
        match d {
            Directive::LogFile => self.log_file = Some(first.to_string()),
            Directive::LogLevel => {
                let level = first.to_ascii_lowercase();
                if !LOG_LEVELS.contains(&level.as_str()) {
                    return Err(format!(
                        "JkLogLevel '{first}' is not one of {}",
                        LOG_LEVELS.join(", ")
                    ));
                }
                self.log_level = Some(level);
            }
            Directive::LogStampFormat => {
                check_stamp_format(first)?;
                self.log_stamp_format = Some(first.to_string());
            }
            Directive::RequestLogFormat => {
                crate::jklog::RequestLogFormat::parse(first)?;
                self.request_log_format = Some(first.to_string());
            }
            _ => {}
        }
        Ok(())
    }

    fn apply_other(
        &mut self,
        d: Directive,
        ctx: &DirectiveContext<'_>,
        first: &str,
        second: Option<&str>,
        resolve: &dyn Fn(&str) -> PathBuf,
    ) -> Result<(), String> {
        match d {
            Directive::ShmFile => self.shm_file = Some(resolve(first)),
            Directive::ShmSize => {
                let kb = first
                    .trim()
                    .parse::<u64>()
                    .map_err(|_| format!("JkShmSize takes a size in KB, not '{first}'"))?;
                self.shm_size = Some(kb);
                self.warnings.push(format!(
                    "{}:{}: JkShmSize is accepted but not needed: the shared memory is sized from the workers",
                    ctx.origin.file, ctx.origin.line
                ));
            }
            Directive::WatchdogInterval => {
                self.watchdog_interval = Some(parse_seconds("JkWatchdogInterval", first)?)
            }
            Directive::ExtractSsl => self.extract_ssl = Some(on_off("JkExtractSSL", first)?),
            Directive::Options => {
                let warnings = self.options.apply(first)?;
                self.options_set = true;
                for w in warnings {
                    self.warnings
                        .push(format!("{}:{}: {w}", ctx.origin.file, ctx.origin.line));
                }
            }
            Directive::EnvVar => {
                let name = env_name("JkEnvVar", first)?;
                self.env_vars.retain(|(n, _)| *n != name);
                self.env_vars.push((name, second.map(str::to_string)));
            }
            Directive::StripSession => {
                let on = on_off("JkStripSession", first)?;
                let name = match second {
                    Some(n) if n.is_empty() || n.contains(char::is_whitespace) => {
                        return Err(format!(
                            "JkStripSession: '{n}' is not a path parameter name"
                        ))
                    }
                    other => other.map(str::to_string),
                };
                self.strip_session = Some((on, name));
            }
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(main: bool) -> DirectiveContext<'static> {
        DirectiveContext {
            origin: Origin::new("httpd.conf", 7),
            location: None,
            main_server: main,
        }
    }

    fn apply(s: &mut ServerSettings, d: Directive, args: &[&str]) -> Result<(), String> {
        s.apply(d, &ctx(true), args, &|p| PathBuf::from(p))
    }

    #[test]
    fn jkmount_needs_two_words_outside_location() {
        let mut s = ServerSettings::default();
        assert!(apply(&mut s, Directive::Mount, &["/app/*"])
            .unwrap_err()
            .contains("needs a URI pattern and a worker"));
        apply(&mut s, Directive::Mount, &["/app/*", "w1"]).unwrap();
        assert_eq!(s.mounts.len(), 1);
    }

    #[test]
    fn jkmount_in_location_uses_the_location_as_pattern() {
        let mut s = ServerSettings::default();
        let c = DirectiveContext {
            origin: Origin::new("h", 1),
            location: Some("/loc"),
            main_server: true,
        };
        s.apply(Directive::Mount, &c, &["w1"], &|p| PathBuf::from(p))
            .unwrap();
        assert_eq!(s.mounts[0].pattern, "/loc");
        assert!(s
            .apply(Directive::Mount, &c, &["/x", "w1"], &|p| PathBuf::from(p))
            .is_err());
    }

    #[test]
    fn mount_copy_all_only_in_the_main_server() {
        let mut s = ServerSettings::default();
        assert!(s
            .apply(Directive::MountCopy, &ctx(false), &["All"], &|p| {
                PathBuf::from(p)
            })
            .is_err());
        s.apply(Directive::MountCopy, &ctx(true), &["all"], &|p| {
            PathBuf::from(p)
        })
        .unwrap();
        assert_eq!(s.mount_copy, Some(MountCopy::All));
    }

    #[test]
    fn request_log_format_rejects_unknown_codes() {
        let mut s = ServerSettings::default();
        apply(&mut s, Directive::RequestLogFormat, &["%w %V %T %r %s"]).unwrap();
        assert!(apply(&mut s, Directive::RequestLogFormat, &["%w %Z"])
            .unwrap_err()
            .contains("%Z"));
    }

    #[test]
    fn log_level_is_checked() {
        let mut s = ServerSettings::default();
        apply(&mut s, Directive::LogLevel, &["DEBUG"]).unwrap();
        assert!(apply(&mut s, Directive::LogLevel, &["verbose"]).is_err());
    }

    #[test]
    fn vhost_inherits_indicators_and_env_vars_but_not_mounts() {
        let mut main = ServerSettings::default();
        apply(&mut main, Directive::RemoteAddrIndicator, &["X_REAL_IP"]).unwrap();
        apply(&mut main, Directive::EnvVar, &["A", "1"]).unwrap();
        apply(&mut main, Directive::Mount, &["/m/*", "w"]).unwrap();
        let mut vhost = ServerSettings::default();
        vhost
            .apply(Directive::EnvVar, &ctx(false), &["A", "2"], &|p| {
                PathBuf::from(p)
            })
            .unwrap();
        let merged = ServerSettings::merge(&main, &vhost);
        assert_eq!(merged.indicators.remote_addr.as_deref(), Some("X_REAL_IP"));
        assert_eq!(
            merged.env_vars,
            vec![("A".to_string(), Some("2".to_string()))]
        );
        assert!(merged.mounts.is_empty());
    }

    #[test]
    fn options_errors_surface() {
        let mut s = ServerSettings::default();
        assert!(apply(&mut s, Directive::Options, &["-ForwardURIProxy"]).is_err());
        apply(&mut s, Directive::Options, &["+CollapseSlashesAll"]).unwrap();
        assert_eq!(s.warnings.len(), 1);
    }
}
