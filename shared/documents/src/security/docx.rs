//! DOCX checks: entry count, expansion (declared and actual), macros.

use super::{Rejection, ZipBomb, printable};
use crate::sniff::{DOCX_MAIN_PART, ZIP_WITHOUT_DOCUMENT};
use domain::Limits;
use std::io::{Cursor, Read};

/// Entries smaller than this when unpacked are not held to the ratio limit:
/// small, very regular XML parts compress well and are harmless. The total
/// limit still counts them.
pub(crate) const RATIO_GRACE_BYTES: u64 = 1_000_000;

/// Most `[Content_Types].xml` may unpack to.
const MAX_CONTENT_TYPES_BYTES: u64 = 4_000_000;

const CONTENT_TYPES: &str = "[Content_Types].xml";

pub(super) fn inspect(bytes: &[u8], limits: &Limits) -> Result<(), Rejection> {
    let corrupt = |detail: String| Rejection::CorruptDocx { detail };
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| corrupt(printable(&e.to_string())))?;

    let count = archive.len();
    if count > limits.max_zip_entries {
        return Err(Rejection::TooManyEntries { count, max: limits.max_zip_entries });
    }
    if archive.has_duplicate_names() {
        return Err(corrupt("two entries have the same name".into()));
    }
    if archive.index_for_name(DOCX_MAIN_PART).is_none() {
        return Err(Rejection::UnsupportedType { looks_like: ZIP_WITHOUT_DOCUMENT });
    }

    // Declared sizes, from the central directory: nothing is unpacked yet.
    let mut entries = Vec::with_capacity(count);
    let mut declared_total: u64 = 0;
    for index in 0..count {
        let entry = archive.by_index_raw(index).map_err(|e| corrupt(printable(&e.to_string())))?;
        let name = entry
            .name()
            .map(|n| n.into_owned())
            .unwrap_or_else(|_| String::from_utf8_lossy(entry.name_raw()).into_owned());
        let (size, packed) = (entry.size(), entry.compressed_size());
        drop(entry);
        if name.to_ascii_lowercase().ends_with("vbaproject.bin") {
            return Err(Rejection::MacroEnabled);
        }
        check_ratio(&name, size, packed, limits)?;
        declared_total = declared_total.saturating_add(size);
        if declared_total > limits.max_zip_expanded_bytes {
            return Err(Rejection::ZipBomb(ZipBomb::Expanded {
                size: declared_total,
                max: limits.max_zip_expanded_bytes,
            }));
        }
        entries.push((name, packed));
    }

    // Declared sizes can lie: unpack every entry, counting, and stop at the limits.
    let mut actual_total: u64 = 0;
    let mut content_types = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    for (index, (name, packed)) in entries.iter().enumerate() {
        let mut entry = archive
            .by_index(index)
            .map_err(|e| corrupt(format!("entry \"{}\": {}", printable(name), printable(&e.to_string()))))?;
        let is_content_types = name == CONTENT_TYPES;
        let mut produced: u64 = 0;
        loop {
            let n = match entry.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.to_string().contains("declared uncompressed size") => {
                    return Err(Rejection::ZipBomb(ZipBomb::SizeMismatch { entry: printable(name) }));
                }
                Err(e) => {
                    return Err(corrupt(format!("entry \"{}\": {}", printable(name), printable(&e.to_string()))));
                }
            };
            produced = produced.saturating_add(n as u64);
            actual_total = actual_total.saturating_add(n as u64);
            if actual_total > limits.max_zip_expanded_bytes {
                return Err(Rejection::ZipBomb(ZipBomb::Expanded {
                    size: actual_total,
                    max: limits.max_zip_expanded_bytes,
                }));
            }
            check_ratio(name, produced, *packed, limits)?;
            if is_content_types {
                if produced > MAX_CONTENT_TYPES_BYTES {
                    return Err(corrupt(format!("{CONTENT_TYPES} is larger than {MAX_CONTENT_TYPES_BYTES} bytes")));
                }
                content_types.extend_from_slice(&chunk[..n]);
            }
        }
    }

    if contains_ignore_case(&content_types, b"macroenabled") {
        return Err(Rejection::MacroEnabled);
    }
    Ok(())
}

fn check_ratio(name: &str, size: u64, packed: u64, limits: &Limits) -> Result<(), Rejection> {
    if size <= RATIO_GRACE_BYTES {
        return Ok(());
    }
    let ratio = size / packed.max(1);
    if ratio > limits.max_zip_ratio {
        return Err(Rejection::ZipBomb(ZipBomb::Ratio { entry: printable(name), ratio, max: limits.max_zip_ratio }));
    }
    Ok(())
}

fn contains_ignore_case(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|window| window.eq_ignore_ascii_case(needle))
}
