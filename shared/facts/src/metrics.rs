//! Numbers in achievements: percentages, money with its currency, counts of
//! things and durations ("cut deploys from 2 hours to 9 minutes").

use crate::model::{Metric, MetricKind};
use regex::Regex;
use std::sync::LazyLock;

const NUMBER: &str = r"\d+(?:[.,]\d+)*";
const SCALE: &str = r"(?:k|m|bn|b|mm|thousand|million|billion|trillion)\b";

static PERCENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(r"(?i)(?P<n>[-+]?{NUMBER})\s?(?:%|percent\b|per\s+cent\b|pct\b)")).expect("percent regex")
});
static MONEY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?ix)
        (?: (?P<sym>US\$|A\$|C\$|\$|€|£|¥|₹) \s? (?P<n1>{NUMBER}) \s? (?P<s1>{SCALE})?
          | (?P<code>USD|EUR|GBP|JPY|INR|CHF|CAD|AUD) \s? (?P<n2>{NUMBER}) \s? (?P<s2>{SCALE})?
          | (?P<n3>{NUMBER}) \s? (?P<s3>{SCALE})? \s? (?P<code3>USD|EUR|GBP|JPY|INR|CHF|CAD|AUD|dollars|euros|pounds)\b
        )"
    ))
    .expect("money regex")
});
static DURATION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?i)\b(?P<n>{NUMBER})\+?\s?(?P<unit>milliseconds?|ms|seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|weeks?|months?|years?|yrs?)\b"
    ))
    .expect("duration regex")
});
static COUNT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?i)(?:^|[^\w.$€£¥₹])(?P<n>{NUMBER})(?P<scale>\s?(?:k|m|thousand|million|billion)\b)?\+?\s+(?:(?:new|active|daily|monthly|concurrent|enterprise|internal|external|junior|senior|global|\w+-\w+)\s+)?(?P<unit>(?-i:[a-z][a-z/-]{{2,}}))"
    ))
    .expect("count regex")
});

/// Words after a number that do not make it a count of things.
const NOT_COUNTED: &[&str] = &[
    "and", "or", "to", "of", "in", "on", "at", "by", "for", "from", "with", "the", "a", "an", "per", "than", "percent",
    "times", "x", "years", "year", "months", "month", "weeks", "week", "days", "day", "hours", "hour", "minutes",
    "minute", "seconds", "second", "ms", "million", "billion", "thousand", "usd", "eur", "gbp", "dollars", "euros",
    "pounds", "am", "pm", "is", "was", "were", "are",
];

fn number(text: &str) -> Option<f64> {
    let t = text.trim_start_matches('+');
    // "1,200,000" and "45.000" (thousands) versus "1.5" and "3,5" (decimals).
    let groups: Vec<&str> = t.split([',', '.']).collect();
    let thousands = groups.len() > 1 && groups[1..].iter().all(|g| g.len() == 3);
    let cleaned = if thousands {
        t.replace([',', '.'], "")
    } else if t.matches(',').count() == 1 && !t.contains('.') {
        t.replace(',', ".")
    } else {
        t.replace(',', "")
    };
    cleaned.parse().ok()
}

fn scale(word: Option<&str>) -> f64 {
    match word.map(|w| w.trim().to_ascii_lowercase()).as_deref() {
        Some("k" | "thousand") => 1e3,
        Some("m" | "mm" | "million") => 1e6,
        Some("b" | "bn" | "billion") => 1e9,
        Some("trillion") => 1e12,
        _ => 1.0,
    }
}

fn currency(symbol: &str) -> &'static str {
    match symbol.to_ascii_lowercase().as_str() {
        "$" | "us$" | "usd" | "dollars" => "USD",
        "a$" | "aud" => "AUD",
        "c$" | "cad" => "CAD",
        "€" | "eur" | "euros" => "EUR",
        "£" | "gbp" | "pounds" => "GBP",
        "¥" | "jpy" => "JPY",
        "₹" | "inr" => "INR",
        "chf" => "CHF",
        _ => "USD",
    }
}

fn is_year(text: &str) -> bool {
    text.len() == 4 && text.parse::<u16>().is_ok_and(|y| (1950..=2100).contains(&y))
}

/// Every metric in `text`, in order of appearance; a span is read once (the
/// "45" of "45%" is not also a count).
pub fn metrics(text: &str) -> Vec<Metric> {
    let mut found: Vec<(usize, usize, Metric)> = Vec::new();
    let taken = |found: &[(usize, usize, Metric)], s: usize, e: usize| found.iter().any(|(a, b, _)| s < *b && *a < e);

    for c in MONEY.captures_iter(text) {
        let whole = c.get(0).expect("group 0");
        let (n, s, code) = if let Some(n) = c.name("n1") {
            (n, c.name("s1"), c.name("sym"))
        } else if let Some(n) = c.name("n2") {
            (n, c.name("s2"), c.name("code"))
        } else {
            (c.name("n3").expect("n3"), c.name("s3"), c.name("code3"))
        };
        if let Some(value) = number(n.as_str()) {
            let metric = Metric {
                kind: MetricKind::Money,
                value: value * scale(s.map(|m| m.as_str())),
                currency: Some(currency(code.map_or("$", |m| m.as_str())).to_owned()),
                unit: None,
                text: whole.as_str().trim().to_owned(),
            };
            found.push((whole.start(), whole.end(), metric));
        }
    }
    for c in PERCENT.captures_iter(text) {
        let whole = c.get(0).expect("group 0");
        if taken(&found, whole.start(), whole.end()) {
            continue;
        }
        if let Some(value) = c.name("n").and_then(|n| number(n.as_str())) {
            let metric = Metric {
                kind: MetricKind::Percent,
                value,
                currency: None,
                unit: None,
                text: whole.as_str().to_owned(),
            };
            found.push((whole.start(), whole.end(), metric));
        }
    }
    for c in DURATION.captures_iter(text) {
        let whole = c.get(0).expect("group 0");
        if taken(&found, whole.start(), whole.end()) {
            continue;
        }
        let unit = c.name("unit").map(|u| u.as_str().to_ascii_lowercase()).unwrap_or_default();
        let unit = match unit.as_str() {
            "ms" | "millisecond" | "milliseconds" => "milliseconds",
            "sec" | "secs" | "second" | "seconds" => "seconds",
            "min" | "mins" | "minute" | "minutes" => "minutes",
            "hr" | "hrs" | "hour" | "hours" => "hours",
            "day" | "days" => "days",
            "week" | "weeks" => "weeks",
            "month" | "months" => "months",
            _ => "years",
        };
        if let Some(value) = c.name("n").and_then(|n| number(n.as_str())) {
            let metric = Metric {
                kind: MetricKind::Duration,
                value,
                currency: None,
                unit: Some(unit.to_owned()),
                text: whole.as_str().to_owned(),
            };
            found.push((whole.start(), whole.end(), metric));
        }
    }
    for c in COUNT.captures_iter(text) {
        let (Some(n), Some(unit)) = (c.name("n"), c.name("unit")) else { continue };
        let start = n.start();
        let end = unit.end();
        let unit_word = unit.as_str().to_ascii_lowercase();
        if taken(&found, start, end) || NOT_COUNTED.contains(&unit_word.as_str()) || is_year(n.as_str()) {
            continue;
        }
        // "v2.0", "Java 8", "Q3" and list numbering are not counts.
        let before = text[..start].chars().next_back();
        if before.is_some_and(|b| b.is_alphabetic()) || text[end..].starts_with('(') {
            continue;
        }
        if let Some(value) = number(n.as_str()) {
            let value = value * scale(c.name("scale").map(|m| m.as_str()));
            let metric = Metric {
                kind: MetricKind::Count,
                value,
                currency: None,
                unit: Some(unit_word.trim_end_matches(['/', '-']).to_owned()),
                text: text[start..end].to_owned(),
            };
            found.push((start, end, metric));
        }
    }
    found.sort_by_key(|(s, _, _)| *s);
    found.into_iter().map(|(_, _, m)| m).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(MetricKind, f64, Option<String>, Option<String>)> {
        metrics(text).into_iter().map(|m| (m.kind, m.value, m.currency, m.unit)).collect()
    }

    #[test]
    fn percentages_money_counts_and_durations() {
        use MetricKind::*;
        assert_eq!(kinds("Reduced API latency by 45% with Redis"), [(Percent, 45.0, None, None)]);
        assert_eq!(
            kinds("Negotiated contracts saving $1.2M annually and €45.000 in fees"),
            [(Money, 1_200_000.0, Some("USD".into()), None), (Money, 45_000.0, Some("EUR".into()), None)]
        );
        assert_eq!(kinds("Managed a budget of USD 3,500,000"), [(Money, 3_500_000.0, Some("USD".into()), None)]);
        assert_eq!(kinds("£75k plus bonus"), [(Money, 75_000.0, Some("GBP".into()), None)]);
        assert_eq!(
            kinds("Led a team of 8 engineers and hired 12 people"),
            [(Count, 8.0, None, Some("engineers".into())), (Count, 12.0, None, Some("people".into()))]
        );
        assert_eq!(kinds("served 3.6 million users"), [(Count, 3_600_000.0, None, Some("users".into()))]);
        assert_eq!(kinds("Managed 300+ pods"), [(Count, 300.0, None, Some("pods".into()))]);
        assert_eq!(
            kinds("cutting deployment time from 2 hours to 9 minutes"),
            [(Duration, 2.0, None, Some("hours".into())), (Duration, 9.0, None, Some("minutes".into()))]
        );
    }

    #[test]
    fn years_versions_and_plain_words_are_not_metrics() {
        assert!(metrics("Shipped in 2023 with Java 8 and Python 3").is_empty());
        assert!(metrics("Improved user experience by").is_empty());
        assert!(metrics("Worked on v2.0 of the app").is_empty());
        assert!(metrics("1600 Amphitheatre Parkway").is_empty(), "an address is not a count");
    }
}
