//! The AJP/1.3 codec (reference §6): bytes ⇄ messages, no I/O. Requests are encoded into a
//! caller's reusable buffer; responses are parsed from a byte slice into borrowed views, with
//! "need more bytes" as a normal result and every length from the container bounds-checked.
#![forbid(unsafe_code)]

mod codes;
mod packet;
mod request;
mod response;

pub use codes::*;
pub use request::{
    body_packet_header, max_body_chunk, method_code, Attribute, EncodeError, ForwardRequestEncoder,
    RequestLine, CPING_PACKET, END_OF_BODY_PACKET,
};
pub use response::{
    parse_header, parse_payload, ProtocolError, Response, ResponseHeaders, SendHeaders,
};
