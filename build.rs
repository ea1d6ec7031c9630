//! Build script: finds httpd's and APR's headers through `apxs`, generates the FFI bindings with
//! bindgen from `apache-headers/wrapper.h`, and compiles the thin C shim (`src/ffi/shim.c`).
//! Every failure ends with one line naming what to install.

#![cfg_attr(not(feature = "httpd"), allow(unused_imports))]
use std::env;
use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=apache-headers/wrapper.h");
    println!("cargo:rerun-if-changed=src/ffi/shim.c");
    println!("cargo:rerun-if-env-changed=APXS");
    // Without the `httpd` feature only the core is built: nothing to find or generate.
    #[cfg(feature = "httpd")]
    module();
}

#[cfg_attr(not(feature = "httpd"), allow(dead_code))]
fn fail(msg: &str) -> ! {
    // cargo shows the panic message; keep it to one actionable line.
    eprintln!("error: mod_jk_rs: {msg}");
    std::process::exit(1);
}

/// `$APXS`, else `apxs` on PATH, else the official httpd image's location.
#[cfg(feature = "httpd")]
fn find_apxs() -> String {
    if let Ok(p) = env::var("APXS") {
        return p;
    }
    for candidate in ["apxs", "apxs2", "/usr/local/apache2/bin/apxs"] {
        if Command::new(candidate)
            .arg("-q")
            .arg("INCLUDEDIR")
            .output()
            .is_ok_and(|o| o.status.success())
        {
            return candidate.to_string();
        }
    }
    fail("apxs not found: install the httpd development files (Debian/Ubuntu: apt-get install apache2-dev), or set APXS=/path/to/apxs");
}

#[cfg(feature = "httpd")]
fn apxs_query(apxs: &str, var: &str) -> Option<String> {
    let out = Command::new(apxs).arg("-q").arg(var).output().ok()?;
    // apxs prints the value and then fails when apr-1-config is missing: only trust a clean exit.
    if !out.status.success() {
        return None;
    }
    let v = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (!v.is_empty()).then_some(v)
}

#[cfg(feature = "httpd")]
fn module() {
    let apxs = find_apxs();
    let include = apxs_query(&apxs, "INCLUDEDIR").unwrap_or_else(|| {
        fail("`apxs -q INCLUDEDIR` failed: install apache2-dev (and libapr1-dev libaprutil1-dev)")
    });
    let mut includes = vec![include];
    for var in ["APR_INCLUDEDIR", "APU_INCLUDEDIR"] {
        if let Some(dir) = apxs_query(&apxs, var) {
            includes.push(dir);
        }
    }
    if includes.len() == 1 {
        // Fallback when apxs does not know APR's location.
        if let Ok(out) = Command::new("apr-1-config").arg("--includes").output() {
            for word in String::from_utf8_lossy(&out.stdout).split_whitespace() {
                if let Some(dir) = word.strip_prefix("-I") {
                    includes.push(dir.to_string());
                }
            }
        }
    }
    includes.dedup();
    if !includes
        .iter()
        .any(|d| PathBuf::from(d).join("apr.h").exists())
    {
        fail("apr.h not found: install libapr1-dev and libaprutil1-dev (pulled in by apache2-dev)");
    }
    let mut defines: Vec<String> = apxs_query(&apxs, "EXTRA_CPPFLAGS")
        .map(|s| {
            s.split_whitespace()
                .filter(|w| w.starts_with("-D"))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    if defines.is_empty() {
        defines = vec![
            "-DLINUX".into(),
            "-D_REENTRANT".into(),
            "-D_GNU_SOURCE".into(),
        ];
    }

    // The shim: C for what only C macros can express.
    let mut cc_build = cc::Build::new();
    cc_build
        .file("src/ffi/shim.c")
        .warnings(true)
        .extra_warnings(true);
    for dir in &includes {
        cc_build.include(dir);
    }
    cc_build.include("apache-headers");
    for d in &defines {
        let d = d.trim_start_matches("-D");
        match d.split_once('=') {
            Some((k, v)) => cc_build.define(k, Some(v)),
            None => cc_build.define(d, None),
        };
    }
    cc_build.compile("jk_rs_shim");

    let mut clang_args: Vec<String> = includes.iter().map(|d| format!("-I{d}")).collect();
    clang_args.extend(defines.iter().cloned());
    let builder = bindgen::Builder::default()
        .header("apache-headers/wrapper.h")
        .clang_args(clang_args)
        .allowlist_type("request_rec|conn_rec|server_rec|module|module_struct|command_rec|cmd_parms|process_rec")
        .allowlist_type("apr_table_entry_t|apr_array_header_t|apr_bucket_brigade|apr_bucket|apr_sockaddr_t|ap_filter_t")
        .allowlist_type("ap_unix_identity_t|unixd_config_rec")
        .allowlist_function("ap_(get_brigade|pass_brigade|set_content_type|set_content_length|get_server_name|get_server_port|get_remote_host|state_query|mpm_query|check_cmd_context|server_root_relative|get_module_config|is_initial_req|get_server_module_loglevel|get_request_module_loglevel|set_keepalive|discard_request_body|bucket_error_create|get_status_line|add_version_component|get_server_description|escape_uri|os_escape_path|retained_data_get|retained_data_create|open_piped_log|piped_log_write_fd)")
        .allowlist_function("apr_(table_get|table_getm|table_set|table_setn|table_add|table_addn|table_unset|table_elts|pstrdup|pstrmemdup|palloc|pool_cleanup_register|pool_cleanup_null|brigade_create|brigade_cleanup|brigade_write|brigade_flatten|brigade_destroy|bucket_transient_create|bucket_flush_create|bucket_eos_create|bucket_heap_create|bucket_pool_create|bucket_immortal_create|pool_userdata_get|pool_userdata_set|time_now|os_file_get|stat)")
        .allowlist_var("REMOTE_NAME|REMOTE_HOST|REMOTE_NOLOOKUP|MODULE_MAGIC_.*|AP_MODULE_FLAG_.*|OK|DECLINED|DONE|HTTP_.*|APLOG_.*|AP_SQ_.*|AP_MPMQ_.*|RSRC_CONF|ACCESS_CONF|OR_.*|GLOBAL_ONLY|NOT_IN_.*|APR_SUCCESS|AP_CONN_.*|PROXYREQ_.*|M_.*|AP_FILTER_ERROR|APR_BLOCK_READ|APR_EOF|APR_TIMEUP|APR_ENOSPC|APR_INCOMPLETE|APR_EGENERAL|APR_OS_START_.*|APR_FINFO_TYPE")
        .allowlist_var("ap_unixd_config|ap_server_conf|ap_server_root|ap_conftree|apr_bucket_type_eos|apr_bucket_type_flush")
        .rustified_enum("ap_input_mode_t|apr_read_type_e")
        .allowlist_type("ap_input_mode_t|apr_read_type_e")
        .derive_default(false)
        .layout_tests(false)
        .generate_comments(false);
    // bindgen panics (rather than erring) when libclang cannot be loaded: turn both into one line.
    let bindings = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || builder.generate())) {
        Ok(Ok(b)) => b,
        Ok(Err(e)) => fail(&format!("bindgen failed ({e}): install libclang-dev (Debian/Ubuntu: apt-get install libclang-dev)")),
        Err(_) => fail("bindgen could not load libclang: install libclang-dev (Debian/Ubuntu: apt-get install libclang-dev)"),
    };
    let out = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR set by cargo"));
    bindings
        .write_to_file(out.join("bindings.rs"))
        .unwrap_or_else(|e| fail(&format!("cannot write bindings: {e}")));
}
