//! The status worker's HTML page in a real headless Chromium (Debian's `chromium`), driven
//! over the DevTools protocol (`tests/support/cdp.rs`): it loads without console errors or
//! outside resources, shows every member with its activation and state as a word on a
//! coloured badge, fits a phone's width, refreshes itself when asked, and a drain done by
//! clicking a member's button (a real mouse click, the form's POST with its token) drains it.
//! Screenshots for people to look at: `target/status-page.png` (laptop),
//! `target/status-page-phone.png` (phone), `target/status-page-drained.png` (after the click).

#[path = "support/ajp_backend.rs"]
mod ajp_backend;
#[path = "support/cdp.rs"]
mod cdp;
#[path = "support/e2e_common.rs"]
mod e2e_common;
#[path = "support/http_client.rs"]
mod http_client;
#[path = "support/httpd.rs"]
mod httpd;
#[path = "support/json_text.rs"]
mod json_text;
#[path = "support/status_lab.rs"]
mod status_lab;

use cdp::Browser;
use e2e_common::Checks;
use httpd::Mpm;
use status_lab::Lab;
use std::path::PathBuf;
use std::time::Duration;

/// `target/` of this build.
fn target_dir() -> PathBuf {
    let profile = httpd::target_profile_dir();
    profile.parent().map_or(profile.clone(), PathBuf::from)
}

/// One line per row of the members table: `name|activation|state|badge colour|buttons`.
const MEMBER_ROWS: &str = r#"(() => {
  const out = [];
  for (const r of document.querySelectorAll('tr')) {
    const c = r.cells;
    if (c.length < 4) continue;
    const act = c[1].innerText.trim();
    if (!['ACT', 'DIS', 'STP'].includes(act)) continue;
    const badge = c[2].querySelector('.badge') || c[2];
    const buttons = Array.from(r.querySelectorAll('button')).map(b => b.innerText.trim()).join(',');
    out.push([c[0].innerText.trim().split(/\s+/)[0], act, c[2].innerText.trim(),
              getComputedStyle(badge).backgroundColor, buttons].join('|'));
  }
  return out.join('\n');
})()"#;

/// The centre of `member`'s button `label`, scrolled into view: `x,y`, or empty.
fn button_of(member: &str, label: &str) -> String {
    format!(
        r#"(() => {{
  for (const r of document.querySelectorAll('tr')) {{
    const c = r.cells;
    if (c.length < 4 || c[0].innerText.trim().split(/\s+/)[0] !== '{member}') continue;
    for (const b of r.querySelectorAll('button')) {{
      if (b.innerText.trim() !== '{label}') continue;
      b.scrollIntoView({{block: 'center', inline: 'center'}});
      const k = b.getBoundingClientRect();
      return (k.x + k.width / 2) + ',' + (k.y + k.height / 2);
    }}
  }}
  return '';
}})()"#
    )
}

/// Console errors, uncaught exceptions and failed loads the browser reported.
fn page_errors(browser: &Browser) -> Vec<String> {
    browser
        .events
        .iter()
        .filter(|e| {
            e.contains("\"method\":\"Runtime.exceptionThrown\"")
                || (e.contains("\"method\":\"Runtime.consoleAPICalled\"")
                    && e.contains("\"type\":\"error\""))
                || (e.contains("\"method\":\"Log.entryAdded\"")
                    && e.contains("\"level\":\"error\""))
        })
        .cloned()
        .collect()
}

fn must<T>(what: &str, r: Result<T, String>) -> T {
    r.unwrap_or_else(|e| panic!("{what}: {e}"))
}

#[test]
fn status_page_in_headless_chromium_loads_cleanly_shows_members_and_drains_by_click() {
    let lab = Lab::start(Mpm::Prefork, 3, "");
    lab.warm_up(9);
    // Some variety for the screenshot: b3 stopped.
    lab.get("/jkstatus?cmd=update&w=lb&sw=b3&vwa=2&mime=txt");
    let profile = target_dir().join(format!("tmp/chromium-profile-{}", std::process::id()));
    let mut browser = must("start chromium", Browser::launch(&profile));
    for domain in ["Runtime.enable", "Log.enable", "Page.enable"] {
        must(domain, browser.call(domain, "{}"));
    }
    let mut c = Checks::new();
    let origin = lab.httpd.url("");

    // Laptop width.
    must("viewport", browser.viewport(1280, 900, false));
    must(
        "load the page",
        browser.navigate(&lab.httpd.url("/jkstatus")),
    );
    let rows = must("member rows", browser.eval_string(MEMBER_ROWS));
    eprintln!("members as shown:\n{rows}");
    for (member, activation, button) in [
        ("b1", "ACT", "Drain"),
        ("b2", "ACT", "Drain"),
        ("b3", "STP", "Activate"),
    ] {
        let row = rows.lines().find(|r| r.starts_with(&format!("{member}|")));
        c.check(row.is_some(), || format!("{member} is not shown: {rows}"));
        let fields: Vec<&str> = row.unwrap_or("").split('|').collect();
        c.equal(
            fields.get(1).copied(),
            Some(activation),
            &format!("{member} activation"),
        );
        c.check(fields.get(2).is_some_and(|s| s.starts_with("OK")), || {
            format!("{member} state word: {fields:?}")
        });
        c.check(
            fields
                .get(3)
                .is_some_and(|bg| !bg.is_empty() && *bg != "rgba(0, 0, 0, 0)"),
            || format!("{member} state has no colour: {fields:?}"),
        );
        c.check(
            fields
                .get(4)
                .is_some_and(|b| b.split(',').any(|x| x == button)),
            || format!("{member} has no {button} button: {fields:?}"),
        );
    }
    // Nothing from elsewhere: no scripts or style sheets by URL, every load from this server.
    let outside = must(
        "resources",
        browser.eval_string(&format!(
            "JSON.stringify(performance.getEntriesByType('resource').map(e => e.name)\
             .filter(n => !n.startsWith('{origin}')).concat(\
             Array.from(document.querySelectorAll('script[src], link[rel=stylesheet], img[src]'))\
             .map(e => e.src || e.href)))"
        )),
    );
    c.equal(outside.as_str(), "[]", "resources from elsewhere");
    must(
        "laptop screenshot",
        browser.screenshot(&target_dir().join("status-page.png")),
    );

    // Phone width: the page itself does not scroll sideways (wide tables scroll in their box).
    must("viewport", browser.viewport(390, 844, true));
    must("reload", browser.navigate(&lab.httpd.url("/jkstatus")));
    let widths = must(
        "widths",
        browser.eval_string(
            "document.documentElement.scrollWidth + ',' + document.documentElement.clientWidth",
        ),
    );
    let (scroll, client) = widths.split_once(',').unwrap_or(("0", "1"));
    let (scroll, client) = (
        scroll.parse::<u32>().unwrap_or(0),
        client.parse::<u32>().unwrap_or(1),
    );
    c.check(scroll <= client, || {
        format!("page scrolls sideways on a phone: {widths}")
    });
    must(
        "phone screenshot",
        browser.screenshot(&target_dir().join("status-page-phone.png")),
    );

    // Auto-refresh when asked for.
    must("re=5", browser.navigate(&lab.httpd.url("/jkstatus?re=5")));
    let refresh = must(
        "refresh",
        browser.eval_string(
            "(document.querySelector('meta[http-equiv=\"refresh\" i]') || {content: ''}).content",
        ),
    );
    c.check(refresh.starts_with('5'), || {
        format!("no 5 s refresh: {refresh:?}")
    });

    // Drain b1 by clicking its button.
    must("viewport", browser.viewport(1280, 900, false));
    must(
        "back to the list",
        browser.navigate(&lab.httpd.url("/jkstatus")),
    );
    let at = must(
        "Drain button",
        browser.eval_string(&button_of("b1", "Drain")),
    );
    let (x, y) = at
        .split_once(',')
        .unwrap_or_else(|| panic!("b1 has no Drain button: {rows}"));
    let (x, y) = (
        x.parse::<f64>().unwrap_or(0.0),
        y.parse::<f64>().unwrap_or(0.0),
    );
    let seen = browser.events.len();
    must("click", browser.click(x, y));
    must(
        "the answer to the click",
        browser
            .wait_event("Page.loadEventFired", seen, Duration::from_secs(15))
            .map(drop),
    );
    let answer = must(
        "answer text",
        browser.eval_string("document.body.innerText"),
    );
    c.check(answer.contains("Result: OK"), || {
        format!("the drain answered: {answer}")
    });
    c.equal(
        lab.member_value("b1", "activation"),
        "DIS".to_string(),
        "b1 after the click",
    );
    // The answer sends the browser back to the list, where b1 now offers Activate.
    let seen = browser.events.len();
    must(
        "the redirect back",
        browser
            .wait_event("Page.loadEventFired", seen, Duration::from_secs(15))
            .map(drop),
    );
    let rows = must("member rows after", browser.eval_string(MEMBER_ROWS));
    let b1 = rows.lines().find(|r| r.starts_with("b1|")).unwrap_or("");
    c.check(b1.contains("|DIS|") && b1.contains("Activate"), || {
        format!("b1 after the drain: {b1:?}")
    });
    must(
        "drained screenshot",
        browser.screenshot(&target_dir().join("status-page-drained.png")),
    );
    // Nobody got a POST refused on the way.
    c.check(
        !lab.pid_log().iter().any(|(_, status, _)| *status == 403),
        || format!("a request was refused: {:?}", lab.pid_log()),
    );

    let errors = page_errors(&browser);
    c.check(errors.is_empty(), || format!("console errors: {errors:#?}"));
    drop(browser);
    c.finish(&lab.httpd);
}
