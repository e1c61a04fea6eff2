//! Extraction for the other document kinds: job descriptions (target role,
//! required and preferred skills, seniority, responsibilities), cover letters
//! (motivations, claimed achievements, target organisation and role), and
//! certificates and transcripts (the credential, courses and grades).

use crate::dates::find_ranges;
use crate::extract::{Doc, Found};
use crate::lexicon::SkillLexicon;
use crate::metrics::metrics;
use crate::model::{Certification, FactValue, Named, Requirement, Statement, TargetRole};
use crate::text::{Line, Section, unwrap_lines};
use regex::Regex;
use std::collections::HashSet;
use std::sync::LazyLock;

static ROLE_LABEL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^(?:job\s+title|position|role|title|puesto(?:\s+de\s+trabajo)?|cargo|poste|stelle)\s*[:：-]\s*(?P<role>.{2,80})$")
        .expect("role label regex")
});
static ROLE_SENTENCE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?i:seeking|looking for|searching for|recruiting|(?:are|is|we're|we are)\s+hiring)\s+(?i:an?\s+|our\s+next\s+)?(?P<role>(?:[A-Z][\w+#/-]*\s?(?:\([^)]*\)\s?)?){1,6})\b")
        .expect("role sentence regex")
});
static APPLICATION_FOR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?i:application for(?: the)?|apply(?:ing)? for(?: the)?|interest in the)\s+(?P<role>(?:[A-Z][\w+#/-]*\s?){1,6}?)(?:\s+(?i:position|role|opening|job)\b|[,.]|$)")
        .expect("application regex")
});
static ORG_PATTERNS: LazyLock<[Regex; 3]> = LazyLock::new(|| {
    const ORG: &str = r"(?P<org>[A-Z][\w&.-]*(?:\s+[A-Z][\w&.-]*){0,3})";
    [
        // "About Acme:", "Why Google?", "Join Globex"
        Regex::new(&format!(r"^(?:About|Join|Why|Sobre)\s+{ORG}\s*[:?!]?\s*$")).expect("org heading regex"),
        // "BBVA es una de...", "Acme is a payments company"
        Regex::new(&format!(r"^{ORG}\s+(?:is|es|est|ist)\s+(?:a|an|one|una|uno|un|une|ein|eine)\b"))
            .expect("org is regex"),
        // "the Data Engineer position at Globex"
        Regex::new(&format!(r"\b(?:position|role|job|opening|team|opportunity)\s+(?:at|with)\s+{ORG}"))
            .expect("org at regex"),
    ]
});
static SENIORITY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(intern(?:ship)?|trainee|junior|jr\.?|entry[- ]level|graduate|mid[- ]level|intermediate|senior|sr\.?|staff|principal|lead|head|director|vp|chief|pr[áa]cticas|practicante)\b")
        .expect("seniority regex")
});
static PREFERRED_CLAUSE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(?:nice to have|a plus|is a plus|are a plus|preferred|bonus|desirable|ideally|deseable|valorable)\b",
    )
    .expect("preferred regex")
});

fn seniority_of(text: &str) -> Option<String> {
    let word = SENIORITY.find(text)?.as_str().to_lowercase();
    let level = match word.trim_end_matches('.') {
        "intern" | "internship" | "trainee" | "prácticas" | "practicas" | "practicante" => "intern",
        "junior" | "jr" | "entry-level" | "entry level" | "graduate" => "junior",
        "mid-level" | "mid level" | "intermediate" => "mid",
        "senior" | "sr" => "senior",
        "staff" | "principal" => "staff",
        "lead" => "lead",
        _ => "executive",
    };
    Some(level.to_owned())
}

/// The sentences of a line range (joined across wrapped lines), each with the
/// index of the line it starts on and its byte span in that line's page.
fn sentences(doc: &Doc<'_>, range: std::ops::Range<usize>) -> Vec<(usize, usize, usize, String)> {
    let mut out = Vec::new();
    let mut k = range.start;
    while k < range.end {
        // A paragraph or a bullet with its wrapped lines.
        let mut last = k;
        while last + 1 < range.end
            && !doc.lines[last + 1].bullet
            && doc.lines[last + 1].page_index == doc.lines[k].page_index
            && !doc.lines[last].text.ends_with([':', '：'])
        {
            last += 1;
        }
        let line = &doc.lines[k];
        let (_, end) = doc.span(k, last);
        let page = doc.page_text(line);
        let paragraph = &page[line.text_start..end];
        let mut cursor = 0;
        for piece in split_sentences(paragraph) {
            let offset = paragraph[cursor..].find(piece).map_or(cursor, |o| cursor + o);
            cursor = offset + piece.len();
            let text = unwrap_lines(piece);
            if !text.is_empty() {
                out.push((k, line.text_start + offset, line.text_start + offset + piece.len(), text));
            }
        }
        k = last + 1;
    }
    out
}

/// Sentences and `;`-separated clauses, keeping "e.g." and "3.5" whole.
fn split_sentences(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let bytes = text.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let end_of_sentence = match b {
            b';' => true,
            b'.' | b'!' | b'?' => {
                let next = bytes.get(i + 1).copied();
                let prev2 = text[..i].rsplit(' ').next().unwrap_or("");
                next.is_none_or(|n| n == b' ' || n == b'\n')
                    && !matches!(prev2.to_lowercase().as_str(), "e.g" | "i.e" | "etc" | "vs")
            }
            _ => false,
        };
        if end_of_sentence {
            parts.push(text[start..=i].trim());
            start = i + 1;
        }
    }
    parts.push(text[start..].trim());
    parts.into_iter().filter(|p| !p.is_empty()).collect()
}

/// The role (and its organisation and seniority) a job description is for.
fn target_role(doc: &Doc<'_>) -> Option<(usize, usize, usize, TargetRole)> {
    let mut role: Option<(usize, usize, usize, String)> = None;
    for (i, line) in doc.lines.iter().enumerate().take(40) {
        if let Some(c) = ROLE_LABEL.captures(line.text) {
            let m = c.name("role").expect("role group");
            role = Some((i, line.text_start + m.start(), line.text_start + m.end(), m.as_str().trim().to_owned()));
            break;
        }
        if let Some(c) = ROLE_SENTENCE.captures(line.text).or_else(|| APPLICATION_FOR.captures(line.text)) {
            let m = c.name("role").expect("role group");
            let text = m.as_str().trim().trim_end_matches(" to").trim();
            role = Some((i, line.text_start + m.start(), line.text_start + m.start() + text.len(), text.to_owned()));
            break;
        }
    }
    let (i, start, end, title) = role?;
    let organisation = doc.lines.iter().take(60).find_map(|l| {
        ORG_PATTERNS.iter().find_map(|re| {
            re.captures(l.text)
                .and_then(|c| c.name("org"))
                .map(|m| m.as_str().trim_end_matches('.').to_owned())
                .filter(|o| !["We", "You", "The", "This", "Our", "Me", "Us"].contains(&o.as_str()))
        })
    });
    let seniority = seniority_of(&title);
    Some((i, start, end, TargetRole { title, organisation, seniority }))
}

/// A job description: its target role, skills it requires or prefers, and
/// what the role does.
pub fn extract_job_description(doc: &Doc<'_>, lexicon: &dyn SkillLexicon) -> Vec<Found> {
    let mut out = Vec::new();
    if let Some((i, start, end, role)) = target_role(doc) {
        out.push(Found { fact: doc.fact(FactValue::TargetRole(role), &doc.lines[i], start, end, 0.7), parent: None });
    }
    let mut seen: HashSet<(String, bool)> = HashSet::new();
    for block in &doc.blocks {
        let section = block.section;
        for (k, start, end, text) in sentences(doc, block.lines.clone()) {
            let line: &Line<'_> = &doc.lines[k];
            let lower = text.to_lowercase();
            let labelled_requirements = lower.starts_with("requirements") || lower.starts_with("requisitos");
            let required = match section {
                Section::Preferred => false,
                Section::Requirements | Section::Education => !PREFERRED_CLAUSE.is_match(&text),
                Section::Responsibilities => false,
                _ => labelled_requirements || (!PREFERRED_CLAUSE.is_match(&text) && lower.contains("experience")),
            };
            let preferred = section == Section::Preferred || PREFERRED_CLAUSE.is_match(&text);
            let is_requirement_text = required
                || preferred
                || matches!(section, Section::Requirements | Section::Preferred)
                || labelled_requirements;
            if is_requirement_text {
                let page = doc.page_text(line);
                for m in lexicon.mentions(&page[start..end]) {
                    let req = !preferred;
                    if seen.insert((m.name.to_lowercase(), req)) {
                        let value = FactValue::Requirement(Requirement { skill: m.name, required: req });
                        out.push(Found {
                            fact: doc.fact(value, line, start + m.start, start + m.end, 0.7),
                            parent: None,
                        });
                    }
                }
            } else if section == Section::Responsibilities && text.split_whitespace().count() >= 3 {
                let value = FactValue::Responsibility(Statement { text, metrics: Vec::new(), job: None });
                out.push(Found { fact: doc.fact(value, line, start, end, 0.7), parent: None });
            }
        }
    }
    out
}

static JOB_MENTION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?i:as|was|am|worked as|served as|working as|role as)\s+(?i:an?|the|my)?\s*(?P<title>(?:[A-Z][\w/-]*\s){0,4}[A-Z][\w/-]*)\s+(?i:at|with|for)\s+(?P<org>[A-Z][\w&.-]*(?:\s+[A-Z][\w&.-]*){0,3})")
        .expect("job mention regex")
});

/// A role the writer held, named in a sentence ("As a Senior Engineer at Acme since 2019, …").
fn job_mention(text: &str) -> Option<crate::model::Job> {
    let caps = JOB_MENTION.captures(text)?;
    let title = caps.name("title")?.as_str().trim().to_owned();
    let organisation = caps.name("org")?.as_str().trim_end_matches(['.', ',']).to_owned();
    let dates = find_ranges(text, false).into_iter().next().map(|f| f.range);
    Some(crate::model::Job { title, organisation: Some(organisation), location: None, dates, volunteer: false })
}

static SALUTATION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^(?:dear|hello|hi|to whom it may concern|estimad[oa]|sehr geehrte)\b").expect("salutation regex")
});
static SIGN_OFF: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^(?:sincerely|yours(?: sincerely| truly| faithfully)?|best(?: regards)?|kind regards|regards|warm regards|respectfully|thank you),?\s*$")
        .expect("sign-off regex")
});

const MOTIVATION_WORDS: &[&str] = &[
    "excited",
    "passionate",
    "passion",
    "motivated",
    "drawn",
    "inspired",
    "admire",
    "love",
    "thrilled",
    "eager",
    "because",
    "mission",
    "why i",
    "i want",
    "i would like",
    "i'd like",
    "i am keen",
    "aspire",
    "believe",
];

/// A cover letter: the organisation and role it targets, why the writer wants
/// it, and the achievements it claims.
pub fn extract_cover_letter(doc: &Doc<'_>, lexicon: &dyn SkillLexicon) -> Vec<Found> {
    let mut out = Vec::new();
    if let Some((i, start, end, role)) = target_role(doc) {
        out.push(Found { fact: doc.fact(FactValue::TargetRole(role), &doc.lines[i], start, end, 0.6), parent: None });
    }
    // The letter's body: after the salutation and before the sign-off, when
    // they are there (the address block above is not the writer's claims).
    let salutation = doc.lines.iter().position(|l| SALUTATION.is_match(l.text)).map_or(0, |i| i + 1);
    let sign_off = doc
        .lines
        .iter()
        .rposition(|l| SIGN_OFF.is_match(l.text))
        .filter(|&i| i > salutation)
        .unwrap_or(doc.lines.len());
    for block in &doc.blocks {
        let range = block.lines.start.max(salutation)..block.lines.end.min(sign_off);
        if range.is_empty() {
            continue;
        }
        for (k, start, end, text) in sentences(doc, range) {
            let line = &doc.lines[k];
            if text.split_whitespace().count() < 5 {
                continue;
            }
            let lower = text.to_lowercase();
            let found = metrics(&text);
            let mut job_index = None;
            if let Some(job) = job_mention(&text) {
                out.push(Found { fact: doc.fact(FactValue::Job(job), line, start, end, 0.5), parent: None });
                job_index = Some(out.len() - 1);
            }
            let value = if !found.is_empty() {
                FactValue::Achievement(Statement { text, metrics: found, job: None })
            } else if MOTIVATION_WORDS.iter().any(|w| lower.contains(w)) {
                FactValue::Motivation(Statement { text, metrics: Vec::new(), job: None })
            } else {
                continue;
            };
            out.push(Found { fact: doc.fact(value, line, start, end, 0.6), parent: job_index });
            let index = out.len() - 1;
            let page = doc.page_text(line);
            for m in lexicon.mentions(&page[start..end]) {
                let skill =
                    crate::model::Skill { name: m.name, category: None, source: crate::model::SkillSource::Mentioned };
                let fact = doc.fact(FactValue::Skill(skill), line, start + m.start, start + m.end, 0.5);
                out.push(Found { fact, parent: Some(index) });
            }
        }
    }
    out
}

static COMPLETED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:has (?:successfully )?completed|for (?:successfully )?completing|is hereby awarded|has been awarded|has earned|has achieved|is certified (?:as|in)|certificate of (?:completion|achievement) (?:in|for))\b")
        .expect("completed regex")
});
static COURSE_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?P<code>[A-Z]{2,5}\s?-?\d{2,4}[A-Z]?)?\s*(?P<name>[A-Za-z][^\t]{2,80}?)\s+(?P<grade>A\+|A-|A|B\+|B-|B|C\+|C-|C|D\+|D|F|P|Pass|Fail|\d{1,3}(?:\.\d+)?%?)(?:\s+(?P<credits>\d(?:\.\d)?))?\s*$")
        .expect("course regex")
});

/// A certificate's credential, or a transcript's courses with their grades.
pub fn extract_certificate(doc: &Doc<'_>) -> Vec<Found> {
    let mut out = Vec::new();
    // The credential: the line after "has successfully completed", or a line naming a certification.
    for (i, line) in doc.lines.iter().enumerate() {
        let name_line = if let Some(m) = COMPLETED.find(line.text) {
            let rest = line.text[m.end()..].trim().trim_start_matches(['t', 'h', 'e', ' ']).trim();
            if rest.len() > 3 {
                Some((i, line.text_start + (line.text.len() - rest.len()), rest))
            } else {
                doc.lines.get(i + 1).map(|l| (i + 1, l.text_start, l.text))
            }
        } else {
            None
        };
        if let Some((k, start, name)) = name_line {
            let line = &doc.lines[k];
            let name = name.trim_end_matches('.').trim();
            let date = doc.lines.iter().find_map(|l| find_ranges(l.text, true).into_iter().next()).map(|f| f.range);
            let issuer = doc
                .lines
                .iter()
                .find(|l| {
                    l.text.contains("Coursera")
                        || l.text.contains("University")
                        || l.text.contains("Institute")
                        || l.text.contains("Academy")
                })
                .map(|l| l.text.to_owned());
            let value =
                FactValue::Certification(Certification { name: name.to_owned(), issuer, date, credential_id: None });
            out.push(Found { fact: doc.fact(value, line, start, start + name.len(), 0.6), parent: None });
            break;
        }
    }
    for line in &doc.lines {
        if let Some(c) = COURSE_LINE.captures(line.text) {
            let (Some(name), Some(grade)) = (c.name("name"), c.name("grade")) else { continue };
            if name.as_str().split_whitespace().count() < 2 {
                continue;
            }
            let detail = Some(format!("grade {}", grade.as_str()));
            let value = FactValue::Course(Named { name: name.as_str().trim().to_owned(), detail, date: None });
            out.push(Found { fact: doc.fact(value, line, line.text_start, line.end, 0.6), parent: None });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lexicon::BuiltinLexicon;
    use domain::{DocumentId, PageText};

    fn doc_facts(text: &str, f: impl Fn(&Doc<'_>) -> Vec<Found>) -> Vec<FactValue> {
        let pages = vec![PageText { page: 1, text: text.to_owned() }];
        let doc = Doc::new(DocumentId::new(), &pages, "t");
        f(&doc).into_iter().map(|x| x.fact.value).collect()
    }

    #[test]
    fn job_description_role_requirements_and_responsibilities() {
        let text = "Job Title: Senior Backend Engineer\nAbout Acme:\nAcme is a payments company.\n\
            Responsibilities\n• Design and operate services in Rust\n• Mentor engineers on the team\n\
            Requirements\n• 5+ years with Python and PostgreSQL\n• Experience with Kubernetes\n\
            Nice to have\n• Terraform\n";
        let values = doc_facts(text, |d| extract_job_description(d, BuiltinLexicon::get()));
        let role = values.iter().find_map(|v| match v {
            FactValue::TargetRole(r) => Some(r.clone()),
            _ => None,
        });
        let role = role.expect("role");
        assert_eq!((role.title.as_str(), role.seniority.as_deref()), ("Senior Backend Engineer", Some("senior")));
        assert_eq!(role.organisation.as_deref(), Some("Acme"));
        let reqs: Vec<(String, bool)> = values
            .iter()
            .filter_map(|v| match v {
                FactValue::Requirement(r) => Some((r.skill.clone(), r.required)),
                _ => None,
            })
            .collect();
        assert_eq!(
            reqs,
            [
                ("Python".into(), true),
                ("PostgreSQL".into(), true),
                ("Kubernetes".into(), true),
                ("Terraform".into(), false)
            ]
        );
        let responsibilities = values.iter().filter(|v| matches!(v, FactValue::Responsibility(_))).count();
        assert_eq!(responsibilities, 2);
    }

    #[test]
    fn cover_letter_target_motivation_and_claims() {
        let text = "Jane Doe\nDear Hiring Manager,\nI am applying for the Data Engineer position at Globex.\n\
            I am passionate about building reliable data platforms for climate science.\n\
            At Initech I cut pipeline costs by 35% and led 4 engineers.\nSincerely,\nJane Doe\n";
        let values = doc_facts(text, |d| extract_cover_letter(d, BuiltinLexicon::get()));
        assert!(
            values.iter().any(|v| matches!(v, FactValue::TargetRole(r) if r.title == "Data Engineer")),
            "{values:#?}"
        );
        assert!(values.iter().any(|v| matches!(v, FactValue::Motivation(s) if s.text.contains("passionate"))));
        assert!(values.iter().any(|v| matches!(v, FactValue::Achievement(s) if s.metrics.len() == 2)));
    }

    #[test]
    fn certificates_and_transcripts() {
        let cert = "Certificate of Completion\nThis is to certify that\nJane Doe\nhas successfully completed\n\
            Machine Learning Specialization\nCoursera · March 2024\n";
        let values = doc_facts(cert, extract_certificate);
        assert!(
            values
                .iter()
                .any(|v| matches!(v, FactValue::Certification(c) if c.name == "Machine Learning Specialization")),
            "{values:#?}"
        );
        let transcript =
            "Official Transcript\nCS 101 Introduction to Programming A 4.0\nMATH 221 Linear Algebra B+ 3.0\n";
        let values = doc_facts(transcript, extract_certificate);
        let courses: Vec<String> = values
            .iter()
            .filter_map(|v| match v {
                FactValue::Course(c) => Some(format!("{} {}", c.name, c.detail.clone().unwrap_or_default())),
                _ => None,
            })
            .collect();
        assert_eq!(courses, ["Introduction to Programming grade A", "Linear Algebra grade B+"]);
    }
}
