//! Links and forms of the HTML page: query links that keep `opt`, the POST buttons that
//! change state (each carries the anti-forgery token), and the edit forms for an lb, a
//! member, a plain ajp13 worker and one attribute of every member (aspect edit).

use super::View;
use crate::status::edits::EditField;
use crate::status::escape::html as e;
use crate::status::model::{AjpConfig, Balancer, BalancerConfig, Member};
use crate::status::target::Target;

/// `%XX` for everything but unreserved URL characters.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `base?k=v&…` (with the request's `opt` unless given), HTML-escaped for an attribute.
pub fn url(view: &View<'_>, params: &[(&str, &str)]) -> String {
    let opt = view.request.options.0.to_string();
    let mut pairs: Vec<(&str, &str)> = params.to_vec();
    if view.request.options.0 != 0 && !params.iter().any(|(k, _)| *k == "opt") {
        pairs.push(("opt", &opt));
    }
    let query: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect();
    let mut link = view.base_uri.to_owned();
    if !query.is_empty() {
        link.push('?');
        link.push_str(&query.join("&"));
    }
    e(&link)
}

pub fn query_link(view: &View<'_>, label: &str, params: &[(&str, &str)]) -> String {
    format!("<a href=\"{}\">{label}</a> ", url(view, params))
}

fn hidden(name: &str, value: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"{}\" value=\"{}\"/>",
        e(name),
        e(value)
    )
}

/// `<form method="post">` with the token, `w`, `sw`, `from` and `opt` already in.
fn form_start(view: &View<'_>, worker: &str, member: Option<&str>, class: &str) -> String {
    let mut out = format!(
        "<form class=\"{class}\" method=\"post\" action=\"{}\">",
        e(view.base_uri)
    );
    out.push_str(&hidden("token", view.token));
    out.push_str(&hidden("w", worker));
    if let Some(member) = member {
        out.push_str(&hidden("sw", member));
    }
    let from = view.request.command.name();
    out.push_str(&hidden("from", from));
    if view.request.options.0 != 0 {
        out.push_str(&hidden("opt", &view.request.options.0.to_string()));
    }
    out
}

/// A one-button POST form (drain, activate, reset, recover).
pub fn action_button(
    view: &View<'_>,
    worker: &str,
    member: Option<&str>,
    params: &[(&str, &str)],
    label: &str,
) -> String {
    let mut out = form_start(view, worker, member, "inline");
    for (name, value) in params {
        out.push_str(&hidden(name, value));
    }
    out.push_str(&format!("<button type=\"submit\">{label}</button></form> "));
    out
}

/// The edit page for `target`.
pub fn edit_page(view: &View<'_>, target: &Target<'_>) -> String {
    let mut out = String::from("<section>\n");
    match target {
        Target::Balancer { lb, .. } if view.request.aspect.is_some() => {
            let field = view.request.aspect.as_ref().map(|a| a.field);
            aspect_form(view, lb, field.expect("checked above"), &mut out);
        }
        Target::Balancer {
            lb,
            members,
            narrowed: true,
        } if members.len() == 1 => member_form(view, lb, members[0], &mut out),
        Target::Balancer { lb, .. } => balancer_form(view, lb, &mut out),
        Target::Ajp(worker) => {
            let form = SettingsForm {
                title: format!("Edit worker settings for {}", e(&worker.name)),
                worker: &worker.name,
                member: None,
                submit: "Update Worker",
            };
            let fields = EditField::all().filter(|f| f.param().starts_with("va"));
            form.write(view, fields, |f| ajp_value(f, &worker.ajp), &mut out);
        }
    }
    out.push_str("</section>\n");
    out
}

/// An update form: heading, hidden fields, one row per field, submit button.
struct SettingsForm<'a> {
    title: String,
    worker: &'a str,
    member: Option<&'a str>,
    submit: &'a str,
}

impl SettingsForm<'_> {
    fn write(
        &self,
        view: &View<'_>,
        fields: impl Iterator<Item = EditField>,
        value: impl Fn(EditField) -> String,
        out: &mut String,
    ) {
        out.push_str(&format!("<h2>{}</h2>\n", self.title));
        out.push_str(&form_start(view, self.worker, self.member, "edit"));
        out.push_str(&hidden("cmd", "update"));
        fields_table(fields, value, out);
        out.push_str(&format!(
            "<input type=\"submit\" value=\"{}\"/></form>\n",
            self.submit
        ));
    }
}

fn fields_table(
    fields: impl Iterator<Item = EditField>,
    value: impl Fn(EditField) -> String,
    out: &mut String,
) {
    out.push_str("<table>\n");
    for field in fields {
        out.push_str(&format!(
            "<tr><td><label for=\"{p}\">{}:</label></td><td>{}</td></tr>\n",
            field.label(),
            input(field, &value(field)),
            p = field.param()
        ));
    }
    out.push_str("</table>\n");
}

/// A text input, or a select for the fields with a fixed set of values.
fn input(field: EditField, current: &str) -> String {
    let choices: &[(&str, &str)] = match field {
        EditField::LbStickySession | EditField::LbStickySessionForce => {
            &[("1", "True"), ("0", "False")]
        }
        EditField::LbMethod => &[
            ("0", "Request"),
            ("1", "Traffic"),
            ("2", "Busyness"),
            ("3", "Sessions"),
            ("4", "Next"),
        ],
        EditField::LbLock => &[("0", "Optimistic"), ("1", "Pessimistic")],
        EditField::MemberActivation => &[("0", "ACT"), ("1", "DIS"), ("2", "STP")],
        _ => &[],
    };
    let name = field.param();
    if choices.is_empty() {
        return format!(
            "<input id=\"{name}\" name=\"{name}\" type=\"text\" value=\"{}\"/>",
            e(current)
        );
    }
    let mut out = format!("<select id=\"{name}\" name=\"{name}\">");
    for (value, label) in choices {
        let selected = if *label == current {
            " selected=\"selected\""
        } else {
            ""
        };
        out.push_str(&format!(
            "<option value=\"{value}\"{selected}>{label}</option>"
        ));
    }
    out.push_str("</select>");
    out
}

fn lb_value(field: EditField, c: &BalancerConfig) -> String {
    let yes = |b: bool| if b { "True" } else { "False" }.to_owned();
    match field {
        EditField::LbRetries => c.retries.to_string(),
        EditField::LbRetryInterval => c.retry_interval_ms.to_string(),
        EditField::LbRecoverTime => c.recover_time_s.to_string(),
        EditField::LbErrorEscalationTime => c.error_escalation_time_s.to_string(),
        EditField::LbMaxReplyTimeouts => c.max_reply_timeouts.to_string(),
        EditField::LbStickySession => yes(c.sticky_session),
        EditField::LbStickySessionForce => yes(c.sticky_session_force),
        EditField::LbMethod => c.method.name().to_owned(),
        EditField::LbLock => c.lock.name().to_owned(),
        _ => String::new(),
    }
}

fn member_value(field: EditField, m: &Member) -> String {
    match field {
        EditField::MemberActivation => m.activation.code().to_owned(),
        EditField::MemberLbFactor => m.lbfactor.to_string(),
        EditField::MemberRoute => m.route.clone(),
        EditField::MemberRedirect => m.redirect.clone(),
        EditField::MemberDomain => m.domain.clone(),
        EditField::MemberDistance => m.distance.to_string(),
        _ => ajp_value(field, &m.ajp),
    }
}

fn ajp_value(field: EditField, a: &AjpConfig) -> String {
    match field {
        EditField::AjpHost => a.host.clone(),
        EditField::AjpPort => a.port.to_string(),
        EditField::AjpConnectionPoolTimeout => a.connection_pool_timeout_s.to_string(),
        EditField::AjpPingTimeout => a.ping_timeout_ms.to_string(),
        EditField::AjpConnectTimeout => a.connect_timeout_ms.to_string(),
        EditField::AjpPrepostTimeout => a.prepost_timeout_ms.to_string(),
        EditField::AjpReplyTimeout => a.reply_timeout_ms.to_string(),
        EditField::AjpRetries => a.retries.to_string(),
        EditField::AjpRetryInterval => a.retry_interval_ms.to_string(),
        EditField::AjpConnectionPingInterval => a.connection_ping_interval_s.to_string(),
        EditField::AjpRecoveryOptions => a.recovery_options.to_string(),
        EditField::AjpBusyLimit => a.busy_limit.to_string(),
        EditField::AjpMaxPacketSize => a.max_packet_size.to_string(),
        _ => String::new(),
    }
}

fn balancer_form(view: &View<'_>, lb: &Balancer, out: &mut String) {
    let form = SettingsForm {
        title: format!("Edit load balancer settings for {}", e(&lb.name)),
        worker: &lb.name,
        member: None,
        submit: "Update Balancer",
    };
    let fields = EditField::all().filter(|f| !f.is_aspect());
    form.write(view, fields, |f| lb_value(f, &lb.config), out);
    out.push_str("<p>Edit one attribute for all members: ");
    for field in EditField::all()
        .filter(|f| f.is_aspect() && !matches!(f, EditField::AjpHost | EditField::AjpPort))
    {
        out.push_str(&query_link(
            view,
            field.label(),
            &[("cmd", "edit"), ("w", &lb.name), ("att", field.param())],
        ));
    }
    out.push_str("</p>\n");
}

fn member_form(view: &View<'_>, lb: &Balancer, m: &Member, out: &mut String) {
    let form = SettingsForm {
        title: format!("Edit worker settings for {}", e(&m.name)),
        worker: &lb.name,
        member: Some(&m.name),
        submit: "Update Worker",
    };
    let fields = EditField::all().filter(|f| f.is_aspect());
    form.write(view, fields, |f| member_value(f, m), out);
}

fn aspect_form(view: &View<'_>, lb: &Balancer, field: EditField, out: &mut String) {
    out.push_str(&format!(
        "<h2>Edit {} for all members of {}</h2>\n",
        field.label(),
        e(&lb.name)
    ));
    out.push_str(&form_start(view, &lb.name, None, "edit"));
    out.push_str(&hidden("cmd", "update"));
    out.push_str(&hidden("att", field.param()));
    out.push_str("<table>\n");
    for (index, m) in lb.members.iter().enumerate() {
        let name = format!("val{index}");
        let control = input(field, &member_value(field, m))
            .replace(&format!("\"{}\"", field.param()), &format!("\"{name}\""));
        out.push_str(&format!(
            "<tr><td>{}</td><td>{control}</td></tr>\n",
            e(&m.name)
        ));
    }
    out.push_str("</table>\n<input type=\"submit\" value=\"Update Balancer\"/></form>\n");
}
