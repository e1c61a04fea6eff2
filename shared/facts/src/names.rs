//! The person's name on a résumé: the first header line that holds one,
//! read as people write it: alone, in capitals, after "Name:" or a YAML
//! `author:`, before a title ("Jane Doe, Data Scientist", "Jane Doe Software
//! Engineer"), a handle, an email or a separator, with credentials after it
//! ("Jane Doe, PhD, PMP"), hyphenated over two lines, or in Chinese.

use crate::extract::Doc;
use crate::resume::{has_title_word, is_location};
use crate::text::Section;

/// Where the name is: its line, its byte span in the line's text (the span
/// may run into the next line for a name hyphenated over two), and its value.
#[derive(Debug, Clone, PartialEq)]
pub struct FoundName {
    pub line: usize,
    pub start: usize,
    pub end_line: usize,
    pub end: usize,
    pub value: String,
}

/// Header lines looked at, in order.
const LOOK_AT: usize = 12;

const CREDENTIALS: &[&str] = &[
    "phd",
    "ph.d",
    "ph.d.",
    "mba",
    "msc",
    "m.sc",
    "m.sc.",
    "bsc",
    "b.sc",
    "b.sc.",
    "ma",
    "m.a.",
    "ba",
    "b.a.",
    "md",
    "m.d.",
    "pmp",
    "cpa",
    "cfa",
    "pe",
    "p.e.",
    "peng",
    "p.eng.",
    "dr",
    "dr.",
    "prof",
    "prof.",
    "mph",
    "jd",
    "j.d.",
    "rn",
    "csm",
    "dipl.-ing.",
    "dipl.-ing",
    "ing.",
    "mag.",
    "lic.",
    "jr",
    "jr.",
    "sr",
    "sr.",
    "ii",
    "iii",
];
/// Words that open a job title rather than end a name ("Senior Software Engineer").
const TITLE_MODIFIERS: &[&str] = &[
    "senior",
    "junior",
    "lead",
    "principal",
    "chief",
    "head",
    "staff",
    "software",
    "data",
    "product",
    "project",
    "full-stack",
    "fullstack",
    "frontend",
    "backend",
    "web",
    "mobile",
    "machine",
    "research",
    "assistant",
    "associate",
    "technical",
    "marketing",
    "sales",
    "business",
    "student",
    "intern",
];
const HEADING_WORDS: &[&str] = &[
    "resume",
    "résumé",
    "cv",
    "curriculum",
    "vitae",
    "lebenslauf",
    "currículo",
    "curriculo",
    "page",
    "updated",
    "contact",
    "profile",
    "profil",
    "perfil",
    "summary",
    "experience",
    "education",
    "skills",
];
const CJK_NOT_NAMES: &[&str] =
    &["简历", "个人简历", "求职简历", "个人信息", "基本信息", "教育背景", "工作经历", "联系方式", "求职意向", "履歴書"];

fn is_han(c: char) -> bool {
    ('\u{4e00}'..='\u{9fff}').contains(&c) || ('\u{3400}'..='\u{4dbf}').contains(&c)
}

/// Two to four capitalised words (a parenthesised nickname allowed), or two to
/// four Han characters.
fn looks_like_name(text: &str) -> bool {
    let text = text.trim();
    let han: Vec<char> = text.chars().filter(|c| !c.is_whitespace()).collect();
    if !han.is_empty() && han.iter().all(|c| is_han(*c) || *c == '·') {
        return (2..=4).contains(&han.len()) && !CJK_NOT_NAMES.contains(&han.iter().collect::<String>().as_str());
    }
    let words: Vec<&str> = text.split_whitespace().collect();
    if !(2..=5).contains(&words.len()) || text.chars().count() > 45 {
        return false;
    }
    let lower = text.to_lowercase();
    if HEADING_WORDS.iter().any(|w| lower.split_whitespace().any(|x| x == *w))
        || has_title_word(text)
        || is_location(text)
    {
        return false;
    }
    words.iter().all(|w| {
        let w = w.trim_start_matches('(').trim_end_matches(')').trim_end_matches('.');
        let mut chars = w.chars();
        chars.next().is_some_and(char::is_uppercase)
            && w.chars().all(|c| c.is_alphabetic() || matches!(c, '-' | '\'' | '’'))
    }) && words.iter().filter(|w| !w.starts_with('(')).count() >= 2
}

/// Cuts a line at what follows a name: an email, a link, a phone, a
/// separator, a comma (credentials or a title after it).
fn name_prefix(text: &str) -> &str {
    let mut end = text.len();
    for sep in [
        " | ", "|", " – ", " — ", " - ", " · ", "·", " • ", "  ", "\t", ",", ";", " /", "@", "http", "www.", "+", "[",
        "]",
    ] {
        if let Some(i) = text.find(sep)
            && i > 0
        {
            end = end.min(i);
        }
    }
    if let Some(i) = text.find(|c: char| c.is_ascii_digit()) {
        end = end.min(i);
    }
    text[..end].trim_end()
}

/// Words of a candidate with credentials, heading words, a trailing handle
/// and a trailing title dropped; the byte length of what is kept.
fn trimmed(candidate: &str) -> &str {
    let mut words: Vec<(usize, &str)> =
        candidate.split_whitespace().map(|w| (w.as_ptr() as usize - candidate.as_ptr() as usize, w)).collect();
    let drop = |w: &str| {
        let l = w.to_lowercase();
        let l = l.trim_matches(|c: char| matches!(c, ',' | ':' | '(' | ')'));
        CREDENTIALS.contains(&l) || HEADING_WORDS.contains(&l)
    };
    while words.last().is_some_and(|(_, w)| drop(w)) {
        words.pop();
    }
    // A handle after the name ("Auguste Baum augustebaum"), an icon letter ("… I").
    while words.len() > 2
        && words
            .last()
            .is_some_and(|(_, w)| w.chars().all(|c| c.is_lowercase() || c.is_ascii_digit()) || w.chars().count() == 1)
    {
        words.pop();
    }
    // A title after the name ("Chaitanya Lad Software Engineer"): the name is what precedes the title phrase.
    if let Some(k) = (2..words.len()).find(|&k| has_title_word(words[k].1)) {
        words.truncate((k - 1).max(2));
    }
    if words.iter().any(|(_, w)| TITLE_MODIFIERS.contains(&w.to_lowercase().as_str())) {
        return "";
    }
    match (words.first(), words.last()) {
        (Some((s, _)), Some((e, w))) => &candidate[*s..e + w.len()],
        _ => "",
    }
}

fn label_value(text: &str) -> Option<usize> {
    let lower = text.to_lowercase();
    for label in ["name:", "name :", "nom :", "nom:", "nombre:", "nome:", "naam:", "author:", "姓名:", "姓名："] {
        if lower.starts_with(label) {
            return Some(label.len());
        }
    }
    None
}

/// The name of the person a résumé is about, if one of its first header lines holds it.
pub fn find(doc: &Doc<'_>) -> Option<FoundName> {
    let header: Vec<usize> = doc
        .blocks
        .iter()
        .filter(|b| matches!(b.section, Section::Header | Section::Contact | Section::Other | Section::Summary))
        .flat_map(|b| b.lines.clone())
        .take(LOOK_AT)
        .collect();
    for &i in &header {
        let text = doc.lines[i].text;
        // "Name: Jane Doe", YAML "author: \"Jane Doe – CV\"".
        let rest = match label_value(text) {
            Some(n) => text[n..].trim_start_matches([' ', '"', '\'']).trim_end_matches(['"', '\'']),
            None => text.trim_start_matches(['[', '#', ' ']),
        };
        if is_location(rest) {
            continue;
        }
        let candidate = trimmed(name_prefix(rest));
        if candidate.is_empty() {
            continue;
        }
        // Spans are byte offsets in the line's text: a candidate is a slice of it.
        let Some(start) = (candidate.as_ptr() as usize).checked_sub(text.as_ptr() as usize) else { continue };
        // Hyphenated over two lines: "PRIYA RAMASWAMY-" / "COLTER".
        if candidate.ends_with('-')
            && let Some(next) = doc.lines.get(i + 1)
            && next.page_index == doc.lines[i].page_index
        {
            let tail = next.text.split_whitespace().next().unwrap_or("");
            let joined = format!("{candidate}{tail}");
            if looks_like_name(&joined) {
                return Some(FoundName { line: i, start, end_line: i + 1, end: tail.len(), value: joined });
            }
        }
        if looks_like_name(candidate) {
            return Some(FoundName {
                line: i,
                start,
                end_line: i,
                end: start + candidate.len(),
                value: candidate.to_owned(),
            });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::{DocumentId, PageText};

    fn name_of(text: &str) -> Option<String> {
        let pages = [PageText { page: 1, text: text.into() }];
        let doc = Doc::new(DocumentId::new(), &pages, "t");
        find(&doc).map(|f| f.value)
    }

    #[test]
    fn names_are_read_as_people_write_them() {
        assert_eq!(name_of("Jane Doe, PhD, PMP\njane@x.org").as_deref(), Some("Jane Doe"));
        assert_eq!(name_of("JANE DOE\nEXPERIENCE").as_deref(), Some("JANE DOE"));
        assert_eq!(name_of("Richard Hendriks, Programmer\nr@x.com").as_deref(), Some("Richard Hendriks"));
        assert_eq!(name_of("Chaitanya Lad Software Engineer\nc@x.com").as_deref(), Some("Chaitanya Lad"));
        assert_eq!(name_of("FARUQ LAWAL | Data Scientist\nf@x.com").as_deref(), Some("FARUQ LAWAL"));
        assert_eq!(name_of("Auguste Baum augustebaum\n+33 6").as_deref(), Some("Auguste Baum"));
        assert_eq!(name_of("Hugo (Chun-Ho) Lin\n(213) 865").as_deref(), Some("Hugo (Chun-Ho) Lin"));
        assert_eq!(name_of("Curriculum Vitae\nName: Leonhard Euler\n").as_deref(), Some("Leonhard Euler"));
        assert_eq!(name_of("PRIYA RAMASWAMY-\nCOLTER\nJUNIOR ENGINEER").as_deref(), Some("PRIYA RAMASWAMY-COLTER"));
        assert_eq!(name_of("李见黎\nalexan.lee@pku.edu.cn").as_deref(), Some("李见黎"));
        assert_eq!(name_of("个人简历\n姓名：张三\n").as_deref(), Some("张三"));
        assert_eq!(name_of("Silicon Valley, CA\nExperience").as_deref(), None);
        assert_eq!(name_of("Senior Software Engineer\n").as_deref(), None);
    }
}
