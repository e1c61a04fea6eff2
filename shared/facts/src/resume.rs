//! Résumé extraction by rules: name and contact from the header, jobs with
//! their achievements and responsibilities, education, skills (listed and
//! named in sentences), certifications, languages, projects and awards.

use crate::dates::{DateRange, FoundRange, find_ranges};
use crate::extract::{Doc, Found};
use crate::job_header;
use crate::lexicon::SkillLexicon;
use crate::metrics::metrics;
use crate::model::{
    Certification, Contact, ContactKind, Education, FactValue, Job, Language, Named, Skill, SkillSource, Statement,
};
use crate::text::{Line, Section, unwrap_lines};
use regex::Regex;
use std::collections::HashSet;
use std::sync::LazyLock;

/// Everything the rules find in a résumé.
pub fn extract_resume(doc: &Doc<'_>, lexicon: &dyn SkillLexicon) -> Vec<Found> {
    let mut out = Vec::new();
    contact(doc, &mut out);
    let has_experience = doc.blocks.iter().any(|b| b.section == Section::Experience);
    for block in &doc.blocks {
        let range = block.lines.clone();
        match block.section {
            Section::Experience => jobs(doc, range, false, lexicon, &mut out),
            Section::Volunteering => jobs(doc, range, true, lexicon, &mut out),
            // No experience heading (a plain-text résumé): look for dated roles
            // in what precedes the first heading, leaving education lines out.
            Section::Header if !has_experience => {
                jobs(doc, range.clone(), false, lexicon, &mut out);
                if !doc.blocks.iter().any(|b| b.section == Section::Skills) {
                    bare_skills(doc, range, lexicon, &mut out);
                }
            }
            Section::Education => education(doc, range, &mut out),
            Section::Skills => listed_skills(doc, range, lexicon, &mut out),
            Section::Certifications => certifications(doc, range, &mut out),
            Section::Languages => languages(doc, range, &mut out),
            Section::Projects => named(doc, range, NamedKind::Project, lexicon, &mut out),
            Section::Awards => named(doc, range, NamedKind::Award, lexicon, &mut out),
            Section::Courses => named(doc, range, NamedKind::Course, lexicon, &mut out),
            Section::Summary => mentioned_skills(doc, range, None, lexicon, &mut out),
            _ => {}
        }
    }
    out
}

// ---------------------------------------------------------------- contact

static EMAIL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)\b[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}\b").expect("email regex"));
static PHONE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:\+\d{1,3}[\s.-]?)?(?:\(\d{1,4}\)[\s.-]?)?\d{2,4}[\s.-]\d{3,4}[\s.-]?\d{3,4}\b")
        .expect("phone regex")
});
static LINK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(?:https?://[^\s|,;]+|www\.[^\s|,;]+|(?:linkedin\.com|github\.com|gitlab\.com|twitter\.com|x\.com|behance\.net|dribbble\.com|medium\.com|stackoverflow\.com)/[^\s|,;]+|[a-z0-9-]+\.(?:com|io|dev|me|net|org)(?:/[^\s|,;]*)?)",
    )
    .expect("link regex")
});

/// Name from the first lines; email, phone and links from the header and
/// contact blocks.
fn contact(doc: &Doc<'_>, out: &mut Vec<Found>) {
    let mut seen = HashSet::new();
    let header_lines: Vec<usize> = doc
        .blocks
        .iter()
        .filter(|b| matches!(b.section, Section::Header | Section::Contact | Section::Other))
        .flat_map(|b| b.lines.clone())
        .collect();
    if let Some(name) = crate::names::find(doc) {
        let (line, last) = (&doc.lines[name.line], &doc.lines[name.end_line]);
        let value = FactValue::Contact(Contact { kind: ContactKind::Name, value: name.value });
        let (start, end) = (line.text_start + name.start, last.text_start + name.end);
        out.push(Found { fact: doc.fact(value, line, start, end, 0.8), parent: None });
    }
    // Emails and links may sit anywhere (a footer, a sidebar); phones only
    // near the top, where numbers are contact details and not statistics.
    for (index, line) in doc.lines.iter().enumerate() {
        let near_top = header_lines.contains(&index);
        let mut spans: Vec<(usize, usize, ContactKind)> = Vec::new();
        for m in EMAIL.find_iter(line.text) {
            spans.push((m.start(), m.end(), ContactKind::Email));
        }
        if near_top {
            for m in PHONE.find_iter(line.text) {
                let digits = m.as_str().chars().filter(char::is_ascii_digit).count();
                if (7..=15).contains(&digits) {
                    spans.push((m.start(), m.end(), ContactKind::Phone));
                }
            }
        }
        for m in LINK.find_iter(line.text) {
            let inside_email = spans.iter().any(|(s, e, _)| m.start() < *e && *s < m.end());
            let link = m.as_str().trim_end_matches(['.', ')']);
            if !inside_email && (near_top || link.contains('/') || link.starts_with("www.")) && !is_version_like(link) {
                spans.push((m.start(), m.start() + link.len(), ContactKind::Link));
            }
        }
        for (start, end, kind) in spans {
            let value = line.text[start..end].to_owned();
            if seen.insert((kind, value.to_lowercase())) {
                let fact = doc.fact(
                    FactValue::Contact(Contact { kind, value }),
                    line,
                    line.text_start + start,
                    line.text_start + end,
                    0.9,
                );
                out.push(Found { fact, parent: None });
            }
        }
    }
}

/// "Node.js" and "3.6" are not links.
fn is_version_like(link: &str) -> bool {
    let lower = link.to_lowercase();
    ["node.js", "next.js", "vue.js", "react.js", "express.js", "d3.js", "three.js", "nuxt.js", "ember.js"]
        .iter()
        .any(|n| lower.starts_with(n))
}

// ---------------------------------------------------------------- jobs

/// Words that make a phrase a job title.
const TITLE_WORDS: &[&str] = &[
    // German, French, Spanish, Portuguese, Italian.
    "entwickler",
    "softwareentwickler",
    "ingenieur",
    "ingenieurin",
    "berater",
    "beraterin",
    "leiter",
    "leiterin",
    "werkstudent",
    "praktikant",
    "praktikantin",
    "mitarbeiter",
    "mitarbeiterin",
    "geschäftsführer",
    "referent",
    "referentin",
    "sachbearbeiter",
    "entwicklerin",
    "informatiker",
    "ingénieur",
    "ingénieure",
    "développeur",
    "développeuse",
    "responsable",
    "consultante",
    "stagiaire",
    "chargé",
    "chargée",
    "directeur",
    "directrice",
    "analyste",
    "technicien",
    "alternant",
    "doctorant",
    "enseignant",
    "chercheur",
    "ingeniero",
    "ingeniera",
    "desarrollador",
    "desarrolladora",
    "jefe",
    "gerente",
    "consultor",
    "consultora",
    "becario",
    "practicante",
    "coordinador",
    "técnico",
    "engenheiro",
    "engenheira",
    "desenvolvedor",
    "desenvolvedora",
    "estagiário",
    "estagiária",
    "coordenador",
    "diretor",
    "sviluppatore",
    "ingegnere",
    "tirocinante",
    "engineer",
    "engineering",
    "developer",
    "programmer",
    "manager",
    "director",
    "analyst",
    "designer",
    "consultant",
    "lead",
    "intern",
    "internship",
    "architect",
    "scientist",
    "specialist",
    "officer",
    "head",
    "vp",
    "president",
    "founder",
    "co-founder",
    "cofounder",
    "associate",
    "coordinator",
    "administrator",
    "assistant",
    "nurse",
    "teacher",
    "professor",
    "lecturer",
    "researcher",
    "technician",
    "representative",
    "advisor",
    "adviser",
    "accountant",
    "executive",
    "strategist",
    "editor",
    "writer",
    "owner",
    "partner",
    "principal",
    "staff",
    "fellow",
    "trainee",
    "apprentice",
    "sre",
    "devops",
    "cto",
    "ceo",
    "cfo",
    "coo",
    "cio",
    "chief",
    "supervisor",
    "agent",
    "clerk",
    "operator",
    "tutor",
    "instructor",
    "counselor",
    "therapist",
    "physician",
    "pharmacist",
    "attorney",
    "lawyer",
    "paralegal",
    "recruiter",
    "marketer",
    "producer",
    "artist",
    "chef",
    "cook",
    "driver",
    "mechanic",
    "electrician",
    "member",
    "volunteer",
    "contractor",
    "freelancer",
    "freelance",
    "maintainer",
    "creator",
    "investigator",
    "auditor",
    "planner",
    "buyer",
    "cashier",
    "barista",
    "server",
    "receptionist",
    "secretary",
    "banker",
    "broker",
    "underwriter",
    "actuary",
    "economist",
    "statistician",
    "mathematician",
    "physicist",
    "chemist",
    "biologist",
    "pilot",
    "surgeon",
    "dentist",
    "veterinarian",
    "librarian",
    "journalist",
    "photographer",
    "animator",
    "illustrator",
    "translator",
    "interpreter",
    "contributor",
    "leader",
    "ambassador",
    "mentor",
    "organizer",
    "organiser",
    "treasurer",
    "captain",
];

/// Words that make a phrase an organisation.
const ORG_WORDS: &[&str] = &[
    "inc",
    "inc.",
    "llc",
    "llc.",
    "ltd",
    "ltd.",
    "limited",
    "corp",
    "corp.",
    "corporation",
    "company",
    "co.",
    "group",
    "gmbh",
    "ag",
    "s.a.",
    "plc",
    "llp",
    "pvt",
    "bank",
    "university",
    "college",
    "institute",
    "school",
    "labs",
    "lab",
    "laboratory",
    "technologies",
    "technology",
    "tech",
    "solutions",
    "systems",
    "software",
    "consulting",
    "partners",
    "agency",
    "studio",
    "studios",
    "services",
    "hospital",
    "clinic",
    "foundation",
    "association",
    "capital",
    "ventures",
    "holdings",
    "industries",
    "enterprises",
    "media",
    "networks",
    "games",
    "health",
    "healthcare",
    "pharmaceuticals",
    "energy",
    "motors",
    "airlines",
    "foods",
    "stores",
    "global",
    "international",
    "digital",
    "analytics",
    "cloud",
    "financial",
    "insurance",
    "department",
    "ministry",
    "government",
    "command",
    "army",
    "navy",
    "council",
    "center",
    "centre",
    "org",
    "organization",
    "organisation",
    "society",
    "club",
    "church",
    "museum",
    "press",
    "publishing",
    "entertainment",
    "logistics",
    "consultancy",
    "firm",
    "restaurant",
    "hotel",
];

/// Company-form suffixes that belong to the name before them.
pub(crate) const ORG_SUFFIXES: &[&str] = &[
    "inc",
    "inc.",
    "llc",
    "llc.",
    "ltd",
    "ltd.",
    "co.",
    "corp.",
    "corp",
    "gmbh",
    "ag",
    "s.a.",
    "plc",
    "llp",
    "pvt. ltd.",
];

const COUNTRIES: &[&str] = &[
    "usa",
    "u.s.a.",
    "us",
    "u.s.",
    "united states",
    "uk",
    "u.k.",
    "united kingdom",
    "england",
    "scotland",
    "canada",
    "india",
    "germany",
    "france",
    "spain",
    "italy",
    "portugal",
    "netherlands",
    "belgium",
    "switzerland",
    "austria",
    "sweden",
    "norway",
    "denmark",
    "finland",
    "ireland",
    "poland",
    "czechia",
    "czech republic",
    "hungary",
    "romania",
    "greece",
    "turkey",
    "israel",
    "uae",
    "united arab emirates",
    "saudi arabia",
    "egypt",
    "nigeria",
    "kenya",
    "south africa",
    "china",
    "japan",
    "korea",
    "south korea",
    "s.korea",
    "s. korea",
    "republic of korea",
    "taiwan",
    "hong kong",
    "singapore",
    "malaysia",
    "indonesia",
    "vietnam",
    "thailand",
    "philippines",
    "australia",
    "new zealand",
    "brazil",
    "mexico",
    "argentina",
    "chile",
    "colombia",
    "peru",
    "remote",
    "hybrid",
    "worldwide",
];

const US_STATES: &[&str] = &[
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "FL", "GA", "HI", "ID", "IL", "IN", "IA", "KS", "KY", "LA", "ME",
    "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA",
    "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY", "DC",
];

pub(crate) static SEGMENT_SEPARATOR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\s+[|•·–—@]\s+|\s*\|\s*|\s+-\s+|,\s*|\t+|\s{2,}|\s+at\s+|\n").expect("separator regex")
});

/// A segment without surrounding separators; a parenthesis is dropped only
/// when its partner is missing ("(CSM)" stays, "Remote)" loses its ")").
pub(crate) fn clean_segment(segment: &str) -> String {
    let mut s = segment.trim().trim_matches([',', ':', ';', '-', '–', '—', '|', '•', '*']).trim().to_owned();
    loop {
        let (open, close) = (s.matches('(').count(), s.matches(')').count());
        if close > open && s.ends_with(')') {
            s.pop();
        } else if open > close && s.starts_with('(') {
            s.remove(0);
        } else if open > close && s.ends_with('(') {
            s.pop();
        } else {
            break;
        }
        s = s.trim().to_owned();
    }
    s
}

fn words_of(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| c.is_whitespace() || matches!(c, ',' | '(' | ')' | '/' | '&'))
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Chinese titles end in these ("软件工程师", "产品经理").
const CJK_TITLE_ENDINGS: &[&str] = &[
    "工程师",
    "经理",
    "实习生",
    "开发",
    "研究员",
    "总监",
    "主管",
    "助理",
    "专员",
    "顾问",
    "架构师",
    "设计师",
    "分析师",
    "负责人",
    "科学家",
    "教师",
    "讲师",
    "主任",
    "组长",
    "实习",
];

pub(crate) fn has_title_word(text: &str) -> bool {
    words_of(text).iter().any(|w| TITLE_WORDS.contains(&w.as_str()) || CJK_TITLE_ENDINGS.iter().any(|e| w.ends_with(e)))
}

/// Chinese employers end in these ("示例科技有限公司", "北京大学").
const CJK_ORG_ENDINGS: &[&str] =
    &["公司", "集团", "大学", "学院", "研究院", "研究所", "银行", "医院", "中心", "实验室", "工作室"];

pub(crate) fn has_org_word(text: &str) -> bool {
    words_of(text).iter().any(|w| ORG_WORDS.contains(&w.as_str()) || CJK_ORG_ENDINGS.iter().any(|e| w.ends_with(e)))
}

pub(crate) fn is_location(text: &str) -> bool {
    let t = text.trim().trim_matches(['(', ')']);
    let lower = t.to_lowercase();
    if COUNTRIES.contains(&lower.as_str()) || US_STATES.contains(&t) {
        return true;
    }
    // "San Francisco, CA", "Austin, TX 78701", "Seoul, S.Korea"
    if let Some((city, region)) = t.rsplit_once(", ") {
        let region_first = region.split_whitespace().next().unwrap_or("");
        let city_ok = city.split_whitespace().count() <= 3 && city.chars().next().is_some_and(char::is_uppercase);
        return city_ok && (US_STATES.contains(&region_first) || COUNTRIES.contains(&region.to_lowercase().as_str()));
    }
    false
}

/// Title, organisation and location of a job header with its dates removed.
fn parse_header(text: &str) -> (Option<String>, Option<String>, Option<String>) {
    let lowered_text = text.to_lowercase();
    let at_split = lowered_text.contains(" at ") || text.contains(" @ ");
    let mut segments: Vec<String> =
        SEGMENT_SEPARATOR.split(text).map(clean_segment).filter(|s| !s.is_empty()).collect();
    // "ABC Company, Inc." split at its comma: put the suffix back.
    let mut merged: Vec<String> = Vec::new();
    for segment in segments.drain(..) {
        if ORG_SUFFIXES.contains(&segment.to_lowercase().as_str())
            && let Some(last) = merged.last_mut()
        {
            last.push_str(", ");
            last.push_str(&segment);
        } else {
            merged.push(segment);
        }
    }
    // "Dunamu Inc. Seoul": a company suffix inside a segment ends the name.
    let mut segments: Vec<String> = Vec::new();
    for segment in merged {
        let words: Vec<&str> = segment.split_whitespace().collect();
        let cut = words[..words.len().saturating_sub(1)]
            .iter()
            .position(|w| ORG_SUFFIXES.contains(&w.to_lowercase().as_str()) && w.ends_with('.'));
        match cut {
            Some(i) if !has_title_word(&words[i + 1..].join(" ")) => {
                segments.push(words[..=i].join(" "));
                segments.push(words[i + 1..].join(" "));
            }
            _ => segments.push(segment),
        }
    }

    // Locations, merging "Anywhere" + "USA" into one: a short capitalised
    // segment just before a country or state is its city, unless the title
    // or the organisation would then be missing.
    let locations: Vec<bool> = segments.iter().map(|s| is_location(s)).collect();
    let mut city = vec![false; segments.len()];
    if let Some(j) = locations.iter().position(|l| *l)
        && j > 0
        && !locations[j - 1]
    {
        let prev = &segments[j - 1];
        let plain = prev.split_whitespace().count() <= 2 && !has_title_word(prev) && !has_org_word(prev);
        let others: Vec<&String> =
            segments.iter().enumerate().filter(|(i, _)| !locations[*i] && *i != j - 1).map(|(_, s)| s).collect();
        let title_left = others.iter().any(|s| has_title_word(s));
        let org_left = others.iter().any(|s| !has_title_word(s)) || others.len() >= 2;
        if plain && title_left && org_left {
            city[j - 1] = true;
        }
    }
    let mut location_parts: Vec<String> = Vec::new();
    let mut rest: Vec<String> = Vec::new();
    for (i, segment) in segments.into_iter().enumerate() {
        if locations[i] || city[i] {
            location_parts.push(segment);
        } else {
            rest.push(segment);
        }
    }
    let location = (!location_parts.is_empty()).then(|| location_parts.join(", "));

    let title_index = if at_split && rest.len() >= 2 { Some(0) } else { rest.iter().position(|s| has_title_word(s)) };
    let mut title = title_index.map(|i| rest[i].clone());
    let others: Vec<&String> =
        rest.iter().enumerate().filter(|(i, _)| Some(*i) != title_index).map(|(_, s)| s).collect();
    let mut organisation = others.iter().find(|s| has_org_word(s)).or_else(|| others.first()).map(|s| (*s).clone());
    if title.is_none()
        && others.len() >= 2
        && let Some(org) = &organisation
    {
        // No title word: the segment that is not the employer is the role
        // ("Counsellor, Riverside School"); with no employer word either, "X, Y" reads title first.
        let org_by_word = has_org_word(org);
        title = others.iter().find(|s| !org_by_word || **s != org).map(|s| (*s).clone());
        if !org_by_word {
            organisation = others.get(1).map(|s| (*s).clone());
        }
    }
    (title, organisation, location)
}

pub(crate) fn dated(text: &str) -> Option<FoundRange> {
    find_ranges(text, false).into_iter().find(|f| f.range.start.is_some() || f.range.end.is_some())
}

/// Whether a non-bullet line continues the bullet above it.
fn continues(prev: &Line<'_>, line: &Line<'_>, next: Option<&Line<'_>>) -> bool {
    if line.bullet || dated(line.text).is_some() || next.is_some_and(|n| !n.bullet && dated(n.text).is_some()) {
        return false;
    }
    let first = line.text.chars().next().unwrap_or(' ');
    let prev_open = !prev.text.ends_with(['.', '!', '?', ':']);
    first.is_lowercase() || first.is_ascii_digit() || matches!(first, '(' | '&' | '$' | '%') || prev_open
}

/// Achievement when it states a result (a number, or a result verb first).
fn statement(text: &str) -> FactValue {
    const RESULT_VERBS: &[&str] = &[
        "increased",
        "reduced",
        "decreased",
        "improved",
        "saved",
        "grew",
        "boosted",
        "cut",
        "doubled",
        "tripled",
        "won",
        "awarded",
        "achieved",
        "exceeded",
        "generated",
        "raised",
        "accelerated",
        "eliminated",
        "lowered",
        "shortened",
        "expanded",
        "delivered",
        "launched",
        "ranked",
    ];
    let metrics = metrics(text);
    let first = text.split_whitespace().next().unwrap_or("").to_lowercase();
    let statement = Statement { text: text.to_owned(), metrics, job: None };
    if !statement.metrics.is_empty() || RESULT_VERBS.contains(&first.as_str()) {
        FactValue::Achievement(statement)
    } else {
        FactValue::Responsibility(statement)
    }
}

/// Where the header lines of a role sit relative to its date line.
#[derive(Clone, Copy, PartialEq)]
enum Layout {
    /// "Company / Title  Date": lines before the date line.
    Before,
    /// "Title  Date / Company": the line after the date line.
    After,
}

/// Jobs of an experience block: each dated header run starts a role; bullets
/// and paragraphs under it become its achievements and responsibilities.
fn jobs(
    doc: &Doc<'_>,
    range: std::ops::Range<usize>,
    volunteer: bool,
    lexicon: &dyn SkillLexicon,
    out: &mut Vec<Found>,
) {
    let lines = &doc.lines;
    let mut layout: Option<Layout> = None;
    let mut current: Option<usize> = None;
    // The employer named above several roles ("Acme" over "Lead … 2021–" and "Engineer … 2018–2021").
    let mut group: Option<String> = None;
    let mut i = range.start;
    while i < range.end {
        if lines[i].bullet {
            // A bullet with its wrapped lines.
            let mut last = i;
            while last + 1 < range.end && continues(&lines[last], &lines[last + 1], lines.get(last + 2)) {
                last += 1;
            }
            if current.is_some() || !volunteer {
                add_statement(doc, i, last, current, lexicon, out);
            }
            i = last + 1;
            continue;
        }
        // A run of plain lines up to the next bullet.
        let mut end = i;
        while end < range.end && !lines[end].bullet {
            end += 1;
        }
        let run: Vec<usize> = (i..end).collect();
        let anchors: Vec<usize> = run.iter().copied().filter(|&k| dated(lines[k].text).is_some()).collect();
        if anchors.is_empty() {
            // Paragraphs under the current role, or nothing outside one.
            paragraphs(doc, i..end, current, lexicon, out);
            i = end;
            continue;
        }
        let layout = *layout.get_or_insert(if anchors[0] > i { Layout::Before } else { Layout::After });
        let mut claimed = i;
        for (n, &anchor) in anchors.iter().enumerate() {
            let next_anchor = anchors.get(n + 1).copied().unwrap_or(end);
            let (first, last) = match layout {
                Layout::Before => (anchor.saturating_sub(2).max(claimed), anchor),
                Layout::After => {
                    let after = anchor + 1;
                    let short = after < next_anchor && header_like(lines[after].text, 8);
                    (anchor, if short { after } else { anchor })
                }
            };
            // In a "before" layout, a plain line right after the date line
            // (before bullets) may still name the company or the place.
            let last = if layout == Layout::Before
                && last + 1 < next_anchor
                && n + 1 == anchors.len()
                && header_like(lines[last + 1].text, 6)
            {
                last + 1
            } else {
                last
            };
            // Lines between the previous header and this one are paragraphs of the previous role.
            paragraphs(doc, claimed..first, current, lexicon, out);
            let window = claimed.min(first)..next_anchor.max(last + 1);
            if let Some(job) = job_fact(doc, first, last, window, &mut group, volunteer) {
                out.push(job);
                current = Some(out.len() - 1);
            }
            claimed = last + 1;
        }
        paragraphs(doc, claimed..end, current, lexicon, out);
        i = end;
    }
}

/// Plain lines of four words or more under a role: one statement each.
fn paragraphs(
    doc: &Doc<'_>,
    range: std::ops::Range<usize>,
    job: Option<usize>,
    lexicon: &dyn SkillLexicon,
    out: &mut Vec<Found>,
) {
    if job.is_none() {
        return;
    }
    for k in range {
        if doc.lines[k].text.split_whitespace().count() >= 4 {
            add_statement(doc, k, k, job, lexicon, out);
        }
    }
}

/// A date at the start of a line that ends in a dash ("2017 – Product
/// Manager, Google") continued at the start of the next line ("Present
/// Leading teams…", "2017 Led…"), as two-column CV templates print it.
fn split_range(line: &Line<'_>, next: Option<&Line<'_>>) -> Option<DateRange> {
    static OPEN_START: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^\s*(?P<date>.{4,20}?)\s*[-–—]\s+\S").expect("open start regex"));
    static NEXT_END: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?i)^(?P<end>present|current|now|today|(?:[a-z]{3,9}\.?\s+)?(?:19|20)\d\d)\b").expect("end regex")
    });
    let caps = OPEN_START.captures(line.text)?;
    let start = find_ranges(caps.name("date")?.as_str(), false).into_iter().next()?.range.start?;
    let end_text = NEXT_END.captures(next?.text)?.name("end")?.as_str().to_owned();
    let end = crate::dates::parse_range(&end_text);
    let current = end.start.is_none() && crate::dates::mentions_present(&format!("x – {end_text}"));
    (current || end.start.is_some()).then(|| DateRange {
        start: Some(start),
        end: if current { None } else { end.start },
        current,
        raw: format!("{} – {end_text}", caps.name("date").map_or("", |m| m.as_str())),
        confidence: 0.8,
    })
}

/// A line that can continue a role's header (the company, the place), not a
/// sentence about the work: short, no full stop, no number of an
/// achievement, and not opening with a verb in the past tense.
fn header_like(text: &str, max_words: usize) -> bool {
    let first = text.split_whitespace().next().unwrap_or("");
    let verb = first.len() > 4 && first.ends_with("ed") && first.chars().next().is_some_and(char::is_uppercase);
    text.split_whitespace().count() <= max_words && !text.ends_with('.') && metrics(text).is_empty() && !verb
}

/// Text that cannot name a title or an employer: no letters, a date, a lone
/// letter or two.
fn empty_field(text: &str) -> bool {
    text.chars().filter(|c| c.is_alphabetic()).count() < 2
        || dated(text).is_some_and(|f| f.end - f.start + 3 >= text.len())
}

/// The role whose header is lines `first..=last`; `window` holds the lines
/// the learned labeller may read around its dated line, `group` the employer
/// named above a run of roles.
fn job_fact(
    doc: &Doc<'_>,
    first: usize,
    last: usize,
    window: std::ops::Range<usize>,
    group: &mut Option<String>,
    volunteer: bool,
) -> Option<Found> {
    let raw = doc.raw(first, last);
    let mut found = dated(raw);
    if let Some(split) = split_range(&doc.lines[first], doc.lines.get(last + 1))
        && let Some(f) = found.as_mut()
        && f.range.end == f.range.start
        && !f.range.current
    {
        f.range = split;
    }
    let without_date = match &found {
        Some(f) => format!("{}\n{}", &raw[..f.start], &raw[f.end..]),
        None => raw.to_owned(),
    };
    let without_date = without_date.replace(" | ", "\n");
    let (rule_title, rule_organisation, mut location) = parse_header(&without_date);
    let (mut title, mut organisation) = (rule_title.clone(), rule_organisation.clone());
    // The learned labeller reads the window around the dated line; the rules' reading stands where it is unsure.
    let anchor = (first..=last).find(|&i| dated(doc.lines[i].text).is_some()).unwrap_or(first);
    if let Some(reading) = job_header::read(&job_header::segments(doc, anchor, window)) {
        let above = |line: usize| line < anchor && dated(doc.lines[line].text).is_none();
        if let Some((t, _)) = reading.title {
            title = Some(t);
        }
        match reading.organisation {
            Some((o, line)) => {
                *group = above(line).then(|| o.clone());
                organisation = Some(o);
            }
            None if organisation.is_none() => organisation = group.clone(),
            None => {}
        }
        if location.is_none() {
            location = reading.location;
        }
    }
    // Never the same text as title and organisation: where the two readings
    // disagree, the other reading's field breaks the tie.
    let same = |a: &Option<String>, b: &Option<String>| match (a, b) {
        (Some(a), Some(b)) => a.trim().eq_ignore_ascii_case(b.trim()),
        _ => false,
    };
    if same(&title, &organisation) {
        if !same(&rule_organisation, &title) && rule_organisation.is_some() {
            organisation = rule_organisation;
        } else if !same(&rule_title, &organisation) && rule_title.is_some() {
            title = rule_title;
        } else {
            organisation = None;
        }
    }
    let organisation = organisation.filter(|o| !empty_field(o) && !same(&title, &Some(o.clone())));
    let dates: Option<DateRange> = found.map(|f| f.range);
    let title = title.filter(|t| !empty_field(t))?;
    if !has_title_word(&title) && organisation.is_none() {
        return None;
    }
    let mut confidence: f32 = 0.4;
    if has_title_word(&title) {
        confidence += 0.25;
    }
    if organisation.is_some() {
        confidence += 0.15;
    }
    if let Some(d) = &dates {
        confidence += 0.2 * d.confidence;
    }
    let value = FactValue::Job(Job { title, organisation, location, dates, volunteer });
    let (start, end) = doc.span(first, last);
    Some(Found { fact: doc.fact(value, &doc.lines[first], start, end, confidence), parent: None })
}

/// An achievement or responsibility from lines `first..=last`, and the skills it names.
fn add_statement(
    doc: &Doc<'_>,
    first: usize,
    last: usize,
    job: Option<usize>,
    lexicon: &dyn SkillLexicon,
    out: &mut Vec<Found>,
) {
    let line = &doc.lines[first];
    let (_, end) = doc.span(first, last);
    let mut start = line.text_start;
    // The end of a date range printed in the margin ("Present Leading teams…").
    for lead in ["Present ", "Current ", "Now "] {
        if line.text.starts_with(lead) && line.text[lead.len()..].starts_with(char::is_uppercase) {
            start += lead.len();
        }
    }
    let raw = &doc.page_text(line)[start..end];
    let text = unwrap_lines(raw);
    if text.split_whitespace().count() < 3 {
        return;
    }
    let value = statement(&text);
    out.push(Found { fact: doc.fact(value, line, start, end, 0.8), parent: job });
    let index = out.len() - 1;
    // Skills named in the sentence belong to the role (job USED skill).
    for mention in lexicon.mentions(raw) {
        let value = FactValue::Skill(Skill { name: mention.name, category: None, source: SkillSource::Mentioned });
        let fact = doc.fact(value, line, start + mention.start, start + mention.end, 0.6);
        out.push(Found { fact, parent: job.or(Some(index)) });
    }
}

/// Skills named in summary or paragraph lines.
fn mentioned_skills(
    doc: &Doc<'_>,
    range: std::ops::Range<usize>,
    parent: Option<usize>,
    lexicon: &dyn SkillLexicon,
    out: &mut Vec<Found>,
) {
    for line in &doc.lines[range] {
        for mention in lexicon.mentions(line.text) {
            let value = FactValue::Skill(Skill { name: mention.name, category: None, source: SkillSource::Mentioned });
            let fact = doc.fact(value, line, line.text_start + mention.start, line.text_start + mention.end, 0.6);
            out.push(Found { fact, parent });
        }
    }
}

// ---------------------------------------------------------------- skills

/// Lines that are nothing but a known skill name, in a document without a
/// skills heading ("John Smith / Python / SQL / Machine Learning").
fn bare_skills(doc: &Doc<'_>, range: std::ops::Range<usize>, lexicon: &dyn SkillLexicon, out: &mut Vec<Found>) {
    for line in &doc.lines[range] {
        if let Some(name) = lexicon.canonical(line.text) {
            let value = FactValue::Skill(Skill { name, category: None, source: SkillSource::Listed });
            out.push(Found { fact: doc.fact(value, line, line.text_start, line.end, 0.7), parent: None });
        }
    }
}

static LIST_SEPARATOR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\s*(?:[,;|•·]|\s/\s|\s{2,}|\t)\s*").expect("list separator regex"));
static LEADING_AND: LazyLock<Regex> = LazyLock::new(|| {
    // "and", and how well: "basic Excel", "proficient in SQL", "familiar with Git".
    Regex::new(r"(?i)^(?:(?:and|&)\s+)?(?:(?:basic|advanced|intermediate|beginner|fluent)\s+|(?:proficient|proficiency|familiar|working knowledge|experience|experienced)\s+(?:in|with|of)\s+)?")
        .expect("and regex")
});

/// Spoken languages, to tell "Language: Fluent in Spanish" from
/// "Languages: Python, Go" in a skills block.
const NATURAL_LANGUAGES: &[&str] = &[
    "English",
    "Spanish",
    "French",
    "German",
    "Italian",
    "Portuguese",
    "Dutch",
    "Russian",
    "Ukrainian",
    "Polish",
    "Czech",
    "Slovak",
    "Hungarian",
    "Romanian",
    "Bulgarian",
    "Greek",
    "Turkish",
    "Arabic",
    "Hebrew",
    "Persian",
    "Farsi",
    "Urdu",
    "Hindi",
    "Bengali",
    "Punjabi",
    "Gujarati",
    "Marathi",
    "Tamil",
    "Telugu",
    "Kannada",
    "Malayalam",
    "Chinese",
    "Mandarin",
    "Cantonese",
    "Japanese",
    "Korean",
    "Vietnamese",
    "Thai",
    "Indonesian",
    "Malay",
    "Tagalog",
    "Filipino",
    "Swahili",
    "Amharic",
    "Yoruba",
    "Swedish",
    "Norwegian",
    "Danish",
    "Finnish",
    "Icelandic",
    "Catalan",
    "Basque",
    "Galician",
    "Irish",
    "Welsh",
    "Latin",
    "Serbian",
    "Croatian",
    "Slovenian",
    "Lithuanian",
    "Latvian",
    "Estonian",
    "Afrikaans",
    "Sign Language",
    "ASL",
];

/// A spoken language named in a list item, with its level.
fn natural_language(item: &str) -> Option<(&'static str, Option<String>)> {
    let name = NATURAL_LANGUAGES.iter().find(|l| item.split(|c: char| !c.is_alphabetic()).any(|w| w == **l))?;
    Some((name, LANGUAGE_LEVEL.find(item).map(|m| m.as_str().to_owned())))
}

/// The items of a skills block: "Label: a, b, c" lines, plain lists, and
/// lines of names separated only by spaces (segmented by the lexicon).
fn listed_skills(doc: &Doc<'_>, range: std::ops::Range<usize>, lexicon: &dyn SkillLexicon, out: &mut Vec<Found>) {
    for line in &doc.lines[range] {
        let (category, body, body_offset) = match line.text.split_once(':') {
            Some((label, rest)) if label.split_whitespace().count() <= 4 && !rest.trim().is_empty() => {
                (Some(label.trim().to_owned()), rest, line.text.len() - rest.len())
            }
            _ => (None, line.text, 0),
        };
        // Separators inside parentheses ("(MySQL, MongoDB)") do not split.
        let depth_at = |at: usize| body[..at].matches('(').count() as i32 - body[..at].matches(')').count() as i32;
        let cuts: Vec<(usize, usize)> =
            LIST_SEPARATOR.find_iter(body).filter(|m| depth_at(m.start()) <= 0).map(|m| (m.start(), m.end())).collect();
        let separated = cuts.iter().any(|(a, b)| *a > 0 && *b < body.len());
        let mut items: Vec<(usize, usize)> = Vec::new();
        let mut cursor = 0;
        for (a, b) in cuts {
            items.push((cursor, a));
            cursor = b;
        }
        items.push((cursor, body.len()));
        for (s, e) in items {
            let item = &body[s..e];
            for (a, b) in split_item(item) {
                let (a, b) = (s + a, s + b);
                let name = body[a..b].trim();
                let words = name.split_whitespace().count();
                if name.is_empty() {
                    continue;
                }
                if let Some((language, level)) = natural_language(name) {
                    let start = line.text_start + body_offset + a;
                    let value = FactValue::Language(Language { name: language.to_owned(), level });
                    out.push(Found { fact: doc.fact(value, line, start, start + (b - a), 0.8), parent: None });
                    continue;
                }
                // A long item, or a line of space-separated names: take the
                // names the lexicon knows.
                if words > 4 || (!separated && words > 2) {
                    for m in lexicon.mentions(&body[a..b]) {
                        let start = line.text_start + body_offset + a + m.start;
                        let value = FactValue::Skill(Skill {
                            name: m.name,
                            category: category.clone(),
                            source: SkillSource::Listed,
                        });
                        out.push(Found {
                            fact: doc.fact(value, line, start, start + m.end - m.start, 0.8),
                            parent: None,
                        });
                    }
                    continue;
                }
                let canonical = lexicon.canonical(name).unwrap_or_else(|| name.to_owned());
                let start = line.text_start + body_offset + a + (body[a..b].len() - body[a..b].trim_start().len());
                let value = FactValue::Skill(Skill {
                    name: canonical,
                    category: category.clone(),
                    source: SkillSource::Listed,
                });
                out.push(Found { fact: doc.fact(value, line, start, start + name.len(), 0.9), parent: None });
            }
        }
    }
}

/// Parts of one list item: "Spring Boot and Hibernate" → two, "SQL and NoSQL
/// databases (MySQL, MongoDB)" → the names in parentheses too, "Angular
/// (versions 2+)" → "Angular". Byte spans within the item.
fn split_item(item: &str) -> Vec<(usize, usize)> {
    let mut parts = Vec::new();
    let (outer_end, inner) = match item.find('(') {
        Some(open) => {
            let close = item[open..].find(')').map_or(item.len(), |c| open + c);
            (open, Some((open + 1, close)))
        }
        None => (item.len(), None),
    };
    let trimmed_start = |s: usize, e: usize| {
        let piece = &item[s..e];
        let lead = piece.len() - piece.trim_start().len();
        let lead_and = LEADING_AND.find(piece.trim_start()).map_or(0, |m| m.end());
        let body = piece.trim_start()[lead_and..].trim_end().trim_end_matches(['.', ',']);
        let start = s + lead + lead_and;
        (start, start + body.len())
    };
    let outer = trimmed_start(0, outer_end);
    let outer_text = &item[outer.0..outer.1];
    let pieces: Vec<&str> = outer_text.split(" and ").flat_map(|p| p.split(" & ")).collect();
    if pieces.len() > 1 && pieces.iter().all(|p| p.split_whitespace().count() <= 3) {
        let mut cursor = outer.0;
        for piece in pieces {
            let offset = item[cursor..].find(piece).map_or(cursor, |o| cursor + o);
            parts.push((offset, offset + piece.len()));
            cursor = offset + piece.len();
        }
    } else if outer.1 > outer.0 {
        parts.push(outer);
    }
    if let Some((s, e)) = inner {
        let inner_text = &item[s..e];
        // A list of names inside, not a remark like "versions 2+".
        if inner_text.contains(',') {
            let mut cursor = s;
            for piece in inner_text.split(',') {
                let offset = item[cursor..].find(piece).map_or(cursor, |o| cursor + o);
                let (a, b) = trimmed_start(offset, offset + piece.len());
                if b > a {
                    parts.push((a, b));
                }
                cursor = offset + piece.len();
            }
        }
    }
    parts
}

// ---------------------------------------------------------------- education

static DEGREE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(?:(?:bachelor|master)(?:'?s)?(?:\s+of\s+(?:science|arts|engineering|business administration|fine arts|technology|laws|education|commerce|design|applied science|computer applications|public health|social work|music))?|doctor(?:ate)?(?:\s+of\s+philosophy)?|associate(?:'?s)?(?:\s+of\s+(?:science|arts|applied science))?|ph\.?\s?d\.?|mba|m\.?\s?b\.?\s?a\.?|b\.?\s?sc\.?|m\.?\s?sc\.?|b\.\s?s\.|m\.\s?s\.|b\.\s?a\.|m\.\s?a\.|bs|ms|ba|ma|b\.?\s?eng\.?|m\.?\s?eng\.?|b\.?\s?tech\.?|m\.?\s?tech\.?|bba|bfa|mfa|mph|msw|llb|llm|j\.d\.|m\.d\.|b\.?com|m\.?com|diploma|high school diploma|high school|a-levels|gcse|hnd|btec|licenciatura|licenciado|licence|maîtrise|diplôme|diplom|magister|doctorado|doutorado|mestrado|máster|grado|abitur|baccalauréat|bacharelado|laurea)\b|本科|硕士|博士|学士",
    )
    .expect("degree regex")
});
static INSTITUTION: LazyLock<Regex> = LazyLock::new(|| {
    // Chinese names end in 大学 or 学院 with no word boundary before them.
    Regex::new(r"(?i)\b(?:university|universit[éäy]|universität|universitat|universidad|universidade|università|universiteit|uniwersytet|college|institute|instituto|istituto|institut|school|academy|akademie|academia|polytechnic|polytechnique|politecnico|politécnico|conservatory|hochschule|fachhochschule|école|ecole|escola|escuela|faculdade|facultad|liceo|colegio|iit|mit|eth|epfl|ucla|uc\s+\w+|lyc[ée]e|gymnasium|for boys|for girls)\b|[\x{4e00}-\x{9fff}]+(?:大学|学院|学校|研究院|研究所|中学)")
        .expect("institution regex")
});
static GRADE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:(?:cum\.?\s+|major\s+|overall\s+)?gpa:?\s*\d(?:\.\d+)?(?:\s*/\s*\d(?:\.\d+)?)?|\d(?:\.\d+)?\s*/\s*4(?:\.0)?\s*gpa|first[- ]class(?:\s+honou?rs)?|upper second|2:1|summa cum laude|magna cum laude|cum laude|with (?:high )?distinction|with honou?rs)")
        .expect("grade regex")
});
static FIELD_AFTER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^\s*(?:in|of|,|:|-|–)\s*(?P<field>[A-Za-z][A-Za-z &/-]{2,60})").expect("field regex")
});

/// Education entries: a new entry starts when a line brings a degree or an
/// institution the current entry already has.
fn education(doc: &Doc<'_>, range: std::ops::Range<usize>, out: &mut Vec<Found>) {
    struct Entry {
        first: usize,
        last: usize,
        value: Education,
    }
    let mut entries: Vec<Entry> = Vec::new();
    let mut field_open = false;
    for k in range {
        let text = doc.lines[k].text;
        let degree = DEGREE.find_iter(text).find(|m| plausible_degree(text, m.start(), m.end()));
        let institution = institution_in(text);
        let starts_new = match entries.last() {
            None => true,
            Some(e) => {
                (degree.is_some() && e.value.degree.is_some())
                    || (institution.is_some() && e.value.institution.is_some())
            }
        };
        if starts_new && (degree.is_some() || institution.is_some()) {
            entries.push(Entry {
                first: k,
                last: k,
                value: Education { degree: None, field: None, institution: None, dates: None, grade: None },
            });
        }
        let Some(entry) = entries.last_mut() else { continue };
        // A degree line wrapped in a narrow column: "Bachelor of Science in
        // Data" / "Science", or "Master of Arts" / "in Economics".
        if degree.is_none() && institution.is_none() && entry.last + 1 == k && entry.value.institution.is_none() {
            let words = text.split_whitespace().count();
            let plain = words <= 4
                && find_ranges(text, true).is_empty()
                && !GRADE.is_match(text)
                && text.chars().all(|c| c.is_alphabetic() || c == ' ' || c == '&');
            if plain && entry.value.degree.is_some() {
                let continued = match (&entry.value.field, FIELD_AFTER.captures(text).and_then(|c| c.name("field"))) {
                    (None, Some(f)) => Some(f.as_str().trim().to_owned()),
                    (Some(field), None) if field_open => Some(format!("{field} {}", text.trim())),
                    _ => None,
                };
                if let Some(field) = continued {
                    entry.value.field = Some(title_case_if_shouting(&field));
                    entry.last = k;
                    field_open = false;
                    continue;
                }
            }
        }
        field_open = false;
        entry.last = k;
        if let Some(d) = degree
            && entry.value.degree.is_none()
        {
            entry.value.degree = Some(d.as_str().trim().to_owned());
            if let Some(f) = FIELD_AFTER.captures(&text[d.end()..]).and_then(|c| c.name("field")) {
                let whole = f.as_str();
                let field = whole.split([',', '|']).next().unwrap_or("").trim();
                let field = cut_at_institution(field);
                if !field.is_empty() && !INSTITUTION.is_match(field) {
                    entry.value.field = Some(title_case_if_shouting(field));
                    // The field runs to the end of the line: it may go on.
                    field_open = field == whole.trim() && text[d.end()..].trim_end().ends_with(field);
                }
            }
        }
        if let Some(inst) = institution
            && entry.value.institution.is_none()
        {
            entry.value.institution = Some(title_case_if_shouting(&inst));
        }
        if entry.value.dates.is_none()
            && let Some(found) = find_ranges(text, true).into_iter().next()
        {
            entry.value.dates = Some(found.range);
        }
        if entry.value.grade.is_none()
            && let Some(g) = GRADE.find(text)
        {
            entry.value.grade = Some(g.as_str().trim().to_owned());
        }
    }
    for entry in entries {
        let v = &entry.value;
        let confidence = 0.3
            + if v.degree.is_some() { 0.25 } else { 0.0 }
            + if v.institution.is_some() { 0.25 } else { 0.0 }
            + if v.dates.is_some() { 0.2 } else { 0.0 };
        let (start, end) = doc.span(entry.first, entry.last);
        let fact = doc.fact(FactValue::Education(entry.value), &doc.lines[entry.first], start, end, confidence);
        out.push(Found { fact, parent: None });
    }
}

/// "MS", "MA", "BA", "BS" are degrees only when they read as one ("BS in
/// Physics", "MS, Computer Science" at the start of a line), not as the state
/// in "Cambridge, MA, USA".
fn plausible_degree(text: &str, start: usize, end: usize) -> bool {
    let found = &text[start..end];
    if found.len() > 2 {
        return true;
    }
    let after = text[end..].to_lowercase();
    let followed_by_field = after.starts_with(" in ") || after.starts_with(" of ");
    let at_start = text[..start].trim().is_empty();
    let before_location = after
        .trim_start_matches([',', ' '])
        .split([',', ' '])
        .next()
        .is_some_and(|w| COUNTRIES.contains(&w) || US_STATES.contains(&w.to_uppercase().as_str()) && w.len() == 2);
    followed_by_field || (at_start && !before_location)
}

/// The institution named in a line: the separator-delimited segment with an
/// institution word.
fn institution_in(text: &str) -> Option<String> {
    let cleaned = find_ranges(text, true).into_iter().fold(text.to_owned(), |acc, f| acc.replace(&f.range.raw, " "));
    // "University of Texas at Austin" is one name: split at "at" only
    // where a degree precedes it ("BSc at MIT").
    INSTITUTION_SEPARATOR
        .split(&cleaned)
        .flat_map(|s| if DEGREE.is_match(s) { AT.split(s).collect::<Vec<_>>() } else { vec![s] })
        .map(clean_segment)
        .find(|s| INSTITUTION.is_match(s) && !DEGREE.is_match(s) && s.split_whitespace().count() <= 8)
}

static INSTITUTION_SEPARATOR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\s+[|•·–—@]\s+|\s*\|\s*|\s+-\s+|,\s*|\t+|\s{2,}|\n").expect("institution separator regex")
});
static AT: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\s+at\s+").expect("at regex"));

fn cut_at_institution(field: &str) -> &str {
    match INSTITUTION.find(field) {
        Some(m) => {
            let before = field[..m.start()].trim_end_matches([' ', ',', '-']);
            before.strip_suffix(" at").unwrap_or(before).trim()
        }
        None => field.trim(),
    }
}

/// "COMPUTER SCIENCE" → "Computer Science"; mixed case is kept as written.
fn title_case_if_shouting(text: &str) -> String {
    let letters: Vec<char> = text.chars().filter(|c| c.is_alphabetic()).collect();
    if letters.len() < 4 || !letters.iter().all(|c| c.is_uppercase()) {
        return text.to_owned();
    }
    text.split_whitespace()
        .map(|w| {
            let lower = w.to_lowercase();
            if ["of", "in", "and", "for", "the", "at"].contains(&lower.as_str()) {
                lower
            } else {
                let mut chars = lower.chars();
                chars.next().map(|c| c.to_uppercase().collect::<String>() + chars.as_str()).unwrap_or_default()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

// ---------------------------------------------------------------- certifications, languages, named items

const ISSUERS: &[&str] = &[
    "AWS",
    "Amazon Web Services",
    "Microsoft",
    "Google",
    "Oracle",
    "Cisco",
    "CompTIA",
    "PMI",
    "Scrum Alliance",
    "Scrum.org",
    "(ISC)²",
    "ISC2",
    "ISACA",
    "Linux Foundation",
    "CNCF",
    "HashiCorp",
    "Salesforce",
    "Red Hat",
    "IBM",
    "Coursera",
    "Udemy",
    "edX",
    "SAP",
    "VMware",
    "Kubernetes",
    "Databricks",
    "Snowflake",
    "Meta",
    "Adobe",
    "Axelos",
    "Google Cloud",
    "Azure",
    "EC-Council",
    "Offensive Security",
    "SANS",
    "GIAC",
    "CFA Institute",
    "AICPA",
    "IIBA",
];

static CREDENTIAL_ID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:credential\s+id|certificate\s+(?:id|no\.?|number)|license\s+(?:no\.?|number)|id)[:#]?\s*(?P<id>[A-Z0-9][A-Z0-9-]{3,})")
        .expect("credential regex")
});

/// Certifications, one per line or bullet, with an issuer line or the long
/// name of an acronym on the lines under it ("CSM Mar 2018 / Scrum Alliance /
/// Certified Scrum Master").
fn certifications(doc: &Doc<'_>, range: std::ops::Range<usize>, out: &mut Vec<Found>) {
    struct Entry {
        first: usize,
        last: usize,
        value: Certification,
    }
    let is_issuer = |text: &str| {
        let t = text.trim().trim_start_matches("Issued by").trim();
        ISSUERS.iter().any(|i| t.eq_ignore_ascii_case(i))
    };
    let is_acronym = |name: &str| name.len() <= 6 && name.chars().all(|c| c.is_ascii_uppercase() || c == '-');
    let mut entries: Vec<Entry> = Vec::new();
    for k in range {
        let line = &doc.lines[k];
        let text = line.text;
        if let Some(e) = entries.last_mut()
            && !line.bullet
            && k == e.last + 1
        {
            if e.value.issuer.is_none() && is_issuer(text) {
                e.value.issuer = Some(text.trim().trim_start_matches("Issued by").trim().to_owned());
                e.last = k;
                continue;
            }
            if is_acronym(&e.value.name) && find_ranges(text, true).is_empty() && text.split_whitespace().count() >= 2 {
                e.value.name = format!("{} ({})", text.trim(), e.value.name);
                e.last = k;
                continue;
            }
        }
        let date = find_ranges(text, true).into_iter().next();
        let credential = CREDENTIAL_ID.captures(text).and_then(|c| c.name("id")).map(|m| m.as_str().to_owned());
        let mut name = text.to_owned();
        if let Some(d) = &date {
            name = name.replace(&d.range.raw, " ");
        }
        if let Some(c) = CREDENTIAL_ID.find(text) {
            name = name.replace(c.as_str(), " ");
        }
        let mut parts: Vec<String> =
            SEGMENT_SEPARATOR.split(&name).map(clean_segment).filter(|s| !s.is_empty()).collect();
        // "AWS Certified Data Analytics - Specialty": the level is part of the name.
        const LEVELS: &[&str] =
            &["specialty", "professional", "associate", "foundational", "practitioner", "expert", "fundamentals"];
        if parts.len() >= 2 && LEVELS.contains(&parts[1].to_lowercase().as_str()) {
            let level = parts.remove(1);
            let separator = if text.contains(&format!(" - {level}")) { " - " } else { " – " };
            parts[0] = format!("{}{separator}{level}", parts[0]);
        }
        let Some(first) = parts.first() else { continue };
        let issuer = parts[1..]
            .iter()
            .find(|p| is_issuer(p) || p.split_whitespace().count() <= 4)
            .cloned()
            .or_else(|| ISSUERS.iter().find(|i| first.contains(*i)).map(|i| (*i).to_owned()));
        let value =
            Certification { name: first.clone(), issuer, date: date.map(|d| d.range), credential_id: credential };
        entries.push(Entry { first: k, last: k, value });
    }
    for e in entries {
        let (start, end) = doc.span(e.first, e.last);
        let first = &doc.lines[e.first];
        let fact = doc.fact(FactValue::Certification(e.value), first, first.text_start.max(start), end, 0.8);
        out.push(Found { fact, parent: None });
    }
}

static LANGUAGE_LEVEL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:native|mother tongue|bilingual|fluent|fluency|proficient|professional(?: working)?(?: proficiency)?|full professional|limited working|conversational|intermediate|advanced|basic|beginner|elementary|[ABC][12])\b")
        .expect("level regex")
});

fn languages(doc: &Doc<'_>, range: std::ops::Range<usize>, out: &mut Vec<Found>) {
    for k in range {
        let line = &doc.lines[k];
        let body = line
            .text
            .split_once(':')
            .map_or(line.text, |(l, r)| if l.split_whitespace().count() <= 2 { r } else { line.text });
        let body_offset = line.text.len() - body.len();
        let mut cursor = 0;
        for piece in body.split([',', ';', '|', '•']) {
            let offset = body[cursor..].find(piece).map_or(cursor, |o| cursor + o);
            cursor = offset + piece.len();
            let trimmed = piece.trim();
            if trimmed.is_empty() {
                continue;
            }
            let level = LANGUAGE_LEVEL.find(trimmed).map(|m| m.as_str().to_owned());
            let name: String = trimmed
                .split(['(', '-', '–', ':'])
                .next()
                .unwrap_or("")
                .split_whitespace()
                .filter(|w| !LANGUAGE_LEVEL.is_match(w))
                .collect::<Vec<_>>()
                .join(" ");
            if name.is_empty()
                || name.split_whitespace().count() > 3
                || !name.chars().next().is_some_and(char::is_uppercase)
            {
                continue;
            }
            let start = line.text_start + body_offset + offset + (piece.len() - piece.trim_start().len());
            let value = FactValue::Language(Language { name, level });
            out.push(Found { fact: doc.fact(value, line, start, start + trimmed.len(), 0.8), parent: None });
        }
    }
}

#[derive(Clone, Copy)]
enum NamedKind {
    Project,
    Award,
    Course,
}

/// Projects, awards and courses: a plain line names an item, bullets under it
/// describe it (and name skills).
fn named(
    doc: &Doc<'_>,
    range: std::ops::Range<usize>,
    kind: NamedKind,
    lexicon: &dyn SkillLexicon,
    out: &mut Vec<Found>,
) {
    let mut current: Option<usize> = None;
    for k in range.clone() {
        let line = &doc.lines[k];
        let words = line.text.split_whitespace().count();
        let is_item = match kind {
            NamedKind::Project => !line.bullet && words <= 10,
            NamedKind::Award | NamedKind::Course => words >= 1,
        };
        if is_item {
            let date = find_ranges(line.text, true).into_iter().next();
            let mut name = line.text.to_owned();
            if let Some(d) = &date {
                name = name.replace(&d.range.raw, " ");
            }
            let (name, detail) =
                match name.split_once(": ").or_else(|| name.split_once(" – ")).or_else(|| name.split_once(" - ")) {
                    Some((n, d)) => (n.trim().to_owned(), Some(d.trim().to_owned()).filter(|d| !d.is_empty())),
                    None => (name.split_whitespace().collect::<Vec<_>>().join(" "), None),
                };
            let name = name.trim_matches(['|', ',', '-', ' ']).to_owned();
            if name.is_empty()
                || (matches!(kind, NamedKind::Course)
                    && name.chars().all(|c| c.is_uppercase() || !c.is_alphabetic())
                    && words == 1)
            {
                continue;
            }
            let named = Named { name, detail, date: date.map(|d| d.range) };
            let value = match kind {
                NamedKind::Project => FactValue::Project(named),
                NamedKind::Award => FactValue::Award(named),
                NamedKind::Course => FactValue::Course(named),
            };
            out.push(Found { fact: doc.fact(value, line, line.text_start, line.end, 0.7), parent: None });
            current = Some(out.len() - 1);
        } else if matches!(kind, NamedKind::Project) {
            mentioned_skills(doc, k..k + 1, current, lexicon, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lexicon::BuiltinLexicon;
    use crate::model::{FactKind, Source};
    use domain::{DocumentId, PageText};

    fn run(text: &str) -> (Vec<PageText>, Vec<Found>) {
        let pages = vec![PageText { page: 1, text: text.to_owned() }];
        let found = {
            let doc = Doc::new(DocumentId::new(), &pages, "2026-12-01T00:00:00Z");
            extract_resume(&doc, BuiltinLexicon::get())
        };
        (pages, found)
    }

    fn jobs_of(found: &[Found]) -> Vec<Job> {
        found
            .iter()
            .filter_map(|f| match &f.fact.value {
                FactValue::Job(j) => Some(j.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn one_line_headers_with_commas_and_wrapped_bullets() {
        let text = "JOHN DOE\njohn.doe@email.com — (123) 456-7890\nWORK EXPERIENCE\n\
            Full Stack Java Developer, ABC Company, Inc., Anywhere, USA, June 2018 - Present\n\
            • Used Angular for developing dynamic web front-ends, improving user experience\nby 30%\n\
            • Developed applications using Java and Spring\nBoot\n\
            Software Developer, XYZ Solutions, Anywhere, USA, July 2016 - June 2018\n\
            • Implemented business logic using Java\n";
        let (pages, found) = run(text);
        let jobs = jobs_of(&found);
        assert_eq!(jobs.len(), 2, "{jobs:#?}");
        assert_eq!(jobs[0].title, "Full Stack Java Developer");
        assert_eq!(jobs[0].organisation.as_deref(), Some("ABC Company, Inc."));
        assert_eq!(jobs[0].location.as_deref(), Some("Anywhere, USA"));
        let d = jobs[0].dates.as_ref().unwrap();
        assert_eq!((d.start.map(|s| s.to_string()), d.current), (Some("2018-06".into()), true));
        assert_eq!(jobs[1].organisation.as_deref(), Some("XYZ Solutions"));
        assert_eq!(jobs[1].dates.as_ref().unwrap().end.map(|e| e.to_string()).as_deref(), Some("2018-06"));
        // The wrapped "by 30%" belongs to the bullet, which is an achievement of job 0.
        let achievement = found
            .iter()
            .find(|f| matches!(&f.fact.value, FactValue::Achievement(s) if s.text.ends_with("by 30%")))
            .expect("achievement");
        assert_eq!(found[achievement.parent.unwrap()].fact.value.kind(), FactKind::Job);
        // Spans cut from the page equal the recorded source text.
        for f in &found {
            let Source::Document { char_start, char_end, .. } = f.fact.provenance.source else { panic!() };
            let cut: String =
                pages[0].text.chars().skip(char_start as usize).take((char_end - char_start) as usize).collect();
            assert_eq!(cut, f.fact.provenance.text);
        }
        let names: Vec<&str> = found
            .iter()
            .filter_map(|f| match &f.fact.value {
                FactValue::Contact(c) if c.kind == ContactKind::Name => Some(c.value.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(names, ["JOHN DOE"]);
    }

    #[test]
    fn two_line_headers_company_first_or_title_first() {
        let company_first = "Jane Park\nWork Experience\nDunamu Inc. Seoul, S.Korea\nDevOps Engineer Sep. 2023 - Mar. 2024\n\
            • Led service mesh research.\nKasa Seoul, S.Korea\nDirector of Infrastructure Jun. 2018 - Jan. 2021\n• Migrated to Kubernetes.\n";
        let jobs = jobs_of(&run(company_first).1);
        assert_eq!(jobs.len(), 2, "{jobs:#?}");
        assert_eq!((jobs[0].title.as_str(), jobs[0].organisation.as_deref()), ("DevOps Engineer", Some("Dunamu Inc.")));
        assert_eq!(jobs[0].location.as_deref(), Some("Seoul, S.Korea"));
        assert_eq!(jobs[1].title, "Director of Infrastructure");

        let title_first = "John Doe\nEXPERIENCE\nSenior Software Engineer Jan 2023 - Present\nStripe • San Francisco, CA\n\
            • Built pipelines processing\n50K+ transactions per second using Kafka and Go\n\
            Software Engineer Jun 2021 - Dec 2022\nFigma • San Francisco, CA\n• Reduced frame drops by 40%\n";
        let found = run(title_first).1;
        let jobs = jobs_of(&found);
        assert_eq!(jobs.len(), 2, "{jobs:#?}");
        assert_eq!(
            (jobs[0].title.as_str(), jobs[0].organisation.as_deref(), jobs[0].location.as_deref()),
            ("Senior Software Engineer", Some("Stripe"), Some("San Francisco, CA"))
        );
        assert_eq!(jobs[1].organisation.as_deref(), Some("Figma"));
        let used: Vec<&str> = found
            .iter()
            .filter_map(|f| match &f.fact.value {
                FactValue::Skill(s) if s.source == SkillSource::Mentioned => Some(s.name.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(used, ["Kafka", "Go"]);
    }

    #[test]
    fn education_skills_certifications_and_languages() {
        let text = "Ana Lima\nEducation\nBachelor of Science in Computer Science, State University, May 2016\n\
            CORNELL UNIVERSITY\nMENG IN COMPUTER SCIENCE\nDec 2014 | Ithaca, NY\nCum. GPA: 3.83 / 4.0\n\
            Skills\nLanguages: Python, Go, TypeScript\n• Spring Boot, Spring MVC, and Hibernate\n\
            • SQL and NoSQL databases (MySQL, MongoDB)\n• Angular (versions 2+)\nDocker Kubernetes Terraform\n\
            Certifications\nCertified ScrumMaster (CSM) – Scrum Alliance – Mar 2018\n\
            Languages\nEnglish (native), Spanish – B2\n";
        let found = run(text).1;
        let educations: Vec<&Education> = found
            .iter()
            .filter_map(|f| match &f.fact.value {
                FactValue::Education(e) => Some(e),
                _ => None,
            })
            .collect();
        assert_eq!(educations.len(), 2, "{educations:#?}");
        assert_eq!(educations[0].degree.as_deref(), Some("Bachelor of Science"));
        assert_eq!(educations[0].field.as_deref(), Some("Computer Science"));
        assert_eq!(educations[0].institution.as_deref(), Some("State University"));
        assert_eq!(educations[0].dates.as_ref().unwrap().end.map(|e| e.to_string()).as_deref(), Some("2016-05"));
        assert_eq!(educations[1].institution.as_deref(), Some("Cornell University"));
        assert_eq!(educations[1].degree.as_deref(), Some("MENG"));
        assert_eq!(educations[1].field.as_deref(), Some("Computer Science"));
        assert_eq!(educations[1].grade.as_deref(), Some("Cum. GPA: 3.83 / 4.0"));

        let skills: Vec<(&str, Option<&str>)> = found
            .iter()
            .filter_map(|f| match &f.fact.value {
                FactValue::Skill(s) if s.source == SkillSource::Listed => {
                    Some((s.name.as_str(), s.category.as_deref()))
                }
                _ => None,
            })
            .collect();
        let names: Vec<&str> = skills.iter().map(|s| s.0).collect();
        assert_eq!(
            names,
            [
                "Python",
                "Go",
                "TypeScript",
                "Spring Boot",
                "Spring MVC",
                "Hibernate",
                "SQL",
                "NoSQL databases",
                "MySQL",
                "MongoDB",
                "Angular",
                "Docker",
                "Kubernetes",
                "Terraform"
            ]
        );
        assert_eq!(skills[0].1, Some("Languages"));

        let cert = found.iter().find_map(|f| match &f.fact.value {
            FactValue::Certification(c) => Some(c.clone()),
            _ => None,
        });
        let cert = cert.expect("certification");
        assert_eq!(cert.name, "Certified ScrumMaster (CSM)");
        assert_eq!(cert.issuer.as_deref(), Some("Scrum Alliance"));
        assert_eq!(cert.date.unwrap().end.map(|e| e.to_string()).as_deref(), Some("2018-03"));

        let languages: Vec<(String, Option<String>)> = found
            .iter()
            .filter_map(|f| match &f.fact.value {
                FactValue::Language(l) => Some((l.name.clone(), l.level.clone())),
                _ => None,
            })
            .collect();
        assert_eq!(languages, [("English".into(), Some("native".into())), ("Spanish".into(), Some("B2".into()))]);
    }
}
