//! The documented switch from Debian's libapache2-mod-jk, on a copy of a Debian `/etc/apache2`
//! tree (never the machine's own): `make install`, `make switch` (a2dismod jk, a2enmod jk_rs,
//! apache2ctl -t), a request served through the JkMount the operator keeps in Debian's
//! `jk.conf`, then `make uninstall`, which gives mod_jk back.

#[path = "support/ajp_backend.rs"]
mod ajp_backend;
#[path = "support/http_client.rs"]
mod http_client;
#[path = "support/httpd.rs"]
mod httpd;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn shell(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("command runs");
    if !out.status.success() {
        panic!(
            "{cmd:?} failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    out
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A copy of the machine's Debian `/etc/apache2` under `dir`, with Debian's mod_jk files
/// (the fixtures: `jk.load`, `jk.conf` with the operator's JkMount and `JkMountCopy All`, so
/// the default virtual host sees it, as with mod_jk) enabled, listening on
/// `port` and keeping its run, lock and log files inside `dir`.
fn debian_tree(dir: &Path, port: u16, backend_port: u16) -> PathBuf {
    let conf = dir.join("etc/apache2");
    fs::create_dir_all(dir.join("etc")).unwrap();
    shell(Command::new("cp").arg("-a").arg("/etc/apache2").arg(&conf));
    for sub in ["run", "lock", "log"] {
        fs::create_dir_all(dir.join(sub)).unwrap();
        fs::set_permissions(dir.join(sub), fs::Permissions::from_mode(0o777)).unwrap();
    }
    // envvars: our own run, lock and log directories.
    let envvars = fs::read_to_string(conf.join("envvars")).unwrap();
    let envvars: String = envvars
        .lines()
        .map(|l| {
            let d = dir.display();
            if l.starts_with("export APACHE_PID_FILE=") {
                format!("export APACHE_PID_FILE={d}/run/apache2.pid")
            } else if l.starts_with("export APACHE_RUN_DIR=") {
                format!("export APACHE_RUN_DIR={d}/run")
            } else if l.starts_with("export APACHE_LOCK_DIR=") {
                format!("export APACHE_LOCK_DIR={d}/lock")
            } else if l.starts_with("export APACHE_LOG_DIR=") {
                format!("export APACHE_LOG_DIR={d}/log")
            } else {
                l.to_string()
            }
        })
        .map(|l| l + "\n")
        .collect();
    fs::write(conf.join("envvars"), envvars).unwrap();
    fs::write(
        conf.join("ports.conf"),
        format!("Listen 127.0.0.1:{port}\n"),
    )
    .unwrap();
    let site = conf.join("sites-available/000-default.conf");
    let text = fs::read_to_string(&site)
        .unwrap()
        .replace("*:80", &format!("*:{port}"));
    fs::write(&site, text).unwrap();
    // Nothing else of the machine's: no other modules' configuration we did not ask for.
    for enabled in fs::read_dir(conf.join("mods-enabled")).unwrap() {
        let path = enabled.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("jk") {
            fs::remove_file(path).unwrap();
        }
    }
    // Debian's mod_jk, as its package leaves it, with the operator's mount added to jk.conf.
    fs::write(
        conf.join("mods-available/jk.load"),
        "LoadModule jk_module /usr/lib/apache2/modules/mod_jk.so\n",
    )
    .unwrap();
    let workers = dir.join("workers.properties");
    let jk_conf = fs::read_to_string(root().join("tests/fixtures/debian/jk.conf"))
        .unwrap()
        .replace(
            "/etc/libapache2-mod-jk/workers.properties",
            &workers.display().to_string(),
        )
        .replace("/var/log/apache2/", &format!("{}/log/", dir.display()))
        .replace(
            "    JkWatchdogInterval 60",
            "    JkWatchdogInterval 60\n    JkMountCopy All\n    JkMount /app/* ajp13_worker",
        );
    fs::write(conf.join("mods-available/jk.conf"), jk_conf).unwrap();
    fs::write(
        &workers,
        format!(
            "worker.list=ajp13_worker,jk-status,jk-manager\n\
             worker.ajp13_worker.type=ajp13\nworker.ajp13_worker.host=127.0.0.1\n\
             worker.ajp13_worker.port={backend_port}\n\
             worker.jk-status.type=status\nworker.jk-status.read_only=true\n\
             worker.jk-manager.type=status\n"
        ),
    )
    .unwrap();
    conf
}

fn a2(conf: &Path, tool: &str, module: &str) {
    shell(
        Command::new(tool)
            .arg("-q")
            .arg(module)
            .env("APACHE_CONFDIR", conf),
    );
}

fn make(conf: &Path, dir: &Path, target: &str) -> Output {
    shell(
        Command::new("make")
            .arg("-s")
            .arg(target)
            .arg(format!("SO={}", httpd::module_path().display()))
            .arg(format!("LIBEXECDIR={}", dir.join("modules").display()))
            .arg(format!("APACHE_CONFDIR={}", conf.display()))
            .current_dir(root()),
    )
}

fn get(port: u16, path: &str) -> Option<http_client::Response> {
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    http_client::get(addr, path).ok()
}

#[test]
fn the_debian_switch_keeps_jk_conf_in_force_and_uninstall_restores_mod_jk() {
    let mod_jk_present = Path::new("/usr/lib/apache2/modules/mod_jk.so").exists();
    assert!(
        mod_jk_present,
        "Debian's mod_jk is needed to test the switch from it: apt-get install libapache2-mod-jk"
    );
    let backend = ajp_backend::AjpBackend::start("tomcat").expect("backend");
    let dir =
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("debian-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
    let port = free_port();
    let conf = debian_tree(&dir, port, backend.port());
    a2(&conf, "a2enmod", "jk");

    make(&conf, &dir, "install");
    let installed = dir.join("modules/mod_jk_rs.so");
    let size = fs::metadata(&installed).unwrap().len();
    // Stripped, it is a fraction of the built file (debug: ~3 of 20 MB, release: ~1.3 of 10 MB);
    // a fixed limit broke as soon as the debug build grew past it.
    let built = fs::metadata(httpd::module_path()).unwrap().len();
    assert!(
        size < built / 2,
        "the installed module is not stripped: {size} bytes (built: {built})"
    );
    let load = fs::read_to_string(conf.join("mods-available/jk_rs.load")).unwrap();
    assert!(
        load.contains(&format!("LoadModule jk_module {}", installed.display())),
        "{load}"
    );

    let switched = make(&conf, &dir, "switch");
    assert!(
        String::from_utf8_lossy(&switched.stderr).contains("Syntax OK"),
        "{switched:?}"
    );
    assert!(
        !conf.join("mods-enabled/jk.load").exists(),
        "mod_jk still enabled"
    );
    assert!(conf.join("mods-enabled/jk_rs.load").exists());
    assert!(
        conf.join("mods-available/jk.conf").exists(),
        "jk.conf must survive a2dismod"
    );

    // Serve: the JkMount of jk.conf reaches the backend.
    shell(
        Command::new("apache2ctl")
            .arg("start")
            .env("APACHE_CONFDIR", &conf),
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut answer = None;
    while Instant::now() < deadline {
        answer = get(port, "/app/hello").filter(|r| r.status == 200);
        if answer.is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let status_page = get(port, "/jk-status?mime=txt").map(|r| r.text());
    shell(
        Command::new("apache2ctl")
            .arg("stop")
            .env("APACHE_CONFDIR", &conf),
    );
    let answer = answer.expect("/app/hello was not served through jk.conf's JkMount");
    assert!(answer.text().contains("/app/hello"), "{}", answer.text());
    let status_page = status_page.unwrap_or_default();
    assert!(
        status_page.contains("AJP Worker: name=ajp13_worker"),
        "{status_page}"
    );

    make(&conf, &dir, "uninstall");
    assert!(!conf.join("mods-enabled/jk_rs.load").exists());
    assert!(!conf.join("mods-available/jk_rs.load").exists());
    assert!(!installed.exists());
    assert!(
        conf.join("mods-enabled/jk.load").exists(),
        "mod_jk not enabled again"
    );
    assert!(conf.join("mods-enabled/jk.conf").exists());
    let _ = fs::remove_dir_all(&dir);
}
