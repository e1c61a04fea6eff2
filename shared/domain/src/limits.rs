//! Upload limits. One place, so every rejection can name the limit it broke.

/// Size limits applied at upload and again when the object is processed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted file, in bytes (10 MB).
    pub max_file_bytes: u64,
    /// Most a user may store in total, in bytes (50 MB).
    pub max_user_bytes: u64,
    /// Most entries a DOCX (zip) may hold.
    pub max_zip_entries: usize,
    /// Most a DOCX may expand to when unpacked, in bytes.
    pub max_zip_expanded_bytes: u64,
    /// Highest expansion ratio (unpacked / packed) of any DOCX entry.
    pub max_zip_ratio: u64,
}

impl Limits {
    pub const MB: u64 = 1_000_000;
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_file_bytes: 10 * Self::MB,
            max_user_bytes: 50 * Self::MB,
            max_zip_entries: 2_000,
            max_zip_expanded_bytes: 200 * Self::MB,
            max_zip_ratio: 200,
        }
    }
}
