//! The directive reference (`docs/directives.md`), made from the same list httpd's command table
//! is built from: name, arguments, where it may stand and its help text come from [`LIST`]; the
//! default and what differs from mod_jk from [`notes`], whose match over every [`Directive`]
//! does not compile until a new directive is documented. A test keeps the file current.
use super::list::{Args, Directive, Scope, LIST};
use std::fmt::Write as _;

/// A directive's default and how mod_jk_rs differs from mod_jk 1.2.50 (empty: it does not).
fn notes(d: Directive) -> (&'static str, &'static str) {
    use Directive as D;
    match d {
        D::WorkersFile => ("none", "without it (and without JkWorkerProperty) no worker exists, and mounts are explained once at start-up; mod_jk silently makes an `ajp13` worker on localhost:8009. Checked by `apachectl -t`, with file:line for every mistake."),
        D::WorkerProperty => ("—", ""),
        D::Mount => ("—", "mapped URIs are normalised first and the normal form becomes `r->uri`, so `<Location>` rules see what the mount matched (CVE-2018-11759)"),
        D::UnMount => ("—", ""),
        D::LogFile => ("none: httpd's ErrorLog", "mod_jk defaults to `logs/mod_jk.log`; without JkLogFile mod_jk_rs logs to the ErrorLog (`LogLevel jk:debug` applies). A `\"|program\"` is started without a shell, as mod_jk does."),
        D::LogLevel => ("`info`", "an unknown level is an error (mod_jk falls back to info)"),
        D::ShmFile => ("anonymous shared memory", "a file only when set (created 0600; a group- or world-writable existing file is refused, CVE-2024-46544)"),
        D::ShmSize => ("sized from the workers", "accepted, with a warning: the segment is always sized from the workers"),
        D::MountFile => ("none", ""),
        D::MountFileReload => ("`60` seconds", "a broken file keeps the previous rules, with a warning"),
        D::MountCopy => ("`Off`", ""),
        D::AutoAlias => ("none", ""),
        D::WorkerIndicator => ("`JK_WORKER_NAME`", "never an implicit default worker (CVE-2023-41081)"),
        D::WatchdogInterval => ("`0` (maintenance on requests)", ""),
        D::LogStampFormat => ("`[%a %b %d %H:%M:%S.%Q %Y] `", ""),
        D::RequestLogFormat => ("off", ""),
        D::ExtractSsl => ("`On`", ""),
        D::HttpsIndicator => ("`HTTPS`", ""),
        D::SslProtocolIndicator => ("`SSL_PROTOCOL`", ""),
        D::CertsIndicator => ("`SSL_CLIENT_CERT`", ""),
        D::CipherIndicator => ("`SSL_CIPHER`", ""),
        D::CertChainPrefix => ("`SSL_CLIENT_CERT_CHAIN_`", ""),
        D::SessionIndicator => ("`SSL_SESSION_ID`", ""),
        D::KeySizeIndicator => ("`SSL_CIPHER_USEKEYSIZE`", ""),
        D::RequestIdIndicator => ("`UNIQUE_ID`", "accepted; correlate with `ErrorLogFormat %L` and the `JK_*` notes"),
        D::RemoteAddrIndicator => ("`JK_REMOTE_ADDR`", ""),
        D::RemotePortIndicator => ("`JK_REMOTE_PORT`", ""),
        D::RemoteHostIndicator => ("`JK_REMOTE_HOST`", ""),
        D::RemoteUserIndicator => ("`JK_REMOTE_USER`", ""),
        D::AuthTypeIndicator => ("`JK_AUTH_TYPE`", ""),
        D::LocalNameIndicator => ("`JK_LOCAL_NAME`", ""),
        D::LocalAddrIndicator => ("`JK_LOCAL_ADDR`", ""),
        D::LocalPortIndicator => ("`JK_LOCAL_PORT`", ""),
        D::IgnoreClIndicator => ("`JK_IGNORE_CL`", ""),
        D::Options => ("`+ForwardURIProxy +ForwardKeySize`", "an unknown option is an error with a suggestion; `CollapseSlashes*` are accepted with a warning (slashes are always collapsed)"),
        D::EnvVar => ("none", ""),
        D::StripSession => ("`Off`, name `;jsessionid`", ""),
    }
}

fn args_text(args: Args) -> &'static str {
    match args {
        Args::One => "one word",
        Args::OneOrTwo => "one or two words",
        Args::Line => "the rest of the line",
        Args::OnOff => "`On` or `Off`",
    }
}

fn scope_text(scope: Scope) -> &'static str {
    match scope {
        Scope::Global => "main server only",
        Scope::Server => "server, `<VirtualHost>`",
        Scope::ServerOrLocation => "server, `<VirtualHost>`, `<Location>`",
    }
}

/// Text for a Markdown table cell (`<name>` would read as a tag).
fn cell(text: &str) -> String {
    text.replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('|', "\\|")
}

/// The whole reference, as `docs/directives.md` holds it.
pub fn markdown() -> String {
    let mut out = String::from(
        "# Directives\n\n\
         <!-- Generated from src/directives/list.rs and src/directives/reference.rs: edit those,\n\
         then run `MOD_JK_RS_BLESS=1 cargo test --lib reference` to rewrite this file. -->\n\n\
         All 37 directives of mod_jk 1.2.50, with mod_jk's names and arguments. `apachectl -t`\n\
         checks every one of them, with file and line.\n\n\
         | Directive | Arguments | Where | Default | What it does | Differs from mod_jk |\n\
         |---|---|---|---|---|---|\n",
    );
    for spec in &LIST {
        let (default, differs) = notes(spec.directive);
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} | {} |",
            spec.name.to_str().unwrap_or("?"),
            args_text(spec.args),
            scope_text(spec.scope),
            default,
            cell(spec.help.to_str().unwrap_or("")),
            if differs.is_empty() { "—" } else { differs },
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reference_file_is_current() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/directives.md");
        let text = markdown();
        if std::env::var_os("MOD_JK_RS_BLESS").is_some() {
            std::fs::write(path, &text).expect("write docs/directives.md");
        }
        let on_disk = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            on_disk == text,
            "docs/directives.md is not what src/directives/ says: run \
             MOD_JK_RS_BLESS=1 cargo test --lib reference"
        );
        assert_eq!(text.matches("\n| `Jk").count(), LIST.len());
    }
}
