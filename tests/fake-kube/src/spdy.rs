//! SPDY/3.1 framing, written from the SPDY Protocol draft 3.1, for the exec transport that
//! `kubectl` before 1.29 speaks (and every API server still accepts).
//!
//! A SPDY session runs over the raw connection an HTTP `Upgrade: SPDY/3.1` hands over.
//! Everything on it is a frame with an 8-byte header:
//!
//! ```text
//! control frame                         data frame
//! +-+-------------+----------------+    +-+------------------------------+
//! |1| version (15)|    type (16)   |    |0|        stream id (31)        |
//! +-+-------------+----------------+    +--------+-----------------------+
//! | flags (8) |     length (24)    |    |flags(8)|      length (24)      |
//! +-----------+--------------------+    +--------+-----------------------+
//! |       payload (length bytes)   |    |     data (length bytes)        |
//! ```
//!
//! The control frames are [`Frame::SynStream`] (type 1), [`Frame::SynReply`] (2),
//! [`Frame::RstStream`] (3), [`Frame::Settings`] (4), [`Frame::Ping`] (6),
//! [`Frame::GoAway`] (7), [`Frame::Headers`] (8) and [`Frame::WindowUpdate`] (9). Stream ids
//! are odd for streams the client opens, even for the server's. `FIN` (0x01) on a data frame,
//! a SYN_STREAM, a SYN_REPLY or a HEADERS frame half-closes the sender's side of the stream.
//!
//! Headers travel as a name/value block (a 32-bit count, then for each pair a 32-bit length
//! and the lowercase name, a 32-bit length and the value; several values of one name are
//! joined with NUL), compressed with zlib and the SPDY/3 [`DICTIONARY`]. Each direction of a
//! session is ONE zlib stream: the first block starts with the zlib header (which names the
//! dictionary by its Adler-32), every block ends with a sync flush, and the compression state
//! carries over from block to block. So each side keeps a [`Deflater`] for what it sends and
//! an [`Inflater`] for what it receives, for the whole session.

use std::io;

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};
use tokio::io::{AsyncRead, AsyncReadExt};

/// The protocol version this module speaks (SPDY/3 framing; 3.1 only adds session flow control).
pub const VERSION: u16 = 3;

/// `FLAG_FIN`: the sender's half of the stream ends with this frame.
pub const FLAG_FIN: u8 = 0x01;

/// The most a frame's 24-bit length field can say.
pub const MAX_LENGTH: usize = 0x00ff_ffff;

/// RST_STREAM status `REFUSED_STREAM`.
pub const REFUSED_STREAM: u32 = 3;

/// The zlib dictionary for SPDY/3 header blocks (section 2.6.10.1 of the draft), 1423 bytes:
/// length-prefixed common header names and values, then status lines, dates and media types.
/// Its Adler-32, `0xe3c6a7c2`, is the dictionary id in every SPDY/3 header stream's zlib
/// header.
pub const DICTIONARY: &[u8; 1423] = b"\
    \0\0\0\x07options\0\0\0\x04head\0\0\0\x04post\0\0\0\x03put\0\0\0\x06delete\0\0\0\x05trace\
    \0\0\0\x06accept\0\0\0\x0eaccept-charset\0\0\0\x0faccept-encoding\0\0\0\x0faccept-language\
    \0\0\0\x0daccept-ranges\0\0\0\x03age\0\0\0\x05allow\0\0\0\x0dauthorization\
    \0\0\0\x0dcache-control\0\0\0\x0aconnection\0\0\0\x0ccontent-base\0\0\0\x10content-encoding\
    \0\0\0\x10content-language\0\0\0\x0econtent-length\0\0\0\x10content-location\
    \0\0\0\x0bcontent-md5\0\0\0\x0dcontent-range\0\0\0\x0ccontent-type\0\0\0\x04date\0\0\0\x04etag\
    \0\0\0\x06expect\0\0\0\x07expires\0\0\0\x04from\0\0\0\x04host\0\0\0\x08if-match\
    \0\0\0\x11if-modified-since\0\0\0\x0dif-none-match\0\0\0\x08if-range\
    \0\0\0\x13if-unmodified-since\0\0\0\x0dlast-modified\0\0\0\x08location\0\0\0\x0cmax-forwards\
    \0\0\0\x06pragma\0\0\0\x12proxy-authenticate\0\0\0\x13proxy-authorization\0\0\0\x05range\
    \0\0\0\x07referer\0\0\0\x0bretry-after\0\0\0\x06server\0\0\0\x02te\0\0\0\x07trailer\
    \0\0\0\x11transfer-encoding\0\0\0\x07upgrade\0\0\0\x0auser-agent\0\0\0\x04vary\0\0\0\x03via\
    \0\0\0\x07warning\0\0\0\x10www-authenticate\0\0\0\x06method\0\0\0\x03get\0\0\0\x06status\
    \0\0\0\x06200 OK\0\0\0\x07version\0\0\0\x08HTTP/1.1\0\0\0\x03url\0\0\0\x06public\
    \0\0\0\x0aset-cookie\0\0\0\x0akeep-alive\0\0\0\x06origin\
    100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505\
    203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request\
    401 Unauthorized403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented\
    503 Service Unavailable\
    Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT\
    chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,\
    text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.";

/// The Adler-32 of [`DICTIONARY`], as a zlib header names it.
pub const DICTIONARY_ID: u32 = 0xe3c6_a7c2;

/// A name/value header block: lowercase names; a value holding several values joins them
/// with NUL, as on the wire.
pub type Headers = Vec<(String, String)>;

/// The first value of `name` in `headers`.
pub fn header<'a>(headers: &'a Headers, name: &str) -> Option<&'a str> {
    headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.split('\0').next().unwrap_or_default())
}

/// One SPDY frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// SYN_STREAM (1): opens `stream_id`. Flags: FIN, UNIDIRECTIONAL (0x02).
    SynStream {
        /// The new stream.
        stream_id: u32,
        /// The stream this one is associated with (server push), or 0.
        associated_to: u32,
        /// Priority, 0 (highest) to 7.
        priority: u8,
        /// The credential slot (0: none).
        slot: u8,
        /// Frame flags.
        flags: u8,
        /// The stream's headers.
        headers: Headers,
    },
    /// SYN_REPLY (2): the receiver accepts `stream_id`. Flags: FIN.
    SynReply {
        /// The stream answered.
        stream_id: u32,
        /// Frame flags.
        flags: u8,
        /// The reply's headers.
        headers: Headers,
    },
    /// RST_STREAM (3): `stream_id` ends abnormally with `status` (1 PROTOCOL_ERROR,
    /// 3 REFUSED_STREAM, 5 CANCEL, ...).
    RstStream {
        /// The stream reset.
        stream_id: u32,
        /// Why.
        status: u32,
    },
    /// SETTINGS (4): `(flags, id, value)` entries (id 7 is INITIAL_WINDOW_SIZE). Flag 0x01 on
    /// the frame clears persisted settings.
    Settings {
        /// Frame flags.
        flags: u8,
        /// The entries: an 8-bit flag, a 24-bit id and a 32-bit value each.
        entries: Vec<(u8, u32, u32)>,
    },
    /// PING (6): the receiver echoes a ping its peer started (the client's ids are odd).
    Ping {
        /// The ping's id.
        id: u32,
    },
    /// GOAWAY (7): the sender opens no more streams; `last_good_stream_id` is the last one it
    /// took from its peer. Status 0 OK, 1 PROTOCOL_ERROR, 2 INTERNAL_ERROR.
    GoAway {
        /// The last stream the sender accepted.
        last_good_stream_id: u32,
        /// Why.
        status: u32,
    },
    /// HEADERS (8): more headers for `stream_id`. Flags: FIN.
    Headers {
        /// The stream.
        stream_id: u32,
        /// Frame flags.
        flags: u8,
        /// The extra headers.
        headers: Headers,
    },
    /// WINDOW_UPDATE (9): the receiver may send `delta` more bytes on `stream_id` (0: the
    /// whole session, SPDY/3.1).
    WindowUpdate {
        /// The stream (0 for the session).
        stream_id: u32,
        /// How many more bytes.
        delta: u32,
    },
    /// A data frame on `stream_id`. Flags: FIN.
    Data {
        /// The stream.
        stream_id: u32,
        /// Frame flags.
        flags: u8,
        /// The bytes.
        data: Vec<u8>,
    },
    /// A control frame of a type this module does not know (the draft says to ignore it).
    Unknown {
        /// Its type.
        kind: u16,
        /// Its flags.
        flags: u8,
        /// Its payload.
        payload: Vec<u8>,
    },
}

fn invalid(what: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.into())
}

fn u32_at(b: &[u8], at: usize) -> io::Result<u32> {
    b.get(at..at + 4)
        .and_then(|s| s.try_into().ok())
        .map(u32::from_be_bytes)
        .ok_or_else(|| invalid("a SPDY frame is shorter than its fields"))
}

/// The uncompressed name/value block of `headers`.
pub fn encode_block(headers: &Headers) -> Vec<u8> {
    let mut out = Vec::new();
    let len = |n: usize| u32::try_from(n).unwrap_or(u32::MAX).to_be_bytes();
    out.extend_from_slice(&len(headers.len()));
    for (name, value) in headers {
        out.extend_from_slice(&len(name.len()));
        out.extend_from_slice(name.to_ascii_lowercase().as_bytes());
        out.extend_from_slice(&len(value.len()));
        out.extend_from_slice(value.as_bytes());
    }
    out
}

/// Parses an uncompressed name/value block.
pub fn decode_block(b: &[u8]) -> io::Result<Headers> {
    let count = u32_at(b, 0)? as usize;
    let mut at = 4;
    let take = |at: &mut usize| -> io::Result<String> {
        let n = u32_at(b, *at)? as usize;
        let s = b.get(*at + 4..*at + 4 + n).ok_or_else(|| invalid("a header block is shorter than its lengths"))?;
        *at += 4 + n;
        String::from_utf8(s.to_vec()).map_err(|_| invalid("a header is not UTF-8"))
    };
    // Each pair takes at least 8 bytes: a count larger than that is a corrupt block.
    let mut headers = Vec::with_capacity(count.min(b.len() / 8));
    for _ in 0..count {
        let name = take(&mut at)?;
        let value = take(&mut at)?;
        headers.push((name, value));
    }
    if at != b.len() {
        return Err(invalid("bytes after the last header"));
    }
    Ok(headers)
}

/// Compresses the header blocks one side sends: one zlib stream with the SPDY dictionary.
#[derive(Debug)]
pub struct Deflater(Compress);

impl Deflater {
    /// A fresh stream; its first block will carry the zlib header naming the dictionary.
    pub fn new() -> io::Result<Self> {
        let mut c = Compress::new(Compression::default(), true);
        c.set_dictionary(DICTIONARY).map_err(|e| invalid(format!("zlib dictionary: {e}")))?;
        Ok(Self(c))
    }

    /// `headers` as the next compressed block, ended with a sync flush.
    pub fn block(&mut self, headers: &Headers) -> io::Result<Vec<u8>> {
        let input = encode_block(headers);
        let start = self.0.total_in();
        let mut out = Vec::with_capacity(input.len() + 64);
        loop {
            let done = usize::try_from(self.0.total_in() - start).unwrap_or(usize::MAX);
            self.0
                .compress_vec(&input[done.min(input.len())..], &mut out, FlushCompress::Sync)
                .map_err(|e| invalid(format!("zlib: {e}")))?;
            let done = usize::try_from(self.0.total_in() - start).unwrap_or(usize::MAX);
            // The flush is complete once all input is in and zlib left room in the output.
            if done >= input.len() && out.len() < out.capacity() {
                return Ok(out);
            }
            out.reserve(out.capacity().max(64));
        }
    }
}

/// Decompresses the header blocks one side receives (the peer's zlib stream).
#[derive(Debug)]
pub struct Inflater(Decompress);

impl Inflater {
    /// A fresh stream, expecting the zlib header first.
    pub fn new() -> Self {
        Self(Decompress::new(true))
    }

    /// The next compressed block, which ends with a sync flush, as headers.
    pub fn block(&mut self, compressed: &[u8]) -> io::Result<Headers> {
        let start = self.0.total_in();
        let mut out = Vec::with_capacity(compressed.len() * 4 + 64);
        loop {
            let done = usize::try_from(self.0.total_in() - start).unwrap_or(usize::MAX).min(compressed.len());
            let (before_in, before_out) = (self.0.total_in(), self.0.total_out());
            match self.0.decompress_vec(&compressed[done..], &mut out, FlushDecompress::Sync) {
                Ok(Status::StreamEnd) => return Err(invalid("the peer ended its header stream")),
                Ok(_) => {}
                // The zlib header names a dictionary: it must be SPDY's.
                Err(e) if e.needs_dictionary().is_some() => {
                    if e.needs_dictionary() != Some(DICTIONARY_ID) {
                        return Err(invalid("the header stream uses another zlib dictionary"));
                    }
                    self.0.set_dictionary(DICTIONARY).map_err(|e| invalid(format!("zlib dictionary: {e}")))?;
                    continue;
                }
                Err(e) => return Err(invalid(format!("zlib: {e}"))),
            }
            let done = usize::try_from(self.0.total_in() - start).unwrap_or(usize::MAX);
            if done >= compressed.len() && out.len() < out.capacity() {
                return decode_block(&out);
            }
            if out.len() == out.capacity() {
                out.reserve(out.capacity().max(64));
            } else if (self.0.total_in(), self.0.total_out()) == (before_in, before_out) {
                return Err(invalid("a header block does not decompress"));
            }
        }
    }
}

impl Default for Inflater {
    fn default() -> Self {
        Self::new()
    }
}

fn control(kind: u16, flags: u8, payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(8 + payload.len());
    v.extend_from_slice(&(0x8000 | VERSION).to_be_bytes());
    v.extend_from_slice(&kind.to_be_bytes());
    v.push(flags);
    v.extend_from_slice(&length(payload.len()));
    v.extend_from_slice(payload);
    v
}

fn length(n: usize) -> [u8; 3] {
    let [_, a, b, c] = u32::try_from(n.min(MAX_LENGTH)).unwrap_or_default().to_be_bytes();
    [a, b, c]
}

fn join(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

impl Frame {
    /// The frame's bytes; header blocks go through `deflater`, the sender's zlib stream.
    /// Data longer than [`MAX_LENGTH`] is the caller's to split (a data frame of 16 KiB is
    /// usual).
    pub fn encode(&self, deflater: &mut Deflater) -> io::Result<Vec<u8>> {
        let id = |n: u32| (n & 0x7fff_ffff).to_be_bytes();
        Ok(match self {
            Frame::SynStream { stream_id, associated_to, priority, slot, flags, headers } => {
                let block = deflater.block(headers)?;
                control(
                    1,
                    *flags,
                    &join(&[&id(*stream_id), &id(*associated_to), &[(priority & 7) << 5, *slot], &block]),
                )
            }
            Frame::SynReply { stream_id, flags, headers } => {
                control(2, *flags, &join(&[&id(*stream_id), &deflater.block(headers)?]))
            }
            Frame::RstStream { stream_id, status } => control(3, 0, &join(&[&id(*stream_id), &status.to_be_bytes()])),
            Frame::Settings { flags, entries } => {
                let mut p = u32::try_from(entries.len()).unwrap_or(u32::MAX).to_be_bytes().to_vec();
                for (f, key, value) in entries {
                    p.push(*f);
                    p.extend_from_slice(&length(*key as usize));
                    p.extend_from_slice(&value.to_be_bytes());
                }
                control(4, *flags, &p)
            }
            Frame::Ping { id } => control(6, 0, &id.to_be_bytes()),
            Frame::GoAway { last_good_stream_id, status } => {
                control(7, 0, &join(&[&id(*last_good_stream_id), &status.to_be_bytes()]))
            }
            Frame::Headers { stream_id, flags, headers } => {
                control(8, *flags, &join(&[&id(*stream_id), &deflater.block(headers)?]))
            }
            Frame::WindowUpdate { stream_id, delta } => control(9, 0, &join(&[&id(*stream_id), &id(*delta)])),
            Frame::Unknown { kind, flags, payload } => control(*kind, *flags, payload),
            Frame::Data { stream_id, flags, data } => {
                if data.len() > MAX_LENGTH {
                    return Err(invalid("a data frame longer than 16 MiB"));
                }
                let mut v = Vec::with_capacity(8 + data.len());
                v.extend_from_slice(&id(*stream_id));
                v.push(*flags);
                v.extend_from_slice(&length(data.len()));
                v.extend_from_slice(data);
                v
            }
        })
    }

    /// Parses a frame from its 8-byte header and its payload; header blocks go through
    /// `inflater`, the peer's zlib stream, so every frame of a session must pass here in order.
    pub fn decode(head: [u8; 8], payload: &[u8], inflater: &mut Inflater) -> io::Result<Frame> {
        let flags = head[4];
        let first = u32::from_be_bytes([head[0], head[1], head[2], head[3]]);
        if first & 0x8000_0000 == 0 {
            return Ok(Frame::Data { stream_id: first & 0x7fff_ffff, flags, data: payload.to_vec() });
        }
        let version = (first >> 16) as u16 & 0x7fff;
        if version != VERSION {
            return Err(invalid(format!("SPDY version {version}, not {VERSION}")));
        }
        let kind = first as u16;
        let id = |at: usize| u32_at(payload, at).map(|n| n & 0x7fff_ffff);
        let block = |at: usize, inflater: &mut Inflater| {
            inflater.block(payload.get(at..).ok_or_else(|| invalid("a SPDY frame is shorter than its fields"))?)
        };
        Ok(match kind {
            1 => {
                let (stream_id, associated_to) = (id(0)?, id(4)?);
                let (priority, slot) = match payload.get(8..10) {
                    Some([p, s]) => (p >> 5, *s),
                    _ => return Err(invalid("a SYN_STREAM is too short")),
                };
                Frame::SynStream { stream_id, associated_to, priority, slot, flags, headers: block(10, inflater)? }
            }
            2 => Frame::SynReply { stream_id: id(0)?, flags, headers: block(4, inflater)? },
            3 => Frame::RstStream { stream_id: id(0)?, status: u32_at(payload, 4)? },
            4 => {
                let count = u32_at(payload, 0)? as usize;
                let entries = (0..count)
                    .map(|i| {
                        let word = u32_at(payload, 4 + i * 8)?;
                        Ok(((word >> 24) as u8, word & 0x00ff_ffff, u32_at(payload, 8 + i * 8)?))
                    })
                    .collect::<io::Result<_>>()?;
                Frame::Settings { flags, entries }
            }
            6 => Frame::Ping { id: u32_at(payload, 0)? },
            7 => Frame::GoAway { last_good_stream_id: id(0)?, status: u32_at(payload, 4).unwrap_or_default() },
            8 => Frame::Headers { stream_id: id(0)?, flags, headers: block(4, inflater)? },
            9 => Frame::WindowUpdate { stream_id: id(0)?, delta: id(4)? },
            _ => Frame::Unknown { kind, flags, payload: payload.to_vec() },
        })
    }
}

/// Reads the next frame; `None` at a clean end of the connection between frames.
pub async fn read_frame<R: AsyncRead + Unpin>(r: &mut R, inflater: &mut Inflater) -> io::Result<Option<Frame>> {
    let mut head = [0u8; 8];
    match r.read_exact(&mut head[..1]).await {
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    r.read_exact(&mut head[1..]).await?;
    let len = u32::from_be_bytes([0, head[5], head[6], head[7]]) as usize;
    let mut payload = vec![0u8; len];
    r.read_exact(&mut payload).await?;
    Frame::decode(head, &payload, inflater).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn adler32(b: &[u8]) -> u32 {
        let (mut a, mut s) = (1u32, 0u32);
        for &x in b {
            a = (a + u32::from(x)) % 65521;
            s = (s + a) % 65521;
        }
        (s << 16) | a
    }

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex")).collect()
    }

    fn h(pairs: &[(&str, &str)]) -> Headers {
        pairs.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect()
    }

    async fn read_all(mut wire: &[u8], inflater: &mut Inflater) -> Vec<Frame> {
        let mut frames = Vec::new();
        while let Some(f) = read_frame(&mut wire, inflater).await.expect("frame") {
            frames.push(f);
        }
        frames
    }

    #[test]
    fn the_dictionary_is_spdy_3s() {
        assert_eq!(DICTIONARY.len(), 1423);
        assert_eq!(adler32(DICTIONARY), DICTIONARY_ID);
        assert!(DICTIONARY.starts_with(b"\0\0\0\x07options\0\0\0\x04head"));
        assert!(DICTIONARY.ends_with(b"charset=iso-8859-1,utf-,*,enq=0."));
    }

    /// What `kubectl` 1.20 (Go's spdystream) sent for `kubectl exec POD -- df -h`, captured
    /// after the 101: SYN_STREAMs for the error, stdout and stderr streams (the first block
    /// starts the zlib stream: `78 f9`, then the dictionary id), a RST_STREAM CANCEL for each
    /// once the Status was in, then GOAWAY.
    const KUBECTL_1_20: &str = concat!(
        "8003000100000029",
        "0000000100000000000078f9e3c6a7c26260606004a7b392a2d4c45c6851c29a0a0a6800000000ffff",
        "8003000100000019",
        "00000003000000000000c22ac5565c92925f5a02000000ffff",
        "8003000100000015",
        "00000005000000000000c229975a5404000000ffff",
        "80030003000000080000000100000005",
        "80030003000000080000000300000005",
        "80030003000000080000000500000005",
        "80030007000000080000000000000000",
    );

    #[tokio::test]
    async fn decodes_what_kubectl_1_20_sends() {
        let frames = read_all(&hex(KUBECTL_1_20), &mut Inflater::new()).await;
        let streams: Vec<(u32, Option<&str>)> = frames
            .iter()
            .filter_map(|f| match f {
                Frame::SynStream { stream_id, headers, flags: 0, associated_to: 0, .. } => {
                    Some((*stream_id, header(headers, "streamtype")))
                }
                _ => None,
            })
            .collect();
        assert_eq!(streams, [(1, Some("error")), (3, Some("stdout")), (5, Some("stderr"))]);
        assert_eq!(frames[3], Frame::RstStream { stream_id: 1, status: 5 });
        assert_eq!(frames.last(), Some(&Frame::GoAway { last_good_stream_id: 0, status: 0 }));
        assert_eq!(frames.len(), 7);
    }

    #[tokio::test]
    async fn frames_round_trip_through_one_zlib_stream_per_direction() {
        let frames = vec![
            Frame::SynStream {
                stream_id: 1,
                associated_to: 0,
                priority: 3,
                slot: 0,
                flags: 0,
                headers: h(&[("streamtype", "error")]),
            },
            Frame::SynReply { stream_id: 1, flags: 0, headers: Vec::new() },
            Frame::SynStream {
                stream_id: 3,
                associated_to: 1,
                priority: 7,
                slot: 2,
                flags: FLAG_FIN | 0x02,
                headers: h(&[("streamtype", "stdout"), ("accept", "a\0b")]),
            },
            Frame::Headers { stream_id: 3, flags: FLAG_FIN, headers: h(&[("x-extra", "1")]) },
            Frame::Data { stream_id: 3, flags: 0, data: b"hello".to_vec() },
            Frame::Data { stream_id: 3, flags: FLAG_FIN, data: Vec::new() },
            Frame::RstStream { stream_id: 5, status: REFUSED_STREAM },
            Frame::Settings { flags: 1, entries: vec![(0, 7, 65536), (1, 4, 100)] },
            Frame::Ping { id: 1 },
            Frame::WindowUpdate { stream_id: 0, delta: 1 << 20 },
            Frame::Unknown { kind: 42, flags: 0, payload: vec![1, 2, 3] },
            Frame::SynReply { stream_id: 3, flags: FLAG_FIN, headers: h(&[("streamtype", "stdout")]) },
            Frame::GoAway { last_good_stream_id: 5, status: 0 },
        ];
        let mut deflater = Deflater::new().expect("deflater");
        let mut wire = Vec::new();
        for f in &frames {
            wire.extend(f.encode(&mut deflater).expect("encode"));
        }
        // The first header block opens the zlib stream and names the SPDY dictionary.
        assert_eq!(wire[18] & 0x0f, 8, "deflate");
        assert_eq!(wire[19] & 0x20, 0x20, "FDICT");
        assert_eq!(u32::from_be_bytes([wire[20], wire[21], wire[22], wire[23]]), DICTIONARY_ID);
        assert_eq!(read_all(&wire, &mut Inflater::new()).await, frames);
    }

    #[test]
    fn frame_bytes_follow_the_draft() {
        let mut d = Deflater::new().expect("deflater");
        let mut enc = |f: Frame| f.encode(&mut d).expect("encode");
        assert_eq!(enc(Frame::Ping { id: 7 }), hex("800300060000000400000007"));
        assert_eq!(
            enc(Frame::Data { stream_id: 3, flags: FLAG_FIN, data: b"hi".to_vec() }),
            hex("00000003010000026869")
        );
        assert_eq!(enc(Frame::RstStream { stream_id: 5, status: 3 }), hex("80030003000000080000000500000003"));
        assert_eq!(enc(Frame::GoAway { last_good_stream_id: 2, status: 1 }), hex("80030007000000080000000200000001"));
        assert_eq!(enc(Frame::WindowUpdate { stream_id: 1, delta: 9 }), hex("80030009000000080000000100000009"));
        assert_eq!(
            enc(Frame::Settings { flags: 0, entries: vec![(1, 7, 2)] }),
            hex("800300040000000c000000010100000700000002")
        );
        // The 24-bit length covers the stream id and the compressed block.
        let reply = enc(Frame::SynReply { stream_id: 1, flags: 0, headers: Vec::new() });
        assert_eq!(reply[..5], hex("8003000200"));
        assert_eq!(u32::from_be_bytes([0, reply[5], reply[6], reply[7]]) as usize, reply.len() - 8);
        assert!(reply.ends_with(&[0, 0, 0xff, 0xff]), "a sync flush ends each block");
    }

    #[test]
    fn header_blocks_round_trip_with_the_dictionary() {
        let blocks = [
            Vec::new(),
            h(&[("streamtype", "stdout"), ("port", "8080")]),
            h(&[("content-type", "text/plain"), ("accept", "a\0b\0c"), ("empty", "")]),
            h(&[("streamtype", "stdout"), ("port", "8080")]),
        ];
        for b in &blocks {
            assert_eq!(&decode_block(&encode_block(b)).expect("plain"), b);
        }
        let (mut d, mut i) = (Deflater::new().expect("deflater"), Inflater::new());
        let compressed: Vec<Vec<u8>> = blocks.iter().map(|b| d.block(b).expect("deflate")).collect();
        for (c, b) in compressed.iter().zip(&blocks) {
            assert_eq!(&i.block(c).expect("inflate"), b);
        }
        // The stream carries over: a repeated block costs a few bytes.
        assert!(compressed[3].len() < compressed[1].len(), "{compressed:?}");
        // Names go out lowercase.
        assert_eq!(decode_block(&encode_block(&h(&[("StreamType", "x")]))).expect("plain"), h(&[("streamtype", "x")]));
        assert_eq!(header(&h(&[("accept", "a\0b")]), "accept"), Some("a"));
    }

    #[tokio::test]
    async fn corrupt_input_is_an_error_not_a_panic() {
        assert!(decode_block(&hex("00000002")).is_err(), "fewer pairs than counted");
        assert!(decode_block(&hex("00000000ff")).is_err(), "trailing bytes");
        assert!(decode_block(&hex("0000000100000009ab")).is_err(), "a name longer than the block");
        assert!(Inflater::new().block(b"not zlib at all").is_err());
        // A zlib stream with another preset dictionary (id 0x00000001).
        assert!(Inflater::new().block(&hex("78bb00000001")).is_err());
        let mut inflater = Inflater::new();
        let short = hex("8003000600000002abcd");
        assert!(read_frame(&mut short.as_slice(), &mut inflater).await.is_err(), "a PING without its id");
        let spdy2 = hex("800200060000000400000001");
        assert!(read_frame(&mut spdy2.as_slice(), &mut inflater).await.is_err(), "SPDY/2");
        let cut = hex("0000000100000010abcd");
        assert!(read_frame(&mut cut.as_slice(), &mut inflater).await.is_err(), "a data frame cut short");
    }
}
