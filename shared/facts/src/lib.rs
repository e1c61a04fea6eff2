//! Career facts from document text: sections, dates, jobs, education, skills,
//! certifications, contact, achievements with their numbers; each fact with
//! its provenance, deduplicated into one per-user knowledge graph. Pure
//! functions: no I/O, no SDK types.

pub mod dates;
pub mod extract;
pub mod headings;
pub mod job_header;
pub mod lexicon;
pub mod metrics;
pub mod model;
pub mod names;
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

/// The résumé probability from which a document named another kind is read
/// as a résumé too: a misnamed résumé still gives its facts.
pub const RESUME_READING_FROM: f32 = 0.25;

/// The facts of a document by its kind and, when the classifier gave the
/// résumé reading a substantial probability (`resume_score`), the résumé
/// facts as well, their confidence scaled down by that probability.
pub fn extract_scored(
    kind: DocumentKind,
    resume_score: Option<f32>,
    doc: &Doc<'_>,
    lexicon: &dyn SkillLexicon,
) -> Vec<Found> {
    let mut found = extract_document(kind, doc, lexicon);
    let read_as_resume = !matches!(kind, DocumentKind::Resume | DocumentKind::Unclassified);
    if let Some(p) = resume_score.filter(|p| read_as_resume && *p >= RESUME_READING_FROM) {
        let offset = found.len();
        found.extend(resume::extract_resume(doc, lexicon).into_iter().map(|mut f| {
            f.fact.provenance.confidence = (f.fact.provenance.confidence * p).clamp(0.0, 1.0);
            f.parent = f.parent.map(|i| i + offset);
            f
        }));
    }
    found
}
pub mod knowledge;
pub mod proposals;
