//! Career facts from document text: sections, dates, jobs, education, skills,
//! certifications, contact, achievements with their numbers; each fact with
//! its provenance, deduplicated into one per-user knowledge graph. Pure
//! functions: no I/O, no SDK types.

pub mod dates;
pub mod extract;
pub mod lexicon;
pub mod metrics;
pub mod model;
pub mod other_kinds;
pub mod resume;
pub mod text;

use domain::DocumentKind;
use extract::{Doc, Found};
use lexicon::SkillLexicon;

/// The rule-based facts of one document, by its kind. Documents of kind
/// `other` (an invoice, say) give none.
pub fn extract_document(kind: DocumentKind, doc: &Doc<'_>, lexicon: &dyn SkillLexicon) -> Vec<Found> {
    match kind {
        DocumentKind::Resume | DocumentKind::Unclassified => resume::extract_resume(doc, lexicon),
        DocumentKind::JobDescription => other_kinds::extract_job_description(doc, lexicon),
        DocumentKind::CoverLetter | DocumentKind::ReferenceLetter => other_kinds::extract_cover_letter(doc, lexicon),
        DocumentKind::Certificate | DocumentKind::Transcript => other_kinds::extract_certificate(doc),
        DocumentKind::Other => Vec::new(),
    }
}
pub mod knowledge;
pub mod proposals;
