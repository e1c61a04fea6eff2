//! What the learned kind classifier sees of a document: the mean MiniLM
//! embedding of its opening windows, its similarity to each kind's
//! description (the zero-shot prior), each kind's cue score, and the voice
//! and shape of the text (who speaks: "I" or "you" or "we"; a salutation and a
//! sign-off; dated ranges, contact details, bullets, short lines, digits).

use domain::{DocumentKind, PageText};
use std::sync::LazyLock;

use regex::Regex;

/// The kinds a document can be named, in the order of every per-kind feature and output.
pub const KINDS: [DocumentKind; 7] = DocumentKind::SETTABLE;

/// Where the salutation and sign-off flags sit in [`shape`]'s output.
pub const SALUTATION_AT: usize = 3;
pub const SIGN_OFF_AT: usize = 4;

/// Names of the voice and shape features, in order.
pub const SHAPE_FEATURES: [&str; 14] = [
    "first_person_singular",
    "second_person",
    "first_person_plural",
    "salutation",
    "sign_off",
    "date_ranges",
    "email",
    "phone",
    "bullet_lines",
    "short_lines",
    "digits",
    "words_log",
    "heading_lines",
    "requirement_words",
];

fn word_set(words: &[&'static str]) -> std::collections::HashSet<&'static str> {
    words.iter().copied().collect()
}

static FIRST_SINGULAR: LazyLock<std::collections::HashSet<&str>> = LazyLock::new(|| {
    word_set(&[
        "i", "i'm", "i've", "i'd", "me", "my", "mine", "myself", "je", "j'ai", "moi", "mon", "ma", "mes", "ich",
        "mich", "mir", "mein", "meine", "meinen", "meiner", "yo", "mí", "mis", "eu", "meu", "minha", "meus", "minhas",
        "io", "mio", "mia",
    ])
});
static SECOND: LazyLock<std::collections::HashSet<&str>> = LazyLock::new(|| {
    word_set(&[
        "you", "your", "you'll", "you're", "yours", "vous", "votre", "vos", "tu", "du", "dein", "deine", "ihr", "ihre",
        "ihren", "ihrem", "usted", "ustedes", "su", "tus", "você", "vocês", "seu", "sua",
    ])
});
static FIRST_PLURAL: LazyLock<std::collections::HashSet<&str>> = LazyLock::new(|| {
    word_set(&[
        "we",
        "our",
        "we're",
        "we'll",
        "us",
        "ours",
        "nous",
        "notre",
        "nos",
        "wir",
        "unser",
        "unsere",
        "unserem",
        "unseren",
        "nosotros",
        "nuestro",
        "nuestra",
        "nuestros",
        "nós",
        "nosso",
        "nossa",
        "somos",
        "ofrecemos",
        "buscamos",
        "oferecemos",
    ])
});
static REQUIREMENT: LazyLock<std::collections::HashSet<&str>> = LazyLock::new(|| {
    word_set(&[
        "requirements",
        "required",
        "qualifications",
        "responsibilities",
        "preferred",
        "benefits",
        "candidate",
        "must",
        "plus",
        "requisitos",
        "responsabilidades",
        "exigences",
        "profil",
        "aufgaben",
        "anforderungen",
        "qualifikationen",
        "voraussetzungen",
        "requisitos",
        "vaga",
        "salary",
        "salario",
        "salaire",
        "gehalt",
    ])
});
static SALUTATION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?im)^\s*(dear\b|to whom it may concern|hello\b|hi\b|sehr geehrte|liebe[rs]?\b|madame|monsieur|estimad[oa]s?\b|prezad[oa]s?\b|caro\b|cara\b|gentile|尊敬的|您好)").expect("salutation")
});
static SIGN_OFF: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(sincerely|best regards|kind regards|yours truly|yours faithfully|respectfully|warm regards|mit freundlichen grüßen|mit freundlichen grüssen|cordialement|salutations distinguées|atentamente|atenciosamente|un saludo|cordiali saluti|此致|敬礼)").expect("sign-off")
});
static EMAIL: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"[\w.+-]+@[\w-]+\.[\w.-]+").expect("email"));
static PHONE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:\+\d{1,3}[\s.-]?)?(?:\(\d{2,4}\)[\s.-]?)?\d{2,4}[\s.-]\d{2,4}[\s.-]?\d{2,4}").expect("phone")
});

/// The text the features read: the pages joined, NFKC-insensitive (it is
/// already normalised by text extraction).
pub fn joined(pages: &[PageText]) -> String {
    pages.iter().map(|p| p.text.as_str()).collect::<Vec<_>>().join("\n")
}

/// The voice and shape features of a text, in [`SHAPE_FEATURES`] order, each
/// roughly in 0..1 (rates per word or per line, squashed counts).
pub fn shape(text: &str) -> Vec<f32> {
    let lower = text.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| c.is_whitespace() || matches!(c, ',' | '.' | ';' | ':' | '!' | '?' | '(' | ')' | '"'))
        .filter(|w| !w.is_empty())
        .collect();
    let n = words.len().max(1) as f32;
    let rate = |set: &std::collections::HashSet<&str>| {
        // Per 20 words, capped: a letter says "I" about once a sentence.
        (words.iter().filter(|w| set.contains(*w)).count() as f32 * 20.0 / n).min(1.0)
    };
    // CJK first person (我 but not 我们) and second person (你, 您).
    let chars: Vec<char> = text.chars().collect();
    let cjk = |needle: char, not_before: Option<char>| {
        (0..chars.len())
            .filter(|&i| chars[i] == needle && not_before.is_none_or(|c| chars.get(i + 1) != Some(&c)))
            .count()
    };
    let cjk_chars = chars.iter().filter(|c| ('\u{4e00}'..='\u{9fff}').contains(*c)).count().max(1) as f32;
    let cjk_rate = |count: usize| (count as f32 * 40.0 / cjk_chars).min(1.0);
    let lines: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    let m = lines.len().max(1) as f32;
    let head: String = lines.iter().take(12).copied().collect::<Vec<_>>().join("\n");
    let tail: String = lines.iter().rev().take(12).copied().collect::<Vec<_>>().join("\n");
    let ranges = facts_like_ranges(text);
    let digits = chars.iter().filter(|c| c.is_ascii_digit()).count() as f32 / chars.len().max(1) as f32;
    let bullets = lines
        .iter()
        .filter(|l| l.starts_with(['•', '●', '▪', '◦', '■', '-', '*', '–', '►', '➢', '✓', '·', '○']))
        .count() as f32;
    let short = lines.iter().filter(|l| l.chars().count() < 40).count() as f32;
    let headings = lines
        .iter()
        .filter(|l| {
            let w = l.split_whitespace().count();
            (1..=4).contains(&w)
                && !l.ends_with(['.', ','])
                && l.chars().any(char::is_alphabetic)
                && (l.chars().filter(|c| c.is_alphabetic()).all(char::is_uppercase) || l.ends_with(':'))
        })
        .count() as f32;
    vec![
        rate(&FIRST_SINGULAR).max(cjk_rate(cjk('我', Some('们')))),
        rate(&SECOND).max(cjk_rate(cjk('你', None) + cjk('您', None))),
        rate(&FIRST_PLURAL).max(cjk_rate(text.matches("我们").count())),
        f32::from(u8::from(SALUTATION.is_match(&head))),
        f32::from(u8::from(SIGN_OFF.is_match(&tail))),
        (ranges as f32 / 6.0).min(1.0),
        f32::from(u8::from(EMAIL.is_match(text))),
        f32::from(u8::from(PHONE.is_match(text))),
        bullets / m,
        short / m,
        (digits * 5.0).min(1.0),
        ((n + 1.0).ln() / 9.0).min(1.0),
        (headings / m * 4.0).min(1.0),
        rate(&REQUIREMENT),
    ]
}

/// How many date ranges ("2019 – 2021", "03/2018 - heute") the text holds: a
/// résumé has one per entry, a letter or a posting few.
fn facts_like_ranges(text: &str) -> usize {
    static RANGE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?i)(?:19|20)\d\d\s*(?:[-–—]|to|bis|à|a|até|至)\s*(?:(?:\d{1,2}[./])?(?:19|20)\d\d|present|current|now|today|heute|aujourd'hui|actuel|actualidad|presente|atual|至今|今)")
            .expect("range")
    });
    RANGE.find_iter(text).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feature(text: &str, name: &str) -> f32 {
        shape(text)[SHAPE_FEATURES.iter().position(|f| *f == name).unwrap()]
    }

    #[test]
    fn a_letter_speaks_in_the_first_person_and_a_posting_to_you() {
        let letter = "Dear Ms Smith,\nI am writing to apply for the role. My experience in sales fits it.\nI look forward to hearing from you.\nSincerely,\nJane";
        let posting = "About the role\nYou will build our platform. Your profile:\nRequirements\n- 3+ years of Go\nWe offer remote work and benefits.";
        assert!(feature(letter, "first_person_singular") > feature(posting, "first_person_singular"));
        assert!(feature(posting, "second_person") > 0.0);
        assert_eq!((feature(letter, "salutation"), feature(letter, "sign_off")), (1.0, 1.0));
        assert_eq!((feature(posting, "salutation"), feature(posting, "sign_off")), (0.0, 0.0));
        assert!(feature(posting, "requirement_words") > feature(letter, "requirement_words"));
    }

    #[test]
    fn dated_ranges_in_several_languages_are_counted() {
        let cv = "2015 – 2018 Ingenieur\n03/2018 - heute Leiter\n2012 à 2014 Stagiaire\n2010 - presente Analista\n2008 至今 工程师";
        assert_eq!(facts_like_ranges(cv), 5);
        assert_eq!(feature("Sehr geehrte Damen und Herren,\nich bewerbe mich", "salutation"), 1.0);
        assert_eq!(shape("").len(), SHAPE_FEATURES.len());
    }
}
