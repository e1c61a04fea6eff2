//! Shared machinery of the rule-based extractors: the document's lines and
//! sections, and turning a byte span of a page into a fact with provenance.

use crate::model::{Extracted, FactValue, Provenance, Source};
use crate::text::{Block, Line, blocks, char_offset, lines};
use domain::{DocumentId, PageText};

/// Name and version recorded in the provenance of every rule-based fact.
pub const EXTRACTOR: &str = "rules";
pub const EXTRACTOR_VERSION: &str = "1";

/// A fact found by an extractor, with the index (in the same output) of the
/// fact it belongs to: an achievement's job, a skill's job.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub fact: Extracted,
    pub parent: Option<usize>,
}

/// A document ready for extraction.
pub struct Doc<'a> {
    pub id: DocumentId,
    pub pages: &'a [PageText],
    pub lines: Vec<Line<'a>>,
    pub blocks: Vec<Block>,
    /// RFC 3339 time stamped on provenance.
    pub at: String,
}

impl<'a> Doc<'a> {
    pub fn new(id: DocumentId, pages: &'a [PageText], at: impl Into<String>) -> Self {
        let lines = lines(pages);
        let blocks = blocks(&lines);
        Self { id, pages, lines, blocks, at: at.into() }
    }

    /// The page text a line belongs to.
    pub fn page_text(&self, line: &Line<'_>) -> &'a str {
        &self.pages[line.page_index].text
    }

    /// A fact whose evidence is `page_text[start..end]` of the page of `line`.
    pub fn fact(&self, value: FactValue, line: &Line<'_>, start: usize, end: usize, confidence: f32) -> Extracted {
        let text = self.page_text(line);
        let (start, end) = (start.min(text.len()), end.min(text.len()).max(start.min(text.len())));
        Extracted {
            value,
            provenance: Provenance {
                source: Source::Document {
                    document_id: self.id,
                    page: line.page,
                    char_start: char_offset(text, start),
                    char_end: char_offset(text, end),
                },
                text: text[start..end].to_owned(),
                extractor: EXTRACTOR.into(),
                extractor_version: EXTRACTOR_VERSION.into(),
                confidence: confidence.clamp(0.0, 1.0),
                at: self.at.clone(),
            },
        }
    }

    /// The byte span from the start of line `first` to the end of line `last`,
    /// cut at the end of `first`'s page if `last` is on another page.
    pub fn span(&self, first: usize, last: usize) -> (usize, usize) {
        let a = &self.lines[first];
        let mut end = a.end;
        for line in &self.lines[first..=last] {
            if line.page_index != a.page_index {
                break;
            }
            end = line.end;
        }
        (a.start, end)
    }

    /// The text of lines `first..=last` of one page as written (with its line breaks).
    pub fn raw(&self, first: usize, last: usize) -> &'a str {
        let (start, end) = self.span(first, last);
        &self.page_text(&self.lines[first])[start..end]
    }
}
