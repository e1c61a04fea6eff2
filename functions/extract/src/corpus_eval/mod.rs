//! Evaluation on the corpus of real documents (`tests/corpus/`): the manifest
//! and hand-written gold, the JSON Resume rendered set, and the matching of
//! extracted facts against gold, field by field.

pub mod gold;
pub mod matching;
pub mod report;
pub mod training;

pub use gold::{CorpusEntry, GoldEducation, GoldJob, GoldResume, Split, load_manifest, load_rendered};
pub use matching::{FieldCounts, ResumeScore, score_resume};
