//! `Request<'r>`: a borrowed view of httpd's `request_rec` for one hook call. Every accessor
//! returns data that lives as long as the request (`'r`), never longer.
use super::log::{self, LogLevel};
use super::{bytes, Pool, Server};
use crate::ffi;
use std::ffi::CStr;
use std::marker::PhantomData;
use std::os::raw::c_char;

pub struct Request<'r> {
    pub(super) raw: *mut ffi::request_rec,
    _life: PhantomData<&'r mut ffi::request_rec>,
}

impl<'r> Request<'r> {
    /// # Safety
    /// `raw` is the live `request_rec` httpd passed to the current hook, used only on this thread
    /// and only during the hook.
    pub(crate) unsafe fn from_raw(raw: *mut ffi::request_rec) -> Option<Request<'r>> {
        (!raw.is_null()).then_some(Request {
            raw,
            _life: PhantomData,
        })
    }

    pub(crate) fn raw(&self) -> *mut ffi::request_rec {
        self.raw
    }

    /// Tells this request from any other in flight on this thread (its `request_rec`'s
    /// address), for caches that must never serve another request.
    pub fn identity(&self) -> usize {
        self.raw as usize
    }

    /// Where `r->uri` points (0 for NULL): tells a replaced URI from the one seen before,
    /// without reading it.
    pub fn uri_address(&self) -> usize {
        self.rec().uri as usize
    }

    pub(crate) fn pool(&self) -> Pool<'r> {
        // SAFETY: r->pool lives as long as the request.
        unsafe { Pool::from_raw(self.rec().pool) }.expect("a request without a pool")
    }

    /// Logs against this request (adds the client address; obeys per-directory LogLevel).
    pub fn log(&self, level: LogLevel, msg: &str) {
        // SAFETY: the request is live.
        unsafe { log::request_raw(self.raw, level.code(), msg) }
    }

    /// Whether a message at `level` would be written for this request.
    pub fn log_enabled(&self, level: LogLevel) -> bool {
        // SAFETY: the request is live.
        unsafe { log::request_enabled(self.raw, level.code()) }
    }

    /// The most detailed level this request's log configuration passes (a `LogLevel` code).
    pub fn log_level(&self) -> std::ffi::c_int {
        // SAFETY: the request is live.
        unsafe { log::request_level(self.raw) }
    }

    pub(super) fn rec(&self) -> &'r ffi::request_rec {
        // SAFETY: from_raw's contract: raw is live for 'r.
        unsafe { &*self.raw }
    }

    pub(super) fn conn(&self) -> &'r ffi::conn_rec {
        // SAFETY: every request_rec has a live connection for its whole life.
        unsafe { &*self.rec().connection }
    }

    pub(super) fn field(&self, p: *const c_char) -> Option<&'r [u8]> {
        // SAFETY: request_rec string fields are NULL or NUL-terminated strings from r->pool or
        // longer-lived pools.
        unsafe { bytes(p) }
    }

    pub fn method(&self) -> &'r [u8] {
        self.field(self.rec().method).unwrap_or(b"GET")
    }

    pub fn protocol(&self) -> &'r [u8] {
        self.field(self.rec().protocol).unwrap_or(b"HTTP/1.0")
    }

    /// The decoded, httpd-normalised path (`r->uri`).
    pub fn uri(&self) -> Option<&'r [u8]> {
        self.field(self.rec().uri)
    }

    /// The request target as the client sent it, undecoded (`r->unparsed_uri`).
    pub fn unparsed_uri(&self) -> Option<&'r [u8]> {
        self.field(self.rec().unparsed_uri)
    }

    /// Replaces `r->uri` (copied into r->pool).
    pub fn set_uri(&mut self, uri: &[u8]) {
        // SAFETY: the copy lives in r->pool as long as the request.
        unsafe { (*self.raw).uri = self.pool().strdup(uri) }
    }

    /// The TCP peer's address, before mod_remoteip (`c->client_ip`).
    pub fn client_ip(&self) -> &'r [u8] {
        self.field(self.conn().client_ip).unwrap_or(b"")
    }

    /// The request line as received (`r->the_request`).
    pub fn request_line(&self) -> Option<&'r [u8]> {
        self.field(self.rec().the_request)
    }

    /// `r->status`.
    pub fn status(&self) -> u16 {
        u16::try_from(self.rec().status).unwrap_or(0)
    }

    /// Body bytes sent so far (`r->bytes_sent`).
    pub fn bytes_sent(&self) -> u64 {
        u64::try_from(self.rec().bytes_sent).unwrap_or(0)
    }

    /// When httpd read the request line (`r->request_time`), in milliseconds since the epoch:
    /// a clock reading the request already paid for.
    pub fn request_time_ms(&self) -> u64 {
        u64::try_from(self.rec().request_time / 1000).unwrap_or(0)
    }

    /// The server's configured name (`ServerName`).
    pub fn canonical_server_name(&self) -> Option<&'r [u8]> {
        // SAFETY: r->server is live for the request.
        self.field(unsafe { (*self.rec().server).server_hostname })
    }

    /// The query string, undecoded (`r->args`).
    pub fn args(&self) -> Option<&'r [u8]> {
        self.field(self.rec().args)
    }

    pub fn handler(&self) -> Option<&'r [u8]> {
        self.field(self.rec().handler)
    }

    pub fn set_handler(&mut self, handler: &'static CStr) {
        // SAFETY: a static string outlives the request.
        unsafe { (*self.raw).handler = handler.as_ptr() }
    }

    /// Whether the handler is `handler` itself, the very string a `set_handler` put there
    /// (an address compare, where `handler()` costs a strlen and a compare).
    pub fn handler_is(&self, handler: &'static CStr) -> bool {
        std::ptr::eq(self.rec().handler, handler.as_ptr())
    }

    pub fn user(&self) -> Option<&'r [u8]> {
        self.field(self.rec().user)
    }

    pub fn auth_type(&self) -> Option<&'r [u8]> {
        self.field(self.rec().ap_auth_type)
    }

    pub fn is_proxy_request(&self) -> bool {
        self.rec().proxyreq != 0
    }

    /// The client's address as mod_remoteip left it (`useragent_ip`).
    pub fn useragent_ip(&self) -> &'r [u8] {
        self.field(self.rec().useragent_ip).unwrap_or(b"")
    }

    pub fn useragent_port(&self) -> u16 {
        let addr = self.rec().useragent_addr;
        if addr.is_null() {
            0
        } else {
            // SAFETY: a non-NULL useragent_addr is a live apr_sockaddr_t of the connection.
            unsafe { (*addr).port }
        }
    }

    pub fn local_ip(&self) -> &'r [u8] {
        self.field(self.conn().local_ip).unwrap_or(b"")
    }

    /// The client's host name if httpd looked it up (`HostnameLookups`), else none: what mod_jk
    /// forwards (a null string, not the address again, which would cost 10 bytes of the packet).
    pub fn remote_host(&self) -> Option<&'r [u8]> {
        // SAFETY: connection and per_dir_config are live; REMOTE_HOST returns NULL when no
        // name is known.
        let p = unsafe {
            ffi::ap_get_remote_host(
                self.rec().connection,
                self.rec().per_dir_config.cast(),
                ffi::REMOTE_HOST as i32,
                std::ptr::null_mut(),
            )
        };
        self.field(p)
    }

    /// The TCP peer's port, before mod_remoteip (`c->client_addr`).
    pub fn client_port(&self) -> u16 {
        let addr = self.conn().client_addr;
        if addr.is_null() {
            0
        } else {
            // SAFETY: a non-NULL client_addr is the connection's live apr_sockaddr_t.
            unsafe { (*addr).port }
        }
    }

    pub fn server_name(&self) -> &'r [u8] {
        // SAFETY: r is live; the result is from r->pool or server config.
        let p = unsafe { ffi::ap_get_server_name(self.raw) };
        self.field(p).unwrap_or(b"localhost")
    }

    pub fn server_port(&self) -> u16 {
        // SAFETY: r is live.
        unsafe { ffi::ap_get_server_port(self.raw) }
    }

    /// The server (main or virtual host) the request came to.
    pub fn server(&self) -> Server<'r> {
        // SAFETY: r->server is the live server_rec of the request's configuration.
        unsafe { Server::from_raw(self.rec().server) }.expect("a request without a server")
    }

    fn table_get(&self, table: *mut ffi::apr_table_t, key: &CStr) -> Option<&'r [u8]> {
        if table.is_null() {
            return None;
        }
        // SAFETY: table belongs to the request; key is NUL-terminated.
        let p = unsafe { ffi::apr_table_get(table, key.as_ptr()) };
        self.field(p)
    }

    pub fn header_in(&self, name: &CStr) -> Option<&'r [u8]> {
        self.table_get(self.rec().headers_in, name)
    }

    /// Environment (`subprocess_env`): SetEnv, SetEnvIf, mod_rewrite [E=], mod_ssl.
    pub fn env(&self, name: &CStr) -> Option<&'r [u8]> {
        self.table_get(self.rec().subprocess_env, name)
    }

    /// Whether any environment variable's name starts with `prefix` (ASCII case-insensitive):
    /// one pass over the table, so a request without any `JK_*` variable skips a dozen lookups.
    pub fn env_has_prefix(&self, prefix: &[u8]) -> bool {
        if prefix.contains(&0) {
            return false;
        }
        self.raw_entries(self.rec().subprocess_env).iter().any(|e| {
            // SAFETY: entries with a NULL value are skipped, as `entries` does; only the key is
            // read (no strlen of the value), and only as far as it matches `prefix`, which
            // holds no NUL (checked above).
            !e.val.is_null() && unsafe { super::headers::c_starts_with(e.key, prefix) }
        })
    }

    pub fn note(&self, name: &CStr) -> Option<&'r [u8]> {
        self.table_get(self.rec().notes, name)
    }

    /// Adds a note without looking for an existing one of the same name (`apr_table_addn`): for
    /// notes set once per request, it skips a scan of the table.
    pub fn add_note(&mut self, name: &'static CStr, value: &[u8]) {
        // SAFETY: as set_note.
        unsafe {
            let v = self.pool().strdup(value);
            ffi::apr_table_addn(self.rec().notes, name.as_ptr(), v);
        }
    }

    pub fn main_request(&self) -> Option<Request<'r>> {
        let m = self.rec().main;
        (!m.is_null()).then_some(Request {
            raw: m,
            _life: PhantomData,
        })
    }

    pub fn set_note(&mut self, name: &'static CStr, value: &[u8]) {
        // SAFETY: the value is copied into r->pool; the key is static; notes belong to r.
        unsafe {
            let v = self.pool().strdup(value);
            ffi::apr_table_setn(self.rec().notes, name.as_ptr(), v);
        }
    }

    /// Adds a note whose value is a static string (no copy, no scan of the table): for notes
    /// set once per request.
    pub fn add_static_note(&mut self, name: &'static CStr, value: &'static CStr) {
        // SAFETY: key and value are static; notes belong to r.
        unsafe {
            ffi::apr_table_addn(self.rec().notes, name.as_ptr(), value.as_ptr());
        }
    }
}
