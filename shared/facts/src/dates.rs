//! Dates as people write them on career documents, normalised to year-month.
//!
//! Handles month names and abbreviations ("Jan 2020", "Sept. 2019", "15 March
//! 2019", "March 15, 2019"), numeric forms ("03/2018", "2018-03",
//! "2020-01-15"), bare years, seasons ("Summer 2017") and quarters ("Q3 2019"),
//! ranges with any dash, "to", "until" or "~", open ends ("Present",
//! "Current", "Now", "to date") and "since 2015". A date that cannot be read
//! keeps its raw text with a low confidence; nothing is ever made up.

use regex::Regex;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::LazyLock;

/// A year with an optional month: what résumés state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct YearMonth {
    pub year: u16,
    /// 1 to 12; `None` when only the year is known.
    pub month: Option<u8>,
}

impl YearMonth {
    pub fn new(year: u16, month: Option<u8>) -> Option<Self> {
        let month_ok = month.is_none_or(|m| (1..=12).contains(&m));
        ((1900..=2100).contains(&year) && month_ok).then_some(Self { year, month })
    }

    /// Months since year 0, taking an unknown month as `default_month`.
    pub fn ordinal(self, default_month: u8) -> i32 {
        i32::from(self.year) * 12 + i32::from(self.month.unwrap_or(default_month)) - 1
    }
}

impl fmt::Display for YearMonth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.month {
            Some(m) => write!(f, "{:04}-{m:02}", self.year),
            None => write!(f, "{:04}", self.year),
        }
    }
}

impl std::str::FromStr for YearMonth {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("{s:?} is not YYYY or YYYY-MM");
        let (year, month) = match s.split_once('-') {
            Some((y, m)) => (y, Some(m.parse::<u8>().map_err(|_| bad())?)),
            None => (s, None),
        };
        YearMonth::new(year.parse().map_err(|_| bad())?, month).ok_or_else(bad)
    }
}

impl Serialize for YearMonth {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for YearMonth {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A period as written: start, end or "current", the raw text and how sure
/// the reading is (1.0 for "Jan 2020 – Mar 2021", lower for seasons, bare
/// years or ambiguous day/month orders).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DateRange {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<YearMonth>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<YearMonth>,
    /// The period runs to today ("Present", "since 2015").
    #[serde(default)]
    pub current: bool,
    pub raw: String,
    pub confidence: f32,
}

impl DateRange {
    /// Whether two periods share at least a month (unknown months widen the
    /// period to the whole year; an open end runs to `today`).
    pub fn overlaps(&self, other: &DateRange, today: YearMonth) -> bool {
        match (self.bounds(today), other.bounds(today)) {
            (Some((a0, a1)), Some((b0, b1))) => a0 <= b1 && b0 <= a1,
            _ => false,
        }
    }

    /// First and last month covered, if the start is known.
    fn bounds(&self, today: YearMonth) -> Option<(i32, i32)> {
        let start = self.start?.ordinal(1);
        let end = match (self.end, self.current) {
            (_, true) => today.ordinal(12),
            (Some(end), false) => end.ordinal(12),
            (None, false) => self.start?.ordinal(12),
        };
        Some((start, end.max(start)))
    }
}

/// Month names and abbreviations in English, German, French, Spanish,
/// Portuguese and Italian (longest first within each group, so that the
/// regex, leftmost-first, takes the whole word).
const MONTH: &str = r"(?P<mon>january|jan|february|feb|march|mar|april|apr|may|june|jun|july|jul|august|aug|september|sept|sep|october|oct|november|nov|december|dec|januar|jänner|februar|märz|mai|juni|juli|oktober|okt|dezember|dez|janvier|janv|février|févr|fevr|mars|avril|avr|juin|juillet|juil|août|aout|septembre|octobre|novembre|décembre|déc|enero|ene|febrero|marzo|abril|abr|mayo|junio|julio|agosto|ago|septiembre|setiembre|octubre|noviembre|diciembre|dic|janeiro|fevereiro|fev|março|maio|junho|julho|setembro|set|outubro|out|dezembro|gennaio|gen|febbraio|aprile|maggio|mag|giugno|giu|luglio|lug|settembre|ottobre|ott|dicembre)\.?";
const YEAR: &str = r"(?P<year>(?:19[5-9]\d|20\d\d))";

/// One date, alternatives from most to least specific (leftmost-first).
static DATE: LazyLock<Regex> = LazyLock::new(|| {
    let alternatives = [
        // 15 March 2019, March 2019, Sept. 2019, Mar '19 is not handled (two-digit years are ambiguous)
        format!(r"(?:\d{{1,2}}(?:st|nd|rd|th|er|\.)?\s+(?:de\s+)?)?{MONTH},?\s*(?:de\s+|del\s+)?{YEAR}"),
        // March 15, 2019
        format!(r"{}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+{}", MONTH.replace("mon", "mon2"), YEAR.replace("year", "year2")),
        // Summer 2017
        format!(r"(?P<season>spring|summer|fall|autumn|winter)\s+{}", YEAR.replace("year", "year3")),
        // Q3 2019
        format!(r"q(?P<quarter>[1-4])\s+{}", YEAR.replace("year", "year4")),
        // 2020-01-15, 2018-03, 2018/03
        format!(
            r"{}[-/.](?P<isomonth>0?[1-9]|1[0-2])(?:[-/.](?:0?[1-9]|[12]\d|3[01]))?\b",
            YEAR.replace("year", "year5")
        ),
        // 15/03/2019 or 03/15/2019
        format!(r"(?P<d1>\d{{1,2}})[/.](?P<d2>\d{{1,2}})[/.]{}", YEAR.replace("year", "year6")),
        // 03/2018
        format!(r"(?P<nummonth>0?[1-9]|1[0-2])[/.]{}", YEAR.replace("year", "year7")),
        // 2019
        YEAR.replace("year", "year8"),
    ];
    // 2018年3月, 2018年: no word boundary after it ("2018年3月至今": 月 and 至 are both word characters).
    let chinese = format!(r"{}\s*年\s*(?:(?P<cnmonth>0?[1-9]|1[0-2])\s*月)?", YEAR.replace("year", "year9"));
    Regex::new(&format!(r"(?i)\b(?:{chinese}|(?:{})\b)", alternatives.join("|"))).expect("date regex")
});

static PRESENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)^\s*(?:present|current(?:ly)?|now|today|to\s+date|till\s+date|date|ongoing|(?:bis\s+)?heute|aktuell|jetzt|dato|présent|aujourd['’]hui|actuel(?:lement)?|en\s+cours|à\s+ce\s+jour|presente|actualidad|actual(?:mente)?|hoy|atual(?:mente)?|hoje|o\s+momento|oggi|attuale|in\s+corso|heden|nu|至今|现在|今|目前)(?:\b|$|[^\w])",
    )
        .expect("present regex")
});
static RANGE_SEPARATOR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)^\s*(?:[-–—−~→～〜]+|->|to|until|till|through|thru|bis|à|au|a|al|hasta|até|ao|fino\s+a|tot|至|到)\s*",
    )
    .expect("separator regex")
});
static SINCE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)\b(?:since|from|seit|depuis|desde|dal|sinds)\s+$").expect("since regex"));

/// One date found in a text: its byte span, value and confidence.
#[derive(Debug, Clone, Copy, PartialEq)]
struct DateHit {
    start: usize,
    end: usize,
    value: YearMonth,
    confidence: f32,
}

fn month_number(name: &str) -> Option<u8> {
    const MONTHS: [&[&str]; 12] = [
        &["jan", "january", "januar", "jänner", "janv", "janvier", "ene", "enero", "janeiro", "gen", "gennaio"],
        &["feb", "february", "februar", "févr", "fevr", "février", "febrero", "fev", "fevereiro", "febbraio"],
        &["mar", "march", "märz", "mars", "marzo", "março"],
        &["apr", "april", "avr", "avril", "abr", "abril", "aprile"],
        &["may", "mai", "mayo", "maio", "mag", "maggio"],
        &["jun", "june", "juni", "juin", "junio", "junho", "giu", "giugno"],
        &["jul", "july", "juli", "juil", "juillet", "julio", "julho", "lug", "luglio"],
        &["aug", "august", "août", "aout", "ago", "agosto"],
        &["sep", "sept", "september", "septembre", "septiembre", "setiembre", "set", "setembro", "settembre"],
        &["oct", "october", "okt", "oktober", "octobre", "octubre", "out", "outubro", "ott", "ottobre"],
        &["nov", "november", "novembre", "noviembre", "novembro"],
        &["dec", "december", "dez", "dezember", "déc", "décembre", "dic", "diciembre", "dezembro", "dicembre"],
    ];
    let name = name.trim_end_matches('.').to_lowercase();
    MONTHS.iter().position(|names| names.contains(&name.as_str())).map(|i| i as u8 + 1)
}

/// Whether a match is really a date and not part of a number, an amount or a phone.
fn stands_alone(text: &str, start: usize, end: usize) -> bool {
    let before = text[..start].chars().next_back();
    let after = text[end..].chars().next();
    let bad_before = before.is_some_and(|c| c.is_ascii_digit() || matches!(c, '$' | '€' | '£' | '¥' | '₹' | '+' | '#'));
    let bad_after = after.is_some_and(|c| c.is_ascii_digit() || matches!(c, '%' | '+'))
        || text[end..].starts_with(",0")
        || text[end..].starts_with(".0");
    !(bad_before || bad_after)
}

fn dates_in(text: &str) -> Vec<DateHit> {
    let mut hits = Vec::new();
    for caps in DATE.captures_iter(text) {
        let whole = caps.get(0).expect("group 0");
        if !stands_alone(text, whole.start(), whole.end()) {
            continue;
        }
        let year = |name: &str| caps.name(name).and_then(|m| m.as_str().parse::<u16>().ok());
        let (value, confidence) = if let Some(y) = year("year") {
            (YearMonth::new(y, caps.name("mon").and_then(|m| month_number(m.as_str()))), 1.0)
        } else if let Some(y) = year("year2") {
            (YearMonth::new(y, caps.name("mon2").and_then(|m| month_number(m.as_str()))), 1.0)
        } else if let Some(y) = year("year3") {
            let month = match caps.name("season").map(|m| m.as_str().to_ascii_lowercase()).as_deref() {
                Some("spring") => 3,
                Some("summer") => 6,
                Some("fall" | "autumn") => 9,
                _ => 12,
            };
            (YearMonth::new(y, Some(month)), 0.6)
        } else if let Some(y) = year("year4") {
            let quarter: u8 = caps.name("quarter").and_then(|m| m.as_str().parse().ok()).unwrap_or(1);
            (YearMonth::new(y, Some(quarter * 3 - 2)), 0.7)
        } else if let Some(y) = year("year5") {
            (YearMonth::new(y, caps.name("isomonth").and_then(|m| m.as_str().parse().ok())), 1.0)
        } else if let Some(y) = year("year6") {
            let d1: u8 = caps.name("d1").and_then(|m| m.as_str().parse().ok()).unwrap_or(0);
            let d2: u8 = caps.name("d2").and_then(|m| m.as_str().parse().ok()).unwrap_or(0);
            match (d1, d2) {
                (1..=12, 13..=31) => (YearMonth::new(y, Some(d1)), 0.9),
                (13..=31, 1..=12) => (YearMonth::new(y, Some(d2)), 0.9),
                // Day and month cannot be told apart: keep the year only.
                (1..=12, 1..=12) => (YearMonth::new(y, None), 0.5),
                _ => (None, 0.0),
            }
        } else if let Some(y) = year("year7") {
            (YearMonth::new(y, caps.name("nummonth").and_then(|m| m.as_str().parse().ok())), 1.0)
        } else if let Some(y) = year("year9") {
            (YearMonth::new(y, caps.name("cnmonth").and_then(|m| m.as_str().parse().ok())), 1.0)
        } else if let Some(y) = year("year8") {
            (YearMonth::new(y, None), 0.9)
        } else {
            (None, 0.0)
        };
        if let Some(value) = value {
            hits.push(DateHit { start: whole.start(), end: whole.end(), value, confidence });
        }
    }
    hits
}

/// A date range found in a line, with its byte span in that line.
#[derive(Debug, Clone, PartialEq)]
pub struct FoundRange {
    pub start: usize,
    pub end: usize,
    pub range: DateRange,
}

/// Every date range (or lone date) in `text`, in order: "A – B", "A – Present",
/// "since A", or a single date (taken as an end when `lone_is_end`, as on an
/// education line, else as a start and end of a one-date period).
pub fn find_ranges(text: &str, lone_is_end: bool) -> Vec<FoundRange> {
    let dates = dates_in(text);
    let mut found = Vec::new();
    let mut i = 0;
    while i < dates.len() {
        let first = dates[i];
        let after = &text[first.end..];
        let separator = RANGE_SEPARATOR.find(after).map(|m| m.end());
        // "A – B"
        if let Some(sep) = separator
            && let Some(second) = dates.get(i + 1)
            && second.start == first.end + sep
        {
            let raw = &text[first.start..second.end];
            let (start, end) = (first.value, second.value);
            let confidence = first.confidence.min(second.confidence) * if start <= end { 1.0 } else { 0.4 };
            found.push(FoundRange {
                start: first.start,
                end: second.end,
                range: DateRange { start: Some(start), end: Some(end), current: false, raw: raw.into(), confidence },
            });
            i += 2;
            continue;
        }
        // "A – Present"
        if let Some(sep) = separator
            && let Some(present) = PRESENT.find(&after[sep..])
        {
            found.push(ongoing(text, first, first.end + sep + present.end(), first.confidence));
            i += 1;
            continue;
        }
        // "A –" with nothing after the dash on the line: open-ended, as themes print an ongoing role.
        if let Some(sep) = separator
            && after[..sep].trim().chars().all(|c| matches!(c, '-' | '–' | '—' | '−' | '~'))
            && !after[..sep].trim().is_empty()
            && after[sep..].split('\n').next().is_none_or(|rest| rest.trim().is_empty())
        {
            found.push(ongoing(text, first, first.end + after[..sep].trim_end().len(), first.confidence * 0.8));
            i += 1;
            continue;
        }
        // "since A" / "from A"
        if let Some(since) = SINCE.find(&text[..first.start]) {
            found.push(FoundRange {
                start: since.start(),
                end: first.end,
                range: DateRange {
                    start: Some(first.value),
                    end: None,
                    current: true,
                    raw: text[since.start()..first.end].into(),
                    confidence: first.confidence * 0.9,
                },
            });
            i += 1;
            continue;
        }
        let raw = text[first.start..first.end].to_owned();
        let range = if lone_is_end {
            DateRange { start: None, end: Some(first.value), current: false, raw, confidence: first.confidence }
        } else {
            DateRange {
                start: Some(first.value),
                end: Some(first.value),
                current: false,
                raw,
                confidence: first.confidence * 0.8,
            }
        };
        found.push(FoundRange { start: first.start, end: first.end, range });
        i += 1;
    }
    found
}

/// A period from `first` to today, read from `text[first.start..end]`.
fn ongoing(text: &str, first: DateHit, end: usize, confidence: f32) -> FoundRange {
    FoundRange {
        start: first.start,
        end,
        range: DateRange {
            start: Some(first.value),
            end: None,
            current: true,
            raw: text[first.start..end].into(),
            confidence,
        },
    }
}

/// Reads a whole string as one period. Text that holds no date is kept raw
/// with confidence 0.1 and no values.
pub fn parse_range(text: &str) -> DateRange {
    match find_ranges(text, false).into_iter().next() {
        Some(found) => found.range,
        None => DateRange { start: None, end: None, current: false, raw: text.trim().to_owned(), confidence: 0.1 },
    }
}

/// Whether a line holds an open-ended marker like "Present" right after a separator.
pub fn mentions_present(text: &str) -> bool {
    text.split(['–', '—', '-']).skip(1).any(|part| PRESENT.is_match(part))
}

#[cfg(test)]
mod tests {
    #[test]
    fn other_languages_and_open_dashes_read_as_ranges() {
        let cases = [
            ("März 2019 – heute", (2019, Some(3)), None, true),
            ("janvier 2018 à juin 2020", (2018, Some(1)), Some((2020, Some(6))), false),
            ("marzo de 2015 - actualidad", (2015, Some(3)), None, true),
            ("2016年9月 - 2019年6月", (2016, Some(9)), Some((2019, Some(6))), false),
            ("2020年3月至今", (2020, Some(3)), None, true),
            ("setembro 2021 - atual", (2021, Some(9)), None, true),
            ("2022-09-01 —", (2022, Some(9)), None, true),
        ];
        for (text, start, end, current) in cases {
            let r = &find_ranges(text, false)[0].range;
            assert_eq!(r.start, YearMonth::new(start.0, start.1), "{text}");
            assert_eq!(r.end, end.and_then(|(y, m)| YearMonth::new(y, m)), "{text}");
            assert_eq!(r.current, current, "{text}");
        }
    }

    use super::*;

    fn ym(s: &str) -> Option<YearMonth> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn the_forms_people_write_all_normalise() {
        let cases: &[(&str, Option<YearMonth>, Option<YearMonth>, bool)] = &[
            ("Jan 2020 – Present", ym("2020-01"), None, true),
            ("January 2020 - March 2021", ym("2020-01"), ym("2021-03"), false),
            ("Sep. 2023 - Mar. 2024", ym("2023-09"), ym("2024-03"), false),
            ("Sept 2019 — Current", ym("2019-09"), None, true),
            ("2019-2021", ym("2019"), ym("2021"), false),
            ("2019 – 2021", ym("2019"), ym("2021"), false),
            ("03/2018 - 11/2018", ym("2018-03"), ym("2018-11"), false),
            ("03/2018", ym("2018-03"), ym("2018-03"), false),
            ("2018-03 to 2019-07", ym("2018-03"), ym("2019-07"), false),
            ("2020-01-15 to 2022-06-30", ym("2020-01"), ym("2022-06"), false),
            ("Summer 2017", ym("2017-06"), ym("2017-06"), false),
            ("since 2015", ym("2015"), None, true),
            ("From March 2016", ym("2016-03"), None, true),
            ("June 2018 - Present", ym("2018-06"), None, true),
            ("Q3 2019 – Q1 2020", ym("2019-07"), ym("2020-01"), false),
            ("15 March 2019 until 2 May 2020", ym("2019-03"), ym("2020-05"), false),
            ("March 15, 2019 to date", ym("2019-03"), None, true),
            ("Dec 2011 ~ Feb 2012", ym("2011-12"), ym("2012-02"), false),
        ];
        for (text, start, end, current) in cases {
            let r = parse_range(text);
            assert_eq!((r.start, r.end, r.current), (*start, *end, *current), "{text}");
            assert!(r.confidence > 0.3, "{text}: {r:?}");
        }
    }

    #[test]
    fn unreadable_dates_keep_their_text_and_a_low_confidence() {
        for text in ["the other day", "TBD", "'19 - '21", "Fall semester"] {
            let r = parse_range(text);
            assert_eq!((r.start, r.end, r.current), (None, None, false), "{text}");
            assert_eq!(r.raw, text.trim());
            assert!(r.confidence <= 0.1);
        }
        // Day and month that cannot be told apart keep only the year.
        let r = parse_range("04/05/2019");
        assert_eq!(r.start, ym("2019"));
        assert!(r.confidence < 0.6);
    }

    #[test]
    fn numbers_that_are_not_dates_are_left_alone() {
        for text in ["saved $2000 per month", "2019% growth", "(123) 456-7890", "grew to 2,0150 users", "+2021"] {
            assert!(find_ranges(text, false).is_empty(), "{text}");
        }
    }

    #[test]
    fn ranges_are_found_inside_lines_with_their_spans() {
        let line = "Full Stack Java Developer, ABC Company, Inc., Anywhere, USA, June 2018 - Present";
        let found = find_ranges(line, false);
        assert_eq!(found.len(), 1);
        assert_eq!(&line[found[0].start..found[0].end], "June 2018 - Present");
        let edu = "Bachelor of Science in Computer Science, State University, May 2016";
        let found = find_ranges(edu, true);
        assert_eq!((found[0].range.start, found[0].range.end), (None, ym("2016-05")));
    }

    #[test]
    fn overlap_uses_whole_years_for_unknown_months_and_today_for_open_ends() {
        let today = YearMonth::new(2026, Some(12)).unwrap();
        let a = parse_range("Jan 2019 - Jun 2020");
        assert!(a.overlaps(&parse_range("2020 - 2021"), today));
        assert!(!a.overlaps(&parse_range("Jul 2020 - 2021"), today));
        assert!(parse_range("since 2015").overlaps(&parse_range("2024"), today));
        assert_eq!(serde_json::to_string(&ym("2020-01")).unwrap(), "\"2020-01\"");
    }
}
