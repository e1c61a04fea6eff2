//! CID → Unicode for the Adobe character collections (GB1, CNS1, Japan1,
//! Korea1): how a CID font embedded without a ToUnicode map is read, as PDF
//! viewers read it. The table is derived from a pinned PyPI wheel by
//! `infra/scripts/cid_to_unicode.py` and shipped in the binary.

use std::collections::HashMap;
use std::io::Read;
use std::sync::LazyLock;

const TABLES: &[u8] = include_bytes!("../data/cid_to_unicode.bin.gz");

static COLLECTIONS: LazyLock<HashMap<String, Vec<u16>>> = LazyLock::new(|| {
    let mut raw = Vec::new();
    let mut out = HashMap::new();
    if flate2::read::GzDecoder::new(TABLES).read_to_end(&mut raw).is_err() {
        return out;
    }
    let mut at = 0;
    while let Some(&len) = raw.get(at) {
        let name_end = at + 1 + usize::from(len);
        let Some(name) = raw.get(at + 1..name_end) else { break };
        let Some(count) = raw.get(name_end..name_end + 4) else { break };
        let n = u32::from_le_bytes([count[0], count[1], count[2], count[3]]) as usize;
        let Some(values) = raw.get(name_end + 4..name_end + 4 + 2 * n) else { break };
        let table = values.chunks_exact(2).map(|p| u16::from_le_bytes([p[0], p[1]])).collect();
        out.insert(String::from_utf8_lossy(name).into_owned(), table);
        at = name_end + 4 + 2 * n;
    }
    out
});

/// The table of an Adobe ordering ("GB1", "Japan1", ...), if we have it.
pub fn collection(ordering: &str) -> Option<&'static [u16]> {
    COLLECTIONS.get(ordering).map(Vec::as_slice)
}

/// The character of a CID in a collection's table.
pub fn char_of(table: &[u16], cid: u32) -> Option<char> {
    table.get(cid as usize).copied().filter(|c| *c != 0).and_then(|c| char::from_u32(u32::from(c)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_four_collections_load_and_map_known_cids() {
        for name in ["GB1", "CNS1", "Japan1", "Korea1"] {
            assert!(collection(name).is_some_and(|t| t.len() > 10_000), "{name}");
        }
        // CID 1 is the space in every collection; GB1 CID 4100 is a Han character.
        let gb1 = collection("GB1").unwrap();
        assert_eq!(char_of(gb1, 1), Some(' '));
        assert!(char_of(gb1, 4100).is_some_and(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)));
        assert_eq!(collection("Identity"), None);
    }
}
