//! The module's configuration in httpd's files: the one list of `Jk*` directives, each
//! server's settings as the directives leave them (and a virtual host's inheritance), the
//! `JkOptions` flags, and what a server uses at request time once the whole configuration is
//! read (`VhostConfig`: its URI map, options, indicator names).
#![forbid(unsafe_code)]

mod list;
mod options;
#[cfg(test)]
mod reference;
mod settings;
mod vhost;

pub use list::{spec_at, spec_of, Args, Directive, Scope, Spec, LIST};
pub use options::{Flag, ForwardUri, JkOptions, OptionSet};
pub use settings::{DirectiveContext, Indicators, MountCopy, ServerSettings};
pub use vhost::{auto_alias, is_jk_name, unix_now, AliasDecision, EnvNames, EnvVar, VhostConfig};
