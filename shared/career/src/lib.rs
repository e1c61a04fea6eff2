//! The two user-facing brains of the engine, as pure domain code.
//!
//! - The interview: [`gaps`] finds what the profile lacks (ranked by value),
//!   [`questioner`] picks the next best question, [`answers`] turns an answer
//!   into facts with conversation provenance, [`behavior`] records the work
//!   patterns an answer shows, and [`fatigue`] ends the session before the
//!   user tires. [`session`] holds the state that persists between turns.
//! - The insights: [`insight`] reads the career's trajectory, hidden
//!   strengths, career paths (from the skill ontology) and recommendations,
//!   each with the evidence behind it.

pub mod answers;
pub mod behavior;
pub mod fatigue;
pub mod gaps;
pub mod insight;
pub mod questioner;
pub mod session;

/// This month (UTC): the "today" of date gaps and of jobs that run to the present.
pub fn today() -> facts::dates::YearMonth {
    let now = time::OffsetDateTime::now_utc();
    facts::dates::YearMonth::new(now.year() as u16, Some(u8::from(now.month()))).expect("a valid month")
}

/// Sentences of a text with their byte spans (split after `.`, `!`, `?`, `;`
/// and line breaks; a dot between digits or in "e.g." does not end one).
pub fn sentences(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let ends = match b {
            b'!' | b'?' | b';' | b'\n' => true,
            b'.' => {
                let next = bytes.get(i + 1).copied();
                let prev = if i > 0 { Some(bytes[i - 1]) } else { None };
                let in_number = prev.is_some_and(|p| p.is_ascii_digit()) && next.is_some_and(|n| n.is_ascii_digit());
                !in_number && next.is_none_or(|n| n.is_ascii_whitespace())
            }
            _ => false,
        };
        if ends {
            push_trimmed(text, start, i + 1, &mut out);
            start = i + 1;
        }
        i += 1;
    }
    push_trimmed(text, start, text.len(), &mut out);
    out
}

fn push_trimmed(text: &str, start: usize, end: usize, out: &mut Vec<(usize, usize)>) {
    let piece = &text[start..end];
    let lead = piece.len() - piece.trim_start().len();
    let trail = piece.len() - piece.trim_end().len();
    let (s, e) = (start + lead, end - trail);
    if e > s {
        out.push((s, e));
    }
}

/// Words of a text (letters and digits), lowercased.
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric() && c != '\'').filter(|w| !w.is_empty()).map(str::to_lowercase).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences_split_on_ends_but_not_inside_numbers() {
        let text = "Cut costs by 3.5 percent. Then I led the team!\nDone";
        let parts: Vec<&str> = sentences(text).into_iter().map(|(s, e)| &text[s..e]).collect();
        assert_eq!(parts, ["Cut costs by 3.5 percent.", "Then I led the team!", "Done"]);
    }
}
