//! Text as a reader sees it, whatever the text layer holds: Unicode NFKC
//! (full-width forms, ligatures, compatibility characters), no zero-width,
//! soft-hyphen or private-use (icon-font) characters, Cyrillic and Greek lookalikes inside Latin words
//! read as Latin, and letter-spaced headings ("E X P E R I E N C E") closed up.
//! Every extractor's pages pass through here, so provenance spans point into
//! the normalised text that is stored.

use unicode_normalization::UnicodeNormalization;

/// Lookalike letters of other scripts and the Latin letter they pass for.
const LOOKALIKES: &[(char, char)] = &[
    ('а', 'a'),
    ('е', 'e'),
    ('о', 'o'),
    ('р', 'p'),
    ('с', 'c'),
    ('у', 'y'),
    ('х', 'x'),
    ('і', 'i'),
    ('ј', 'j'),
    ('ѕ', 's'),
    ('А', 'A'),
    ('В', 'B'),
    ('Е', 'E'),
    ('К', 'K'),
    ('М', 'M'),
    ('Н', 'H'),
    ('О', 'O'),
    ('Р', 'P'),
    ('С', 'C'),
    ('Т', 'T'),
    ('Х', 'X'),
    ('І', 'I'),
    ('Ј', 'J'),
    ('Ѕ', 'S'),
    ('ο', 'o'),
    ('α', 'a'),
    ('ι', 'i'),
    ('Α', 'A'),
    ('Β', 'B'),
    ('Ε', 'E'),
    ('Ζ', 'Z'),
    ('Η', 'H'),
    ('Ι', 'I'),
    ('Κ', 'K'),
    ('Μ', 'M'),
    ('Ν', 'N'),
    ('Ο', 'O'),
    ('Ρ', 'P'),
    ('Τ', 'T'),
    ('Χ', 'X'),
    ('Υ', 'Y'),
];

fn lookalike(c: char) -> Option<char> {
    LOOKALIKES.iter().find(|(from, _)| *from == c).map(|(_, to)| *to)
}

fn is_latin_letter(c: char) -> bool {
    c.is_ascii_alphabetic() || (('\u{00C0}'..='\u{024F}').contains(&c) && c.is_alphabetic())
}

/// A word mostly of Latin letters with a few lookalikes is a Latin word.
fn fix_lookalikes(word: &str, out: &mut String) {
    let latin = word.chars().filter(|c| is_latin_letter(*c)).count();
    let alike = word.chars().filter(|c| lookalike(*c).is_some()).count();
    let other = word.chars().filter(|c| c.is_alphabetic()).count().saturating_sub(latin + alike);
    if alike > 0 && latin > 0 && other == 0 {
        out.extend(word.chars().map(|c| lookalike(c).unwrap_or(c)));
    } else {
        out.push_str(word);
    }
}

/// "E X P E R I E N C E" or "W O R K  H I S T O R Y" (single letters, single
/// spaces within a word, two or more between words) closed up; other lines as they are.
fn close_letter_spacing(line: &str) -> Option<String> {
    let trimmed = line.trim();
    let letters = trimmed.chars().filter(|c| !c.is_whitespace()).count();
    if letters < 4 {
        return None;
    }
    let words: Vec<&str> = trimmed.split("  ").map(str::trim).filter(|w| !w.is_empty()).collect();
    let spaced = |w: &&str| w.split(' ').all(|part| part.chars().count() == 1 && part.chars().all(char::is_alphabetic));
    if !words.iter().all(spaced) || words.iter().all(|w| !w.contains(' ')) {
        return None;
    }
    let lead = &line[..line.len() - line.trim_start().len()];
    Some(format!("{lead}{}", words.iter().map(|w| w.replace(' ', "")).collect::<Vec<_>>().join(" ")))
}

/// The normalised text of one page.
pub fn normalise(text: &str) -> String {
    let composed: String = text
        .chars()
        // Private-use characters are icon-font glyphs (a phone, an envelope), not text.
        .filter(
            |c| !matches!(c, '\u{00AD}' | '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{E000}'..='\u{F8FF}'),
        )
        .map(|c| if matches!(c, '\u{00A0}' | '\u{202F}') { ' ' } else { c })
        .nfkc()
        .collect();
    let mut out = String::with_capacity(composed.len());
    for line in composed.split_inclusive('\n') {
        let (body, newline) = match line.strip_suffix('\n') {
            Some(b) => (b, "\n"),
            None => (line, ""),
        };
        let body = close_letter_spacing(body).unwrap_or_else(|| body.to_owned());
        let mut word = String::new();
        for c in body.chars() {
            if c.is_whitespace() {
                fix_lookalikes(&word, &mut out);
                word.clear();
                out.push(c);
            } else {
                word.push(c);
            }
        }
        fix_lookalikes(&word, &mut out);
        out.push_str(newline);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compatibility_forms_zero_widths_and_lookalikes_read_as_plain_text() {
        assert_eq!(normalise("Ｊａｎｅ\u{200B} Doe"), "Jane Doe");
        assert_eq!(normalise("eﬃcient co\u{00AD}operation"), "efficient cooperation");
        // Cyrillic а and о inside Latin words; a Russian word stays Russian.
        assert_eq!(normalise("Jаvа Develоper, инженер"), "Java Developer, инженер");
        assert_eq!(normalise("（北京）"), "(北京)");
        // × and ÷ sit among the Latin-1 letters but are not letters.
        assert_eq!(normalise("3×4 ÷ 2"), "3×4 ÷ 2");
        assert_eq!(normalise("\u{f095} +86 151"), " +86 151");
    }

    #[test]
    fn letter_spaced_headings_are_closed_up_and_prose_is_not() {
        assert_eq!(normalise("E X P E R I E N C E\nWork"), "EXPERIENCE\nWork");
        assert_eq!(normalise("  W O R K  H I S T O R Y"), "  WORK HISTORY");
        assert_eq!(normalise("I am a UX designer"), "I am a UX designer");
        assert_eq!(normalise("A B C"), "A B C");
    }
}
