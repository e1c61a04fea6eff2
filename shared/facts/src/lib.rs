//! Career facts from document text: sections, dates, jobs, education, skills,
//! certifications, contact, achievements with their numbers; each fact with
//! its provenance, deduplicated into one per-user knowledge graph. Pure
//! functions: no I/O, no SDK types.

pub mod dates;
pub mod extract;
pub mod lexicon;
pub mod metrics;
pub mod model;
pub mod resume;
pub mod text;
