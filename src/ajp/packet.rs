//! Typed appends and gets over one AJP packet (reference §6.1): bytes, booleans, big-endian u16
//! integers and AJP strings (u16 length, bytes, NUL; length 0xFFFF = null string).
//! [`PacketWriter`] fills a caller's `Vec` and never lets the packet grow past its limit;
//! [`PacketReader`] walks a payload slice and never reads past its end.

use super::codes::{HEADER_LEN, MAX_FRAMEABLE_PACKET, NULL_STRING};
use super::request::EncodeError;
use super::response::ProtocolError;

/// Writes one packet into a caller's buffer: magic, a length patched by [`PacketWriter::finish`],
/// then the payload.
///
/// The buffer is made `max` bytes long once and written in place (one bounds check per item,
/// no per-byte growth); [`PacketWriter::finish`] gives the packet's length, and the packet is
/// `buf[..len]`. The buffer is never shortened, so a reused buffer is zero-filled only once.
#[derive(Debug)]
pub struct PacketWriter<'b> {
    /// The whole room: `max` bytes.
    buf: &'b mut [u8],
    /// Bytes written so far, header included.
    pos: usize,
    /// Where appends must end: `max - reserved`.
    limit: usize,
    /// Largest packet allowed, header included; reported in [`EncodeError::TooLarge`].
    max: usize,
    /// Bytes kept free at the end for a trailer the owner will write last (FORWARD_REQUEST's
    /// 0xFF), so that running out of room shows up at the append that caused it.
    reserved: usize,
}

impl<'b> PacketWriter<'b> {
    /// Writes the packet header with a zero length at the start of `buf`.
    pub fn begin(
        buf: &'b mut Vec<u8>,
        magic: [u8; 2],
        max_packet: usize,
        reserved: usize,
    ) -> Result<Self, EncodeError> {
        let max = max_packet.min(MAX_FRAMEABLE_PACKET);
        if buf.len() < max {
            buf.resize(max, 0);
        }
        let mut writer = PacketWriter {
            buf: &mut buf[..max],
            pos: 0,
            limit: max.saturating_sub(reserved),
            max,
            reserved,
        };
        let head = writer.room(HEADER_LEN)?;
        head.copy_from_slice(&[magic[0], magic[1], 0, 0]);
        Ok(writer)
    }

    /// Bytes written so far, header included.
    pub fn len(&self) -> usize {
        self.pos
    }

    /// The next `n` bytes of the packet, taken: the one check of every append.
    #[inline(always)]
    fn room(&mut self, n: usize) -> Result<&mut [u8], EncodeError> {
        let at = self.pos;
        let end = at.saturating_add(n);
        if end > self.limit {
            return Err(self.too_large(n));
        }
        let room = self.buf.get_mut(at..end).ok_or(EncodeError::TooLarge {
            needed: end,
            max: self.max,
        })?;
        self.pos = end;
        Ok(room)
    }

    #[cold]
    fn too_large(&self, extra: usize) -> EncodeError {
        EncodeError::TooLarge {
            needed: self.pos.saturating_add(extra).saturating_add(self.reserved),
            max: self.max,
        }
    }

    #[inline(always)]
    pub fn put_byte(&mut self, value: u8) -> Result<(), EncodeError> {
        self.room(1)?[0] = value;
        Ok(())
    }

    #[inline(always)]
    pub fn put_bool(&mut self, value: bool) -> Result<(), EncodeError> {
        self.put_byte(u8::from(value))
    }

    #[inline(always)]
    pub fn put_u16(&mut self, value: u16) -> Result<(), EncodeError> {
        self.room(2)?.copy_from_slice(&value.to_be_bytes());
        Ok(())
    }

    /// An AJP string. Lengths of 0xFFFF and more cannot be said: 0xFFFF is the null marker.
    #[inline(always)]
    pub fn put_string(&mut self, value: &[u8]) -> Result<(), EncodeError> {
        self.put_prefixed([], value)
    }

    /// `prefix` as it is (a code byte, say), then `value` as an AJP string: one check for both.
    #[inline(always)]
    pub fn put_prefixed<const P: usize>(
        &mut self,
        prefix: [u8; P],
        value: &[u8],
    ) -> Result<(), EncodeError> {
        let n = string_len(value)?;
        let (code, text) = self.room(P + n + 3)?.split_at_mut(P);
        code.copy_from_slice(&prefix);
        write_string(text, value);
        Ok(())
    }

    /// Two AJP strings (a header's name and value), in one append.
    #[inline(always)]
    pub fn put_two_strings(&mut self, first: &[u8], second: &[u8]) -> Result<(), EncodeError> {
        self.put_named_with([], first, second)
    }

    /// A code byte and two AJP strings (a named attribute), in one append.
    #[inline(always)]
    pub fn put_named(&mut self, code: u8, name: &[u8], value: &[u8]) -> Result<(), EncodeError> {
        self.put_named_with([code], name, value)
    }

    /// `prefix`, then `first` and `second` as AJP strings, with one limit check for all.
    #[inline(always)]
    fn put_named_with<const P: usize>(
        &mut self,
        prefix: [u8; P],
        first: &[u8],
        second: &[u8],
    ) -> Result<(), EncodeError> {
        let (a, b) = (string_len(first)?, string_len(second)?);
        let (code, rest) = self.room(P + a + b + 6)?.split_at_mut(P);
        code.copy_from_slice(&prefix);
        let (one, two) = rest.split_at_mut(a + 3);
        write_string(one, first);
        write_string(two, second);
        Ok(())
    }

    /// Bytes as they are (an item encoded once and kept, say).
    pub fn put_raw(&mut self, bytes: &[u8]) -> Result<(), EncodeError> {
        self.room(bytes.len())?.copy_from_slice(bytes);
        Ok(())
    }

    /// An AJP string, or the null string for `None`.
    #[inline(always)]
    pub fn put_optional_string(&mut self, value: Option<&[u8]>) -> Result<(), EncodeError> {
        match value {
            Some(value) => self.put_string(value),
            None => self.put_u16(NULL_STRING),
        }
    }

    /// Overwrites a u16 written earlier at byte offset `at` (e.g. a count known only at the end).
    pub fn patch_u16(&mut self, at: usize, value: u16) {
        if let Some(slot) = self.buf[..self.pos].get_mut(at..at.saturating_add(2)) {
            slot.copy_from_slice(&value.to_be_bytes());
        }
    }

    /// Writes a byte into the room kept free by `reserved` (the packet's last byte).
    pub fn put_trailer(&mut self, value: u8) -> Result<(), EncodeError> {
        self.reserved = self.reserved.saturating_sub(1);
        self.limit = self.max.saturating_sub(self.reserved);
        self.put_byte(value)
    }

    /// Patches the payload length and returns the packet's size, header included: the packet
    /// is `buf[..size]` (what follows is left over from earlier packets).
    pub fn finish(mut self) -> usize {
        // `max` never exceeds MAX_FRAMEABLE_PACKET, so the payload length fits a u16.
        let payload = self.pos.saturating_sub(HEADER_LEN);
        self.patch_u16(2, u16::try_from(payload).unwrap_or(u16::MAX));
        self.pos
    }
}

/// A string's length, if an AJP string can say it: 0xFFFF and more cannot, 0xFFFF is the null
/// marker.
#[inline(always)]
fn string_len(value: &[u8]) -> Result<usize, EncodeError> {
    if value.len() >= usize::from(NULL_STRING) {
        return Err(EncodeError::StringTooLong);
    }
    Ok(value.len())
}

/// `value` as an AJP string into `dst`, which is exactly `value.len() + 3` bytes: u16 length,
/// the bytes, NUL. `value`'s length was checked by [`string_len`].
#[inline(always)]
fn write_string(dst: &mut [u8], value: &[u8]) {
    let (len, rest) = dst.split_at_mut(2);
    len.copy_from_slice(&(value.len() as u16).to_be_bytes());
    if let Some((nul, text)) = rest.split_last_mut() {
        text.copy_from_slice(value);
        *nul = 0;
    }
}

/// Reads typed values off the front of a payload; every get checks the bytes are there.
#[derive(Debug, Clone)]
pub struct PacketReader<'a> {
    rest: &'a [u8],
}

impl<'a> PacketReader<'a> {
    pub fn new(payload: &'a [u8]) -> Self {
        PacketReader { rest: payload }
    }

    /// The bytes not read yet.
    pub fn rest(&self) -> &'a [u8] {
        self.rest
    }

    /// Takes `n` bytes; `what` names the field in the error if they are not all there.
    pub fn bytes(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], ProtocolError> {
        if n > self.rest.len() {
            return Err(ProtocolError::Truncated { what });
        }
        let (taken, rest) = self.rest.split_at(n);
        self.rest = rest;
        Ok(taken)
    }

    pub fn byte(&mut self, what: &'static str) -> Result<u8, ProtocolError> {
        match self.bytes(1, what)? {
            [b] => Ok(*b),
            _ => Err(ProtocolError::Truncated { what }),
        }
    }

    pub fn u16(&mut self, what: &'static str) -> Result<u16, ProtocolError> {
        match self.bytes(2, what)? {
            [hi, lo] => Ok(u16::from_be_bytes([*hi, *lo])),
            _ => Err(ProtocolError::Truncated { what }),
        }
    }

    /// The next two bytes as a u16, without taking them.
    pub fn peek_u16(&self) -> Option<u16> {
        match self.rest {
            [hi, lo, ..] => Some(u16::from_be_bytes([*hi, *lo])),
            _ => None,
        }
    }

    /// An AJP string without its NUL; the null string reads as empty. The terminator must be
    /// present (it is counted), but its value is not checked, as in mod_jk and httpd.
    pub fn string(&mut self, what: &'static str) -> Result<&'a [u8], ProtocolError> {
        let len = self.u16(what)?;
        if len == NULL_STRING {
            return Ok(&[]);
        }
        let with_nul = self.bytes(usize::from(len) + 1, what)?;
        Ok(with_nul.split_last().map_or(&[][..], |(_, text)| text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writer_frames_typed_values_big_endian() {
        let mut buf = vec![0xEE; 3]; // stale content must go
        let mut w = PacketWriter::begin(&mut buf, [0x12, 0x34], 64, 0).unwrap();
        w.put_byte(7).unwrap();
        w.put_bool(true).unwrap();
        w.put_u16(0x0102).unwrap();
        w.put_string(b"ab").unwrap();
        w.put_optional_string(None).unwrap();
        w.put_string(b"").unwrap();
        assert_eq!(w.finish(), 18);
        assert_eq!(
            &buf[..18],
            b"\x12\x34\x00\x0e\x07\x01\x01\x02\x00\x02ab\x00\xff\xff\x00\x00\x00"
        );
    }

    #[test]
    fn writer_refuses_string_of_null_marker_length() {
        let mut buf = Vec::new();
        let mut w = PacketWriter::begin(&mut buf, [0x12, 0x34], usize::MAX, 0).unwrap();
        assert_eq!(
            w.put_string(&[b'x'; 0xFFFF]),
            Err(EncodeError::StringTooLong)
        );
        assert_eq!(
            w.put_string(&[b'x'; 0x10000]),
            Err(EncodeError::StringTooLong)
        );
        assert_eq!(w.len(), HEADER_LEN, "nothing written by a refused append");
    }

    #[test]
    fn writer_keeps_reserved_bytes_free() {
        let mut buf = Vec::new();
        let mut w = PacketWriter::begin(&mut buf, [0x12, 0x34], 7, 1).unwrap();
        w.put_byte(1).unwrap();
        w.put_byte(2).unwrap();
        assert_eq!(
            w.put_byte(3),
            Err(EncodeError::TooLarge { needed: 8, max: 7 })
        );
        w.put_bool(false).unwrap_err();
        assert_eq!(w.len(), 6);
        w.put_trailer(0xFF).unwrap();
        assert_eq!(w.finish(), 7);
        assert_eq!(buf[..7], [0x12, 0x34, 0x00, 0x03, 0x01, 0x02, 0xFF]);
    }

    #[test]
    fn writer_limit_never_exceeds_what_the_length_field_can_say() {
        let mut buf = Vec::new();
        let mut w = PacketWriter::begin(&mut buf, [0x12, 0x34], usize::MAX, 0).unwrap();
        assert_eq!(
            w.put_string(&[0; 0xFFFE]),
            Err(EncodeError::TooLarge {
                needed: HEADER_LEN + 0xFFFE + 3,
                max: MAX_FRAMEABLE_PACKET
            })
        );
        w.put_string(&[0; 0xFFFC]).unwrap();
        assert_eq!(w.finish(), MAX_FRAMEABLE_PACKET);
        assert_eq!(&buf[..4], &[0x12, 0x34, 0xFF, 0xFF]);
    }

    #[test]
    fn writer_begin_fails_when_even_the_header_does_not_fit() {
        let mut buf = Vec::new();
        assert_eq!(
            PacketWriter::begin(&mut buf, [0x12, 0x34], 3, 0).unwrap_err(),
            EncodeError::TooLarge { needed: 4, max: 3 }
        );
    }

    #[test]
    fn reader_gets_typed_values_and_stops_at_the_end() {
        let payload = b"\x07\x01\x02\x00\x02ab\x00\xff\xff\x00\x00\x00";
        let mut r = PacketReader::new(payload);
        assert_eq!(r.byte("a"), Ok(7));
        assert_eq!(r.peek_u16(), Some(0x0102));
        assert_eq!(r.u16("b"), Ok(0x0102));
        assert_eq!(r.string("c"), Ok(&b"ab"[..]));
        assert_eq!(r.string("d"), Ok(&b""[..]));
        assert_eq!(r.string("e"), Ok(&b""[..]));
        assert_eq!(r.rest(), b"");
        assert_eq!(r.peek_u16(), None);
        assert_eq!(r.byte("f"), Err(ProtocolError::Truncated { what: "f" }));
        assert_eq!(r.u16("g"), Err(ProtocolError::Truncated { what: "g" }));
        assert_eq!(r.string("h"), Err(ProtocolError::Truncated { what: "h" }));
    }

    #[test]
    fn reader_string_needs_its_terminator_byte() {
        let mut r = PacketReader::new(b"\x00\x02ab");
        assert_eq!(r.string("s"), Err(ProtocolError::Truncated { what: "s" }));
        let mut r = PacketReader::new(b"\x00\x01");
        assert_eq!(r.string("s"), Err(ProtocolError::Truncated { what: "s" }));
        let mut r = PacketReader::new(b"\x00");
        assert_eq!(r.string("s"), Err(ProtocolError::Truncated { what: "s" }));
    }

    #[test]
    fn reader_rejects_lengths_past_the_end() {
        let mut r = PacketReader::new(b"\xff\xfeab\x00");
        assert_eq!(r.string("s"), Err(ProtocolError::Truncated { what: "s" }));
        let mut r = PacketReader::new(b"abc");
        assert_eq!(
            r.bytes(usize::MAX, "n"),
            Err(ProtocolError::Truncated { what: "n" })
        );
        assert_eq!(r.rest(), b"abc", "a failed get takes nothing");
    }
}
