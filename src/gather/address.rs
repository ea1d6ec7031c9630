//! The client's address and port as the backend should see them: mod_remoteip's view, or the
//! local / physical address per `JkOptions`, then the `JK_REMOTE_*` indicator overrides.
use super::{Env, Source};
use crate::decimal::{decimal, Digits};
use crate::directives::{Flag, OptionSet};

/// The remote port's text: an indicator variable's value, or digits formatted on the stack.
pub enum RemotePort<'r> {
    Text(&'r [u8]),
    Number(Digits, usize),
}

impl RemotePort<'_> {
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            RemotePort::Text(t) => t,
            RemotePort::Number(buf, at) => &buf[*at..],
        }
    }
}

fn number<'r>(n: u16) -> RemotePort<'r> {
    let mut buf = Digits::default();
    let len = decimal(u64::from(n), &mut buf).len();
    RemotePort::Number(buf, buf.len() - len)
}

pub fn client_address<'r, S: Source<'r>>(
    src: &S,
    env: &Env<'_, 'r, S>,
    options: OptionSet,
) -> (&'r [u8], RemotePort<'r>) {
    let (mut addr, mut port) = (src.useragent_ip(), number(src.useragent_port()));
    if options.has(Flag::ForwardLocalAddress) {
        (addr, port) = (src.local_ip(), RemotePort::Text(b"0"));
    } else if options.has(Flag::ForwardPhysicalAddress) {
        // The connection's own peer, port included (behind mod_remoteip the client's port is
        // not known: the useragent port is 0).
        (addr, port) = (src.client_ip(), number(src.client_port()));
    }
    let addr = env.plain_indicator(|n| &n.remote_addr).unwrap_or(addr);
    let port = match env.plain_indicator(|n| &n.remote_port) {
        Some(p) => RemotePort::Text(p),
        None => port,
    };
    (addr, port)
}

#[cfg(test)]
mod tests {
    use super::super::fake::FakeRequest;
    use super::*;

    fn address(r: &FakeRequest, options: &[(&str, &str)]) -> (String, String) {
        let cfg = FakeRequest::vhost(options);
        let env = Env::new(r, Some(&cfg.env));
        let (a, p) = client_address(r, &env, cfg.options);
        (
            String::from_utf8_lossy(a).into_owned(),
            String::from_utf8_lossy(p.as_bytes()).into_owned(),
        )
    }

    #[test]
    fn the_user_agent_by_default() {
        let r = FakeRequest::get("/");
        assert_eq!(address(&r, &[]), ("192.0.2.7".into(), "50123".into()));
    }

    #[test]
    fn local_and_physical_addresses_on_request() {
        let r = FakeRequest::get("/");
        let local = [("JkOptions", "+ForwardLocalAddress")];
        assert_eq!(address(&r, &local), ("127.0.0.1".into(), "0".into()));
        let physical = [("JkOptions", "+ForwardPhysicalAddress")];
        assert_eq!(address(&r, &physical), ("10.9.8.7".into(), "40001".into()));
    }

    #[test]
    fn indicators_override_both() {
        let mut r = FakeRequest::get("/");
        r.env.push(("JK_REMOTE_ADDR", "198.51.100.1"));
        r.env.push(("JK_REMOTE_PORT", "4711"));
        assert_eq!(address(&r, &[]), ("198.51.100.1".into(), "4711".into()));
    }
}
