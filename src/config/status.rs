//! The typed status worker (jkstatus, mod_jk reference §2.7): page styling, access list and
//! the good/bad rating rules turned into bit masks.

use super::ajp::Activation;
use super::reader::Reader;

/// Rating masks (mod_jk reference §5.4). A member's bits are its activation mask AND its
/// state mask; a rule like `a.o` is the AND of its letters, a rule list the OR of its rules.
/// A member is rated good/bad when `mask & member_bits != 0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rating;

impl Rating {
    pub const ACTIVE: u32 = 0x0000_00FF;
    pub const DISABLED: u32 = 0x0000_FF00;
    pub const STOPPED: u32 = 0x00FF_0000;
    pub const OK: u32 = 0x0001_0101;
    pub const IDLE: u32 = 0x0002_0202;
    pub const BUSY: u32 = 0x0004_0404;
    pub const RECOVER: u32 = 0x0008_0808;
    pub const ERROR: u32 = 0x0010_1010;

    /// The bits of a member with `activation` in the state given by one of the state masks.
    pub fn member_bits(activation: Activation, state: u32) -> u32 {
        let activation = match activation {
            Activation::Active => Rating::ACTIVE,
            Activation::Disabled => Rating::DISABLED,
            Activation::Stopped => Rating::STOPPED,
        };
        activation & state
    }

    fn letter(c: char) -> Option<u32> {
        match c.to_ascii_lowercase() {
            'a' => Some(Rating::ACTIVE),
            'd' => Some(Rating::DISABLED),
            's' => Some(Rating::STOPPED),
            'o' => Some(Rating::OK),
            'i' | 'n' => Some(Rating::IDLE),
            'b' => Some(Rating::BUSY),
            'r' => Some(Rating::RECOVER),
            'e' => Some(Rating::ERROR),
            _ => None,
        }
    }

    /// One rule such as `a.o`, `e` or `s`: the first letter of each of (at most) two
    /// dot-separated words, ANDed. `Err` carries the unknown letter.
    pub fn parse_rule(rule: &str) -> Result<u32, char> {
        let words = rule
            .trim_matches(|c: char| c == '.' || c.is_whitespace())
            .split('.');
        let mut mask = None;
        for word in words.take(2) {
            if let Some(c) = word.chars().next() {
                let bits = Rating::letter(c).ok_or(c)?;
                mask = Some(mask.unwrap_or(u32::MAX) & bits);
            }
        }
        Ok(mask.unwrap_or(0))
    }
}

/// The default `good` rules.
pub const DEFAULT_GOOD: [&str; 4] = ["a.o", "a.i", "a.b", "a.r"];
/// The default `bad` rules.
pub const DEFAULT_BAD: [&str; 2] = ["e", "s"];

/// A status worker (jkstatus page).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusWorker {
    pub name: String,
    /// Stylesheet URL for the HTML page.
    pub css: Option<String>,
    /// Key prefix of the `prop` format; default `worker`.
    pub prefix: String,
    /// XML element prefix; default `jk:`, `-` in the file = none (empty).
    pub ns: String,
    /// XML namespace attribute; default `xmlns:jk="http://tomcat.apache.org"`, `-` = none.
    pub xmlns: String,
    /// Inserted after the XML declaration.
    pub doctype: Option<String>,
    /// No edit/update/reset/recover.
    pub read_only: bool,
    /// Users allowed in (compared with the authenticated user); empty = anyone.
    pub user: Vec<String>,
    pub user_case_insensitive: bool,
    /// Rating rules as written (default `a.o,a.i,a.b,a.r`).
    pub good: Vec<String>,
    /// Rating rules as written (default `e,s`).
    pub bad: Vec<String>,
    /// `good` as a [`Rating`] mask.
    pub good_mask: u32,
    /// `bad` as a [`Rating`] mask.
    pub bad_mask: u32,
    /// URI patterns from `worker.<name>.mount`.
    pub mount: Vec<String>,
    /// `persist`: the file where run-time edits are journaled so they survive a full restart
    /// (beyond mod_jk, which loses them); relative to ServerRoot.
    pub persist: Option<String>,
}

impl StatusWorker {
    pub fn with_defaults(name: &str) -> StatusWorker {
        StatusWorker {
            name: name.to_owned(),
            css: None,
            prefix: "worker".to_owned(),
            ns: "jk:".to_owned(),
            xmlns: "xmlns:jk=\"http://tomcat.apache.org\"".to_owned(),
            doctype: None,
            read_only: false,
            user: Vec::new(),
            user_case_insensitive: false,
            good: DEFAULT_GOOD.iter().map(|s| s.to_string()).collect(),
            bad: DEFAULT_BAD.iter().map(|s| s.to_string()).collect(),
            good_mask: rules_mask(DEFAULT_GOOD),
            bad_mask: rules_mask(DEFAULT_BAD),
            mount: Vec::new(),
            persist: None,
        }
    }
}

fn rules_mask<'a>(rules: impl IntoIterator<Item = &'a str>) -> u32 {
    rules
        .into_iter()
        .filter_map(|rule| Rating::parse_rule(rule).ok())
        .fold(0, |mask, rule| mask | rule)
}

/// `-` switches a namespace setting off (mod_jk).
fn dash_means_none(text: &str) -> String {
    if text.starts_with('-') {
        String::new()
    } else {
        text.to_owned()
    }
}

fn read_rating(reader: &mut Reader<'_, '_>, attr: &str) -> Option<(Vec<String>, u32)> {
    let items = reader.list(attr);
    if items.is_empty() {
        return None;
    }
    let mut rules = Vec::new();
    let mut mask = 0;
    for (rule, _) in items {
        match Rating::parse_rule(rule) {
            Ok(bits) => mask |= bits,
            Err(letter) => {
                let message = format!(
                    "unknown rating letter '{letter}' in '{rule}' of {}: use a, d, s (activation) and o, i, b, r, e (state)",
                    reader.key(attr)
                );
                reader.error(attr, message);
            }
        }
        rules.push(rule.to_owned());
    }
    Some((rules, mask))
}

pub(crate) fn build(reader: &mut Reader<'_, '_>) -> StatusWorker {
    let mut status = StatusWorker::with_defaults(reader.worker);
    status.css = reader.text("css").map(str::to_owned);
    if let Some(prefix) = reader.text("prefix") {
        status.prefix = prefix.to_owned();
    }
    if let Some(ns) = reader.text("ns") {
        status.ns = dash_means_none(ns);
    }
    if let Some(xmlns) = reader.text("xmlns") {
        status.xmlns = dash_means_none(xmlns);
    }
    status.doctype = reader.text("doctype").map(str::to_owned);
    status.persist = reader
        .text("persist")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_owned);
    status.read_only = reader.bool("read_only", false);
    status.user = reader
        .list("user")
        .into_iter()
        .map(|(user, _)| user.to_owned())
        .collect();
    status.user_case_insensitive = reader.bool("user_case_insensitive", false);
    if let Some((rules, mask)) = read_rating(reader, "good") {
        status.good = rules;
        status.good_mask = mask;
    }
    if let Some((rules, mask)) = read_rating(reader, "bad") {
        status.bad = rules;
        status.bad_mask = mask;
    }
    if status.good_mask & status.bad_mask != 0 && (reader.is_set("good") || reader.is_set("bad")) {
        let attr = if reader.is_set("bad") { "bad" } else { "good" };
        let message = format!(
            "status worker '{}' rates some members both good and bad (good {:08x}, bad {:08x})",
            status.name, status.good_mask, status.bad_mask
        );
        reader.warn(attr, message);
    }
    status.mount = reader
        .list("mount")
        .into_iter()
        .map(|(pattern, _)| pattern.to_owned())
        .collect();
    status
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_masks_match_mod_jk() {
        let status = StatusWorker::with_defaults("s");
        assert_eq!(status.good_mask, 0x0000_000F);
        assert_eq!(status.bad_mask, 0x00FF_1010);
    }

    #[test]
    fn rating_rules_and_letters() {
        let cases = [
            ("a.o", Ok(0x0000_0001)),
            ("e", Ok(Rating::ERROR)),
            ("s", Ok(Rating::STOPPED)),
            ("d.n", Ok(0x0000_0200)),
            (" .a.i", Ok(0x0000_0002)),
            ("active.ok", Ok(0x0000_0001)),
            ("x", Err('x')),
            ("a.q", Err('q')),
        ];
        for (rule, expected) in cases {
            assert_eq!(Rating::parse_rule(rule), expected, "{rule:?}");
        }
    }

    #[test]
    fn member_bits_combine_activation_and_state() {
        let bits = Rating::member_bits(Activation::Disabled, Rating::ERROR);
        assert_eq!(bits, 0x0000_1000);
        assert_ne!(bits & StatusWorker::with_defaults("s").bad_mask, 0);
    }
}
