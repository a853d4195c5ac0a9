//! Seeing through encodings: JSON/JS string escapes, percent-encoding,
//! base64 and UTF-16. Every decoder is bounded by its input and never fails
//! loudly: bytes that do not decode are simply not a credential.

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::{alphabet, Engine};

/// One escape sequence inside a value, decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Escape {
    /// The ASCII byte it stands for.
    pub byte: u8,
    /// Bytes the escape takes in the text.
    pub len: usize,
    pub kind: crate::finding::Encoding,
}

/// The escape sequence at `data[i..]`, if it is one that can stand for an
/// ASCII character: `%2F` (percent), `\/`, `\+`, `\\`, `\u002F`, `\u{2F}`,
/// `\x2F` (JSON, JavaScript, Rust, Swift, Java, Python, C string escapes),
/// `&#x2F;`, `&#47;` and the named `&sol;`, `&plus;`, `&equals;` (HTML and XML
/// character references). Escapes for other characters are not part of any
/// credential, so they are `None` too.
pub(crate) fn escape_at(data: &[u8], i: usize) -> Option<Escape> {
    use crate::finding::Encoding;
    let ascii = |v: u32, len: usize, kind| {
        u8::try_from(v)
            .ok()
            .filter(u8::is_ascii)
            .map(|byte| Escape { byte, len, kind })
    };
    match *data.get(i)? {
        b'%' => {
            let v = data.get(i + 1..i + 3).and_then(hex_byte)?;
            ascii(u32::from(v), 3, Encoding::Percent)
        }
        b'\\' => match *data.get(i + 1)? {
            b @ (b'/' | b'+' | b'\\') => Some(Escape {
                byte: b,
                len: 2,
                kind: Encoding::Escaped,
            }),
            b'u' if data.get(i + 2) == Some(&b'{') => {
                let (v, digits) = number(data, i + 3, 16, 6)?;
                (data.get(i + 3 + digits) == Some(&b'}'))
                    .then_some(())
                    .and_then(|()| ascii(v, digits + 4, Encoding::Escaped))
            }
            b'u' => {
                let (v, 4) = number(data, i + 2, 16, 4)? else {
                    return None;
                };
                ascii(v, 6, Encoding::Escaped)
            }
            b'x' => {
                let v = data.get(i + 2..i + 4).and_then(hex_byte)?;
                ascii(u32::from(v), 4, Encoding::Escaped)
            }
            _ => None,
        },
        b'&' => {
            let rest = data.get(i + 1..)?;
            if let Some(after) = rest.strip_prefix(b"#") {
                let (radix, skip) = match after.first() {
                    Some(b'x' | b'X') => (16, 1),
                    _ => (10, 0),
                };
                let start = i + 2 + skip;
                let (v, digits) = number(data, start, radix, 7)?;
                (data.get(start + digits) == Some(&b';'))
                    .then_some(())
                    .and_then(|()| ascii(v, 2 + skip + digits + 1, Encoding::Html))
            } else {
                [(&b"sol;"[..], b'/'), (b"plus;", b'+'), (b"equals;", b'=')]
                    .into_iter()
                    .find(|(name, _)| rest.starts_with(name))
                    .map(|(name, byte)| Escape {
                        byte,
                        len: 1 + name.len(),
                        kind: Encoding::Html,
                    })
            }
        }
        _ => None,
    }
}

/// Up to `max` digits of `radix` at `data[at..]`: their value and count
/// (`None` for no digit). The value saturates, and is then no ASCII byte.
fn number(data: &[u8], at: usize, radix: u32, max: usize) -> Option<(u32, usize)> {
    let digits = data
        .get(at..)?
        .iter()
        .take(max)
        .take_while(|b| (**b as char).is_digit(radix))
        .count();
    let v = data[at..at + digits].iter().fold(0u32, |v, &b| {
        v.saturating_mul(radix)
            .saturating_add((b as char).to_digit(radix).unwrap_or(0))
    });
    (digits > 0).then_some((v, digits))
}

/// Starts an escape: `%`, `\\` or `&`.
pub(crate) fn is_escape_start(b: u8) -> bool {
    matches!(b, b'%' | b'\\' | b'&')
}

/// Un-escapes every escape [`escape_at`] knows inside a run. Returns `None`
/// when the run holds no escape (nothing to decode) or an escape that
/// cannot be part of a credential. The encoding reported is the first one
/// met.
pub fn unescape(run: &[u8]) -> Option<(Vec<u8>, crate::finding::Encoding)> {
    if !run.iter().any(|&b| is_escape_start(b)) {
        return None;
    }
    let mut out = Vec::with_capacity(run.len());
    let mut kind = None;
    let mut i = 0;
    while i < run.len() {
        if is_escape_start(run[i]) {
            let e = escape_at(run, i)?;
            out.push(e.byte);
            kind.get_or_insert(e.kind);
            i += e.len;
        } else {
            out.push(run[i]);
            i += 1;
        }
    }
    Some((out, kind?))
}

/// Decodes the escaped text that starts at `data[at..]`: escapes of any
/// ASCII character and the letters, digits, `/`, `+` and `=` between them,
/// up to the first other byte or `max` bytes of input. Returns the text,
/// where it ends in `data`, and the kind of its first escape. Plain bytes
/// beyond the escaped run are left to the caller's own scan, so nothing is
/// found twice.
pub(crate) fn unescape_from(
    data: &[u8],
    at: usize,
    max: usize,
) -> (Vec<u8>, usize, crate::finding::Encoding) {
    let limit = data.len().min(at.saturating_add(max));
    let mut out = Vec::new();
    let mut kind = None;
    let mut i = at;
    while i < limit {
        let b = data[i];
        if let Some(e) = is_escape_start(b).then(|| escape_at(data, i)).flatten() {
            if i + e.len > limit {
                break;
            }
            out.push(e.byte);
            kind.get_or_insert(e.kind);
            i += e.len;
        } else if b.is_ascii_alphanumeric() || matches!(b, b'/' | b'+' | b'=') {
            out.push(b);
            i += 1;
        } else {
            break;
        }
    }
    (out, i, kind.unwrap_or(crate::finding::Encoding::Escaped))
}

fn hex_byte(two: &[u8]) -> Option<u8> {
    if !two.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    let s = std::str::from_utf8(two).ok()?;
    u8::from_str_radix(s, 16).ok()
}

const LENIENT: GeneralPurposeConfig = GeneralPurposeConfig::new()
    .with_decode_padding_mode(DecodePaddingMode::Indifferent)
    .with_decode_allow_trailing_bits(true);
const STANDARD: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, LENIENT);
const URL_SAFE: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, LENIENT);

/// Decodes a base64 run (standard or URL-safe alphabet, padding optional).
/// A length that cannot be base64 is trimmed to the nearest one that can.
pub fn base64(run: &[u8]) -> Option<Vec<u8>> {
    let body = run
        .strip_suffix(b"==")
        .or_else(|| run.strip_suffix(b"="))
        .unwrap_or(run);
    let usable = match body.len() % 4 {
        1 => body.len() - 1,
        _ => body.len(),
    };
    let body = &body[..usable];
    if body.len() < 4 {
        return None;
    }
    STANDARD
        .decode(body)
        .or_else(|_| URL_SAFE.decode(body))
        .ok()
}

/// Mostly printable text (what an encoded config or credential decodes to).
pub fn is_mostly_text(bytes: &[u8]) -> bool {
    if bytes.is_empty() {
        return false;
    }
    let printable = bytes
        .iter()
        .filter(|&&b| b.is_ascii_graphic() || matches!(b, b' ' | b'\n' | b'\r' | b'\t'))
        .count();
    printable * 10 >= bytes.len() * 9
}

/// The fragments of base64 text that always appear when `plain` is
/// base64-encoded, one for each of the three byte alignments (none for an
/// alignment where `plain` is too short to fix a whole character: an empty
/// pattern would match everywhere).
pub fn base64_fragments(plain: &[u8]) -> Vec<Vec<u8>> {
    (0..3)
        .map(|align| {
            let encode = |pad: u8| {
                let mut buf = vec![pad; align];
                buf.extend_from_slice(plain);
                buf.extend_from_slice(&[pad, pad]);
                base64::engine::general_purpose::STANDARD
                    .encode(buf)
                    .into_bytes()
            };
            let (a, b) = (encode(0x00), encode(0xFF));
            // Characters that do not depend on the neighbouring bytes.
            let first = (align * 8).div_ceil(6);
            // Never before `first`: short input fixes no character here.
            let last = (((align + plain.len()) * 8) / 6).max(first);
            let frag: Vec<u8> = (first..last).map(|i| a[i]).collect();
            debug_assert_eq!(&a[first..last], &b[first..last]);
            frag
        })
        .filter(|frag| !frag.is_empty())
        .collect()
}

/// Byte order of UTF-16 text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Utf16 {
    Le,
    Be,
}

/// Recognises UTF-16 text: a byte-order mark, or ASCII with a NUL after (LE)
/// or before (BE) most characters in the first kilobyte.
pub fn sniff_utf16(data: &[u8]) -> Option<Utf16> {
    match data {
        [0xFF, 0xFE, ..] => return Some(Utf16::Le),
        [0xFE, 0xFF, ..] => return Some(Utf16::Be),
        _ => {}
    }
    let head = &data[..data.len().min(1024) & !1];
    if head.len() < 16 {
        return None;
    }
    let pairs = head.len() / 2;
    let le = head
        .chunks_exact(2)
        .filter(|c| c[1] == 0 && c[0] != 0)
        .count();
    let be = head
        .chunks_exact(2)
        .filter(|c| c[0] == 0 && c[1] != 0)
        .count();
    if le * 10 >= pairs * 9 {
        Some(Utf16::Le)
    } else if be * 10 >= pairs * 9 {
        Some(Utf16::Be)
    } else {
        None
    }
}

/// UTF-16 to UTF-8, lossy, skipping a byte-order mark.
pub fn transcode_utf16(data: &[u8], order: Utf16) -> Vec<u8> {
    let units = data.chunks_exact(2).map(|c| match order {
        Utf16::Le => u16::from_le_bytes([c[0], c[1]]),
        Utf16::Be => u16::from_be_bytes([c[0], c[1]]),
    });
    let text: String = char::decode_utf16(units)
        .map(|r| r.unwrap_or(char::REPLACEMENT_CHARACTER))
        .filter(|&c| c != '\u{FEFF}')
        .collect();
    text.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Encoding;

    #[test]
    fn unescapes_percent_and_json() {
        let (v, e) = unescape(b"abc%2Fdef%2Bg%3D").unwrap();
        assert_eq!((v.as_slice(), e), (&b"abc/def+g="[..], Encoding::Percent));
        let (v, e) = unescape(br"ab\/cd\u002Bef").unwrap();
        assert_eq!((v.as_slice(), e), (&b"ab/cd+ef"[..], Encoding::Escaped));
        assert!(unescape(b"plain").is_none());
        assert!(unescape(b"bad%zz").is_none());
        assert!(unescape(br"\n").is_none());
    }

    #[test]
    fn unescapes_unicode_escapes_and_character_references() {
        for (text, want, kind) in [
            (&br"ab\u{2f}cd\u{2B}"[..], &b"ab/cd+"[..], Encoding::Escaped),
            (br"ab\x2Fcd\x2b", b"ab/cd+", Encoding::Escaped),
            (b"ab&#x2F;cd&#X2b;&#61;", b"ab/cd+=", Encoding::Html),
            (b"ab&#47;cd&#0043;", b"ab/cd+", Encoding::Html),
            (b"ab&sol;cd&plus;&equals;", b"ab/cd+=", Encoding::Html),
        ] {
            let (v, e) = unescape(text).unwrap();
            assert_eq!((v.as_slice(), e), (want, kind), "{text:?}");
        }
        // Not ASCII, not closed, not a reference these values use.
        for text in [
            &br"\u{e9}"[..],
            br"\u00e9",
            br"\u{2f",
            br"\u{}",
            b"&#x2F",
            b"&#;",
            b"&#x110000;",
            b"&#99999999999;",
            b"&amp;",
            b"%C3%A9",
            br"\xZZ",
        ] {
            assert!(unescape(text).is_none(), "{text:?}");
        }
    }

    #[test]
    fn decodes_an_escaped_run_and_says_where_it_ends() {
        let text = b"id: \\u0041\\u{4B}&#73;&#x41;QZ \\u0042";
        let (plain, end, kind) = unescape_from(text, 4, 1 << 10);
        assert_eq!(plain, b"AKIAQZ");
        assert_eq!(&text[end..], b" \\u0042");
        assert_eq!(kind, Encoding::Escaped);
        // Bounded by `max`, never cutting an escape in half.
        let (plain, end, _) = unescape_from(text, 4, 8);
        assert_eq!((plain.as_slice(), end), (&b"A"[..], 10));
    }

    #[test]
    fn base64_round_trips_with_or_without_padding() {
        assert_eq!(
            base64(b"QUtJQUpZWDNTTlozWEsyU1lMRk0=").unwrap(),
            b"AKIAJYX3SNZ3XK2SYLFM"
        );
        assert_eq!(
            base64(b"QUtJQUpZWDNTTlozWEsyU1lMRk0").unwrap(),
            b"AKIAJYX3SNZ3XK2SYLFM"
        );
        assert!(base64(b"!!").is_none());
    }

    #[test]
    fn fragments_are_found_in_every_alignment() {
        let frags = base64_fragments(b"AKIA");
        for pre in ["", "x", "xy"] {
            let enc = base64::engine::general_purpose::STANDARD
                .encode(format!("{pre}AKIAQYLPMN5HHHFPZAM2"));
            assert!(
                frags
                    .iter()
                    .any(|f| enc.as_bytes().windows(f.len()).any(|w| w == f.as_slice())),
                "{pre}"
            );
        }
        assert!(frags.iter().all(|f| f.len() >= 4));
    }

    #[test]
    fn fragments_of_short_input_are_never_empty() {
        // Found by fuzzing (fuzz/fuzz_targets/base64.rs): the empty input
        // sliced a[2..1] and panicked.
        assert!(base64_fragments(b"").is_empty());
        for n in 0..8 {
            let plain = vec![b'A'; n];
            assert!(base64_fragments(&plain).iter().all(|f| !f.is_empty()));
        }
    }

    #[test]
    fn sniffs_and_transcodes_utf16() {
        let text = "aws_access_key_id = AKIAQYLPMN5HHHFPZAM2\r\n";
        let mut le = vec![0xFF, 0xFE];
        le.extend(text.encode_utf16().flat_map(|u| u.to_le_bytes()));
        assert_eq!(sniff_utf16(&le), Some(Utf16::Le));
        assert_eq!(transcode_utf16(&le, Utf16::Le), text.as_bytes());
        let be: Vec<u8> = text.encode_utf16().flat_map(|u| u.to_be_bytes()).collect();
        assert_eq!(sniff_utf16(&be), Some(Utf16::Be));
        assert_eq!(sniff_utf16(text.as_bytes()), None);
    }
}
