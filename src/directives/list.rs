//! The one list of the module's directives — all 37 of mod_jk 1.2.50 (reference §1.2): name,
//! argument shape, where it may stand, help text. httpd's command table is built from it at
//! compile time, and a directive call finds its [`Directive`] by its place in it, so adding a
//! directive is one entry here plus its handling in `ServerSettings::apply`.
use std::ffi::CStr;

/// The directives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Directive {
    WorkersFile,
    WorkerProperty,
    Mount,
    UnMount,
    LogFile,
    LogLevel,
    ShmFile,
    ShmSize,
    MountFile,
    MountFileReload,
    MountCopy,
    AutoAlias,
    WorkerIndicator,
    WatchdogInterval,
    LogStampFormat,
    RequestLogFormat,
    ExtractSsl,
    HttpsIndicator,
    SslProtocolIndicator,
    CertsIndicator,
    CipherIndicator,
    CertChainPrefix,
    SessionIndicator,
    KeySizeIndicator,
    RequestIdIndicator,
    RemoteAddrIndicator,
    RemotePortIndicator,
    RemoteHostIndicator,
    RemoteUserIndicator,
    AuthTypeIndicator,
    LocalNameIndicator,
    LocalAddrIndicator,
    LocalPortIndicator,
    IgnoreClIndicator,
    Options,
    EnvVar,
    StripSession,
}

/// The words a directive takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Args {
    /// One word (`TAKE1`).
    One,
    /// One or two words (`TAKE12`).
    OneOrTwo,
    /// The rest of the line, unsplit (`RAW_ARGS`).
    Line,
    /// `On` or `Off` (`FLAG`).
    OnOff,
}

/// Where a directive may stand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The main server only (refused inside `<VirtualHost>`).
    Global,
    /// The main server or a `<VirtualHost>`.
    Server,
    /// Also inside `<Location>`.
    ServerOrLocation,
}

/// One directive's declaration.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    pub name: &'static CStr,
    pub directive: Directive,
    pub args: Args,
    pub scope: Scope,
    pub help: &'static CStr,
}

const fn spec(
    name: &'static CStr,
    directive: Directive,
    args: Args,
    scope: Scope,
    help: &'static CStr,
) -> Spec {
    Spec {
        name,
        directive,
        args,
        scope,
        help,
    }
}

/// An `Jk*Indicator`: the name of the environment variable that carries a request fact.
const fn indicator(name: &'static CStr, directive: Directive) -> Spec {
    spec(
        name,
        directive,
        Args::One,
        Scope::Server,
        c"name of the environment variable that carries this value",
    )
}

use Args::{Line, OnOff, One, OneOrTwo};
use Directive as D;
use Scope::{Global, Server, ServerOrLocation};

/// Every directive, in mod_jk's order.
#[rustfmt::skip]
pub const LIST: [Spec; 37] = [
    spec(c"JkWorkersFile", D::WorkersFile, One, Global, c"the workers definition file (workers.properties)"),
    spec(c"JkWorkerProperty", D::WorkerProperty, Line, Global, c"one workers.properties line: worker.<name>.<property>=<value>"),
    spec(c"JkMount", D::Mount, OneOrTwo, ServerOrLocation, c"a URI pattern and the worker that serves it (only the worker inside <Location>)"),
    spec(c"JkUnMount", D::UnMount, OneOrTwo, ServerOrLocation, c"a URI pattern and the worker (or *) it must not be sent to"),
    spec(c"JkLogFile", D::LogFile, One, Server, c"the connector log file (messages go to httpd's ErrorLog)"),
    spec(c"JkLogLevel", D::LogLevel, One, Server, c"trace, debug, info, warn, error or emerg"),
    spec(c"JkShmFile", D::ShmFile, One, Global, c"the shared memory file for worker state"),
    spec(c"JkShmSize", D::ShmSize, One, Global, c"shared memory size in KB (sized automatically)"),
    spec(c"JkMountFile", D::MountFile, One, Server, c"a uriworkermap.properties file of mount rules"),
    spec(c"JkMountFileReload", D::MountFileReload, One, Server, c"seconds between checks of JkMountFile (0: never)"),
    spec(c"JkMountCopy", D::MountCopy, One, Server, c"On/Off: copy the main server's mounts (All: into every vhost)"),
    spec(c"JkAutoAlias", D::AutoAlias, One, Server, c"the Tomcat webapps directory to serve static files from"),
    spec(c"JkWorkerIndicator", D::WorkerIndicator, One, Server, c"environment variable naming the worker"),
    spec(c"JkWatchdogInterval", D::WatchdogInterval, One, Global, c"seconds between maintenance runs (0: per request)"),
    spec(c"JkLogStampFormat", D::LogStampFormat, One, Server, c"timestamp format of the connector log"),
    spec(c"JkRequestLogFormat", D::RequestLogFormat, One, Server, c"format of the connector request log"),
    spec(c"JkExtractSSL", D::ExtractSsl, OnOff, Server, c"On/Off: forward SSL information to the backend"),
    indicator(c"JkHTTPSIndicator", D::HttpsIndicator),
    indicator(c"JkSSLPROTOCOLIndicator", D::SslProtocolIndicator),
    indicator(c"JkCERTSIndicator", D::CertsIndicator),
    indicator(c"JkCIPHERIndicator", D::CipherIndicator),
    spec(c"JkCERTCHAINPrefix", D::CertChainPrefix, One, Server, c"prefix of the client certificate chain variables"),
    indicator(c"JkSESSIONIndicator", D::SessionIndicator),
    indicator(c"JkKEYSIZEIndicator", D::KeySizeIndicator),
    indicator(c"JkRequestIdIndicator", D::RequestIdIndicator),
    indicator(c"JkRemoteAddrIndicator", D::RemoteAddrIndicator),
    indicator(c"JkRemotePortIndicator", D::RemotePortIndicator),
    indicator(c"JkRemoteHostIndicator", D::RemoteHostIndicator),
    indicator(c"JkRemoteUserIndicator", D::RemoteUserIndicator),
    indicator(c"JkAuthTypeIndicator", D::AuthTypeIndicator),
    indicator(c"JkLocalNameIndicator", D::LocalNameIndicator),
    indicator(c"JkLocalAddrIndicator", D::LocalAddrIndicator),
    indicator(c"JkLocalPortIndicator", D::LocalPortIndicator),
    indicator(c"JkIgnoreCLIndicator", D::IgnoreClIndicator),
    spec(c"JkOptions", D::Options, Line, Server, c"+/- ForwardURIProxy, ForwardDirectories, FlushPackets, DisableReuse, ..."),
    spec(c"JkEnvVar", D::EnvVar, OneOrTwo, Server, c"an environment variable to forward as a request attribute, and its default"),
    spec(c"JkStripSession", D::StripSession, OneOrTwo, Server, c"On/Off, and the path parameter name: strip session ids from unmapped URIs"),
];

/// The declaration at `index` in [`LIST`] (the index httpd hands back with a directive call).
pub fn spec_at(index: usize) -> Option<&'static Spec> {
    LIST.get(index)
}

/// The declaration of `d`.
pub fn spec_of(d: Directive) -> &'static Spec {
    LIST.iter()
        .find(|s| s.directive == d)
        .expect("every directive is in LIST (tested)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_directive_is_listed_once() {
        // Exhaustive: a new variant fails to compile here until it is listed.
        fn index(d: Directive) -> usize {
            LIST.iter().position(|s| s.directive == d).unwrap()
        }
        for (i, s) in LIST.iter().enumerate() {
            assert_eq!(index(s.directive), i, "{:?} listed twice", s.directive);
            match s.directive {
                D::WorkersFile
                | D::WorkerProperty
                | D::Mount
                | D::UnMount
                | D::LogFile
                | D::LogLevel
                | D::ShmFile
                | D::ShmSize
                | D::MountFile
                | D::MountFileReload
                | D::MountCopy
                | D::AutoAlias
                | D::WorkerIndicator
                | D::WatchdogInterval
                | D::LogStampFormat
                | D::RequestLogFormat
                | D::ExtractSsl
                | D::HttpsIndicator
                | D::SslProtocolIndicator
                | D::CertsIndicator
                | D::CipherIndicator
                | D::CertChainPrefix
                | D::SessionIndicator
                | D::KeySizeIndicator
                | D::RequestIdIndicator
                | D::RemoteAddrIndicator
                | D::RemotePortIndicator
                | D::RemoteHostIndicator
                | D::RemoteUserIndicator
                | D::AuthTypeIndicator
                | D::LocalNameIndicator
                | D::LocalAddrIndicator
                | D::LocalPortIndicator
                | D::IgnoreClIndicator
                | D::Options
                | D::EnvVar
                | D::StripSession => {}
            }
        }
        assert_eq!(LIST.len(), 37, "mod_jk 1.2.50 has 37 directives");
    }

    #[test]
    fn names_are_unique_jk_names() {
        for (i, a) in LIST.iter().enumerate() {
            let name = a.name.to_str().unwrap();
            assert!(name.starts_with("Jk"), "{name}");
            assert!(!a.help.to_bytes().is_empty(), "{name} has no help");
            for b in &LIST[i + 1..] {
                assert_ne!(a.name, b.name);
            }
        }
        assert_eq!(spec_of(D::Mount).name, c"JkMount");
        assert_eq!(spec_at(0).map(|s| s.directive), Some(D::WorkersFile));
        assert!(spec_at(LIST.len()).is_none());
    }

    #[test]
    fn global_directives_are_the_process_wide_ones() {
        let global: Vec<_> = LIST
            .iter()
            .filter(|s| s.scope == Global)
            .map(|s| s.directive)
            .collect();
        assert_eq!(
            global,
            [
                D::WorkersFile,
                D::WorkerProperty,
                D::ShmFile,
                D::ShmSize,
                D::WatchdogInterval
            ]
        );
        let in_location: Vec<_> = LIST
            .iter()
            .filter(|s| s.scope == ServerOrLocation)
            .map(|s| s.directive)
            .collect();
        assert_eq!(in_location, [D::Mount, D::UnMount]);
    }
}
