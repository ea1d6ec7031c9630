//! Parsing of status query strings: every parameter, every edit field, the errors.

use super::*;
use crate::config::{Activation, LbLock, LbMethod};
use crate::status::edits::{AjpSetting, EditField, LbSetting, MemberSetting, Setting};
use crate::status::StatusError;
use std::time::Duration;

fn parsed(query: &str) -> StatusRequest {
    parse_query(query).unwrap_or_else(|e| panic!("{query}: {e:?}"))
}

#[test]
fn defaults_are_list_in_html() {
    let request = parsed("");
    assert_eq!((request.command, request.mime), (Command::List, Mime::Html));
    assert_eq!(request, StatusRequest::default());
}

#[test]
fn every_command_and_format_parses() {
    for command in Command::ALL {
        for mime in Mime::ALL {
            let request = parsed(&format!("cmd={}&mime={}", command.name(), mime.name()));
            assert_eq!((request.command, request.mime), (command, mime));
        }
    }
}

#[test]
fn navigation_parameters_are_decoded() {
    let request = parsed("w=lb%20one&sw=Tom+cat&re=5&opt=0x106&from=show&psw=x&token=abc");
    assert_eq!(request.worker.as_deref(), Some("lb one"));
    assert_eq!(request.member.as_deref(), Some("Tom cat"));
    assert_eq!(request.refresh, Some(5));
    assert!(request.options.has(DisplayOption::HideMaps));
    assert!(request.options.has(DisplayOption::HideLegend));
    assert!(request.options.has(DisplayOption::HideAjpConfig));
    assert!(!request.options.has(DisplayOption::ReadOnly));
    assert_eq!(request.from, Some(Command::Show));
    assert_eq!(request.previous_member.as_deref(), Some("x"));
    assert_eq!(request.token.as_deref(), Some("abc"));
}

#[test]
fn every_option_bit_is_its_own_flag() {
    let all = [
        (DisplayOption::HideMembers, 0x1),
        (DisplayOption::HideMaps, 0x2),
        (DisplayOption::HideLegend, 0x4),
        (DisplayOption::HideBalancers, 0x8),
        (DisplayOption::HideAjpWorkers, 0x10),
        (DisplayOption::ReadOnly, 0x20),
        (DisplayOption::HideBalancerConfig, 0x40),
        (DisplayOption::HideBalancerSummary, 0x80),
        (DisplayOption::HideAjpConfig, 0x100),
    ];
    for (option, bit) in all {
        let request = parsed(&format!("opt={bit}"));
        assert!(request.options.has(option));
        assert_eq!(request.options.without(option), DisplayOptions(0));
        assert_eq!(DisplayOptions(0).with(option), DisplayOptions(bit));
    }
}

#[test]
fn first_of_repeated_keys_wins_and_empty_values_are_absent() {
    let request = parsed("w=first&w=second&sw=&re=0&re=9&garbage&=x&a=b=c");
    assert_eq!(request.worker.as_deref(), Some("first"));
    assert_eq!(request.member, None);
    assert_eq!(request.refresh, None);
}

#[test]
fn errors_carry_mod_jk_messages_and_the_format_to_report_them_in() {
    let cases = [
        ("cmd=nope&mime=txt", Mime::Txt, "Invalid command."),
        ("cmd=LIST", Mime::Html, "Invalid command."),
        ("mime=pdf&cmd=list", Mime::Prop, "Invalid mime type."),
        ("w=%zz", Mime::Html, "Error during parsing of URI"),
        ("w=%4", Mime::Html, "Error during parsing of URI"),
        (
            "mime=xml&cmd=update&vlr=many",
            Mime::Xml,
            "Update failed (at least partially): invalid value 'many' for 'vlr'",
        ),
        (
            "cmd=edit&att=vlr",
            Mime::Html,
            "Invalid attribute for aspect edit.",
        ),
    ];
    for (query, mime, message) in cases {
        let error = parse_query(query).unwrap_err();
        assert_eq!(
            (error.mime, error.error.to_string().as_str()),
            (mime, message),
            "{query}"
        );
    }
}

#[test]
fn invalid_utf8_is_replaced_not_passed_on() {
    assert_eq!(parsed("w=a%FFb").worker.as_deref(), Some("a\u{FFFD}b"));
}

#[test]
fn lb_fields_parse_with_mod_jk_spellings() {
    let request = parsed("vlr=3&vlri=250&vlt=20&vlee=7&vlx=4&vls=0&vlf=on&vlm=4&vll=p");
    assert_eq!(
        request.edits.lb,
        [
            LbSetting::Retries(3),
            LbSetting::RetryInterval(Duration::from_millis(250)),
            LbSetting::RecoverTime(Duration::from_secs(20)),
            LbSetting::ErrorEscalationTime(Duration::from_secs(7)),
            LbSetting::MaxReplyTimeouts(4),
            LbSetting::StickySession(false),
            LbSetting::StickySessionForce(true),
            LbSetting::Method(LbMethod::Next),
            LbSetting::Lock(LbLock::Pessimistic),
        ]
    );
    for (value, method) in [
        ("0", LbMethod::Request),
        ("r", LbMethod::Request),
        ("1", LbMethod::Traffic),
        ("b", LbMethod::Busyness),
        ("3", LbMethod::Sessions),
        ("s", LbMethod::Sessions),
        ("n", LbMethod::Next),
    ] {
        assert_eq!(
            parsed(&format!("vlm={value}")).edits.lb,
            [LbSetting::Method(method)],
            "{value}"
        );
    }
    assert_eq!(
        parsed("vll=0").edits.lb,
        [LbSetting::Lock(LbLock::Optimistic)]
    );
    assert_eq!(
        parsed("vll=o").edits.lb,
        [LbSetting::Lock(LbLock::Optimistic)]
    );
}

#[test]
fn member_fields_parse_with_mod_jk_spellings() {
    let request = parsed("vwa=d&vwf=5&vwn=node1&vwr=node2&vwc=dom&vwd=2");
    assert_eq!(
        request.edits.member,
        [
            MemberSetting::Activation(Activation::Disabled),
            MemberSetting::LbFactor(5),
            MemberSetting::Route("node1".to_owned()),
            MemberSetting::Redirect("node2".to_owned()),
            MemberSetting::Domain("dom".to_owned()),
            MemberSetting::Distance(2),
        ]
    );
    for (value, activation) in [
        ("0", Activation::Active),
        ("a", Activation::Active),
        ("1", Activation::Disabled),
        ("2", Activation::Stopped),
        ("s", Activation::Stopped),
    ] {
        assert_eq!(
            parsed(&format!("vwa={value}")).edits.member,
            [MemberSetting::Activation(activation)]
        );
    }
}

#[test]
fn ajp_fields_parse_with_their_units() {
    let query = "vahst=tc1&vaprt=8010&vacpt=60&vapng=5000&vact=100&vapt=200&vart=300&var=4&vari=50&vacpi=30&varo=3&vabl=10&vamps=16384";
    let request = parsed(query);
    let ms = Duration::from_millis;
    let s = Duration::from_secs;
    assert_eq!(
        request.edits.ajp,
        [
            AjpSetting::Host("tc1".to_owned()),
            AjpSetting::Port(8010),
            AjpSetting::ConnectionPoolTimeout(s(60)),
            AjpSetting::PingTimeout(ms(5000)),
            AjpSetting::ConnectTimeout(ms(100)),
            AjpSetting::PrepostTimeout(ms(200)),
            AjpSetting::ReplyTimeout(ms(300)),
            AjpSetting::Retries(4),
            AjpSetting::RetryInterval(ms(50)),
            AjpSetting::ConnectionPingInterval(s(30)),
            AjpSetting::RecoveryOptions(3),
            AjpSetting::BusyLimit(10),
            AjpSetting::MaxPacketSize(16384),
        ]
    );
    assert!(parse_query("vaprt=70000").is_err());
}

#[test]
fn every_field_round_trips_its_parameter_name() {
    assert_eq!(EditField::all().count(), 28);
    for field in EditField::all() {
        assert_eq!(EditField::from_param(field.param()), Some(field));
        assert!(!field.label().is_empty());
    }
}

#[test]
fn aspect_edit_collects_numbered_values_in_order() {
    let request = parsed("cmd=update&w=lb&att=vwf&val2=7&val0=3&val0=9&valx=1&val1=");
    let aspect = request.aspect.unwrap();
    assert_eq!(aspect.field, EditField::MemberLbFactor);
    assert_eq!(
        aspect.values,
        [
            (0, Setting::Member(MemberSetting::LbFactor(3))),
            (2, Setting::Member(MemberSetting::LbFactor(7)))
        ]
    );
    assert_eq!(
        parse_query("att=vwf&val0=x").unwrap_err().error,
        StatusError::InvalidValue {
            param: "vwf".to_owned(),
            value: "x".to_owned()
        }
    );
}

#[test]
fn commands_know_what_they_need() {
    assert!(
        Command::Update.changes_state()
            && Command::Reset.changes_state()
            && Command::Recover.changes_state()
    );
    assert!(!Command::Edit.changes_state() && Command::Edit.needs_write_access());
    assert!(
        !Command::List.needs_worker()
            && !Command::Version.needs_worker()
            && !Command::Dump.needs_worker()
    );
    assert!(Command::Show.needs_worker());
}
