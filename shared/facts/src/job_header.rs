//! The learned labeller of job headers. Around each dated line of an
//! experience section, the lines of its header window are cut into segments
//! ("Senior Engineer", "Acme GmbH", "Berlin") and each segment is labelled
//! title, organisation, location or other by softmax regression over hashed
//! words and the segment's place and shape; `train_headers` fits it on the dev
//! split of the corpus and it ships as `model/job_header.json` (hash pinned).
//! Rules keep what rules do well: finding the dates, and the fallback when the
//! model is unsure.

use crate::dates::DateRange;
use crate::extract::Doc;
use crate::resume::{ORG_SUFFIXES, SEGMENT_SEPARATOR, clean_segment, dated, has_org_word, has_title_word, is_location};
use learn::{Folded, SoftmaxModel, hashed};
use std::sync::LazyLock;

/// The labels, in the model's order.
pub const LABELS: [&str; 4] = ["title", "organisation", "location", "other"];
pub const TITLE: usize = 0;
pub const ORGANISATION: usize = 1;
pub const LOCATION: usize = 2;
/// Hashed word buckets, then the dense features.
pub const BUCKETS: usize = 2048;
const DENSE: usize = 26;
pub const FEATURES: usize = BUCKETS + DENSE;
/// Lines looked at on each side of the dated line.
pub const REACH: usize = 2;

const SHIPPED: &[u8] = include_bytes!("../model/job_header.json");
const SHIPPED_SHA256: &str = include_str!("../model/job_header.json.sha256");

static MODEL: LazyLock<Option<(SoftmaxModel, Folded)>> = LazyLock::new(|| {
    let model = SoftmaxModel::from_shipped(SHIPPED, SHIPPED_SHA256).ok().filter(|m| m.dimensions() == FEATURES)?;
    let folded = model.folded();
    Some((model, folded))
});

/// Whether a segment reads as a place ("Berlin, Germany", "Austin, TX").
pub fn is_place(text: &str) -> bool {
    is_location(text)
}

/// The shipped model (`None` only if its file was replaced without its hash:
/// the rules then decide alone).
pub fn model() -> Option<&'static SoftmaxModel> {
    MODEL.as_ref().map(|(m, _)| m)
}

/// One segment of a header window.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    pub text: String,
    /// Line index in the document.
    pub line: usize,
    /// Line offset from the dated line (negative above).
    pub offset: i32,
    pub index_in_line: usize,
    pub segments_in_line: usize,
    /// Follows " at " or " @ " ("Engineer at Acme").
    pub after_at: bool,
    pub line_is_bullet: bool,
}

/// The segments of lines `from..=to` (clamped to `window`) around the dated
/// line `anchor`, each line's date range cut out.
pub fn segments(doc: &Doc<'_>, anchor: usize, window: std::ops::Range<usize>) -> Vec<Segment> {
    let from = anchor.saturating_sub(REACH).max(window.start);
    let to = (anchor + REACH).min(window.end.saturating_sub(1));
    let mut out = Vec::new();
    let mut i = from;
    while i <= to {
        let line = &doc.lines[i];
        if line.bullet && i != anchor {
            i += 1;
            continue;
        }
        let mut text = match dated(line.text) {
            Some(f) => format!("{}  {}", &line.text[..f.start], &line.text[f.end..]),
            None => line.text.to_owned(),
        };
        // A parenthesis left open continues on the next line: "Assistant (part-time, 12" / "h/week)".
        let first_line = i;
        if text.matches('(').count() > text.matches(')').count()
            && let Some(next) = doc.lines.get(i + 1).filter(|_| i < to)
            && next.text.contains(')')
        {
            text.push(' ');
            text.push_str(next.text);
            i += 1;
        }
        i += 1;
        let mut parts: Vec<(String, bool)> = Vec::new();
        let mut last = 0;
        let mut after_at = false;
        for m in SEGMENT_SEPARATOR.find_iter(&text) {
            // Not inside parentheses: "Assistant (part-time, 12 h/week)" is one segment.
            let open = text[..m.start()].matches('(').count() > text[..m.start()].matches(')').count();
            if open {
                continue;
            }
            parts.push((clean_segment(&text[last..m.start()]), after_at));
            let sep = m.as_str().trim();
            after_at = sep == "at" || sep == "@";
            last = m.end();
        }
        parts.push((clean_segment(&text[last..]), after_at));
        parts.retain(|(p, _)| p.chars().any(char::is_alphabetic));
        let parts = company_suffixes(parts);
        let n = parts.len();
        for (k, (part, after_at)) in parts.into_iter().enumerate() {
            out.push(Segment {
                text: part,
                line: first_line,
                offset: first_line as i32 - anchor as i32,
                index_in_line: k,
                segments_in_line: n,
                after_at,
                line_is_bullet: line.bullet,
            });
        }
    }
    out
}

/// "ABC Company" + "Inc." is one name, "Seoul" + "S.Korea" one place;
/// "Dunamu Inc. Seoul" is two segments.
fn company_suffixes(parts: Vec<(String, bool)>) -> Vec<(String, bool)> {
    let mut merged: Vec<(String, bool)> = Vec::new();
    for (part, after_at) in parts {
        match merged.last_mut() {
            // "Seoul" + "S.Korea", "Austin" + "TX": one place.
            Some(last) if is_location(&format!("{}, {part}", last.0)) && !is_location(&last.0) => {
                last.0.push_str(", ");
                last.0.push_str(&part);
            }
            Some(last) if ORG_SUFFIXES.contains(&part.to_lowercase().as_str()) => {
                last.0.push_str(", ");
                last.0.push_str(&part);
            }
            _ => merged.push((part, after_at)),
        }
    }
    let mut out = Vec::new();
    for (part, after_at) in merged {
        let words: Vec<&str> = part.split_whitespace().collect();
        let cut = words[..words.len().saturating_sub(1)]
            .iter()
            .position(|w| w.ends_with('.') && ORG_SUFFIXES.contains(&w.to_lowercase().as_str()));
        match cut {
            Some(i) if !has_title_word(&words[i + 1..].join(" ")) => {
                out.push((words[..=i].join(" "), after_at));
                out.push((words[i + 1..].join(" "), false));
            }
            _ => out.push((part, after_at)),
        }
    }
    out
}

fn is_cjk(c: char) -> bool {
    ('\u{3040}'..='\u{9fff}').contains(&c) || ('\u{ac00}'..='\u{d7af}').contains(&c)
}

/// The model's input for one segment, dense (for training).
pub fn features(s: &Segment) -> Vec<f32> {
    let mut x = vec![0f32; FEATURES];
    for (i, v) in sparse_features(s) {
        x[i] += v;
    }
    x
}

/// The model's input for one segment as (feature, value) pairs: a few hashed
/// words and the shape features that are not zero.
pub fn sparse_features(s: &Segment) -> Vec<(usize, f32)> {
    let mut x: Vec<(usize, f32)> = Vec::with_capacity(32);
    let lower = s.text.to_lowercase();
    let words: Vec<&str> = lower.split(|c: char| !c.is_alphanumeric() && c != '&').filter(|w| !w.is_empty()).collect();
    let mut bump = |key: String| x.push((hashed(&key, BUCKETS), 1.0));
    for (i, w) in words.iter().enumerate() {
        if w.chars().any(is_cjk) {
            let chars: Vec<char> = w.chars().collect();
            for pair in chars.windows(2) {
                bump(format!("c:{}{}", pair[0], pair[1]));
            }
            if let Some(last) = chars.last() {
                bump(format!("e:{last}"));
            }
        } else {
            bump(format!("w:{w}"));
            let chars: Vec<char> = w.chars().collect();
            if chars.len() > 4 {
                bump(format!("s:{}", chars[chars.len() - 3..].iter().collect::<String>()));
            }
        }
        if i == 0 {
            bump(format!("f:{w}"));
        }
    }
    let mut d = [0f32; DENSE];
    let offset = (s.offset + REACH as i32).clamp(0, 2 * REACH as i32) as usize;
    d[offset] = 1.0; // 0..=4
    d[5] = f32::from(u8::from(s.index_in_line == 0));
    d[6] = f32::from(u8::from(s.index_in_line + 1 == s.segments_in_line));
    d[7] = f32::from(u8::from(s.segments_in_line == 1));
    d[8] = f32::from(u8::from(s.after_at));
    d[9] = f32::from(u8::from(has_title_word(&s.text)));
    d[10] = f32::from(u8::from(has_org_word(&s.text)));
    d[11] = f32::from(u8::from(words.iter().any(|w| ORG_SUFFIXES.contains(w))));
    d[12] = f32::from(u8::from(is_location(&s.text)));
    let letters: Vec<char> = s.text.chars().filter(|c| c.is_alphabetic()).collect();
    d[13] = f32::from(u8::from(!letters.is_empty() && letters.iter().all(|c| c.is_uppercase())));
    d[14] = f32::from(u8::from(s.text.chars().next().is_some_and(char::is_uppercase)));
    let n = s.text.split_whitespace().count();
    d[15 + match n {
        0..=1 => 0,
        2 => 1,
        3 => 2,
        4..=6 => 3,
        _ => 4,
    }] = 1.0; // 15..=19
    d[20] = f32::from(u8::from(s.text.chars().any(|c| c.is_ascii_digit())));
    d[21] = f32::from(u8::from(s.text.ends_with('.')));
    d[22] = f32::from(u8::from(s.text.chars().next().is_some_and(char::is_lowercase)));
    d[23] = f32::from(u8::from(s.line_is_bullet));
    d[24] = f32::from(u8::from(s.text.chars().any(is_cjk)));
    d[25] = (s.text.chars().count() as f32 / 40.0).min(2.0);
    x.extend(d.iter().enumerate().filter(|(_, v)| **v != 0.0).map(|(i, v)| (BUCKETS + i, *v)));
    x
}

/// Title, organisation and location read from a header window by the model:
/// the most likely segment for each, when likely enough and not the same text.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reading {
    pub title: Option<(String, usize)>,
    pub organisation: Option<(String, usize)>,
    pub location: Option<String>,
}

/// Labels a window's segments; `None` without a model.
pub fn read(segments: &[Segment]) -> Option<Reading> {
    let (_, model) = MODEL.as_ref()?;
    let probs: Vec<Vec<f32>> = segments.iter().map(|s| model.probabilities_sparse(&sparse_features(s))).collect();
    let best = |label: usize, taken: &[usize]| {
        (0..segments.len())
            .filter(|i| !taken.contains(i))
            .max_by(|a, b| probs[*a][label].total_cmp(&probs[*b][label]))
            .filter(|i| probs[*i][label] >= 0.4 && probs[*i][label] >= probs[*i][LABELS.len() - 1])
    };
    // A segment that names an employer by its words ("GmbH", "School") and no
    // role is not a title, whatever the weights say.
    let org_like: Vec<usize> = (0..segments.len())
        .filter(|i| {
            let t = &segments[*i].text;
            let suffix = t.split_whitespace().any(|w| ORG_SUFFIXES.contains(&w.to_lowercase().as_str()));
            (has_org_word(t) || suffix) && !has_title_word(t)
        })
        .collect();
    let title = best(TITLE, &org_like);
    // A place is not an employer, whatever its words.
    let places: Vec<usize> = (0..segments.len()).filter(|i| is_location(&segments[*i].text)).collect();
    let organisation = best(ORGANISATION, &title.into_iter().chain(places).collect::<Vec<_>>());
    let taken: Vec<usize> = title.into_iter().chain(organisation).collect();
    let location = best(LOCATION, &taken);
    let same = |a: Option<usize>, b: Option<usize>| match (a, b) {
        (Some(a), Some(b)) => segments[a].text.eq_ignore_ascii_case(&segments[b].text),
        _ => false,
    };
    let organisation = if same(title, organisation) { None } else { organisation };
    Some(Reading {
        title: title.map(|i| (segments[i].text.clone(), segments[i].line)),
        organisation: organisation.map(|i| (segments[i].text.clone(), segments[i].line)),
        location: location.map(|i| segments[i].text.clone()),
    })
}

/// A dated line of an experience section and its window, for training and
/// for tools that look at what the labeller sees.
#[derive(Debug, Clone)]
pub struct Window {
    pub anchor: usize,
    pub dates: DateRange,
    pub segments: Vec<Segment>,
}

/// Every header window of the document's experience sections.
pub fn windows(doc: &Doc<'_>) -> Vec<Window> {
    let mut out = Vec::new();
    for block in doc.blocks.iter().filter(|b| b.section == crate::text::Section::Experience) {
        for anchor in block.lines.clone() {
            if let Some(found) = dated(doc.lines[anchor].text) {
                out.push(Window { anchor, dates: found.range, segments: segments(doc, anchor, block.lines.clone()) });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::{DocumentId, PageText};

    #[test]
    fn a_window_cuts_lines_into_segments_without_their_dates() {
        let pages = [PageText {
            page: 1,
            text: "EXPERIENCE\nAcme GmbH | Berlin\nSenior Engineer at Beta   Jan 2020 – Present\n• Built things\n"
                .into(),
        }];
        let doc = Doc::new(DocumentId::new(), &pages, "t");
        let w = windows(&doc);
        assert_eq!(w.len(), 1);
        let texts: Vec<&str> = w[0].segments.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(texts, ["Acme GmbH", "Berlin", "Senior Engineer", "Beta"]);
        assert!(w[0].segments[3].after_at);
        assert_eq!(w[0].segments[0].offset, -1);
        assert_eq!(features(&w[0].segments[0]).len(), FEATURES);
    }
}
