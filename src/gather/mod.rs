//! Gathering: what FORWARD_REQUEST and the load balancer need, read from the request through
//! the [`Source`] port (the shell implements it over httpd's `request_rec`; the tests over a
//! table). The `JkOptions` flags, the indicator directives, `JkEnvVar`, `JK_*` variables and
//! the mount rule's extensions decide what is read where (reference §1.3, §1.4, §1.7, §3.3).
#![forbid(unsafe_code)]

mod address;
mod body;
mod env;
mod hints;
mod info;
mod uri;

#[cfg(test)]
mod fake;

pub use body::{body_kind, InvalidContentLength};
pub use env::Env;
pub use hints::{lb_hints, Cookies};
pub use info::{Gathered, RemotePort};
pub use uri::{decodes_into_dot_or_separator, forwarded_uri, strip_param};

use std::ffi::CStr;

/// The request as gathering reads it; every value lives as long as the request (`'r`).
pub trait Source<'r> {
    /// An environment variable (`subprocess_env`: SetEnv, SetEnvIf, mod_rewrite, mod_ssl).
    fn env(&self, name: &CStr) -> Option<&'r [u8]>;
    /// Whether any environment variable's name starts with `prefix` (ASCII case-insensitive).
    fn env_has_prefix(&self, prefix: &[u8]) -> bool;
    fn header(&self, name: &CStr) -> Option<&'r [u8]>;
    /// The values of request header `name` (case-insensitive), one per header line, in
    /// arrival order.
    fn header_values(&self, name: &CStr, out: &mut dyn FnMut(&'r str));
    fn method(&self) -> &'r [u8];
    fn protocol(&self) -> &'r [u8];
    /// The decoded, normalised path (`r->uri`).
    fn uri(&self) -> Option<&'r [u8]>;
    /// The request target as sent, undecoded (`r->unparsed_uri`).
    fn unparsed_uri(&self) -> Option<&'r [u8]>;
    /// The query string, undecoded.
    fn args(&self) -> Option<&'r [u8]>;
    /// The client's address and port as mod_remoteip left them.
    fn useragent_ip(&self) -> &'r [u8];
    fn useragent_port(&self) -> u16;
    /// The TCP peer's address and port (before mod_remoteip).
    fn client_ip(&self) -> &'r [u8];
    fn client_port(&self) -> u16;
    fn local_ip(&self) -> &'r [u8];
    /// The client's host name if httpd looked it up, else its address.
    fn remote_host(&self) -> Option<&'r [u8]>;
    fn server_name(&self) -> &'r [u8];
    fn server_port(&self) -> u16;
    fn user(&self) -> Option<&'r [u8]>;
    fn auth_type(&self) -> Option<&'r [u8]>;
}
