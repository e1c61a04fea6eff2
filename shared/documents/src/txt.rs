//! Plain text decoding.
use crate::ExtractError;
use std::borrow::Cow;

const UTF8_BOM: &[u8] = b"\xef\xbb\xbf";
const UTF16_LE_BOM: &[u8] = b"\xff\xfe";
const UTF16_BE_BOM: &[u8] = b"\xfe\xff";

/// Decodes UTF-8 (with or without BOM) or UTF-16 (with BOM) text. Line
/// endings become `\n` (CRLF and lone CR alike).
pub fn decode(bytes: &[u8]) -> Result<String, ExtractError> {
    let text = decode_exact(bytes).ok_or(ExtractError::BadEncoding)?;
    Ok(normalise_newlines(&text))
}

/// The text as encoded, BOM removed, line endings untouched; `None` when the
/// bytes are neither UTF-8 nor UTF-16 with a BOM.
pub(crate) fn decode_exact(bytes: &[u8]) -> Option<Cow<'_, str>> {
    if let Some(body) = bytes.strip_prefix(UTF16_LE_BOM) {
        return decode_utf16(body, u16::from_le_bytes).map(Cow::Owned);
    }
    if let Some(body) = bytes.strip_prefix(UTF16_BE_BOM) {
        return decode_utf16(body, u16::from_be_bytes).map(Cow::Owned);
    }
    let body = bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes);
    std::str::from_utf8(body).ok().map(Cow::Borrowed)
}

fn decode_utf16(body: &[u8], unit: fn([u8; 2]) -> u16) -> Option<String> {
    if !body.len().is_multiple_of(2) {
        return None;
    }
    let units = body.chunks_exact(2).map(|pair| unit([pair[0], pair[1]]));
    char::decode_utf16(units).collect::<Result<String, _>>().ok()
}

fn normalise_newlines(text: &str) -> String {
    if !text.contains('\r') {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\r' {
            if chars.peek() == Some(&'\n') {
                chars.next();
            }
            out.push('\n');
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16(text: &str, big_endian: bool) -> Vec<u8> {
        let mut bytes = if big_endian { UTF16_BE_BOM.to_vec() } else { UTF16_LE_BOM.to_vec() };
        for unit in text.encode_utf16() {
            bytes.extend(if big_endian { unit.to_be_bytes() } else { unit.to_le_bytes() });
        }
        bytes
    }

    #[test]
    fn decodes_utf8_with_and_without_bom() {
        assert_eq!(decode("Zoë Smith\r\nRust".as_bytes()).unwrap(), "Zoë Smith\nRust");
        assert_eq!(decode(b"\xef\xbb\xbfhello\r\n").unwrap(), "hello\n");
        assert_eq!(decode(b"old mac\rline").unwrap(), "old mac\nline");
    }

    #[test]
    fn decodes_utf16_with_bom() {
        let text = "Zoë 🦀 Smith\r\nEngineer";
        assert_eq!(decode(&utf16(text, false)).unwrap(), "Zoë 🦀 Smith\nEngineer");
        assert_eq!(decode(&utf16(text, true)).unwrap(), "Zoë 🦀 Smith\nEngineer");
    }

    #[test]
    fn rejects_bad_encodings() {
        assert_eq!(decode(b"caf\xe9 latin-1"), Err(ExtractError::BadEncoding));
        // Odd byte count, and an unpaired surrogate.
        assert_eq!(decode(b"\xff\xfeA\x00B"), Err(ExtractError::BadEncoding));
        assert_eq!(decode(b"\xff\xfe\x00\xd8A\x00"), Err(ExtractError::BadEncoding));
    }
}
