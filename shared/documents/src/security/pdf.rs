//! PDF checks: truncation, active content, attachments, encryption.
//!
//! Dangerous names are looked for twice: in the raw bytes (names decoded, so
//! `/J#61vaScript` is `/JavaScript`; literal strings, comments and stream data
//! skipped) and in every object lopdf loads, which includes the objects packed
//! in compressed object streams.

use super::Rejection;
use crate::sniff::{find, find_from};
use lopdf::{Document, LoadOptions, Object};
use std::panic::{AssertUnwindSafe, catch_unwind};

/// How close to the end `%%EOF` has to be.
const EOF_WINDOW: usize = 1024;

/// Most any single stream may decode to while loading (object and xref streams).
const MAX_STREAM_BYTES: usize = 64 * 1024 * 1024;

/// Names longer than this are never one we look for; they are not decoded.
const MAX_INTERESTING_NAME: usize = 64;

/// Active or hidden content, most serious first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Danger {
    JavaScript,
    Launch,
    EmbeddedFile,
}

impl Danger {
    fn of_name(name: &[u8]) -> Option<Self> {
        match name {
            b"JavaScript" | b"JS" => Some(Self::JavaScript),
            b"Launch" => Some(Self::Launch),
            b"EmbeddedFile" | b"EmbeddedFiles" | b"FileAttachment" => Some(Self::EmbeddedFile),
            _ => None,
        }
    }

    fn rejection(self) -> Rejection {
        match self {
            Self::JavaScript => Rejection::PdfJavaScript,
            Self::Launch => Rejection::PdfLaunchAction,
            Self::EmbeddedFile => Rejection::PdfEmbeddedFile,
        }
    }
}

/// What the raw scan found.
#[derive(Debug, Default)]
struct RawFindings {
    danger: Option<Danger>,
    names_encrypt: bool,
}

impl RawFindings {
    fn note(&mut self, name: &[u8]) {
        if let Some(danger) = Danger::of_name(name) {
            self.danger = Some(self.danger.map_or(danger, |seen| seen.min(danger)));
        } else if name == b"Encrypt" {
            self.names_encrypt = true;
        }
    }
}

pub(super) fn inspect(bytes: &[u8]) -> Result<(), Rejection> {
    let tail = &bytes[bytes.len().saturating_sub(EOF_WINDOW)..];
    if find(tail, b"%%EOF").is_none() {
        return Err(Rejection::TruncatedPdf);
    }

    let raw = scan_raw(bytes);
    if let Some(danger) = raw.danger {
        return Err(danger.rejection());
    }

    let options = LoadOptions { max_decompressed_size: Some(MAX_STREAM_BYTES), ..LoadOptions::default() };
    // lopdf is not expected to panic, but this is untrusted input: a panic
    // there must reject the file, not take the process down.
    let loaded = catch_unwind(AssertUnwindSafe(|| Document::load_mem_with_options(bytes, options)));
    let document = match loaded {
        Ok(Ok(document)) => document,
        _ if raw.names_encrypt => return Err(Rejection::EncryptedPdf),
        _ => return Err(Rejection::TruncatedPdf),
    };

    if let Some(danger) = walk_objects(&document) {
        return Err(danger.rejection());
    }
    // lopdf decrypts files whose user password is empty (an owner password
    // that only forbids copying, as on many transcripts and certificates) and
    // drops `/Encrypt` from the trailer: those were walked decrypted above and
    // any reader opens them. A file still encrypted needs a password.
    if document.trailer.has(b"Encrypt") || document.is_encrypted() {
        return Err(Rejection::EncryptedPdf);
    }
    Ok(())
}

/// Every name outside literal strings, hex strings, comments and stream data.
fn scan_raw(bytes: &[u8]) -> RawFindings {
    let mut findings = RawFindings::default();
    scan_into(bytes, &mut findings);
    findings
}

fn scan_into(bytes: &[u8], findings: &mut RawFindings) {
    let mut i = 0;
    while let Some(&c) = bytes.get(i) {
        match c {
            b'%' => {
                i = bytes[i..].iter().position(|&b| b == b'\n' || b == b'\r').map_or(bytes.len(), |n| i + n);
            }
            b'(' => i = skip_literal_string(bytes, i),
            b'<' if bytes.get(i + 1) == Some(&b'<') => i += 2,
            b'<' => {
                i = bytes[i..].iter().position(|&b| b == b'>').map_or(bytes.len(), |n| i + n + 1);
            }
            b'/' => {
                let start = i + 1;
                let end = bytes[start..].iter().position(|&b| !is_regular(b)).map_or(bytes.len(), |n| start + n);
                let raw_name = &bytes[start..end];
                if raw_name.len() <= MAX_INTERESTING_NAME * 3 {
                    let name = decode_name(raw_name);
                    if name.len() <= MAX_INTERESTING_NAME {
                        findings.note(&name);
                    }
                }
                i = end;
            }
            c if is_regular(c) => {
                let end = bytes[i..].iter().position(|&b| !is_regular(b)).map_or(bytes.len(), |n| i + n);
                if &bytes[i..end] == b"stream" {
                    i = find_from(bytes, b"endstream", end).map_or(bytes.len(), |at| at + b"endstream".len());
                } else {
                    i = end;
                }
            }
            _ => i += 1,
        }
    }
}

/// Index just past the literal string that opens at `start` (nested
/// parentheses and backslash escapes honoured).
fn skip_literal_string(bytes: &[u8], start: usize) -> usize {
    let mut depth = 0usize;
    let mut i = start;
    while let Some(&c) = bytes.get(i) {
        match c {
            b'\\' => i += 1,
            b'(' => depth += 1,
            b')' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    bytes.len()
}

/// PDF regular characters: neither white space nor delimiters.
fn is_regular(b: u8) -> bool {
    !matches!(
        b,
        b'\0'
            | b'\t'
            | b'\n'
            | 0x0c
            | b'\r'
            | b' '
            | b'('
            | b')'
            | b'<'
            | b'>'
            | b'['
            | b']'
            | b'{'
            | b'}'
            | b'/'
            | b'%'
    )
}

/// A name's bytes with `#xx` escapes decoded.
fn decode_name(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while let Some(&c) = raw.get(i) {
        if c == b'#'
            && let (Some(hi), Some(lo)) = (raw.get(i + 1).and_then(hex), raw.get(i + 2).and_then(hex))
        {
            out.push(hi << 4 | lo);
            i += 3;
            continue;
        }
        out.push(c);
        i += 1;
    }
    out
}

fn hex(b: &u8) -> Option<u8> {
    (*b as char).to_digit(16).and_then(|d| u8::try_from(d).ok())
}

/// The most serious danger named anywhere in the loaded objects (dictionary
/// keys, name values, stream dictionaries, the trailer).
fn walk_objects(document: &Document) -> Option<Danger> {
    let mut found: Option<Danger> = None;
    let mut stack: Vec<&Object> = document.objects.values().collect();
    let trailer = Object::Dictionary(document.trailer.clone());
    stack.push(&trailer);
    let mut note = |name: &[u8]| {
        if let Some(danger) = Danger::of_name(name) {
            found = Some(found.map_or(danger, |seen| seen.min(danger)));
        }
    };
    while let Some(object) = stack.pop() {
        match object {
            Object::Name(name) => note(name),
            Object::Array(items) => stack.extend(items.iter()),
            Object::Dictionary(dictionary) => {
                for (key, value) in dictionary.iter() {
                    note(key);
                    stack.push(value);
                }
            }
            Object::Stream(stream) => {
                for (key, value) in stream.dict.iter() {
                    note(key);
                    stack.push(value);
                }
            }
            _ => {}
        }
    }
    found
}

#[cfg(test)]
pub(super) mod tests_support {
    use super::*;

    /// What the raw scan alone finds.
    pub(in crate::security) fn raw_danger(bytes: &[u8]) -> Option<Rejection> {
        scan_raw(bytes).danger.map(Danger::rejection)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_decoded() {
        assert_eq!(decode_name(b"J#61vaScript"), b"JavaScript");
        assert_eq!(decode_name(b"A#2"), b"A#2");
        assert_eq!(decode_name(b"#4A#53"), b"JS");
        assert_eq!(scan_raw(b"<< /S /J#61v#61Script >>").danger, Some(Danger::JavaScript));
        assert_eq!(scan_raw(b"<</Type/EmbeddedFiles>>").danger, Some(Danger::EmbeddedFile));
        assert_eq!(scan_raw(b"<</S/Launch/Next<</S/JavaScript>>>>").danger, Some(Danger::JavaScript));
    }

    #[test]
    fn strings_comments_and_streams_are_not_names() {
        let bytes = b"<< /Title (HTML/JavaScript \\( /JS) (x) >>\n% /Launch in a comment\n<2F4A53>\n\
            << /Length 9 >> stream\n/Launch\nendstream\n<< /Type /Page >>";
        assert_eq!(scan_raw(bytes).danger, None);
        assert!(!scan_raw(bytes).names_encrypt);
    }

    #[test]
    fn unterminated_input_does_not_panic() {
        for bytes in [&b"("[..], b"/", b"<", b"%", b"stream", b"(\\", b"/J#6", b"#"] {
            let _ = scan_raw(bytes);
        }
    }
}
