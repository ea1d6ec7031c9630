//! `JkOptions` (reference §1.3): the flags, their bit values, parsing of `+Flag -Flag Flag`
//! lists, and mod_jk's merge of a virtual host's options over the main server's.

const FORWARD_URI_COMPAT: u32 = 0x0001;
const FORWARD_URI_COMPAT_UNPARSED: u32 = 0x0002;
const FORWARD_URI_ESCAPED: u32 = 0x0003;
const FORWARD_URI_PROXY: u32 = 0x0004;
const FORWARD_URI_MASK: u32 = 0x0007;
const FORWARD_DIRECTORIES: u32 = 0x0008;
const FORWARD_LOCAL_ADDRESS: u32 = 0x0010;
const FLUSH_PACKETS: u32 = 0x0020;
const FLUSH_HEADER: u32 = 0x0040;
const DISABLE_REUSE: u32 = 0x0080;
const FORWARD_SSL_CERT_CHAIN: u32 = 0x0100;
const FORWARD_KEY_SIZE: u32 = 0x0200;
const REJECT_UNSAFE_URI: u32 = 0x0400;
const FORWARD_PHYSICAL_ADDRESS: u32 = 0x0800;
/// ForwardLocalAddress and ForwardPhysicalAddress share this mask: at most one of them.
const FORWARD_ADDRESS_MASK: u32 = 0x0810;

/// mod_jk's defaults: ForwardURIProxy and ForwardKeySize.
const DEFAULT: u32 = FORWARD_URI_PROXY | FORWARD_KEY_SIZE;

const FLAGS: &[(&str, u32)] = &[
    ("ForwardURICompat", FORWARD_URI_COMPAT),
    ("ForwardURICompatUnparsed", FORWARD_URI_COMPAT_UNPARSED),
    ("ForwardURIEscaped", FORWARD_URI_ESCAPED),
    ("ForwardURIProxy", FORWARD_URI_PROXY),
    ("ForwardDirectories", FORWARD_DIRECTORIES),
    ("ForwardLocalAddress", FORWARD_LOCAL_ADDRESS),
    ("FlushPackets", FLUSH_PACKETS),
    ("FlushHeader", FLUSH_HEADER),
    ("DisableReuse", DISABLE_REUSE),
    ("ForwardSSLCertChain", FORWARD_SSL_CERT_CHAIN),
    ("ForwardKeySize", FORWARD_KEY_SIZE),
    ("RejectUnsafeURI", REJECT_UNSAFE_URI),
    ("ForwardPhysicalAddress", FORWARD_PHYSICAL_ADDRESS),
];

/// How the request's URI is forwarded (one mode at a time; reference §1.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForwardUri {
    /// The decoded path re-encoded (the default): `%252e` can never become `..` on Tomcat.
    Proxy,
    /// The decoded path as httpd normalised it.
    Compat,
    /// The path as the client sent it.
    CompatUnparsed,
    /// The decoded path escaped with httpd's `ap_escape_uri` rules.
    Escaped,
}

/// A `JkOptions` flag that is on or off (the ForwardURI modes are [`ForwardUri`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flag {
    ForwardDirectories = FORWARD_DIRECTORIES as isize,
    ForwardLocalAddress = FORWARD_LOCAL_ADDRESS as isize,
    FlushPackets = FLUSH_PACKETS as isize,
    FlushHeader = FLUSH_HEADER as isize,
    DisableReuse = DISABLE_REUSE as isize,
    ForwardSslCertChain = FORWARD_SSL_CERT_CHAIN as isize,
    ForwardKeySize = FORWARD_KEY_SIZE as isize,
    RejectUnsafeUri = REJECT_UNSAFE_URI as isize,
    ForwardPhysicalAddress = FORWARD_PHYSICAL_ADDRESS as isize,
}

/// The effective options of a server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptionSet(u32);

impl Default for OptionSet {
    fn default() -> OptionSet {
        OptionSet(DEFAULT)
    }
}

impl OptionSet {
    pub fn has(self, flag: Flag) -> bool {
        self.0 & flag as u32 != 0
    }

    pub fn forward_uri(self) -> ForwardUri {
        match self.0 & FORWARD_URI_MASK {
            FORWARD_URI_COMPAT => ForwardUri::Compat,
            FORWARD_URI_COMPAT_UNPARSED => ForwardUri::CompatUnparsed,
            FORWARD_URI_ESCAPED => ForwardUri::Escaped,
            _ => ForwardUri::Proxy,
        }
    }

    /// mod_jk's bit value (the status worker shows it).
    pub fn bits(self) -> u32 {
        self.0
    }
}

/// Accepted and ignored since mod_jk 1.2.44 (slashes are always collapsed).
const IGNORED: &[&str] = &[
    "CollapseSlashesAll",
    "CollapseSlashesNone",
    "CollapseSlashesUnmount",
];

/// The options one server set: what was added and what was removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JkOptions {
    pub plus: u32,
    pub minus: u32,
}

impl JkOptions {
    /// Applies one `JkOptions` line; returns warnings (ignored flags). Errors: unknown flag, a
    /// negated ForwardURI option, and the mutually exclusive address options.
    pub fn apply(&mut self, line: &str) -> Result<Vec<String>, String> {
        let mut warnings = Vec::new();
        for word in line.split_whitespace() {
            let (sign, name) = if let Some(n) = word.strip_prefix('+') {
                ('+', n)
            } else if let Some(n) = word.strip_prefix('-') {
                ('-', n)
            } else {
                ('+', word)
            };
            if IGNORED.iter().any(|i| i.eq_ignore_ascii_case(name)) {
                warnings.push(format!(
                    "JkOptions {name} is ignored: slashes are always collapsed before mapping"
                ));
                continue;
            }
            let Some(&(canonical, bit)) = FLAGS.iter().find(|(n, _)| n.eq_ignore_ascii_case(name))
            else {
                let known: Vec<&str> = FLAGS.iter().map(|(n, _)| *n).collect();
                let hint = crate::config::suggest(name, known.iter().copied())
                    .map(|s| format!("; did you mean '{s}'?"))
                    .unwrap_or_default();
                return Err(format!("JkOptions: unknown option '{word}'{hint}"));
            };
            if bit <= FORWARD_URI_MASK {
                if sign == '-' {
                    return Err(format!("JkOptions: '{word}': a ForwardURI option cannot be negated; choose another one"));
                }
                // One ForwardURI mode at a time: the last one named wins.
                self.plus = (self.plus & !FORWARD_URI_MASK) | bit;
                continue;
            }
            if sign == '+' {
                if bit & FORWARD_ADDRESS_MASK != 0 && self.plus & FORWARD_ADDRESS_MASK & !bit != 0 {
                    return Err(format!(
                        "JkOptions: {canonical} cannot be combined with {}",
                        if bit == FORWARD_LOCAL_ADDRESS {
                            "ForwardPhysicalAddress"
                        } else {
                            "ForwardLocalAddress"
                        }
                    ));
                }
                self.plus |= bit;
                self.minus &= !bit;
            } else {
                self.minus |= bit;
                self.plus &= !bit;
            }
        }
        Ok(warnings)
    }

    /// The effective options of a server: mod_jk's `(main_plus − main_minus) + own_plus −
    /// own_minus` over the defaults.
    pub fn effective(main: &JkOptions, own: Option<&JkOptions>) -> OptionSet {
        OptionSet(JkOptions::effective_bits(main, own))
    }

    fn effective_bits(main: &JkOptions, own: Option<&JkOptions>) -> u32 {
        let mut bits = DEFAULT;
        let mut layer = |o: &JkOptions| {
            if o.plus & FORWARD_URI_MASK != 0 {
                bits &= !FORWARD_URI_MASK;
            }
            bits = (bits | o.plus) & !o.minus;
            if o.plus & FORWARD_ADDRESS_MASK != 0 {
                bits = (bits & !FORWARD_ADDRESS_MASK) | (o.plus & FORWARD_ADDRESS_MASK);
            }
        };
        layer(main);
        if let Some(o) = own {
            layer(o);
        }
        bits
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(lines: &[&str]) -> Result<JkOptions, String> {
        let mut o = JkOptions::default();
        for l in lines {
            o.apply(l)?;
        }
        Ok(o)
    }

    #[test]
    fn defaults_are_forward_uri_proxy_and_key_size() {
        let set = JkOptions::effective(&JkOptions::default(), None);
        assert_eq!(set.bits(), FORWARD_URI_PROXY | FORWARD_KEY_SIZE);
        assert_eq!(set, OptionSet::default());
        assert_eq!(set.forward_uri(), ForwardUri::Proxy);
        assert!(set.has(Flag::ForwardKeySize) && !set.has(Flag::FlushPackets));
    }

    #[test]
    fn forward_uri_modes_replace_each_other() {
        let o = opts(&["+ForwardURICompatUnparsed"]).unwrap();
        assert_eq!(
            JkOptions::effective(&o, None).forward_uri(),
            ForwardUri::CompatUnparsed
        );
        let o = opts(&["ForwardURIEscaped", "+ForwardURICompat"]).unwrap();
        assert_eq!(
            JkOptions::effective(&o, None).forward_uri(),
            ForwardUri::Compat
        );
        let o = opts(&["ForwardURIEscaped"]).unwrap();
        assert_eq!(
            JkOptions::effective(&o, None).forward_uri(),
            ForwardUri::Escaped
        );
    }

    #[test]
    fn negated_forward_uri_is_an_error() {
        assert!(opts(&["-ForwardURIProxy"])
            .unwrap_err()
            .contains("cannot be negated"));
    }

    #[test]
    fn unknown_option_is_an_error_with_a_suggestion() {
        let e = opts(&["+FlushPacket"]).unwrap_err();
        assert!(
            e.contains("unknown option '+FlushPacket'") && e.contains("FlushPackets"),
            "{e}"
        );
    }

    #[test]
    fn every_flag_is_its_mod_jk_bit() {
        let all = opts(&[
            "+ForwardDirectories +ForwardLocalAddress +FlushPackets +FlushHeader \
            +DisableReuse +ForwardSSLCertChain +RejectUnsafeURI",
        ])
        .unwrap();
        let set = JkOptions::effective(&all, None);
        for flag in [
            Flag::ForwardDirectories,
            Flag::ForwardLocalAddress,
            Flag::FlushPackets,
            Flag::FlushHeader,
            Flag::DisableReuse,
            Flag::ForwardSslCertChain,
            Flag::ForwardKeySize,
            Flag::RejectUnsafeUri,
        ] {
            assert!(set.has(flag), "{flag:?}");
        }
        assert!(!set.has(Flag::ForwardPhysicalAddress));
        assert_eq!(set.bits(), 0x07f8 | FORWARD_URI_PROXY);
    }

    #[test]
    fn local_and_physical_address_are_exclusive() {
        assert!(opts(&["+ForwardLocalAddress +ForwardPhysicalAddress"]).is_err());
        assert!(opts(&[
            "+ForwardLocalAddress",
            "-ForwardLocalAddress +ForwardPhysicalAddress"
        ])
        .is_ok());
    }

    #[test]
    fn collapse_slashes_options_only_warn() {
        let mut o = JkOptions::default();
        let w = o.apply("+CollapseSlashesAll").unwrap();
        assert_eq!(w.len(), 1);
        assert_eq!(o, JkOptions::default());
    }

    #[test]
    fn vhost_options_merge_over_main() {
        let main = opts(&["+FlushPackets -ForwardKeySize"]).unwrap();
        let vhost = opts(&["-FlushPackets +DisableReuse"]).unwrap();
        let set = JkOptions::effective(&main, Some(&vhost));
        assert!(!set.has(Flag::FlushPackets));
        assert!(set.has(Flag::DisableReuse));
        assert!(!set.has(Flag::ForwardKeySize));
        assert!(JkOptions::effective(&main, None).has(Flag::FlushPackets));
    }
}
