//! `Server<'s>`: a borrowed view of httpd's `server_rec` (the main server or a
//! `<VirtualHost>`): its place in the server list, this module's configuration for it, and
//! logging against it.
use super::log::{self, LogLevel};
use super::module::{module_ptr, Module};
use crate::ffi;
use std::marker::PhantomData;
use std::ptr::NonNull;

#[derive(Clone, Copy)]
pub struct Server<'s> {
    raw: NonNull<ffi::server_rec>,
    _life: PhantomData<&'s ffi::server_rec>,
}

impl<'s> Server<'s> {
    /// # Safety
    /// `raw` is NULL or a `server_rec` of the live configuration, valid for `'s`.
    pub(crate) unsafe fn from_raw(raw: *mut ffi::server_rec) -> Option<Server<'s>> {
        NonNull::new(raw).map(|raw| Server {
            raw,
            _life: PhantomData,
        })
    }

    pub(crate) fn as_ptr(&self) -> *mut ffi::server_rec {
        self.raw.as_ptr()
    }

    fn rec(&self) -> &'s ffi::server_rec {
        // SAFETY: from_raw's contract.
        unsafe { self.raw.as_ref() }
    }

    /// The main server (not a `<VirtualHost>`).
    pub fn is_main(&self) -> bool {
        self.rec().is_virtual == 0
    }

    /// This server and the ones after it in httpd's list (from the main server: every server,
    /// main first).
    pub fn and_following(&self) -> impl Iterator<Item = Server<'s>> {
        std::iter::successors(Some(*self), |s| {
            // SAFETY: the server list is live as long as the configuration ('s).
            unsafe { Server::from_raw(s.rec().next) }
        })
    }

    /// Module `M`'s configuration of this server, as its `create_server_config` /
    /// `merge_server_config` made it. Only read once the configuration is read (directives
    /// change it through `CmdParms::server_config_mut`).
    pub fn config<M: Module>(&self) -> Option<&'s M::ServerConfig> {
        // SAFETY: module_config is the server's config vector; our slot holds the value our
        // create/merge callbacks made for M (the only Module type the records are built from);
        // it lives in pconf, as long as the server.
        unsafe {
            ffi::ap_get_module_config(self.rec().module_config, module_ptr())
                .cast::<M::ServerConfig>()
                .as_ref()
        }
    }

    pub fn log(&self, level: LogLevel, msg: &str) {
        // SAFETY: the server_rec is live.
        unsafe { log::server_raw(self.as_ptr(), level.code(), msg) }
    }

    /// Logs a start-up message: also shown on the console before the error log is open
    /// (`APLOG_STARTUP`, as httpd's own configuration errors are).
    pub fn log_startup(&self, level: LogLevel, msg: &str) {
        // SAFETY: the server_rec is live.
        unsafe {
            log::server_raw(
                self.as_ptr(),
                level.code() | ffi::APLOG_STARTUP as std::os::raw::c_int,
                msg,
            )
        }
    }
}
