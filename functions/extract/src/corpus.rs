//! A generated evaluation corpus: résumés made from known facts, rendered in
//! five layouts (one-line headers, company-first and title-first two-line
//! headers, a DOCX with a table per role, a two-column PDF) with six date
//! styles, as PDF and DOCX, so every field has a truth to score against.

use facts::dates::YearMonth;
use facts::knowledge::{normalise, normalise_org};
use facts::model::{FactValue, MetricKind};
use lopdf::content::{Content, Operation};
use lopdf::{Document, Object, Stream, dictionary};
use std::collections::BTreeMap;
use std::io::Write;

/// Deterministic pseudo-random numbers (xorshift64*).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    /// `n` distinct items.
    fn sample<T: Clone>(&mut self, items: &[T], n: usize) -> Vec<T> {
        let mut pool: Vec<T> = items.to_vec();
        let mut out = Vec::new();
        for _ in 0..n.min(pool.len()) {
            out.push(pool.swap_remove(self.below(pool.len())));
        }
        out
    }
}

const FIRST: &[&str] = &[
    "Maria", "James", "Aisha", "Kenji", "Sofia", "Liam", "Priya", "Noah", "Elena", "Omar", "Chloe", "Mateo", "Hana",
    "Lucas", "Zara", "Ivan", "Grace", "Diego", "Amara", "Felix",
];
const LAST: &[&str] = &[
    "Gonzalez", "Smith", "Khan", "Watanabe", "Rossi", "Murphy", "Patel", "Johnson", "Petrova", "Haddad", "Martin",
    "Silva", "Kim", "Dubois", "Ahmed", "Novak", "Lee", "Lopez", "Okafor", "Schmidt",
];
const TITLES: &[&str] = &[
    "Software Engineer",
    "Senior Software Engineer",
    "Data Analyst",
    "Product Manager",
    "Backend Developer",
    "Frontend Developer",
    "DevOps Engineer",
    "Data Scientist",
    "QA Engineer",
    "Engineering Manager",
    "Marketing Manager",
    "Sales Representative",
    "Financial Analyst",
    "UX Designer",
    "Project Manager",
    "Machine Learning Engineer",
    "Site Reliability Engineer",
    "Mobile Developer",
    "Business Analyst",
    "Technical Writer",
    "Research Scientist",
    "Customer Success Manager",
    "Operations Manager",
    "Security Engineer",
    "Solutions Architect",
];
const ORGS: &[&str] = &[
    "Acme Corp",
    "Globex Corporation",
    "Initech",
    "Umbrella Labs",
    "Stark Industries",
    "Wayne Enterprises",
    "Hooli",
    "Pied Piper",
    "Vandelay Industries",
    "Soylent Systems",
    "Wonka Foods",
    "Cyberdyne Systems",
    "Tyrell Corporation",
    "Oscorp",
    "Massive Dynamic",
    "Aperture Science",
    "Black Mesa Labs",
    "Gringotts Bank",
    "Monarch Solutions",
    "Nakatomi Trading",
    "Dunder Mifflin",
    "Prestige Worldwide",
    "Bluth Company",
    "Sterling Cooper",
    "Kramerica Industries",
    "Veridian Dynamics",
    "Virtucon",
    "Abstergo Industries",
    "Blue Sun Corp",
    "Northwind Traders",
];
const CITIES: &[&str] = &[
    "Seattle, WA",
    "Austin, TX",
    "New York, NY",
    "London, UK",
    "Berlin, Germany",
    "Toronto, Canada",
    "Remote",
    "San Francisco, CA",
    "Boston, MA",
    "Chicago, IL",
];
const DEGREES: &[&str] = &[
    "Bachelor of Science",
    "Master of Science",
    "Bachelor of Arts",
    "Master of Business Administration",
    "BSc",
    "MSc",
];
const FIELDS: &[&str] = &[
    "Computer Science",
    "Economics",
    "Mathematics",
    "Data Science",
    "Mechanical Engineering",
    "Physics",
    "Statistics",
];
const INSTITUTIONS: &[&str] = &[
    "University of Washington",
    "Stanford University",
    "University of Toronto",
    "Imperial College London",
    "Technical University of Munich",
    "Georgia Institute of Technology",
    "University of Texas at Austin",
    "McGill University",
];
const SKILLS: &[&str] = &[
    "Python",
    "Java",
    "Go",
    "Rust",
    "SQL",
    "PostgreSQL",
    "Docker",
    "Kubernetes",
    "AWS",
    "Terraform",
    "React",
    "TypeScript",
    "Node.js",
    "Kafka",
    "Spark",
    "Tableau",
    "Excel",
    "Figma",
    "Jira",
    "Git",
    "Linux",
    "GraphQL",
    "Redis",
    "MongoDB",
    "TensorFlow",
    "PyTorch",
    "Scikit-learn",
    "Airflow",
    "Snowflake",
    "Salesforce",
    "Agile",
    "Scrum",
    "Machine Learning",
    "Data Analysis",
    "CI/CD",
    "Jenkins",
    "Azure",
    "Pandas",
    "Flask",
];
const CERTS: &[&str] = &[
    "Certified ScrumMaster",
    "Project Management Professional",
    "Certified Kubernetes Administrator",
    "Google Data Analytics Certificate",
    "CompTIA Security+",
    "AWS Certified Cloud Practitioner",
];
const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// A number stated in an achievement.
#[derive(Debug, Clone, PartialEq)]
pub struct TrueMetric {
    pub kind: MetricKind,
    pub value: f64,
}

#[derive(Debug, Clone)]
pub struct TrueJob {
    pub title: String,
    pub organisation: String,
    pub location: String,
    pub start: YearMonth,
    /// `None`: the role is current.
    pub end: Option<YearMonth>,
    pub bullets: Vec<(String, Vec<TrueMetric>)>,
}

#[derive(Debug, Clone)]
pub struct TrueEducation {
    pub degree: String,
    pub field: String,
    pub institution: String,
    pub start: YearMonth,
    pub end: YearMonth,
}

/// Everything a generated résumé states.
#[derive(Debug, Clone)]
pub struct Truth {
    pub name: String,
    pub email: String,
    pub jobs: Vec<TrueJob>,
    pub education: Vec<TrueEducation>,
    /// Listed skills, and skills named in bullets.
    pub skills: Vec<String>,
    /// The skills section's items.
    pub listed: Vec<String>,
    pub certifications: Vec<String>,
}

/// How a résumé is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Layout {
    OneLine,
    CompanyFirst,
    TitleFirst,
    DocxTable,
    TwoColumns,
}

impl Layout {
    pub const ALL: [Layout; 5] =
        [Layout::OneLine, Layout::CompanyFirst, Layout::TitleFirst, Layout::DocxTable, Layout::TwoColumns];
    pub fn name(self) -> &'static str {
        match self {
            Layout::OneLine => "one-line headers",
            Layout::CompanyFirst => "company first",
            Layout::TitleFirst => "title first",
            Layout::DocxTable => "DOCX tables",
            Layout::TwoColumns => "two columns",
        }
    }
}

/// A rendered résumé.
pub struct Sample {
    pub layout: Layout,
    pub docx: bool,
    pub bytes: Vec<u8>,
    pub truth: Truth,
}

/// The facts of one résumé (`year_only`: its dates name no months).
pub fn truth(rng: &mut Rng, year_only: bool) -> Truth {
    let name = format!("{} {}", rng.pick(FIRST), rng.pick(LAST));
    let email = format!("{}@example.com", name.to_lowercase().replace(' ', "."));
    let n_jobs = 2 + rng.below(3);
    let orgs = rng.sample(ORGS, n_jobs);
    let mut end_year = 2026 - rng.below(2) as u16;
    let mut jobs = Vec::new();
    let n_listed = 6 + rng.below(5);
    let listed: Vec<String> = rng.sample(SKILLS, n_listed).into_iter().map(str::to_owned).collect();
    for (i, org) in orgs.iter().enumerate() {
        let length = 1 + rng.below(4) as u16;
        let start_year = end_year - length;
        let month = |rng: &mut Rng| if year_only { None } else { Some(1 + rng.below(12) as u8) };
        let start = YearMonth { year: start_year, month: month(rng) };
        let end = if i == 0 { None } else { Some(YearMonth { year: end_year, month: month(rng) }) };
        let skill = rng.pick(SKILLS).to_string();
        let bullets = bullets(rng, &skill);
        jobs.push(TrueJob {
            title: rng.pick(TITLES).to_string(),
            organisation: org.to_string(),
            location: rng.pick(CITIES).to_string(),
            start,
            end,
            bullets,
        });
        end_year = start_year - rng.below(2) as u16;
    }
    // The skills the bullets name.
    let mentioned: Vec<String> = jobs
        .iter()
        .flat_map(|j| j.bullets.iter())
        .filter_map(|(b, _)| SKILLS.iter().find(|s| b.contains(&format!(" {s}"))).map(|s| s.to_string()))
        .collect();
    let graduated = end_year.min(2020) - rng.below(3) as u16;
    let education = vec![TrueEducation {
        degree: rng.pick(DEGREES).to_string(),
        field: rng.pick(FIELDS).to_string(),
        institution: rng.pick(INSTITUTIONS).to_string(),
        start: YearMonth { year: graduated - 4, month: None },
        end: YearMonth { year: graduated, month: None },
    }];
    let mut skills = listed.clone();
    for s in mentioned {
        if !skills.contains(&s) {
            skills.push(s);
        }
    }
    let n_certs = rng.below(3);
    let certifications: Vec<String> = rng.sample(CERTS, n_certs).into_iter().map(str::to_owned).collect();
    Truth { name, email, jobs, education, skills, listed, certifications }
}

/// One to three bullets for a role, from a pool of achievements (with their
/// numbers) and plain responsibilities; some name `skill`.
fn bullets(rng: &mut Rng, skill: &str) -> Vec<(String, Vec<TrueMetric>)> {
    let metric = |kind, value: f64| TrueMetric { kind, value };
    let (p, n, k, m) = (10 + rng.below(60), 3 + rng.below(12), 20 + rng.below(400), 2 + rng.below(10));
    let mut pool = vec![
        (format!("Reduced deployment time by {p}% using {skill}"), vec![metric(MetricKind::Percent, p as f64)]),
        (
            format!("Led a team of {n} engineers to rebuild the reporting platform"),
            vec![metric(MetricKind::Count, n as f64)],
        ),
        (
            format!("Saved ${k},000 per year by consolidating vendors"),
            vec![metric(MetricKind::Money, (k * 1000) as f64)],
        ),
        (
            format!("Grew monthly active users by {p}% in {m} months"),
            vec![metric(MetricKind::Percent, p as f64), metric(MetricKind::Duration, m as f64)],
        ),
        (format!("Cut cloud spend by €{k}K a year"), vec![metric(MetricKind::Money, (k * 1000) as f64)]),
        (
            format!("Built a {skill} pipeline processing {n} million events per day"),
            vec![metric(MetricKind::Count, n as f64 * 1e6)],
        ),
        (format!("Mentored {n} junior analysts"), vec![metric(MetricKind::Count, n as f64)]),
        ("Wrote the onboarding guide for new hires".to_owned(), vec![]),
        (format!("Maintained the {skill} codebase and its release process"), vec![]),
    ];
    let take = 1 + rng.below(3);
    let mut out = Vec::new();
    for _ in 0..take {
        let i = rng.below(pool.len());
        out.push(pool.swap_remove(i));
    }
    // One named skill per role at most, so the truth is unambiguous.
    let mut named = false;
    out.retain(|(text, _)| {
        let names = text.contains(skill);
        let keep = !(names && named);
        named |= names;
        keep
    });
    out
}

/// Heading wordings, one picked per résumé and section.
const EXPERIENCE_HEADINGS: &[&str] =
    &["Experience", "Work Experience", "Professional Experience", "Employment History", "Career History"];
const EDUCATION_HEADINGS: &[&str] = &["Education", "Academic Background", "Education & Training"];
const SKILLS_HEADINGS: &[&str] = &["Skills", "Technical Skills", "Core Competencies", "Skills & Tools"];
const CERTIFICATION_HEADINGS: &[&str] = &["Certifications", "Licenses & Certifications", "Certificates"];

/// The date styles: how one year-month (or the open end) is written.
fn date(style: usize, d: Option<YearMonth>, rng_word: usize) -> String {
    let Some(d) = d else {
        return ["Present", "Current", "Now"][rng_word % 3].to_owned();
    };
    let Some(m) = d.month else { return d.year.to_string() };
    let month = MONTHS[m as usize - 1];
    match style {
        0 => format!("{} {}", &month[..3], d.year),
        1 => format!("{month} {}", d.year),
        2 => format!("{m:02}/{}", d.year),
        3 => format!("{}-{m:02}", d.year),
        4 => format!("{}. {}", &month[..3], d.year),
        _ => format!("{} {}", &month[..3], d.year),
    }
}

/// One block of a document: a heading, a plain line, a bullet, or a table row.
enum Block {
    Heading(String),
    Line(String),
    Bullet(String),
    Row(Vec<String>),
}

/// Characters that fit the side column of the two-column layout (9 pt Helvetica, 190 pt).
const SIDE_COLUMN_CHARS: usize = 34;

fn blocks(t: &Truth, layout: Layout, style: usize, rng: &mut Rng) -> (Vec<Block>, Vec<Block>) {
    let separator = [" – ", " - ", " to "][rng.below(3)];
    let word = rng.below(3);
    let range = |j: &TrueJob| format!("{}{separator}{}", date(style, Some(j.start), word), date(style, j.end, word));
    let mut side = vec![Block::Line(t.name.clone()), Block::Line(t.email.clone())];
    let mut main = Vec::new();
    let heading = |s: &str| match layout {
        Layout::CompanyFirst => Block::Heading(format!("{s}:")),
        Layout::TitleFirst => Block::Heading(s.to_lowercase()),
        _ => Block::Heading(s.to_uppercase()),
    };
    let headings = [
        *rng.pick(EXPERIENCE_HEADINGS),
        *rng.pick(EDUCATION_HEADINGS),
        *rng.pick(SKILLS_HEADINGS),
        *rng.pick(CERTIFICATION_HEADINGS),
    ];
    main.push(heading(headings[0]));
    for j in &t.jobs {
        match layout {
            Layout::OneLine | Layout::TwoColumns => {
                main.push(Block::Line(format!("{}, {}, {}, {}", j.title, j.organisation, j.location, range(j))))
            }
            Layout::CompanyFirst => {
                main.push(Block::Line(format!("{} | {}", j.organisation, j.location)));
                main.push(Block::Line(format!("{} | {}", j.title, range(j))));
            }
            Layout::TitleFirst => {
                main.push(Block::Line(format!("{}    {}", j.title, range(j))));
                main.push(Block::Line(format!("{}, {}", j.organisation, j.location)));
            }
            Layout::DocxTable => main.push(Block::Row(vec![j.title.clone(), j.organisation.clone(), range(j)])),
        }
        for (b, _) in &j.bullets {
            main.push(Block::Bullet(b.clone()));
        }
    }
    let education = if layout == Layout::TwoColumns { &mut side } else { &mut main };
    education.push(heading(headings[1]));
    for e in &t.education {
        if layout == Layout::TwoColumns {
            // A narrow side column: one part per line, as such templates set it.
            education.push(Block::Line(format!("{} in {}", e.degree, e.field)));
            education.push(Block::Line(e.institution.clone()));
            education.push(Block::Line(format!("{} - {}", e.start, e.end)));
        } else {
            education
                .push(Block::Line(format!("{} in {}, {}, {} - {}", e.degree, e.field, e.institution, e.start, e.end)));
        }
    }
    let skills = if layout == Layout::TwoColumns { &mut side } else { &mut main };
    skills.push(heading(headings[2]));
    let names: Vec<&str> = t.listed.iter().map(|s| s.as_str()).collect();
    match layout {
        Layout::TitleFirst => {
            let half = names.len() / 2;
            skills.push(Block::Line(format!("Technical: {}", names[..half].join(", "))));
            skills.push(Block::Line(format!("Tools: {}", names[half..].join(", "))));
        }
        // The side column wraps the list at its width (about 34 characters).
        Layout::TwoColumns => {
            let mut line = String::new();
            for name in names {
                if !line.is_empty() && line.len() + name.len() + 3 > SIDE_COLUMN_CHARS {
                    skills.push(Block::Line(format!("{line},")));
                    line.clear();
                }
                if !line.is_empty() {
                    line.push_str(", ");
                }
                line.push_str(name);
            }
            skills.push(Block::Line(line));
        }
        _ => skills.push(Block::Line(names.join(", "))),
    }
    if !t.certifications.is_empty() {
        main.push(heading(headings[3]));
        for c in &t.certifications {
            main.push(Block::Bullet(c.clone()));
        }
    }
    (side, main)
}

/// A one-page PDF: each column is its left edge, (font size, leading) and lines.
fn pdf(columns: &[(f32, (i64, i64), Vec<String>)]) -> Vec<u8> {
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let font_id = doc.add_object(dictionary! { "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica", "Encoding" => "WinAnsiEncoding" });
    let resources_id = doc.add_object(dictionary! { "Font" => dictionary! { "F1" => font_id } });
    let mut ops = Vec::new();
    for (x, (size, leading), lines) in columns {
        ops.push(Operation::new("BT", vec![]));
        ops.push(Operation::new("Tf", vec!["F1".into(), (*size).into()]));
        ops.push(Operation::new("TL", vec![(*leading).into()]));
        ops.push(Operation::new("Td", vec![(*x).into(), 800.into()]));
        for line in lines {
            ops.push(Operation::new("Tj", vec![Object::string_literal(encode_win_ansi(line))]));
            ops.push(Operation::new("T*", vec![]));
        }
        ops.push(Operation::new("ET", vec![]));
    }
    let content = Content { operations: ops };
    let content_id = doc.add_object(Stream::new(dictionary! {}, content.encode().unwrap_or_default()));
    let page_id = doc.add_object(dictionary! {
        "Type" => "Page", "Parent" => pages_id, "Contents" => content_id,
        "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()], "Resources" => resources_id,
    });
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => vec![page_id.into()], "Count" => 1 }),
    );
    let catalog_id = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog_id);
    let mut out = Vec::new();
    let _ = doc.save_to(&mut out);
    out
}

/// WinAnsi bytes for the text (the few non-ASCII characters the generator writes).
fn encode_win_ansi(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            '–' => 0x96,
            '—' => 0x97,
            '•' => 0x95,
            '€' => 0x80,
            c if (c as u32) < 0x80 => c as u8,
            _ => b'?',
        })
        .collect()
}

fn lines_of(blocks: &[Block]) -> Vec<String> {
    blocks
        .iter()
        .map(|b| match b {
            Block::Heading(s) | Block::Line(s) => s.clone(),
            Block::Bullet(s) => format!("• {s}"),
            Block::Row(cells) => cells.join("    "),
        })
        .collect()
}

/// The line broken at spaces into lines of at most `width` characters.
fn wrap(line: &str, width: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut current = String::new();
    for word in line.split(' ') {
        if !current.is_empty() && current.len() + 1 + word.len() > width {
            out.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(word);
    }
    out.push(current);
    out
}

fn docx(blocks: &[Block]) -> Vec<u8> {
    let esc = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    let mut body = String::new();
    for b in blocks {
        match b {
            Block::Heading(s) | Block::Line(s) => {
                body.push_str(&format!("<w:p><w:r><w:t xml:space=\"preserve\">{}</w:t></w:r></w:p>", esc(s)))
            }
            Block::Bullet(s) => {
                body.push_str(&format!("<w:p><w:r><w:t xml:space=\"preserve\">• {}</w:t></w:r></w:p>", esc(s)))
            }
            Block::Row(cells) => {
                body.push_str("<w:tbl><w:tr>");
                for c in cells {
                    body.push_str(&format!("<w:tc><w:p><w:r><w:t>{}</w:t></w:r></w:p></w:tc>", esc(c)));
                }
                body.push_str("</w:tr></w:tbl>");
            }
        }
    }
    let document = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?><w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"><w:body>{body}</w:body></w:document>"
    );
    let content_types = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"><Default Extension=\"xml\" ContentType=\"application/xml\"/><Override PartName=\"/word/document.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml\"/></Types>";
    let mut cursor = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut cursor);
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        let _ =
            zip.start_file("[Content_Types].xml", options).and_then(|_| Ok(zip.write_all(content_types.as_bytes())?));
        let _ = zip.start_file("word/document.xml", options).and_then(|_| Ok(zip.write_all(document.as_bytes())?));
        let _ = zip.finish();
    }
    cursor.into_inner()
}

/// The corpus: `n` résumés cycling through the layouts, PDF and DOCX, and the date styles.
pub fn corpus(n: usize, seed: u64) -> Vec<Sample> {
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|i| {
            let layout = Layout::ALL[i % Layout::ALL.len()];
            let style = (i / Layout::ALL.len()) % 6;
            let truth = truth(&mut rng, style == 5);
            let (side, main) = blocks(&truth, layout, style, &mut rng);
            let docx_file = match layout {
                Layout::DocxTable => true,
                Layout::TwoColumns => false,
                _ => i % 2 == 1,
            };
            let bytes = if docx_file {
                docx(&side.into_iter().chain(main).collect::<Vec<_>>())
            } else if layout == Layout::TwoColumns {
                let side: Vec<String> = lines_of(&side).iter().flat_map(|l| wrap(l, SIDE_COLUMN_CHARS)).collect();
                // Half the sidebars share the main column's leading (their
                // lines share baselines), half are set smaller.
                let side_font = if (i / Layout::ALL.len()).is_multiple_of(2) { (9, 12) } else { (8, 10) };
                pdf(&[(40.0, side_font, side), (230.0, (9, 12), lines_of(&main))])
            } else {
                pdf(&[(56.0, (9, 12), lines_of(&side.into_iter().chain(main).collect::<Vec<_>>()))])
            };
            Sample { layout, docx: docx_file, bytes, truth }
        })
        .collect()
}

/// True and false positives and negatives of one field.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Counts {
    pub tp: usize,
    pub fp: usize,
    pub fn_: usize,
}

impl Counts {
    pub fn add(&mut self, other: Counts) {
        self.tp += other.tp;
        self.fp += other.fp;
        self.fn_ += other.fn_;
    }
    pub fn precision(&self) -> f64 {
        ratio(self.tp, self.tp + self.fp)
    }
    pub fn recall(&self) -> f64 {
        ratio(self.tp, self.tp + self.fn_)
    }
    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 { 0.0 } else { 2.0 * p * r / (p + r) }
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 1.0 } else { a as f64 / b as f64 }
}

/// Multiset comparison of keys.
fn compare(predicted: Vec<String>, truth: Vec<String>) -> Counts {
    let mut remaining: BTreeMap<String, usize> = BTreeMap::new();
    for t in &truth {
        *remaining.entry(t.clone()).or_default() += 1;
    }
    let mut c = Counts::default();
    for p in predicted {
        match remaining.get_mut(&p) {
            Some(n) if *n > 0 => {
                *n -= 1;
                c.tp += 1;
            }
            _ => c.fp += 1,
        }
    }
    c.fn_ = remaining.values().sum();
    c
}

fn ym(d: Option<YearMonth>) -> String {
    d.map(|d| d.to_string()).unwrap_or_else(|| "present".into())
}

/// Scores the facts of one sample per field: `job` (title, organisation,
/// start and end all right), each of those alone, education, skills,
/// certifications, achievement metrics.
pub fn score(truth: &Truth, facts: &[FactValue]) -> BTreeMap<&'static str, Counts> {
    let jobs: Vec<&facts::model::Job> = facts
        .iter()
        .filter_map(|f| match f {
            FactValue::Job(j) if !j.volunteer => Some(j),
            _ => None,
        })
        .collect();
    let org = |o: &Option<String>| o.as_deref().map(normalise_org).unwrap_or_default();
    let start =
        |j: &facts::model::Job| j.dates.as_ref().and_then(|d| d.start).map(|d| d.to_string()).unwrap_or_default();
    let end = |j: &facts::model::Job| match &j.dates {
        Some(d) if d.current => "present".to_owned(),
        Some(d) => d.end.map(|e| e.to_string()).unwrap_or_default(),
        None => String::new(),
    };
    let mut out = BTreeMap::new();
    out.insert(
        "job (title+org+start+end)",
        compare(
            jobs.iter()
                .map(|j| format!("{}|{}|{}|{}", normalise(&j.title), org(&j.organisation), start(j), end(j)))
                .collect(),
            truth
                .jobs
                .iter()
                .map(|j| {
                    format!("{}|{}|{}|{}", normalise(&j.title), normalise_org(&j.organisation), j.start, ym(j.end))
                })
                .collect(),
        ),
    );
    out.insert(
        "job title",
        compare(
            jobs.iter().map(|j| normalise(&j.title)).collect(),
            truth.jobs.iter().map(|j| normalise(&j.title)).collect(),
        ),
    );
    out.insert(
        "job organisation",
        compare(
            jobs.iter().map(|j| org(&j.organisation)).collect(),
            truth.jobs.iter().map(|j| normalise_org(&j.organisation)).collect(),
        ),
    );
    out.insert(
        "job start",
        compare(
            jobs.iter().map(|j| format!("{}|{}", org(&j.organisation), start(j))).collect(),
            truth.jobs.iter().map(|j| format!("{}|{}", normalise_org(&j.organisation), j.start)).collect(),
        ),
    );
    out.insert(
        "job end",
        compare(
            jobs.iter().map(|j| format!("{}|{}", org(&j.organisation), end(j))).collect(),
            truth.jobs.iter().map(|j| format!("{}|{}", normalise_org(&j.organisation), ym(j.end))).collect(),
        ),
    );
    out.insert(
        "education",
        compare(
            facts
                .iter()
                .filter_map(|f| match f {
                    FactValue::Education(e) => Some(format!(
                        "{}|{}|{}",
                        e.institution.as_deref().map(normalise_org).unwrap_or_default(),
                        e.degree.as_deref().map(normalise).unwrap_or_default(),
                        e.field.as_deref().map(normalise).unwrap_or_default()
                    )),
                    _ => None,
                })
                .collect(),
            truth
                .education
                .iter()
                .map(|e| format!("{}|{}|{}", normalise_org(&e.institution), normalise(&e.degree), normalise(&e.field)))
                .collect(),
        ),
    );
    let mut skills: Vec<String> = facts
        .iter()
        .filter_map(|f| match f {
            FactValue::Skill(s) => Some(normalise(&s.name)),
            _ => None,
        })
        .collect();
    skills.sort();
    skills.dedup();
    out.insert("skills", compare(skills, truth.skills.iter().map(|s| normalise(s)).collect()));
    out.insert(
        "certifications",
        compare(
            facts
                .iter()
                .filter_map(|f| match f {
                    FactValue::Certification(c) => Some(normalise(&c.name)),
                    _ => None,
                })
                .collect(),
            truth.certifications.iter().map(|c| normalise(c)).collect(),
        ),
    );
    let kind = |k: MetricKind| format!("{k:?}");
    out.insert(
        "achievement metrics",
        compare(
            facts
                .iter()
                .filter_map(|f| match f {
                    FactValue::Achievement(s) => {
                        Some(s.metrics.iter().map(|m| format!("{}|{}", kind(m.kind), m.value)).collect::<Vec<_>>())
                    }
                    _ => None,
                })
                .flatten()
                .collect(),
            truth
                .jobs
                .iter()
                .flat_map(|j| {
                    j.bullets.iter().flat_map(|(_, ms)| ms.iter().map(|m| format!("{}|{}", kind(m.kind), m.value)))
                })
                .collect(),
        ),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::{ContentType, DocumentId, DocumentKind};
    use facts::extract::Doc;
    use facts::lexicon::BuiltinLexicon;

    fn facts_of(sample: &Sample) -> Vec<FactValue> {
        let content_type = if sample.docx { ContentType::Docx } else { ContentType::Pdf };
        let pages = documents::extract_text(content_type, &sample.bytes).expect("generated files parse");
        let doc = Doc::new(DocumentId::new(), &pages, "now");
        facts::extract_document(DocumentKind::Resume, &doc, BuiltinLexicon::get())
            .into_iter()
            .map(|f| f.fact.value)
            .collect()
    }

    #[test]
    fn the_corpus_is_deterministic_and_covers_every_layout() {
        let (a, b) = (corpus(10, 3), corpus(10, 3));
        assert!(a.iter().zip(&b).all(|(x, y)| x.bytes == y.bytes));
        assert_ne!(corpus(10, 4)[0].bytes, a[0].bytes);
        for layout in Layout::ALL {
            assert!(a.iter().any(|s| s.layout == layout), "{layout:?} missing");
        }
        assert!(a.iter().any(|s| s.docx) && a.iter().any(|s| !s.docx));
    }

    #[test]
    fn scoring_counts_hits_misses_and_inventions() {
        let sample = &corpus(1, 5)[0];
        let mut facts = facts_of(sample);
        let all = score(&sample.truth, &facts);
        let jobs = all["job (title+org+start+end)"];
        assert_eq!((jobs.fp, jobs.fn_), (0, 0), "{:#?}", sample.truth);
        // Dropping a job is a miss; renaming one is a miss and an invention.
        let first = facts.iter().position(|f| matches!(f, FactValue::Job(_))).expect("a job");
        if let FactValue::Job(j) = &mut facts[first] {
            j.title = "Astronaut".into();
        }
        let jobs = score(&sample.truth, &facts)["job (title+org+start+end)"];
        assert_eq!((jobs.fp, jobs.fn_), (1, 1));
        facts.remove(first);
        let jobs = score(&sample.truth, &facts)["job (title+org+start+end)"];
        assert_eq!((jobs.fp, jobs.fn_), (0, 1));
    }

    /// A regression guard on a small corpus; the full evaluation is the
    /// `eval_generated` binary.
    #[test]
    fn extraction_meets_its_targets_on_a_small_corpus() {
        let mut totals: BTreeMap<&'static str, Counts> = BTreeMap::new();
        for sample in corpus(40, 19) {
            for (field, counts) in score(&sample.truth, &facts_of(&sample)) {
                totals.entry(field).or_default().add(counts);
            }
        }
        let f1 = |field: &str| totals[field].f1();
        assert!(f1("job (title+org+start+end)") >= 0.90, "{totals:?}");
        assert!(f1("skills") >= 0.85, "{totals:?}");
        assert!(f1("education") >= 0.85, "{totals:?}");
        assert!(f1("achievement metrics") >= 0.85, "{totals:?}");
    }
}
