//! The request as gathering reads it: `gather::Source` over httpd's `Request`.
use crate::gather::Source;
use crate::httpd::Request;
use std::ffi::CStr;

impl<'r> Source<'r> for Request<'r> {
    fn env(&self, name: &CStr) -> Option<&'r [u8]> {
        Request::env(self, name)
    }
    fn env_has_prefix(&self, prefix: &[u8]) -> bool {
        Request::env_has_prefix(self, prefix)
    }
    fn header(&self, name: &CStr) -> Option<&'r [u8]> {
        self.header_in(name)
    }
    fn header_values(&self, name: &CStr, out: &mut dyn FnMut(&'r str)) {
        Request::header_values(self, name, out)
    }
    fn method(&self) -> &'r [u8] {
        Request::method(self)
    }
    fn protocol(&self) -> &'r [u8] {
        Request::protocol(self)
    }
    fn uri(&self) -> Option<&'r [u8]> {
        Request::uri(self)
    }
    fn unparsed_uri(&self) -> Option<&'r [u8]> {
        Request::unparsed_uri(self)
    }
    fn args(&self) -> Option<&'r [u8]> {
        Request::args(self)
    }
    fn useragent_ip(&self) -> &'r [u8] {
        Request::useragent_ip(self)
    }
    fn useragent_port(&self) -> u16 {
        Request::useragent_port(self)
    }
    fn client_ip(&self) -> &'r [u8] {
        Request::client_ip(self)
    }
    fn client_port(&self) -> u16 {
        Request::client_port(self)
    }
    fn local_ip(&self) -> &'r [u8] {
        Request::local_ip(self)
    }
    fn remote_host(&self) -> Option<&'r [u8]> {
        Request::remote_host(self)
    }
    fn server_name(&self) -> &'r [u8] {
        Request::server_name(self)
    }
    fn server_port(&self) -> u16 {
        Request::server_port(self)
    }
    fn user(&self) -> Option<&'r [u8]> {
        Request::user(self)
    }
    fn auth_type(&self) -> Option<&'r [u8]> {
        Request::auth_type(self)
    }
}
