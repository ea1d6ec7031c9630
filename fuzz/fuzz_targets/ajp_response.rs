//! The AJP13 response decoder (`ajp::parse_header` + `ajp::parse_payload`) over a stream of
//! packets, as a connection reads them.
//!
//! Invariants beyond "no panic": a packet is never said to be longer than the bytes given; every
//! view borrows from the payload; a SEND_HEADERS yields exactly as many headers as it counts and
//! `get` agrees with iteration; and each message, encoded again by this target's own encoder,
//! parses back to the same message (the decoder loses nothing it claims to have read).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mod_jk_rs::ajp::{parse_header, parse_payload, Response, DEFAULT_MAX_PACKET, HEADER_LEN};

/// A message with owned fields, for comparing two parses.
#[derive(Debug, PartialEq, Eq)]
enum Owned {
    Headers {
        status: u16,
        reason: Vec<u8>,
        headers: Vec<(Vec<u8>, Vec<u8>)>,
    },
    Body(Vec<u8>),
    End(bool),
    GetBody(u16),
    CPong,
}

fn owned(message: &Response<'_>) -> Owned {
    match message {
        Response::SendHeaders(h) => Owned::Headers {
            status: h.status,
            reason: h.reason.to_vec(),
            headers: h.headers().map(|(n, v)| (n.to_vec(), v.to_vec())).collect(),
        },
        Response::BodyChunk(data) => Owned::Body(data.to_vec()),
        Response::EndResponse { reuse } => Owned::End(*reuse),
        Response::GetBodyChunk { requested } => Owned::GetBody(*requested),
        Response::CPong => Owned::CPong,
    }
}

fn put_string(out: &mut Vec<u8>, s: &[u8]) {
    out.extend_from_slice(&(s.len() as u16).to_be_bytes());
    out.extend_from_slice(s);
    out.push(0);
}

/// The payload of `message` as a container would send it (header names as strings).
fn encode(message: &Owned) -> Vec<u8> {
    let mut out = Vec::new();
    match message {
        Owned::Headers {
            status,
            reason,
            headers,
        } => {
            out.push(4);
            out.extend_from_slice(&status.to_be_bytes());
            put_string(&mut out, reason);
            out.extend_from_slice(&(headers.len() as u16).to_be_bytes());
            for (name, value) in headers {
                put_string(&mut out, name);
                put_string(&mut out, value);
            }
        }
        Owned::Body(data) => {
            out.push(3);
            out.extend_from_slice(&(data.len() as u16).to_be_bytes());
            out.extend_from_slice(data);
        }
        Owned::End(reuse) => out.extend_from_slice(&[5, u8::from(*reuse)]),
        Owned::GetBody(n) => {
            out.push(6);
            out.extend_from_slice(&n.to_be_bytes());
        }
        Owned::CPong => out.push(9),
    }
    out
}

fn within(outer: &[u8], inner: &[u8]) -> bool {
    let (o, i) = (outer.as_ptr() as usize, inner.as_ptr() as usize);
    inner.is_empty() || (i >= o && i + inner.len() <= o + outer.len())
}

fn check(payload: &[u8]) {
    let Ok(message) = parse_payload(payload) else {
        return;
    };
    match &message {
        Response::SendHeaders(h) => {
            assert!(within(payload, h.reason));
            let all: Vec<_> = h.headers().collect();
            assert_eq!(all.len(), h.len(), "header count and iteration disagree");
            assert_eq!(h.headers().len(), h.len());
            assert_eq!(h.is_empty(), h.len() == 0);
            for (name, value) in &all {
                // Coded names come from a static table; string names borrow the payload.
                assert!(within(payload, value));
                let first = all
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case(name))
                    .map(|(_, v)| *v);
                assert_eq!(h.get(name), first, "get disagrees with iteration");
            }
            let _ = format!("{h:?}");
        }
        Response::BodyChunk(data) => {
            assert!(within(payload, data));
            assert!(
                data.len() + 3 <= payload.len(),
                "chunk longer than its payload"
            );
        }
        _ => {}
    }
    // Round trip: what was read, written again, reads back the same.
    let first = owned(&message);
    let again = encode(&first);
    if again.len() <= 0xFFFF {
        let reparsed = parse_payload(&again).expect("re-encoded message must parse");
        assert_eq!(owned(&reparsed), first, "round trip changed the message");
    }
}

fuzz_target!(|data: &[u8]| {
    // The first byte picks max_packet_size (8 KiB .. 64 KiB); the rest is the stream.
    let Some((&pick, mut stream)) = data.split_first() else {
        return;
    };
    let max = DEFAULT_MAX_PACKET + usize::from(pick) * 256;
    // Every payload alone too, whatever framing says (parse_payload is public on its own).
    check(stream);
    while let Some((header, rest)) = stream.split_first_chunk::<HEADER_LEN>() {
        let Ok(len) = parse_header(header, max) else {
            return;
        };
        assert!(
            len > 0 && len + HEADER_LEN <= max,
            "header length {len} over max {max}"
        );
        let Some(payload) = rest.get(..len) else {
            return; // need more bytes
        };
        check(payload);
        stream = &rest[len..];
    }
});
