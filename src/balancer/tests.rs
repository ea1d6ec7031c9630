//! Behaviour of the balancer as a whole, request by request, with an injected clock: the
//! acceptance criteria of the lb issue (weights, stickiness, failover, states, errors,
//! maintenance, retries, locking, several processes).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::config::{Activation, AjpWorker, LbLock, LbMethod, LbWorker};
use crate::shm::process::in_child;
use crate::shm::{Layout, MemberRecord, SharedState};

/// "Now" for the tests: ms since the Unix epoch.
const NOW: u64 = 1_700_000_000_000;
const MINUTE: u64 = 60_000;
const MAINTAIN: Duration = Duration::from_secs(60);

fn member(name: &str) -> AjpWorker {
    AjpWorker::with_defaults(name)
}

fn with(name: &str, change: impl FnOnce(&mut AjpWorker)) -> AjpWorker {
    let mut worker = member(name);
    change(&mut worker);
    worker
}

fn weighted(factors: &[u32]) -> Vec<AjpWorker> {
    factors
        .iter()
        .enumerate()
        .map(|(i, f)| with(&format!("m{i}"), |w| w.lbfactor = *f))
        .collect()
}

/// lb "lb" over `members` in a fresh anonymous mapping, clocks started at NOW.
fn balancer(members: Vec<AjpWorker>, configure: impl FnOnce(&mut LbWorker)) -> Balancer {
    let names = members.iter().map(|m| m.name.clone()).collect();
    let mut lb = LbWorker::with_defaults("lb", names);
    configure(&mut lb);
    let refs: Vec<&AjpWorker> = members.iter().collect();
    let mut layout = Layout::new();
    layout.add_lb(&lb, &refs).expect("lb fits");
    let shared = Arc::new(SharedState::create(None, &layout).expect("mapping"));
    shared.start_clock(NOW);
    Balancer::new(shared, &lb, MAINTAIN).expect("attached")
}

fn record(lb: &Balancer, i: usize) -> &MemberRecord {
    &lb.members()[i]
}

fn state(lb: &Balancer, i: usize) -> State {
    State::from_code(record(lb, i).state.load(Ordering::Relaxed))
}

fn set_state(lb: &Balancer, i: usize, state: State) {
    record(lb, i).state.store(state.code(), Ordering::Relaxed);
}

/// Puts member `i` in error as of `at` (so it stays there until `at` + recover_time).
fn fail(lb: &Balancer, i: usize, at: u64) {
    set_state(lb, i, State::Error);
    record(lb, i).first_error_time.store(at, Ordering::Relaxed);
    record(lb, i).last_error_time.store(at, Ordering::Relaxed);
}

fn load(counter: &AtomicU64) -> u64 {
    counter.load(Ordering::Relaxed)
}

fn elected(lb: &Balancer) -> Vec<u64> {
    lb.members().iter().map(|m| load(&m.elected)).collect()
}

fn values(lb: &Balancer) -> Vec<u64> {
    lb.members().iter().map(|m| load(&m.lb_value)).collect()
}

fn plan_for<'a>(
    lb: &'a Balancer,
    uri: &'a str,
    cookies: &'a [&'a str],
    hints: &RequestHints<'a>,
) -> RequestPlan<'a> {
    let routes = lb.session_routes(uri, cookies, hints);
    lb.plan(routes, hints, |_| true)
}

/// One request whose first try succeeds; the selection, or None if no member was found.
fn serve_with(
    lb: &Balancer,
    uri: &str,
    cookies: &[&str],
    hints: &RequestHints<'_>,
) -> Option<Selection> {
    let mut plan = plan_for(lb, uri, cookies, hints);
    loop {
        match lb.next(&mut plan) {
            Step::Try(selection) => {
                let verdict = end(lb, &mut plan, &selection, AttemptResult::Success, NOW);
                assert_eq!(verdict, Verdict::Done);
                return Some(selection);
            }
            Step::Wait(_) => continue,
            Step::GiveUp { .. } => return None,
        }
    }
}

fn serve(lb: &Balancer, cookies: &[&str]) -> Option<usize> {
    serve_with(lb, "/app/page", cookies, &RequestHints::default()).map(|s| s.member)
}

/// Serves `n` requests without a session; how many each member got.
fn spread(lb: &Balancer, n: usize) -> Vec<usize> {
    let mut counts = vec![0; lb.members().len()];
    for _ in 0..n {
        if let Some(i) = serve(lb, &[]) {
            counts[i] += 1;
        }
    }
    counts
}

/// The first step of a fresh request with these cookies.
fn first_step(lb: &Balancer, cookies: &[&str]) -> Step {
    let hints = RequestHints::default();
    let mut plan = plan_for(lb, "/", cookies, &hints);
    lb.next(&mut plan)
}

/// Starts a request with these cookies; its plan and first selection.
fn start<'a>(lb: &'a Balancer, cookies: &'a [&'a str]) -> (RequestPlan<'a>, Selection) {
    let mut plan = plan_for(lb, "/", cookies, &RequestHints::default());
    match lb.next(&mut plan) {
        Step::Try(selection) => (plan, selection),
        other => panic!("expected a member to try, got {other:?}"),
    }
}

/// Reports `result` for `selection` at time `at` (no traffic).
fn end(
    lb: &Balancer,
    plan: &mut RequestPlan<'_>,
    selection: &Selection,
    result: AttemptResult,
    at: u64,
) -> Verdict {
    lb.finish(plan, selection, result, Traffic::default(), || at)
}

fn assert_share(counts: &[usize], weights: &[u32], tolerance: f64) {
    let total: usize = counts.iter().sum();
    let weight_sum: u32 = weights.iter().sum();
    for (count, weight) in counts.iter().zip(weights) {
        let expected = total as f64 * f64::from(*weight) / f64::from(weight_sum);
        let deviation = (*count as f64 - expected).abs() / expected;
        assert!(
            deviation <= tolerance,
            "counts {counts:?} stray {:.2}% from weights {weights:?}",
            deviation * 100.0
        );
    }
}

// ---------------------------------------------------------------- weights and methods

#[test]
fn request_method_weights_1_2_3_hold_over_60000_requests() {
    let lb = balancer(weighted(&[1, 2, 3]), |_| {});
    let counts = spread(&lb, 60_000);
    assert_eq!(counts.iter().sum::<usize>(), 60_000);
    assert_share(&counts, &[1, 2, 3], 0.02);
    assert_eq!(elected(&lb), [10_000, 20_000, 30_000]);
}

#[test]
fn equal_members_take_turns_through_the_rotating_offset() {
    let lb = balancer(weighted(&[1, 1, 1]), |_| {});
    let order: Vec<usize> = (0..6).filter_map(|_| serve(&lb, &[])).collect();
    assert_eq!(order, [0, 1, 2, 0, 1, 2]);
}

#[test]
fn request_method_counts_each_request_at_start() {
    let lb = balancer(weighted(&[1, 3]), |_| {}); // multipliers 3, 1
    let (mut plan, selection) = start(&lb, &[]);
    assert_eq!(values(&lb)[selection.member], [3, 1][selection.member]);
    assert_eq!(
        record(&lb, selection.member).busy.load(Ordering::Relaxed),
        1
    );
    assert_eq!(lb.record().map(|r| r.busy.load(Ordering::Relaxed)), Some(1));
    end(&lb, &mut plan, &selection, AttemptResult::Success, NOW);
    assert_eq!(
        record(&lb, selection.member).busy.load(Ordering::Relaxed),
        0
    );
    assert_eq!(lb.record().map(|r| r.busy.load(Ordering::Relaxed)), Some(0));
}

#[test]
fn traffic_method_counts_bytes_when_the_request_ends() {
    let lb = balancer(weighted(&[1, 1]), |l| l.method = LbMethod::Traffic);
    let (mut plan, selection) = start(&lb, &[]);
    assert_eq!(values(&lb), [0, 0], "nothing counted at start");
    let bytes = Traffic {
        written: 300,
        read: 700,
    };
    lb.finish(&mut plan, &selection, AttemptResult::Success, bytes, || NOW);
    assert_eq!(values(&lb)[selection.member], 1000);
    assert_eq!(load(&record(&lb, selection.member).transferred), 300);
    assert_eq!(load(&record(&lb, selection.member).read), 700);
    // The next request goes to the member that moved fewer bytes.
    assert_eq!(serve(&lb, &[]), Some(1 - selection.member));
}

#[test]
fn busyness_method_sends_requests_to_the_member_with_fewer_in_flight() {
    let lb = balancer(weighted(&[1, 1]), |l| l.method = LbMethod::Busyness);
    let (mut first, a) = start(&lb, &[]);
    let (_second, b) = start(&lb, &[]);
    assert_ne!(a.member, b.member, "the busy member is avoided");
    end(&lb, &mut first, &a, AttemptResult::Success, NOW);
    assert_eq!(values(&lb)[a.member], 0, "load leaves with the request");
    assert_eq!(values(&lb)[b.member], 1);
    // Busyness is never decayed.
    lb.maintain(NOW + 10 * MINUTE);
    assert_eq!(values(&lb)[b.member], 1);
}

#[test]
fn sessions_method_counts_only_requests_without_a_session() {
    let lb = balancer(weighted(&[1, 1]), |l| l.method = LbMethod::Sessions);
    serve(&lb, &["JSESSIONID=abc.m0"]);
    serve(&lb, &["JSESSIONID=abc.m0"]);
    assert_eq!(values(&lb), [0, 0]);
    assert_eq!(load(&record(&lb, 0).sessions), 0);
    let fresh = serve(&lb, &[]).expect("a member");
    assert_eq!(values(&lb)[fresh], 1);
    assert_eq!(load(&record(&lb, fresh).sessions), 1);
}

#[test]
fn next_method_subtracts_the_minimum_at_maintenance() {
    let lb = balancer(weighted(&[1, 1]), |l| l.method = LbMethod::Next);
    record(&lb, 0).lb_value.store(5, Ordering::Relaxed);
    record(&lb, 1).lb_value.store(8, Ordering::Relaxed);
    lb.maintain(NOW + 3 * MINUTE);
    assert_eq!(
        values(&lb),
        [0, 3],
        "not halved, shifted down by the minimum"
    );
}

#[test]
fn maintenance_halves_load_once_per_elapsed_interval() {
    let lb = balancer(weighted(&[1, 1]), |_| {});
    record(&lb, 0).lb_value.store(400, Ordering::Relaxed);
    record(&lb, 1).lb_value.store(100, Ordering::Relaxed);
    let report = lb.maintain(NOW + 2 * MINUTE + 5_000);
    assert_eq!(report.exponent, 2);
    assert_eq!(values(&lb), [100, 25]);
    let report = lb.maintain(NOW + 2 * MINUTE + 50_000);
    assert_eq!(
        report.exponent, 0,
        "less than an interval since the last run"
    );
    assert_eq!(values(&lb), [100, 25]);
}

#[test]
fn lbfactor_edit_changes_the_share() {
    let lb = balancer(weighted(&[1, 1]), |_| {});
    assert!(lb.update_member(0, |s| s.lb_factor = 3));
    assert_eq!(
        lb.members()
            .iter()
            .map(|m| load(&m.lb_mult))
            .collect::<Vec<_>>(),
        [1, 3]
    );
    assert_share(&spread(&lb, 4_000), &[3, 1], 0.02);
}

// ---------------------------------------------------------------- distance and activation

#[test]
fn distance_tiers_keep_far_members_idle_while_near_ones_are_usable() {
    let lb = balancer(
        vec![
            member("a"),
            member("b"),
            with("c", |w| {
                w.distance = 1;
                w.lbfactor = 100;
            }),
        ],
        |_| {},
    );
    assert_eq!(spread(&lb, 300)[2], 0, "c is farther away");
    fail(&lb, 0, NOW);
    fail(&lb, 1, NOW);
    assert_eq!(
        spread(&lb, 10),
        [0, 0, 10],
        "c takes over when a and b fail"
    );
}

#[test]
fn disabled_member_gets_only_its_own_sessions() {
    let lb = balancer(
        vec![
            member("a"),
            with("b", |w| w.activation = Activation::Disabled),
        ],
        |_| {},
    );
    assert_eq!(spread(&lb, 50), [50, 0]);
    assert_eq!(serve(&lb, &["JSESSIONID=xyz.b"]), Some(1));
}

#[test]
fn stopped_member_gets_nothing_not_even_its_sessions() {
    let lb = balancer(
        vec![
            member("a"),
            with("b", |w| w.activation = Activation::Stopped),
        ],
        |_| {},
    );
    assert_eq!(spread(&lb, 20), [20, 0]);
    let selection =
        serve_with(&lb, "/", &["JSESSIONID=xyz.b"], &RequestHints::default()).expect("failed over");
    assert_eq!(selection.member, 0);
    assert_eq!(selection.choice, Choice::Balanced);
}

#[test]
fn rule_activation_overrides_apply_to_one_request_only() {
    let lb = balancer(vec![member("a"), member("b")], |_| {});
    let stopped = vec!["a".to_owned()];
    let hints = RequestHints {
        activation: ActivationOverrides {
            stopped: &stopped,
            ..ActivationOverrides::default()
        },
        ..RequestHints::default()
    };
    let selection = serve_with(&lb, "/", &["JSESSIONID=1.a"], &hints).expect("failed over to b");
    assert_eq!(
        (selection.member, selection.activation),
        (1, Activation::Active)
    );
    assert_eq!(
        serve(&lb, &["JSESSIONID=1.a"]),
        Some(0),
        "a keeps its session elsewhere"
    );

    let disabled = vec!["b".to_owned()];
    let hints = RequestHints {
        activation: ActivationOverrides {
            disabled: &disabled,
            ..ActivationOverrides::default()
        },
        ..RequestHints::default()
    };
    let selection = serve_with(&lb, "/", &["JSESSIONID=1.b"], &hints).expect("sticky");
    assert_eq!(
        (selection.member, selection.activation),
        (1, Activation::Disabled)
    );
}

// ---------------------------------------------------------------- sessions

#[test]
fn session_cookie_routes_to_its_member() {
    let lb = balancer(weighted(&[1, 1, 1]), |_| {});
    for _ in 0..5 {
        let selection =
            serve_with(&lb, "/", &["JSESSIONID=ABC.m2"], &RequestHints::default()).expect("m2");
        assert_eq!(selection.member, 2);
        assert!(selection.sticky);
        assert_eq!(selection.choice, Choice::Session);
        assert_eq!(selection.route.as_str(), "m2");
    }
}

#[test]
fn session_cookies_are_tried_in_order_until_one_routes() {
    let lb = balancer(
        vec![
            member("a"),
            member("b"),
            with("c", |w| w.activation = Activation::Stopped),
        ],
        |_| {},
    );
    assert_eq!(serve(&lb, &["JSESSIONID=1.gone; JSESSIONID=2.b"]), Some(1));
    assert_eq!(serve(&lb, &["JSESSIONID=1.c", "JSESSIONID=2.b"]), Some(1));
    assert_eq!(serve(&lb, &["JSESSIONID=1.a; JSESSIONID=2.b"]), Some(0));
}

#[test]
fn session_id_in_the_path_wins_over_the_cookie() {
    let lb = balancer(vec![member("a"), member("b")], |_| {});
    let selection = serve_with(
        &lb,
        "/app;jsessionid=1.b",
        &["JSESSIONID=2.a"],
        &RequestHints::default(),
    )
    .expect("b");
    assert_eq!(selection.member, 1);
}

#[test]
fn jk_route_overrides_the_session_cookie() {
    let lb = balancer(vec![member("a"), member("b"), member("c")], |_| {});
    let hints = RequestHints {
        jk_route: Some("c"),
        ..RequestHints::default()
    };
    let selection = serve_with(&lb, "/", &["JSESSIONID=1.a"], &hints).expect("c");
    assert_eq!((selection.member, selection.sticky), (2, true));
}

#[test]
fn sticky_ignore_balances_requests_that_have_a_session() {
    let lb = balancer(vec![member("a"), member("b")], |l| {
        l.method = LbMethod::Sessions;
    });
    let hints = RequestHints {
        sticky_ignore: true,
        ..RequestHints::default()
    };
    let members: Vec<usize> = (0..4)
        .filter_map(|_| serve_with(&lb, "/", &["JSESSIONID=1.a"], &hints))
        .map(|s| s.member)
        .collect();
    assert_eq!(members, [0, 1, 0, 1]);
    assert_eq!(load(&record(&lb, 1).sessions), 2, "counted as new sessions");
}

#[test]
fn sticky_session_off_ignores_sessions() {
    let lb = balancer(vec![member("a"), member("b")], |l| l.sticky_session = false);
    let members: Vec<Option<usize>> = (0..2).map(|_| serve(&lb, &["JSESSIONID=1.b"])).collect();
    assert_eq!(members, [Some(0), Some(1)]);
}

#[test]
fn stateless_requests_rotate_and_do_not_count_as_sessions() {
    let lb = balancer(vec![member("a"), member("b")], |l| {
        l.method = LbMethod::Sessions;
    });
    record(&lb, 0).lb_value.store(1_000, Ordering::Relaxed);
    let hints = RequestHints {
        stateless: true,
        ..RequestHints::default()
    };
    let members: Vec<usize> = (0..4)
        .filter_map(|_| serve_with(&lb, "/", &[], &hints))
        .map(|s| s.member)
        .collect();
    assert_eq!(members, [0, 1, 0, 1], "load values are not compared");
    assert_eq!(values(&lb), [1_000, 0]);
    assert_eq!(
        load(&record(&lb, 0).sessions) + load(&record(&lb, 1).sessions),
        0
    );
}

#[test]
fn routing_cookie_is_set_only_for_requests_that_were_not_sticky() {
    let lb = balancer(vec![member("a"), member("b")], |l| {
        l.set_session_cookie = true;
    });
    let hints = RequestHints::default();
    let fresh = serve_with(&lb, "/", &[], &hints).expect("member");
    assert_eq!(
        lb.routing_cookie(&fresh, &hints, false),
        Some(format!(
            "JSESSIONID=.{};Path=/;HttpOnly",
            ["a", "b"][fresh.member]
        ))
    );
    let sticky = serve_with(&lb, "/", &["JSESSIONID=1.b"], &hints).expect("b");
    assert_eq!(lb.routing_cookie(&sticky, &hints, true), None);

    let plain = balancer(vec![member("a"), member("b")], |_| {});
    let fresh = serve_with(&plain, "/", &[], &hints).expect("member");
    assert_eq!(
        plain.routing_cookie(&fresh, &hints, false),
        None,
        "off by default"
    );
    let rule = RequestHints {
        set_session_cookie: Some(true),
        ..RequestHints::default()
    };
    assert!(
        plain.routing_cookie(&fresh, &rule, true).is_some(),
        "the rule turns it on"
    );
}

// ---------------------------------------------------------------- failover

#[test]
fn domain_failover_sends_a_session_to_another_member_of_its_domain() {
    let lb = balancer(
        vec![
            with("a", |w| w.domain = "d1".into()),
            with("b", |w| w.domain = "d1".into()),
            with("c", |w| w.domain = "d2".into()),
        ],
        |_| {},
    );
    // c is the least loaded, but the session belongs to domain d1.
    record(&lb, 1).lb_value.store(50, Ordering::Relaxed);
    fail(&lb, 0, NOW);
    let selection = serve_with(&lb, "/", &["JSESSIONID=1.a"], &RequestHints::default()).expect("b");
    assert_eq!(selection.member, 1);
    assert_eq!(selection.choice, Choice::SessionFailover);
    assert_eq!(
        selection.route.as_str(),
        "d1",
        "the domain is sent as route"
    );
}

#[test]
fn a_route_that_names_a_domain_goes_to_the_best_member_of_it() {
    let lb = balancer(
        vec![
            with("a", |w| w.domain = "d1".into()),
            with("b", |w| {
                w.domain = "d2".into();
                w.distance = 1;
            }),
            with("c", |w| w.domain = "d2".into()),
        ],
        |_| {},
    );
    let selection =
        serve_with(&lb, "/", &["JSESSIONID=1.d2.x"], &RequestHints::default()).expect("c");
    assert_eq!(selection.member, 2, "lowest distance in d2");
    assert_eq!(selection.choice, Choice::Domain);
    assert_eq!(selection.route.as_str(), "d2");
    assert!(!selection.sticky);
}

#[test]
fn redirect_failover_sends_a_session_to_the_redirect_member() {
    let lb = balancer(
        vec![
            with("a", |w| w.redirect = "c".into()),
            member("b"),
            member("c"),
        ],
        |_| {},
    );
    record(&lb, 2).lb_value.store(1_000, Ordering::Relaxed); // c is the most loaded
    fail(&lb, 0, NOW);
    let selection = serve_with(&lb, "/", &["JSESSIONID=1.a"], &RequestHints::default()).expect("c");
    assert_eq!(selection.member, 2);
    assert_eq!(selection.choice, Choice::SessionFailover);
    assert!(
        selection.sticky,
        "mod_jk keeps the sticky flag: no routing cookie"
    );
    assert_eq!(selection.route.as_str(), "c");
}

#[test]
fn disabled_hot_standby_takes_over_through_redirect_when_nothing_else_is_usable() {
    let lb = balancer(
        vec![
            with("a", |w| w.redirect = "b".into()),
            with("b", |w| w.activation = Activation::Disabled),
        ],
        |_| {},
    );
    assert_eq!(spread(&lb, 3), [3, 0], "the standby idles while a works");
    fail(&lb, 0, NOW);
    let selection = serve_with(&lb, "/", &[], &RequestHints::default()).expect("standby");
    assert_eq!(selection.member, 1);
    assert_eq!(selection.choice, Choice::RedirectFailover);
    assert!(!selection.sticky);
}

#[test]
fn sticky_session_force_gives_up_instead_of_failing_over() {
    let lb = balancer(
        vec![
            with("a", |w| w.activation = Activation::Stopped),
            member("b"),
        ],
        |l| l.sticky_session_force = true,
    );
    let hints = RequestHints::default();
    let mut plan = plan_for(&lb, "/", &["JSESSIONID=1.a"], &hints);
    let mut steps = Vec::new();
    loop {
        let step = lb.next(&mut plan);
        steps.push(step);
        if matches!(step, Step::GiveUp { .. }) {
            break;
        }
        assert!(!matches!(step, Step::Try(_)), "no member may be tried");
    }
    assert_eq!(
        steps,
        [
            Step::Wait(Duration::from_millis(100)),
            Step::GiveUp { last: None }
        ]
    );
    assert_eq!(elected(&lb), [0, 0]);
    // Without a session the request is balanced as usual.
    assert_eq!(serve(&lb, &[]), Some(1));
}

#[test]
fn sticky_session_force_gives_up_on_a_session_without_route() {
    let lb = balancer(vec![member("a"), member("b")], |l| {
        l.sticky_session_force = true;
    });
    assert_eq!(serve(&lb, &["JSESSIONID=NOROUTE"]), None);
}

#[test]
fn sticky_session_force_retries_its_member_after_forcing_recovery() {
    let lb = balancer(vec![member("a"), member("b")], |l| {
        l.sticky_session_force = true;
    });
    fail(&lb, 0, NOW);
    let Step::Try(selection) = first_step(&lb, &["JSESSIONID=1.a"]) else {
        panic!("a is forced into recovery and tried again")
    };
    assert_eq!(selection.member, 0);
    assert_eq!(state(&lb, 0), State::ForcedRecovery);
}

#[test]
fn all_members_in_error_are_forced_into_recovery_for_a_request() {
    let lb = balancer(vec![member("a"), member("b")], |_| {});
    fail(&lb, 0, NOW);
    fail(&lb, 1, NOW);
    let selection = serve(&lb, &[]).expect("forced recovery finds one");
    assert_eq!(state(&lb, selection), State::Ok);
    assert_eq!(state(&lb, 1 - selection), State::ForcedRecovery);
}

#[test]
fn maintenance_forces_recovery_when_every_member_is_in_error() {
    let lb = balancer(vec![member("a"), member("b")], |_| {});
    fail(&lb, 0, NOW);
    fail(&lb, 1, NOW);
    let report = lb.maintain(NOW + MINUTE); // exactly recover_time: not yet recovered
    assert_eq!((report.recovered, report.forced), (0, 2));
    assert_eq!(
        (state(&lb, 0), state(&lb, 1)),
        (State::ForcedRecovery, State::ForcedRecovery)
    );
}

#[test]
fn no_member_at_all_gives_up_with_no_result() {
    let stopped = |n: &str| with(n, |w| w.activation = Activation::Stopped);
    let lb = balancer(vec![stopped("a"), stopped("b")], |l| l.retries = 1);
    assert_eq!(first_step(&lb, &[]), Step::GiveUp { last: None });
}

// ---------------------------------------------------------------- errors and states

#[test]
fn client_error_never_changes_member_state() {
    let lb = balancer(vec![member("a"), member("b")], |_| {});
    for before in [State::OkIdle, State::Ok] {
        set_state(&lb, 0, before);
        let (mut plan, selection) = start(&lb, &["JSESSIONID=1.a"]);
        let verdict = end(&lb, &mut plan, &selection, AttemptResult::ClientError, NOW);
        assert_eq!(verdict, Verdict::Stop, "no failover for a client's fault");
        assert!(state(&lb, 0) <= State::Ok, "still healthy after {before:?}");
        assert!(plan.is_finished());
    }
    assert_eq!(load(&record(&lb, 0).errors), 0);
    assert_eq!(load(&record(&lb, 0).client_errors), 2);
    assert_eq!(load(&record(&lb, 0).first_error_time), 0);
}

#[test]
fn positive_fail_on_status_puts_the_member_in_error_and_negative_does_not() {
    let lb = balancer(vec![member("a"), member("b")], |_| {});
    let (mut plan, first) = start(&lb, &["JSESSIONID=1.a"]);
    let verdict = end(
        &lb,
        &mut plan,
        &first,
        AttemptResult::FailOnStatus { positive: false },
        NOW,
    );
    assert_eq!(verdict, Verdict::FailOver);
    assert_eq!(state(&lb, 0), State::Ok);
    let Step::Try(second) = lb.next(&mut plan) else {
        panic!("b")
    };
    assert_eq!(second.member, 1, "a is not retried by this request");
    end(
        &lb,
        &mut plan,
        &second,
        AttemptResult::FailOnStatus { positive: true },
        NOW,
    );
    assert_eq!(state(&lb, 1), State::Error);
    assert_eq!(load(&record(&lb, 1).errors), 1);
    assert_eq!(load(&record(&lb, 1).last_error_time), NOW);
}

#[test]
fn backend_failure_with_nothing_else_in_flight_is_an_error_at_once() {
    let lb = balancer(vec![member("a"), member("b")], |_| {});
    let (mut plan, selection) = start(&lb, &["JSESSIONID=1.a"]);
    let verdict = end(
        &lb,
        &mut plan,
        &selection,
        AttemptResult::BackendFailure,
        NOW,
    );
    assert_eq!(verdict, Verdict::FailOver);
    assert_eq!(state(&lb, 0), State::Error);
    assert_eq!(load(&record(&lb, 0).errors), 1);
    assert_eq!(load(&record(&lb, 0).first_error_time), NOW);
}

#[test]
fn local_error_escalates_to_error_after_error_escalation_time() {
    let lb = balancer(vec![member("a"), member("b")], |l| {
        l.error_escalation_time = Duration::from_secs(30);
    });
    // One request keeps a busy while another fails on it.
    let (mut busy, in_flight) = start(&lb, &["JSESSIONID=1.a"]);
    let (mut failing, selection) = start(&lb, &["JSESSIONID=1.a"]);
    end(
        &lb,
        &mut failing,
        &selection,
        AttemptResult::BackendFailure,
        NOW,
    );
    assert_eq!(
        state(&lb, 0),
        State::Ok,
        "only a local error while others succeed"
    );
    assert_eq!(load(&record(&lb, 0).first_error_time), NOW);
    assert_eq!(failing.state(0), State::Error, "but this request moves on");

    assert_eq!(lb.maintain(NOW + 29_999).escalated, 0);
    assert_eq!(state(&lb, 0), State::Ok);
    assert_eq!(lb.maintain(NOW + 30_000).escalated, 1);
    assert_eq!(state(&lb, 0), State::Error);
    end(&lb, &mut busy, &in_flight, AttemptResult::Success, NOW);
}

#[test]
fn repeated_local_errors_escalate_once_they_last_error_escalation_time() {
    let lb = balancer(vec![member("a"), member("b")], |l| {
        l.error_escalation_time = Duration::from_secs(30);
    });
    let (_busy, _in_flight) = start(&lb, &["JSESSIONID=1.a"]);
    for (at, expected) in [(NOW, State::Ok), (NOW + 30_000, State::Error)] {
        let (mut plan, selection) = start(&lb, &["JSESSIONID=1.a"]);
        end(
            &lb,
            &mut plan,
            &selection,
            AttemptResult::BackendFailure,
            at,
        );
        assert_eq!(state(&lb, 0), expected);
    }
}

#[test]
fn error_escalation_time_zero_means_error_at_once() {
    let lb = balancer(vec![member("a"), member("b")], |l| {
        l.error_escalation_time = Duration::ZERO;
    });
    record(&lb, 0).busy.store(5, Ordering::Relaxed); // others in flight
    let (mut plan, selection) = start(&lb, &["JSESSIONID=1.a"]);
    end(
        &lb,
        &mut plan,
        &selection,
        AttemptResult::BackendFailure,
        NOW,
    );
    assert_eq!(state(&lb, 0), State::Error);
}

#[test]
fn reply_timeouts_put_a_member_in_error_only_after_max_reply_timeouts() {
    let lb = balancer(vec![member("a"), member("b")], |l| l.max_reply_timeouts = 2);
    let timeout_on_a = || {
        let (mut plan, selection) = start(&lb, &["JSESSIONID=1.a"]);
        assert_eq!(selection.member, 0);
        end(&lb, &mut plan, &selection, AttemptResult::ReplyTimeout, NOW)
    };
    assert_eq!(timeout_on_a(), Verdict::FailOver);
    assert_eq!(timeout_on_a(), Verdict::FailOver);
    assert_eq!(state(&lb, 0), State::Ok, "two timeouts are tolerated");
    assert_eq!(load(&record(&lb, 0).errors), 0);
    timeout_on_a();
    assert_eq!(state(&lb, 0), State::Error, "the third is one too many");
    assert_eq!(load(&record(&lb, 0).errors), 1);
}

#[test]
fn reply_timeouts_decay_at_maintenance() {
    let lb = balancer(vec![member("a"), member("b")], |l| l.max_reply_timeouts = 2);
    record(&lb, 0).reply_timeouts.store(2, Ordering::Relaxed);
    lb.maintain(NOW + MINUTE);
    assert_eq!(load(&record(&lb, 0).reply_timeouts), 1);
    // So a later timeout is tolerated again.
    let (mut plan, selection) = start(&lb, &["JSESSIONID=1.a"]);
    end(&lb, &mut plan, &selection, AttemptResult::ReplyTimeout, NOW);
    assert_eq!(state(&lb, 0), State::Ok);
}

#[test]
fn seven_states_follow_mod_jk_transitions() {
    let lb = balancer(vec![member("a"), member("b")], |l| {
        l.recover_time = Duration::from_secs(60);
    });
    let hints = RequestHints::default();
    let try_a = |result: AttemptResult, at: u64| {
        let mut plan = plan_for(&lb, "/", &["JSESSIONID=1.a"], &hints);
        let Step::Try(selection) = lb.next(&mut plan) else {
            return None;
        };
        let probing = state(&lb, selection.member);
        lb.finish(&mut plan, &selection, result, Traffic::default(), || at);
        Some((selection.member, probing))
    };

    assert_eq!(state(&lb, 0), State::OkIdle, "a fresh member is idle");
    try_a(AttemptResult::Success, NOW);
    assert_eq!(state(&lb, 0), State::Ok, "used: OK");
    lb.maintain(NOW + MINUTE);
    assert_eq!(state(&lb, 0), State::Ok, "used since the last maintenance");
    lb.maintain(NOW + 2 * MINUTE);
    assert_eq!(state(&lb, 0), State::OkIdle, "unused for an interval: idle");

    try_a(
        AttemptResult::FailOnStatus { positive: true },
        NOW + 2 * MINUTE,
    );
    assert_eq!(state(&lb, 0), State::Error);
    lb.maintain(NOW + 3 * MINUTE);
    assert_eq!(state(&lb, 0), State::Error, "recover_time has not passed");
    record(&lb, 1).lb_value.store(77, Ordering::Relaxed);
    let report = lb.maintain(NOW + 3 * MINUTE + 1);
    assert_eq!(report.recovered, 1);
    assert_eq!(state(&lb, 0), State::Recovering);
    assert_eq!(
        load(&record(&lb, 0).lb_value),
        77,
        "restarts at the largest load"
    );

    // The next request probes it...
    assert_eq!(
        try_a(AttemptResult::BackendFailure, NOW + 4 * MINUTE),
        Some((0, State::Probing))
    );
    assert_eq!(
        state(&lb, 0),
        State::Error,
        "a failed probe is an error again"
    );
    lb.maintain(NOW + 6 * MINUTE);
    assert_eq!(state(&lb, 0), State::Recovering);
    assert_eq!(
        try_a(AttemptResult::Success, NOW + 6 * MINUTE),
        Some((0, State::Probing))
    );
    assert_eq!(state(&lb, 0), State::Ok, "a good probe: OK");

    try_a(AttemptResult::NoConnection, NOW + 6 * MINUTE);
    assert_eq!(state(&lb, 0), State::Busy, "no free connection: busy");
    let plan = lb.plan(SessionRoutes::NONE, &hints, |_| false);
    assert_eq!((state(&lb, 0), plan.state(0)), (State::Busy, State::Busy));
    let plan = lb.plan(SessionRoutes::NONE, &hints, |_| true);
    assert_eq!(
        (state(&lb, 0), plan.state(0)),
        (State::Ok, State::Ok),
        "free again"
    );

    fail(&lb, 0, NOW + 6 * MINUTE);
    fail(&lb, 1, NOW + 6 * MINUTE);
    assert_eq!(lb.force_recovery(), 2);
    assert_eq!(state(&lb, 0), State::ForcedRecovery);
}

#[test]
fn recovering_member_is_probed_by_one_request_at_a_time() {
    let lb = balancer(vec![member("a"), member("b")], |_| {});
    set_state(&lb, 0, State::Recovering);
    let (mut probe, first) = start(&lb, &[]);
    assert_eq!((first.member, state(&lb, 0)), (0, State::Probing));
    // While the probe runs, a's sessions and new requests go elsewhere.
    assert_eq!(serve(&lb, &["JSESSIONID=1.a"]), Some(1));
    end(&lb, &mut probe, &first, AttemptResult::Success, NOW);
    assert_eq!(state(&lb, 0), State::Ok);
}

#[test]
fn busy_member_keeps_its_sessions_but_gets_no_new_requests() {
    let lb = balancer(vec![member("a"), member("b")], |_| {});
    set_state(&lb, 0, State::Busy);
    let hints = RequestHints::default();
    let still_busy = |_: usize| false;
    let routes = lb.session_routes("/", &["JSESSIONID=1.a"], &hints);
    let mut plan = lb.plan(routes, &hints, still_busy);
    let Step::Try(sticky) = lb.next(&mut plan) else {
        panic!("a")
    };
    assert_eq!(sticky.member, 0);
    let mut plan = lb.plan(SessionRoutes::NONE, &hints, still_busy);
    let Step::Try(fresh) = lb.next(&mut plan) else {
        panic!("b")
    };
    assert_eq!(fresh.member, 1);
}

#[test]
fn no_connection_takes_back_the_load_it_counted() {
    let lb = balancer(vec![member("a"), member("b")], |l| {
        l.method = LbMethod::Sessions;
    });
    let (mut plan, selection) = start(&lb, &[]);
    let m = selection.member;
    assert_eq!((values(&lb)[m], load(&record(&lb, m).sessions)), (1, 1));
    let verdict = end(&lb, &mut plan, &selection, AttemptResult::NoConnection, NOW);
    assert_eq!(verdict, Verdict::FailOver);
    assert_eq!(values(&lb)[m], 0);
    assert_eq!(load(&record(&lb, m).sessions), 0);
    assert_eq!(load(&record(&lb, m).elected), 0);
    assert_eq!(record(&lb, m).busy.load(Ordering::Relaxed), 0);
    assert_eq!(state(&lb, m), State::Busy);
}

#[test]
fn over_busy_limit_is_flagged_on_the_selection() {
    let lb = balancer(vec![with("a", |w| w.busy_limit = 1)], |_| {});
    let (_first, a) = start(&lb, &[]);
    assert!(!a.over_busy_limit);
    let (mut second, b) = start(&lb, &[]);
    assert!(b.over_busy_limit);
    end(&lb, &mut second, &b, AttemptResult::BusyLimit, NOW);
    assert_eq!(state(&lb, 0), State::Busy);
}

// ---------------------------------------------------------------- single member

#[test]
fn single_member_lb_takes_everything_it_can() {
    let lb = balancer(vec![member("a")], |_| {});
    let selection = serve_with(&lb, "/", &[], &RequestHints::default()).expect("a");
    assert_eq!(
        (selection.choice, selection.sticky),
        (Choice::OnlyMember, true)
    );

    let disabled = balancer(
        vec![with("a", |w| w.activation = Activation::Disabled)],
        |l| {
            l.retries = 1;
        },
    );
    assert_eq!(serve(&disabled, &[]), None, "disabled: no new requests");
    assert_eq!(
        serve(&disabled, &["JSESSIONID=1.a"]),
        Some(0),
        "but its sessions"
    );

    let stopped = balancer(
        vec![with("a", |w| w.activation = Activation::Stopped)],
        |l| {
            l.retries = 1;
        },
    );
    assert_eq!(serve(&stopped, &["JSESSIONID=1.a"]), None);
}

// ---------------------------------------------------------------- the retry plan

#[test]
fn retry_plan_tries_lb_retries_members_per_round_then_waits_retry_interval() {
    let lb = balancer(vec![member("a"), member("b"), member("c")], |l| {
        l.retries = 3;
        l.lb_retries = 2;
        l.retry_interval = Duration::from_millis(250);
    });
    let hints = RequestHints::default();
    let mut plan = plan_for(&lb, "/", &[], &hints);
    assert_eq!(plan.limits(), (3, 2));
    let mut rounds: Vec<Vec<usize>> = vec![Vec::new()];
    loop {
        match lb.next(&mut plan) {
            Step::Try(selection) => {
                let verdict = end(&lb, &mut plan, &selection, AttemptResult::LocalError, NOW);
                assert_eq!(verdict, Verdict::FailOver);
                if let Some(round) = rounds.last_mut() {
                    round.push(selection.member);
                }
            }
            Step::Wait(pause) => {
                assert_eq!(pause, Duration::from_millis(250));
                rounds.push(Vec::new());
            }
            Step::GiveUp { last } => {
                assert_eq!(last, Some(AttemptResult::LocalError));
                break;
            }
        }
    }
    assert_eq!(rounds.len(), 3);
    for round in &rounds {
        assert_eq!(round.len(), 2, "lb_retries members per round: {rounds:?}");
        assert_ne!(
            round[0], round[1],
            "a member failing a request is not retried"
        );
    }
    assert_eq!(plan.tries(), 6);
    assert_eq!(
        lb.next(&mut plan),
        Step::GiveUp {
            last: Some(AttemptResult::LocalError)
        }
    );
}

#[test]
fn success_after_failover_ends_the_plan() {
    let lb = balancer(vec![member("a"), member("b")], |_| {});
    let (mut plan, first) = start(&lb, &["JSESSIONID=1.a"]);
    end(&lb, &mut plan, &first, AttemptResult::BackendFailure, NOW);
    let Step::Try(second) = lb.next(&mut plan) else {
        panic!("b")
    };
    assert_eq!((first.member, second.member), (0, 1));
    let verdict = end(&lb, &mut plan, &second, AttemptResult::Success, NOW);
    assert_eq!(verdict, Verdict::Done);
    assert!(plan.is_finished());
    assert!(matches!(lb.next(&mut plan), Step::GiveUp { .. }));
}

// ---------------------------------------------------------------- maintenance and edits

#[test]
fn maintain_all_runs_once_per_interval_across_callers() {
    let lb = balancer(vec![member("a"), member("b")], |_| {});
    let shared = Arc::clone(&lb.shared);
    record(&lb, 0).lb_value.store(8, Ordering::Relaxed);
    assert!(!maintain_all(
        &shared,
        [&lb],
        NOW + 30_000,
        MINUTE,
        &mut |_, _| {}
    ));
    assert!(maintain_all(
        &shared,
        [&lb],
        NOW + MINUTE,
        MINUTE,
        &mut |_, _| {}
    ));
    assert!(!maintain_all(
        &shared,
        [&lb],
        NOW + MINUTE,
        MINUTE,
        &mut |_, _| {}
    ));
    assert_eq!(values(&lb)[0], 4);
}

#[test]
fn recover_edit_brings_a_member_back_now() {
    let lb = balancer(vec![member("a"), member("b")], |_| {});
    fail(&lb, 0, NOW);
    record(&lb, 1).lb_value.store(9, Ordering::Relaxed);
    assert!(lb.recover(0));
    assert_eq!(state(&lb, 0), State::Recovering);
    assert_eq!(values(&lb), [9, 9]);
    assert!(!lb.recover(1), "only members in error recover");
}

#[test]
fn route_edit_is_seen_by_the_next_request() {
    let lb = balancer(vec![member("a"), member("b")], |_| {});
    assert!(lb.update_member(1, |s| {
        s.route = crate::shm::ShortText::new("tomcat2").expect("fits");
    }));
    assert_eq!(serve(&lb, &["JSESSIONID=1.tomcat2"]), Some(1));
    assert!(lb.update_settings(|s| s.sticky_session = false));
    assert_eq!(lb.settings().map(|s| s.sticky_session), Some(false));
}

#[test]
fn reset_zeroes_statistics_but_keeps_states() {
    let lb = balancer(vec![member("a"), member("b")], |_| {});
    spread(&lb, 4);
    fail(&lb, 0, NOW);
    lb.reset_statistics(NOW + 5);
    assert_eq!(elected(&lb), [0, 0]);
    assert_eq!(state(&lb, 0), State::Error);
    assert_eq!(load(&record(&lb, 1).last_reset), NOW + 5);
}

// ---------------------------------------------------------------- concurrency

#[test]
fn pessimistic_locking_balances_threads_without_losing_counts() {
    let lb = balancer(weighted(&[1, 1]), |l| l.lock = LbLock::Pessimistic);
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                for _ in 0..3_000 {
                    serve(&lb, &[]);
                }
            });
        }
    });
    let counts = elected(&lb);
    assert_eq!(counts.iter().sum::<u64>(), 12_000);
    assert_share(
        &counts.iter().map(|c| *c as usize).collect::<Vec<_>>(),
        &[1, 1],
        0.05,
    );
    assert_eq!(lb.record().map(|r| r.busy.load(Ordering::Relaxed)), Some(0));
    assert_eq!(lb.record().and_then(|r| r.lock.holder()), None);
}

fn across_processes(lock: LbLock) {
    const CHILDREN: usize = 4;
    const EACH: usize = 15_000;
    let lb = balancer(weighted(&[1, 2, 3]), |l| l.lock = lock);
    let children: Vec<_> = (0..CHILDREN)
        .map(|_| {
            in_child(|| {
                let served = spread(&lb, EACH).iter().sum::<usize>();
                i32::from(served != EACH)
            })
        })
        .collect();
    for child in children {
        assert_eq!(
            child.wait(),
            Some(0),
            "a child failed to serve its requests"
        );
    }
    let counts = elected(&lb);
    assert_eq!(counts.iter().sum::<u64>(), (CHILDREN * EACH) as u64);
    assert_share(
        &counts.iter().map(|c| *c as usize).collect::<Vec<_>>(),
        &[1, 2, 3],
        0.05,
    );
    // Every request added its member's multiplier: nothing was lost between processes.
    let expected: Vec<u64> = lb
        .members()
        .iter()
        .map(|m| load(&m.elected) * load(&m.lb_mult))
        .collect();
    assert_eq!(values(&lb), expected);
    assert_eq!(lb.record().map(|r| r.busy.load(Ordering::Relaxed)), Some(0));
}

#[test]
fn weights_hold_across_processes_with_optimistic_locking() {
    across_processes(LbLock::Optimistic);
}

#[test]
fn weights_hold_across_processes_with_pessimistic_locking() {
    across_processes(LbLock::Pessimistic);
}

#[test]
fn balancer_refuses_a_mapping_of_another_configuration() {
    let lb = balancer(vec![member("a"), member("b")], |_| {});
    let other = LbWorker::with_defaults("lb", vec!["a".into(), "c".into()]);
    assert_eq!(
        Balancer::new(Arc::clone(&lb.shared), &other, MAINTAIN).err(),
        Some(BalancerError::MembersDiffer { lb: "lb".into() })
    );
    let unknown = LbWorker::with_defaults("nope", vec![]);
    assert!(matches!(
        Balancer::new(Arc::clone(&lb.shared), &unknown, MAINTAIN),
        Err(BalancerError::NotInSharedMemory { .. })
    ));
}

#[test]
fn an_unreachable_member_goes_to_error_even_while_others_are_busy_with_it() {
    let lb = balancer(weighted(&[1, 1]), |_| {});
    // Two requests in flight on member 0 (sticky to it); the first finds it unreachable.
    let (mut p1, s1) = start(&lb, &["JSESSIONID=x.m0"]);
    let (_p2, s2) = start(&lb, &["JSESSIONID=x.m0"]);
    assert_eq!((s1.member, s2.member), (0, 0));
    let verdict = end(&lb, &mut p1, &s1, AttemptResult::Unreachable, 1_000);
    assert_eq!(verdict, Verdict::FailOver);
    assert_eq!(state(&lb, 0), State::Error);
    // A backend failure in the same situation only records a local error (mod_jk's rule).
    let lb = balancer(weighted(&[1, 1]), |_| {});
    let (mut p1, s1) = start(&lb, &["JSESSIONID=x.m0"]);
    let (_p2, _s2) = start(&lb, &["JSESSIONID=x.m0"]);
    end(&lb, &mut p1, &s1, AttemptResult::BackendFailure, 1_000);
    assert_ne!(state(&lb, 0), State::Error);
}
