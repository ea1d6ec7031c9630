//! Everything FORWARD_REQUEST carries, gathered from the request: what has to be computed or
//! copied is kept in [`Gathered`], and [`Gathered::info`] lends it out as the proxy's
//! `RequestInfo` together with what is borrowed straight from the request.
use super::address::client_address;
pub use super::address::RemotePort;
use super::body::InvalidContentLength;
use super::{body_kind, forwarded_uri, Env, Source};
use crate::directives::{Flag, OptionSet, VhostConfig};
use crate::mount::MountRule;
use crate::proxy::{BodyKind, RequestInfo, SslInfo};
use std::borrow::Cow;
use std::ffi::CString;
use std::time::Duration;

/// What a request's FORWARD_REQUEST needs that is not a plain borrow of the request.
pub struct Gathered<'r> {
    pub options: OptionSet,
    pub uri: Cow<'r, [u8]>,
    pub body: BodyKind,
    remote_addr: &'r [u8],
    remote_port: RemotePort<'r>,
    is_ssl: bool,
    /// The SSL facts are forwarded (`JkExtractSSL` and an SSL request).
    extract_ssl: bool,
    chain: Option<Vec<u8>>,
    env_attributes: Vec<(&'r [u8], &'r [u8])>,
}

impl<'r> Gathered<'r> {
    /// `decoded_uri`: the decoded path to forward instead of `src.uri()` (the URI as the client
    /// sent it, when httpd's `r->uri` was replaced by its normal form).
    pub fn collect<S: Source<'r>>(
        src: &S,
        env: &Env<'_, 'r, S>,
        cfg: Option<&'r VhostConfig>,
        decoded_uri: Option<&'r [u8]>,
    ) -> Result<Gathered<'r>, InvalidContentLength> {
        let options = cfg.map_or_else(OptionSet::default, |c| c.options);
        let body = body_kind(
            src.header(c"Transfer-Encoding"),
            src.header(c"Content-Length"),
            env.plain_indicator(|n| &n.ignore_cl).is_some(),
        )?;
        let (remote_addr, remote_port) = client_address(src, env, options);
        let https = env.names().map_or(c"HTTPS", |n| n.https.as_c_str());
        let is_ssl = src
            .env(https)
            .is_some_and(|v| v.eq_ignore_ascii_case(b"on"));
        let extract_ssl = is_ssl && cfg.is_none_or(|c| c.extract_ssl);
        Ok(Gathered {
            options,
            uri: forwarded_uri(
                options.forward_uri(),
                decoded_uri.or_else(|| src.uri()),
                src.unparsed_uri(),
            ),
            body,
            remote_addr,
            remote_port,
            is_ssl,
            extract_ssl,
            chain: if extract_ssl {
                certificate_chain(env, options)
            } else {
                None
            },
            env_attributes: env_attributes(src, cfg),
        })
    }

    /// The request as the proxy forwards it; `rule` is the mount rule that mapped it.
    pub fn info<'a, S: Source<'r>>(
        &'a self,
        src: &S,
        env: &Env<'_, 'r, S>,
        rule: Option<&'a MountRule>,
    ) -> RequestInfo<'a>
    where
        'r: 'a,
    {
        let o = self.options;
        RequestInfo {
            method: src.method(),
            protocol: src.protocol(),
            uri: &self.uri,
            query: src.args(),
            remote_addr: self.remote_addr,
            remote_port: self.remote_port.as_bytes(),
            remote_host: env
                .plain_indicator(|n| &n.remote_host)
                .or_else(|| src.remote_host()),
            local_addr: env
                .plain_indicator(|n| &n.local_addr)
                .unwrap_or_else(|| src.local_ip()),
            server_name: env
                .plain_indicator(|n| &n.local_name)
                .unwrap_or_else(|| src.server_name()),
            server_port: env
                .plain_indicator(|n| &n.local_port)
                .and_then(|v| std::str::from_utf8(v).ok()?.parse().ok())
                .unwrap_or_else(|| src.server_port()),
            is_ssl: self.is_ssl,
            remote_user: env
                .plain_indicator(|n| &n.remote_user)
                .or_else(|| src.user()),
            auth_type: env
                .plain_indicator(|n| &n.auth_type)
                .or_else(|| src.auth_type()),
            ssl: if self.extract_ssl {
                ssl_info(env, o, self.chain.as_deref())
            } else {
                SslInfo::default()
            },
            body: self.body,
            reply_timeout: reply_timeout_override(
                env.has_jk().then(|| src.env(c"JK_REPLY_TIMEOUT")).flatten(),
                rule,
            ),
            env_attributes: &self.env_attributes,
            flush_packets: o.has(Flag::FlushPackets),
            flush_header: o.has(Flag::FlushHeader),
            disable_reuse: o.has(Flag::DisableReuse),
            fail_on_status: rule
                .map(|r| r.extensions.fail_on_status.as_slice())
                .filter(|f| !f.is_empty()),
            use_server_errors: rule.and_then(|r| r.extensions.use_server_errors),
        }
    }
}

/// `JkEnvVar` attributes: the variable's value, else its configured default.
fn env_attributes<'r, S: Source<'r>>(
    src: &S,
    cfg: Option<&'r VhostConfig>,
) -> Vec<(&'r [u8], &'r [u8])> {
    let Some(cfg) = cfg else { return Vec::new() };
    cfg.env_vars
        .iter()
        .filter_map(|v| {
            let value = src
                .env(&v.name)
                .or(v.default.as_deref().map(str::as_bytes))?;
            Some((v.name.to_bytes(), value))
        })
        .collect()
}

/// `JK_REPLY_TIMEOUT` (ms), else the rule's `reply_timeout`: 0 = none, negative or garbage =
/// the worker's own (`None`).
fn reply_timeout_override(
    variable: Option<&[u8]>,
    rule: Option<&MountRule>,
) -> Option<Option<Duration>> {
    let from_env = variable
        .and_then(|v| std::str::from_utf8(v).ok()?.trim().parse::<i64>().ok())
        .filter(|ms| *ms >= 0);
    let ms = from_env.or_else(|| {
        rule.and_then(|r| r.extensions.reply_timeout)
            .filter(|ms| *ms >= 0)
    })?;
    Some((ms > 0).then(|| Duration::from_millis(ms as u64)))
}

/// `+ForwardSSLCertChain`: the client certificate followed by SSL_CLIENT_CERT_CHAIN_0, _1, …
fn certificate_chain<'r, S: Source<'r>>(
    env: &Env<'_, 'r, S>,
    options: OptionSet,
) -> Option<Vec<u8>> {
    if !options.has(Flag::ForwardSslCertChain) {
        return None;
    }
    let names = env.names()?;
    let mut all = env.get(&names.certs)?.to_vec();
    for i in 0..64 {
        let Ok(name) = CString::new(format!("{}{i}", names.cert_chain_prefix)) else {
            break;
        };
        let Some(link) = env.get(&name) else { break };
        all.extend_from_slice(link);
    }
    Some(all)
}

/// SSL facts from mod_ssl's environment.
fn ssl_info<'a, 'r: 'a, S: Source<'r>>(
    env: &Env<'_, 'r, S>,
    options: OptionSet,
    chain: Option<&'a [u8]>,
) -> SslInfo<'a> {
    SslInfo {
        cert: chain.or_else(|| env.indicator(|n| &n.certs)),
        cipher: env.indicator(|n| &n.cipher),
        session: env.indicator(|n| &n.session),
        key_size: options
            .has(Flag::ForwardKeySize)
            .then(|| {
                env.indicator(|n| &n.key_size)
                    .and_then(|v| std::str::from_utf8(v).ok()?.parse().ok())
            })
            .flatten(),
        protocol: env.indicator(|n| &n.ssl_protocol),
    }
}

#[cfg(test)]
mod tests {
    use super::super::fake::FakeRequest;
    use super::*;

    fn with<T>(r: &FakeRequest, lines: &[(&str, &str)], f: impl FnOnce(RequestInfo<'_>) -> T) -> T {
        let cfg = Box::leak(Box::new(FakeRequest::vhost(lines)));
        let env = Env::new(r, Some(&cfg.env));
        let g = Gathered::collect(r, &env, Some(cfg), None).unwrap();
        f(g.info(r, &env, None))
    }

    #[test]
    fn a_plain_get_borrows_the_request() {
        let mut r = FakeRequest::get("/app/x");
        r.args = Some("a=1");
        r.user = Some("alice");
        with(&r, &[], |i| {
            assert_eq!(i.method, b"GET");
            assert_eq!(i.uri, b"/app/x");
            assert_eq!(i.query, Some(&b"a=1"[..]));
            assert_eq!(i.remote_port, b"50123");
            assert_eq!(i.remote_user, Some(&b"alice"[..]));
            assert_eq!(i.server_port, 80);
            assert!(!i.is_ssl && i.ssl.cipher.is_none());
            assert_eq!(i.body, BodyKind::None);
            assert!(!i.flush_packets && i.reply_timeout.is_none());
        });
    }

    #[test]
    fn ssl_facts_only_for_ssl_requests_and_jk_extract_ssl() {
        let mut r = FakeRequest::get("/");
        r.env.push(("HTTPS", "on"));
        r.env.push(("SSL_CIPHER", "TLS_AES_128_GCM_SHA256"));
        r.env.push(("SSL_CIPHER_USEKEYSIZE", "128"));
        r.env.push(("SSL_CLIENT_CERT", "A"));
        r.env.push(("SSL_CLIENT_CERT_CHAIN_0", "B"));
        r.env.push(("SSL_CLIENT_CERT_CHAIN_1", "C"));
        with(&r, &[], |i| {
            assert!(i.is_ssl);
            assert_eq!(i.ssl.key_size, Some(128));
            assert_eq!(i.ssl.cert, Some(&b"A"[..]));
        });
        with(&r, &[("JkOptions", "+ForwardSSLCertChain")], |i| {
            assert_eq!(i.ssl.cert, Some(&b"ABC"[..]));
        });
        with(&r, &[("JkExtractSSL", "Off")], |i| {
            assert!(i.is_ssl && i.ssl.cipher.is_none());
        });
    }

    #[test]
    fn env_vars_are_forwarded_with_their_defaults() {
        let mut r = FakeRequest::get("/");
        r.env.push(("SET", "v"));
        let lines = [
            ("JkEnvVar", "SET d1"),
            ("JkEnvVar", "UNSET d2"),
            ("JkEnvVar", "NONE"),
        ];
        with(&r, &lines, |i| {
            assert_eq!(
                i.env_attributes,
                [(&b"SET"[..], &b"v"[..]), (&b"UNSET"[..], &b"d2"[..])]
            );
        });
    }

    #[test]
    fn options_reach_the_request() {
        let r = FakeRequest::get("/");
        let lines = [("JkOptions", "+FlushPackets +FlushHeader +DisableReuse")];
        with(&r, &lines, |i| {
            assert!(i.flush_packets && i.flush_header && i.disable_reuse);
        });
    }

    #[test]
    fn a_broken_content_length_is_refused() {
        let mut r = FakeRequest::get("/");
        r.headers.push(("Content-Length", "ten"));
        let env = Env::new(&r, None);
        assert_eq!(
            Gathered::collect(&r, &env, None, None).err(),
            Some(InvalidContentLength)
        );
        r.env.push(("JK_IGNORE_CL", "1"));
        let names = FakeRequest::names(&[]);
        let env = Env::new(&r, Some(&names));
        assert_eq!(
            Gathered::collect(&r, &env, None, None).unwrap().body,
            BodyKind::Chunked
        );
    }

    #[test]
    fn reply_timeout_from_the_variable_then_the_rule() {
        let rule = crate::mount::parse_mount(
            "/x",
            "w;reply_timeout=900",
            crate::mount::MountSource::JkMount,
            crate::config::Origin::new("h", 1),
            false,
        )
        .unwrap()
        .remove(0);
        let ms = |n| Some(Some(Duration::from_millis(n)));
        assert_eq!(reply_timeout_override(None, Some(&rule)), ms(900));
        assert_eq!(reply_timeout_override(Some(b"250"), Some(&rule)), ms(250));
        assert_eq!(reply_timeout_override(Some(b"-1"), Some(&rule)), ms(900));
        assert_eq!(
            reply_timeout_override(Some(b"250"), None),
            Some(Some(Duration::from_millis(250)))
        );
        assert_eq!(reply_timeout_override(Some(b"0"), None), Some(None));
        assert_eq!(reply_timeout_override(Some(b"-5"), None), None);
        assert_eq!(reply_timeout_override(Some(b"soon"), None), None);
        assert_eq!(reply_timeout_override(None, None), None);
    }
}
