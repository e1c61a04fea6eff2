//! Lines of page text with their offsets, bullets, and the section headings
//! that split a résumé into experience, education, skills and the rest.

use domain::PageText;
use serde::{Deserialize, Serialize};

/// One non-empty line of a page, trimmed, with its byte span in the page text.
#[derive(Debug, Clone, PartialEq)]
pub struct Line<'a> {
    pub page: u32,
    /// Index of the page in the document's page list.
    pub page_index: usize,
    pub start: usize,
    pub end: usize,
    /// The line without surrounding space and without its bullet marker.
    pub text: &'a str,
    /// Byte offset of `text` in the page text.
    pub text_start: usize,
    pub bullet: bool,
}

const BULLETS: [char; 12] = ['•', '●', '▪', '◦', '■', '□', '○', '►', '▸', '➢', '✓', '*'];

/// The non-empty lines of every page, in reading order. Page furniture is
/// dropped: a bare page number, "Page 2 of 3", and running headers or footers
/// (a first or last line that recurs, numbers aside, on several pages).
pub fn lines(pages: &[PageText]) -> Vec<Line<'_>> {
    let running = running_lines(pages);
    let mut out = Vec::new();
    for (page_index, page) in pages.iter().enumerate() {
        let text = page.text.as_str();
        let mut offset = 0;
        let mut kept = 0;
        for raw in text.split_inclusive('\n') {
            let line_start = offset;
            offset += raw.len();
            let content = raw.trim_end_matches(['\n', '\r']);
            let trimmed = content.trim();
            // A name repeated atop every page is still the name on the first.
            let top_of_document = page_index == 0 && kept < 2;
            if trimmed.is_empty()
                || is_page_furniture(trimmed)
                || (!top_of_document && running.contains(&furniture_key(trimmed)))
            {
                continue;
            }
            kept += 1;
            let lead = content.len() - content.trim_start().len();
            let start = line_start + lead;
            let end = start + trimmed.len();
            let (bullet, body) = strip_bullet(trimmed);
            if body.is_empty() {
                continue;
            }
            let text_start = end - body.len();
            out.push(Line { page: page.page, page_index, start, end, text: body, text_start, bullet });
        }
    }
    out
}

/// A line with its digits taken out, to compare running headers and footers.
fn furniture_key(line: &str) -> String {
    line.chars().filter(|c| !c.is_ascii_digit()).collect::<String>().split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Keys of the first two and last two lines that appear on two or more pages.
fn running_lines(pages: &[PageText]) -> std::collections::HashSet<String> {
    let mut counts: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    if pages.len() < 2 {
        return Default::default();
    }
    for page in pages {
        let lines: Vec<&str> = page.text.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
        let ends: std::collections::HashSet<String> =
            lines.iter().take(2).chain(lines.iter().rev().take(2)).map(|l| furniture_key(l)).collect();
        for key in ends {
            if key.len() >= 3 {
                *counts.entry(key).or_default() += 1;
            }
        }
    }
    counts.into_iter().filter(|(_, n)| *n >= 2).map(|(k, _)| k).collect()
}

fn is_page_furniture(line: &str) -> bool {
    let lower = line.to_lowercase();
    line.chars().all(|c| c.is_ascii_digit()) && line.len() <= 3
        || (lower.starts_with("page ")
            && lower.split_whitespace().count() <= 4
            && lower.chars().any(|c| c.is_ascii_digit()))
}

/// A leading bullet marker (or "- ", "– ", "1. ") and the rest of the line.
fn strip_bullet(line: &str) -> (bool, &str) {
    // Markdown heading marks ("## Experience", "### Developer, Globex") are markup, not text.
    let unmarked = line.trim_start_matches('#');
    if unmarked.len() < line.len() && unmarked.starts_with(' ') {
        return (false, unmarked.trim_start());
    }
    let mut chars = line.chars();
    if let Some(first) = chars.next() {
        if BULLETS.contains(&first) {
            return (true, chars.as_str().trim_start());
        }
        if matches!(first, '-' | '–' | '—' | '·') && chars.as_str().starts_with(' ') {
            return (true, chars.as_str().trim_start());
        }
    }
    (false, line)
}

/// The parts of a career document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Section {
    /// Before the first heading: name and contact, usually.
    Header,
    Summary,
    Contact,
    Experience,
    Education,
    Skills,
    Projects,
    Certifications,
    Awards,
    Languages,
    Publications,
    Volunteering,
    Courses,
    Interests,
    References,
    /// Job descriptions: what the role does.
    Responsibilities,
    /// Job descriptions: what the role needs.
    Requirements,
    /// Job descriptions: what would be a plus.
    Preferred,
    /// A heading we do not know.
    Other,
}

use crate::headings::HEADINGS;

/// Lowercase words of a candidate heading, `&` read as "and", other punctuation dropped.
fn heading_key(text: &str) -> String {
    let lowered = text.to_lowercase().replace('&', " and ");
    let cleaned: String =
        lowered.chars().map(|c| if c.is_alphanumeric() || c.is_whitespace() { c } else { ' ' }).collect();
    cleaned.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The section a line opens, if it is a heading: a short line, in any case,
/// with or without a colon, whose words name a known section (or, written in
/// capitals and alone on its line, an unknown one).
pub fn heading(line: &Line<'_>) -> Option<Section> {
    if line.bullet {
        return None;
    }
    let text = line.text.trim_end_matches([':', '：']).trim();
    let words = text.split_whitespace().count();
    if words == 0 || words > 5 || text.len() > 48 || text.ends_with('.') || text.ends_with(',') {
        return None;
    }
    let key = heading_key(text);
    if key.is_empty() || key.chars().any(|c| c.is_ascii_digit()) {
        return None;
    }
    if let Some((_, section)) = HEADINGS.iter().find(|(k, _)| *k == key) {
        return Some(*section);
    }
    // "Work Experience (selected)" or "EXPERIENCE —": known words first. Not
    // "Languages: English, French", which is a labelled list, not a heading.
    let inline_list = text.contains(':') || text.contains(',');
    if !inline_list
        && words <= 4
        && let Some((_, section)) = HEADINGS.iter().find(|(k, _)| key.starts_with(&format!("{k} ")))
    {
        return Some(*section);
    }
    // An unknown heading in capitals that ends with a colon ("PATENTS:") still
    // closes the section before it.
    let letters: Vec<char> = text.chars().filter(|c| c.is_alphabetic()).collect();
    let all_caps = letters.len() >= 4 && letters.iter().all(|c| c.is_uppercase());
    (all_caps && words <= 3 && !inline_list && line.text.ends_with(':')).then_some(Section::Other)
}

/// A run of lines under one heading (the heading itself excluded).
#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    pub section: Section,
    /// Indices into the line list.
    pub lines: std::ops::Range<usize>,
}

/// Splits the lines at headings. Lines before the first heading are the
/// [`Section::Header`] block.
pub fn blocks(lines: &[Line<'_>]) -> Vec<Block> {
    let mut out = Vec::new();
    let mut current = Section::Header;
    let mut start = 0;
    for (i, line) in lines.iter().enumerate() {
        if let Some(section) = heading(line) {
            if i > start {
                out.push(Block { section: current, lines: start..i });
            }
            current = section;
            start = i + 1;
        }
    }
    if start < lines.len() {
        out.push(Block { section: current, lines: start..lines.len() });
    }
    out
}

/// Byte offset → character offset in `text`.
pub fn char_offset(text: &str, byte: usize) -> u32 {
    text.get(..byte).map_or(0, |prefix| prefix.chars().count() as u32)
}

/// Joins wrapped lines into one sentence: a line break becomes a space, and a
/// word split by a hyphen at the end of a line is put back together.
pub fn unwrap_lines(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, part) in text.split('\n').enumerate() {
        let part = part.trim();
        if i > 0 && !part.is_empty() {
            let joined_word = out.ends_with('-')
                && out[..out.len() - 1].chars().next_back().is_some_and(char::is_alphabetic)
                && part.chars().next().is_some_and(char::is_lowercase);
            if joined_word {
                out.pop();
            } else if !out.is_empty() {
                out.push(' ');
            }
        }
        out.push_str(part);
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(text: &str) -> Vec<PageText> {
        vec![PageText { page: 1, text: text.to_owned() }]
    }

    #[test]
    fn headings_in_any_case_with_or_without_colons() {
        let pages = page(
            "Jane Doe\njane@example.com\nWORK EXPERIENCE\nEngineer, Acme\nEducation:\nBSc, MIT\nTechnical Skills\nRust\n\
             Honors & Awards\nPrize\nprofessional summary\nText.\n",
        );
        let ls = lines(&pages);
        let sections: Vec<Section> = blocks(&ls).iter().map(|b| b.section).collect();
        assert_eq!(
            sections,
            [
                Section::Header,
                Section::Experience,
                Section::Education,
                Section::Skills,
                Section::Awards,
                Section::Summary
            ]
        );
    }

    #[test]
    fn sentences_and_bullets_are_not_headings() {
        let pages =
            page("• Experience with Rust\nI have experience.\nSkills in Python and SQL were used daily by me\n");
        assert!(lines(&pages).iter().all(|l| heading(l).is_none()));
    }

    #[test]
    fn lines_keep_offsets_and_bullets() {
        let text = "Title\n  • Built things\n2\n";
        let pages = page(text);
        let ls = lines(&pages);
        assert_eq!(ls.len(), 2, "the page number is dropped");
        assert!(ls[1].bullet);
        assert_eq!(&text[ls[1].text_start..ls[1].end], "Built things");
        assert_eq!(&text[ls[1].start..ls[1].end], "• Built things");
    }

    #[test]
    fn running_footers_are_dropped() {
        let pages = vec![
            PageText { page: 1, text: "Jane Doe\nExperience\nJune 10, 2026 Jane Doe · Résumé 1\n".into() },
            PageText { page: 2, text: "Skills\nRust\nJune 10, 2026 Jane Doe · Résumé 2\n".into() },
        ];
        let texts: Vec<&str> = lines(&pages).iter().map(|l| l.text).collect();
        assert_eq!(texts, ["Jane Doe", "Experience", "Skills", "Rust"]);
    }

    #[test]
    fn wrapped_lines_unwrap_and_split_words_rejoin() {
        assert_eq!(
            unwrap_lines("from requirement analysis to deploy-\nment"),
            "from requirement analysis to deployment"
        );
        assert_eq!(unwrap_lines("Kubernetes and\nTerraform"), "Kubernetes and Terraform");
        assert_eq!(unwrap_lines("AWS multi-\naccount"), "AWS multiaccount");
    }
}
