//! Directives as httpd meets them: `CmdParms<'c>` (a borrowed `cmd_parms` for one directive
//! call: where it stands, its server's configuration, its pool) and the `command_rec` table,
//! built at compile time from the one list of directives (`directives::LIST`), so a directive
//! is declared once.
use super::module::{self, module_ptr, Module};
use super::{text, Pool, Server};
use crate::config::Origin;
use crate::directives::{Args, Scope, Spec};
use crate::ffi;
use std::marker::PhantomData;
use std::os::raw::{c_char, c_int};
use std::path::PathBuf;
use std::ptr::NonNull;

pub struct CmdParms<'c> {
    raw: NonNull<ffi::cmd_parms>,
    _life: PhantomData<&'c mut ffi::cmd_parms>,
}

impl<'c> CmdParms<'c> {
    /// # Safety
    /// `raw` is NULL or the live `cmd_parms` of the current directive call, used only during it.
    pub(crate) unsafe fn from_raw(raw: *mut ffi::cmd_parms) -> Option<CmdParms<'c>> {
        NonNull::new(raw).map(|raw| CmdParms {
            raw,
            _life: PhantomData,
        })
    }

    fn rec(&self) -> &'c ffi::cmd_parms {
        // SAFETY: from_raw's contract.
        unsafe { self.raw.as_ref() }
    }

    /// The index the command table entry carries (its place in the list of directives).
    pub fn id(&self) -> usize {
        self.rec().info as usize
    }

    /// The directive's name as written in the table (`JkMount`).
    pub fn name(&self) -> &'c str {
        let cmd = self.rec().cmd;
        // SAFETY: cmd is the live command_rec of this call; its name is a static string.
        unsafe { cmd.as_ref().and_then(|c| text(c.name)) }.unwrap_or("?")
    }

    fn directive(&self) -> Option<&'c ffi::ap_directive_t> {
        // SAFETY: the directive node of the configuration tree being processed, or NULL.
        unsafe { self.rec().directive.as_ref() }
    }

    /// The file and line the directive stands on.
    pub fn origin(&self) -> Origin {
        match self.directive() {
            None => Origin {
                file: "httpd.conf".into(),
                line: 0,
            },
            Some(d) => Origin {
                // SAFETY: the file name of a live directive node is a pconf string.
                file: unsafe { text(d.filename) }.unwrap_or("httpd.conf").into(),
                line: usize::try_from(d.line_num).unwrap_or(0),
            },
        }
    }

    /// The enclosing section (`<Location`, `<Directory`, …), if any; `<VirtualHost>` counts as
    /// server level.
    pub fn section(&self) -> Option<&'c str> {
        // SAFETY: parent pointers of the configuration tree are live while it is processed.
        let parent = unsafe { self.directive()?.parent.as_ref()? };
        // SAFETY: a node's directive name is a pconf string.
        let name = unsafe { text(parent.directive)? };
        (!name.eq_ignore_ascii_case("<VirtualHost")).then_some(name)
    }

    /// The section's path (`<Location /app>` → `/app`).
    pub fn path(&self) -> Option<&'c str> {
        // SAFETY: cmd->path is NULL or a pconf string.
        unsafe { text(self.rec().path) }
    }

    pub fn server(&self) -> Server<'c> {
        // SAFETY: every directive call has its live server_rec.
        unsafe { Server::from_raw(self.rec().server) }.expect("cmd_parms without a server")
    }

    /// httpd's refusal when a global-only directive stands inside `<VirtualHost>` (or a
    /// section), in httpd's own words.
    pub fn refuse_unless_global(&self) -> Result<(), String> {
        // SAFETY: cmd is live; the function only reads it and returns NULL or a static or
        // pool string.
        let e = unsafe { ffi::ap_check_cmd_context(self.raw.as_ptr(), ffi::GLOBAL_ONLY) };
        // SAFETY: as above.
        match unsafe { text(e) } {
            None => Ok(()),
            Some(msg) => Err(msg.to_string()),
        }
    }

    /// Module `M`'s configuration of the directive's server, to change.
    pub fn server_config_mut<M: Module>(&mut self) -> Option<&mut M::ServerConfig> {
        // SAFETY: as Server::config; while a directive runs nothing else reads or writes the
        // server's configuration (httpd reads the configuration on one thread), and the
        // &mut self borrow keeps this the only reference made through these parms.
        unsafe {
            ffi::ap_get_module_config((*self.rec().server).module_config, module_ptr())
                .cast::<M::ServerConfig>()
                .as_mut()
        }
    }

    /// Makes paths absolute against ServerRoot, independently of these parms' borrow.
    pub fn resolver(&self) -> Resolver<'c> {
        Resolver {
            // SAFETY: cmd->pool is the live configuration pool.
            pool: unsafe { Pool::from_raw(self.rec().pool) },
        }
    }

    /// The directive's error message, copied into the configuration pool for httpd to show.
    pub(crate) fn error(&self, msg: &str) -> *const c_char {
        // SAFETY: cmd->pool is the live configuration pool.
        match unsafe { Pool::from_raw(self.rec().pool) } {
            Some(pool) => pool.strdup(msg.as_bytes()),
            None => c"mod_jk_rs: directive error".as_ptr(),
        }
    }
}

/// Paths against ServerRoot (`ap_server_root_relative`), allocated in the configuration pool.
#[derive(Clone, Copy)]
pub struct Resolver<'c> {
    pool: Option<Pool<'c>>,
}

impl Resolver<'_> {
    pub fn resolve(&self, path: &str) -> PathBuf {
        let (Some(pool), Ok(c)) = (self.pool, std::ffi::CString::new(path)) else {
            return PathBuf::from(path);
        };
        // SAFETY: the pool is live; the result is NULL or a pool string.
        let full = unsafe { text(ffi::ap_server_root_relative(pool.raw(), c.as_ptr())) };
        PathBuf::from(full.unwrap_or(path))
    }
}

/// A `command_rec` table with its terminating empty entry; built at compile time.
#[repr(transparent)]
pub(crate) struct CommandTable<const N: usize>([ffi::command_rec; N]);

// SAFETY: the table is never written after it is built; its pointers are to static strings and
// functions, which every thread may read.
unsafe impl<const N: usize> Sync for CommandTable<N> {}

impl<const N: usize> CommandTable<N> {
    /// The entries of `list` (N = its length + 1) with `M`'s callbacks.
    pub(crate) const fn new<M: Module>(list: &[Spec]) -> CommandTable<N> {
        const EMPTY: ffi::command_rec = ffi::command_rec {
            name: std::ptr::null(),
            func: ffi::cmd_func { no_args: None },
            cmd_data: std::ptr::null_mut(),
            req_override: 0,
            args_how: 0,
            errmsg: std::ptr::null(),
        };
        let mut table = [EMPTY; N];
        let mut i = 0;
        while i < list.len() && i + 1 < N {
            let spec = &list[i];
            let (func, how) = match spec.args {
                Args::One => (
                    ffi::cmd_func {
                        take1: Some(module::take1::<M>),
                    },
                    ffi::cmd_how_TAKE1,
                ),
                Args::OneOrTwo => (
                    ffi::cmd_func {
                        take2: Some(module::take12::<M>),
                    },
                    ffi::cmd_how_TAKE12,
                ),
                Args::Line => (
                    ffi::cmd_func {
                        raw_args: Some(module::raw_args::<M>),
                    },
                    ffi::cmd_how_RAW_ARGS,
                ),
                Args::OnOff => (
                    ffi::cmd_func {
                        flag: Some(module::flag::<M>),
                    },
                    ffi::cmd_how_FLAG,
                ),
            };
            let contexts = match spec.scope {
                Scope::Global | Scope::Server => ffi::RSRC_CONF,
                Scope::ServerOrLocation => ffi::RSRC_CONF | ffi::ACCESS_CONF,
            };
            table[i] = ffi::command_rec {
                name: spec.name.as_ptr(),
                func,
                cmd_data: i as *mut std::os::raw::c_void,
                req_override: contexts as c_int,
                args_how: how,
                errmsg: spec.help.as_ptr(),
            };
            i += 1;
        }
        CommandTable(table)
    }

    pub(crate) const fn as_ptr(&self) -> *const ffi::command_rec {
        self.0.as_ptr()
    }
}
