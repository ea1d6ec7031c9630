//! The request as FORWARD_REQUEST needs it ([`RequestInfo`], borrowed from httpd) and its
//! encoding, headers and attributes in mod_jk's order (reference §6.3).
#![forbid(unsafe_code)]

use super::client::Client;
use crate::ajp::{
    method_code, Attribute, EncodeError, ForwardRequestEncoder, RequestLine, CONTENT_LENGTH,
    METHOD_STORED,
};
use std::time::Duration;

/// How the request body is framed, as httpd saw it.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    /// No body (no Content-Length, or 0, and not chunked).
    #[default]
    None,
    /// `Content-Length: n` with n > 0.
    Length(u64),
    /// `Transfer-Encoding: chunked`: length unknown until the end.
    Chunked,
}

/// SSL facts forwarded as AJP attributes (from mod_ssl's environment).
#[derive(Debug, Default, Clone, Copy)]
pub struct SslInfo<'a> {
    pub cert: Option<&'a [u8]>,
    pub cipher: Option<&'a [u8]>,
    pub session: Option<&'a [u8]>,
    pub key_size: Option<u16>,
    pub protocol: Option<&'a [u8]>,
}

/// Everything about the request that goes into FORWARD_REQUEST, borrowed from httpd.
#[derive(Debug, Default, Clone, Copy)]
pub struct RequestInfo<'a> {
    pub method: &'a [u8],
    pub protocol: &'a [u8],
    /// The URI to forward (already encoded per the ForwardURI option), without the query.
    pub uri: &'a [u8],
    pub query: Option<&'a [u8]>,
    pub remote_addr: &'a [u8],
    pub remote_port: &'a [u8],
    pub remote_host: Option<&'a [u8]>,
    pub local_addr: &'a [u8],
    pub server_name: &'a [u8],
    pub server_port: u16,
    pub is_ssl: bool,
    pub remote_user: Option<&'a [u8]>,
    pub auth_type: Option<&'a [u8]>,
    pub ssl: SslInfo<'a>,
    pub body: BodyKind,
    /// Per-request reply timeout (`JK_REPLY_TIMEOUT`, mount extension); `None` = the worker's.
    pub reply_timeout: Option<Option<Duration>>,
    /// `JkEnvVar` attributes (name, value).
    pub env_attributes: &'a [(&'a [u8], &'a [u8])],
    /// `JkOptions +FlushPackets`: flush after every body chunk.
    pub flush_packets: bool,
    /// `JkOptions +FlushHeader`: flush right after the headers.
    pub flush_header: bool,
    /// `JkOptions +DisableReuse`: close the backend connection after the request.
    pub disable_reuse: bool,
    /// The mount rule's `fail_on_status`, replacing the worker's.
    pub fail_on_status: Option<&'a [i32]>,
    /// The mount rule's `use_server_errors`: statuses from this one up get httpd's error page.
    pub use_server_errors: Option<u16>,
}

impl RequestInfo<'_> {
    pub(super) fn is_head(&self) -> bool {
        self.method == b"HEAD"
    }

    /// RFC 9110 §9.2.2: replaying these on another connection cannot duplicate an effect.
    pub(super) fn is_idempotent(&self) -> bool {
        matches!(
            self.method,
            b"GET" | b"HEAD" | b"OPTIONS" | b"TRACE" | b"PUT" | b"DELETE"
        )
    }
}

/// What the backend an attempt goes to adds to FORWARD_REQUEST: its lb route and activation
/// (none and ACT for a plain worker), and the worker's secret.
#[derive(Debug, Clone, Copy)]
pub(super) struct Routing<'m> {
    pub route: Option<&'m [u8]>,
    pub activation: &'m [u8],
    pub secret: Option<&'m str>,
}

/// FORWARD_REQUEST with headers and attributes in mod_jk's order (reference §6.3).
pub(super) fn encode_request(
    buf: &mut Vec<u8>,
    max: usize,
    req: &RequestInfo<'_>,
    routing: &Routing<'_>,
    client: &dyn Client,
) -> Result<usize, EncodeError> {
    let method = method_code(req.method);
    let line = RequestLine {
        method,
        protocol: req.protocol,
        req_uri: req.uri,
        remote_addr: req.remote_addr,
        remote_host: req.remote_host,
        server_name: req.server_name,
        server_port: req.server_port,
        is_ssl: req.is_ssl,
    };
    let mut enc = ForwardRequestEncoder::begin(buf, max, &line)?;
    encode_headers(&mut enc, req, client)?;
    encode_attributes(&mut enc, req, routing, method == METHOD_STORED)?;
    enc.finish()
}

/// The request headers as httpd has them, with Content-Length made to fit the body's framing.
fn encode_headers(
    enc: &mut ForwardRequestEncoder<'_>,
    req: &RequestInfo<'_>,
    client: &dyn Client,
) -> Result<(), EncodeError> {
    let mut sink = HeaderSink {
        enc,
        chunked: req.body == BodyKind::Chunked,
        has_length: false,
    };
    client.for_each_header(&mut sink)?;
    if req.body == BodyKind::None && !sink.has_length {
        // AJP13 reads a missing Content-Length as "unknown, non-zero" (reference §6.5).
        sink.enc.header(b"Content-Length", b"0")?;
    }
    Ok(())
}

/// Where a [`Client`] puts the request headers: into FORWARD_REQUEST, Content-Length made to
/// fit the body's framing.
pub struct HeaderSink<'e, 'b> {
    enc: &'e mut ForwardRequestEncoder<'b>,
    chunked: bool,
    has_length: bool,
}

impl HeaderSink<'_, '_> {
    /// One request header, as the client has it.
    #[inline]
    pub fn header(&mut self, name: &[u8], value: &[u8]) -> Result<(), EncodeError> {
        if CONTENT_LENGTH.is(name) {
            // A chunked body has no length; AJP would read a stale one as the body size.
            if self.chunked {
                return Ok(());
            }
            self.has_length = true;
        }
        self.enc.header(name, value)
    }
}

/// The attributes, in mod_jk's order; `stored`: the method has no code of its own.
fn encode_attributes(
    enc: &mut ForwardRequestEncoder<'_>,
    req: &RequestInfo<'_>,
    routing: &Routing<'_>,
    stored: bool,
) -> Result<(), EncodeError> {
    if let Some(s) = routing.secret {
        enc.attribute(Attribute::Secret(s.as_bytes()))?;
    }
    if let Some(u) = req.remote_user {
        enc.attribute(Attribute::RemoteUser(u))?;
    }
    if let Some(a) = req.auth_type {
        enc.attribute(Attribute::AuthType(a))?;
    }
    if let Some(q) = req.query {
        enc.attribute(Attribute::QueryString(q))?;
    }
    if let Some(r) = routing.route {
        enc.attribute(Attribute::Route(r))?;
    }
    if let Some(c) = req.ssl.cert {
        enc.attribute(Attribute::SslCert(c))?;
    }
    if let Some(c) = req.ssl.cipher {
        enc.attribute(Attribute::SslCipher(c))?;
    }
    if let Some(s) = req.ssl.session {
        enc.attribute(Attribute::SslSession(s))?;
    }
    if let Some(k) = req.ssl.key_size {
        enc.attribute(Attribute::SslKeySize(k))?;
    }
    if stored {
        enc.attribute(Attribute::StoredMethod(req.method))?;
    }
    if let Some(p) = req.ssl.protocol {
        enc.attribute(Attribute::ReqAttribute {
            name: b"AJP_SSL_PROTOCOL",
            value: p,
        })?;
    }
    enc.attribute(Attribute::ReqAttribute {
        name: b"AJP_REMOTE_PORT",
        value: req.remote_port,
    })?;
    enc.attribute(Attribute::ReqAttribute {
        name: b"AJP_LOCAL_ADDR",
        value: req.local_addr,
    })?;
    enc.attribute(Attribute::ReqAttribute {
        name: b"JK_LB_ACTIVATION",
        value: routing.activation,
    })?;
    for &(name, value) in req.env_attributes {
        enc.attribute(Attribute::ReqAttribute { name, value })?;
    }
    Ok(())
}
