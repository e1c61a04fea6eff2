//! What a fact is: its kind, its typed value, where it came from, and who
//! may see it.

use crate::dates::DateRange;
use domain::DocumentId;
use serde::{Deserialize, Serialize};

/// A stable fact id, derived from the user and the fact's identity key, so
/// extracting the same fact again gives the same id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FactId(pub String);

impl std::fmt::Display for FactId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The kinds of fact, one per variant of [`FactValue`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FactKind {
    Job,
    Achievement,
    Responsibility,
    Education,
    Skill,
    Certification,
    Language,
    Project,
    Award,
    Contact,
    TargetRole,
    Requirement,
    Motivation,
    Course,
}

impl FactKind {
    pub const ALL: [FactKind; 14] = [
        FactKind::Job,
        FactKind::Achievement,
        FactKind::Responsibility,
        FactKind::Education,
        FactKind::Skill,
        FactKind::Certification,
        FactKind::Language,
        FactKind::Project,
        FactKind::Award,
        FactKind::Contact,
        FactKind::TargetRole,
        FactKind::Requirement,
        FactKind::Motivation,
        FactKind::Course,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FactKind::Job => "job",
            FactKind::Achievement => "achievement",
            FactKind::Responsibility => "responsibility",
            FactKind::Education => "education",
            FactKind::Skill => "skill",
            FactKind::Certification => "certification",
            FactKind::Language => "language",
            FactKind::Project => "project",
            FactKind::Award => "award",
            FactKind::Contact => "contact",
            FactKind::TargetRole => "target_role",
            FactKind::Requirement => "requirement",
            FactKind::Motivation => "motivation",
            FactKind::Course => "course",
        }
    }
}

/// A paid or unpaid role held at an organisation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organisation: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dates: Option<DateRange>,
    /// Listed under volunteering or activities rather than employment.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub volunteer: bool,
}

/// What a number in a sentence measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricKind {
    Percent,
    Money,
    Count,
    Duration,
}

/// A number stated in an achievement ("by 45%", "$1.2M", "12 engineers", "in 9 minutes").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metric {
    pub kind: MetricKind,
    pub value: f64,
    /// ISO 4217 code for money.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// The unit counted or the time unit ("engineers", "minutes").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// The words it was read from.
    pub text: String,
}

/// A sentence about work: an achievement (it has a result, usually a number)
/// or a responsibility.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Statement {
    pub text: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metrics: Vec<Metric>,
    /// The job it belongs to, when it was written under one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<FactId>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Education {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub degree: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub institution: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dates: Option<DateRange>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grade: Option<String>,
}

/// How a skill was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SkillSource {
    /// Listed under a skills heading.
    Listed,
    /// Named in a sentence (a bullet, a summary).
    Mentioned,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Skill {
    pub name: String,
    /// The heading or label it was listed under ("Languages", "Cloud").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    pub source: SkillSource,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Certification {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<DateRange>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Language {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
}

/// A project, an award or a course: a name with optional detail and date.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Named {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<DateRange>,
}

/// Kinds of contact detail. All are personal data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContactKind {
    Name,
    Email,
    Phone,
    Link,
    Location,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contact {
    pub kind: ContactKind,
    pub value: String,
}

/// The role a job description (or a cover letter) is about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetRole {
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organisation: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seniority: Option<String>,
}

/// A skill a job description asks for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Requirement {
    pub skill: String,
    /// Required, or only preferred ("nice to have", "a plus").
    pub required: bool,
}

/// A fact's typed content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum FactValue {
    Job(Job),
    Achievement(Statement),
    Responsibility(Statement),
    Education(Education),
    Skill(Skill),
    Certification(Certification),
    Language(Language),
    Project(Named),
    Award(Named),
    Contact(Contact),
    TargetRole(TargetRole),
    Requirement(Requirement),
    Motivation(Statement),
    Course(Named),
}

impl FactValue {
    pub fn kind(&self) -> FactKind {
        match self {
            FactValue::Job(_) => FactKind::Job,
            FactValue::Achievement(_) => FactKind::Achievement,
            FactValue::Responsibility(_) => FactKind::Responsibility,
            FactValue::Education(_) => FactKind::Education,
            FactValue::Skill(_) => FactKind::Skill,
            FactValue::Certification(_) => FactKind::Certification,
            FactValue::Language(_) => FactKind::Language,
            FactValue::Project(_) => FactKind::Project,
            FactValue::Award(_) => FactKind::Award,
            FactValue::Contact(_) => FactKind::Contact,
            FactValue::TargetRole(_) => FactKind::TargetRole,
            FactValue::Requirement(_) => FactKind::Requirement,
            FactValue::Motivation(_) => FactKind::Motivation,
            FactValue::Course(_) => FactKind::Course,
        }
    }

    /// Contact details are personal data: stored, exported to the user, never logged.
    pub fn is_personal(&self) -> bool {
        matches!(self, FactValue::Contact(_))
    }

    /// One line that stands for the fact in search and in summaries.
    pub fn summary(&self) -> String {
        fn dated(text: String, dates: &Option<DateRange>) -> String {
            match dates {
                Some(d) if d.start.is_some() || d.end.is_some() || d.current => {
                    let start = d.start.map(|s| s.to_string()).unwrap_or_default();
                    let end =
                        if d.current { "present".to_owned() } else { d.end.map(|e| e.to_string()).unwrap_or_default() };
                    format!("{text} ({start} – {end})")
                }
                _ => text,
            }
        }
        match self {
            FactValue::Job(j) => {
                let at = j.organisation.as_deref().map(|o| format!(" at {o}")).unwrap_or_default();
                dated(format!("{}{at}", j.title), &j.dates)
            }
            FactValue::Achievement(s) | FactValue::Responsibility(s) | FactValue::Motivation(s) => s.text.clone(),
            FactValue::Education(e) => {
                let what =
                    [e.degree.as_deref(), e.field.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(" in ");
                let at = e.institution.as_deref().map(|i| format!(", {i}")).unwrap_or_default();
                dated(format!("{what}{at}"), &e.dates)
            }
            FactValue::Skill(s) => s.name.clone(),
            FactValue::Certification(c) => {
                let by = c.issuer.as_deref().map(|i| format!(" ({i})")).unwrap_or_default();
                format!("{}{by}", c.name)
            }
            FactValue::Language(l) => match &l.level {
                Some(level) => format!("{} ({level})", l.name),
                None => l.name.clone(),
            },
            FactValue::Project(n) | FactValue::Award(n) | FactValue::Course(n) => match &n.detail {
                Some(detail) => format!("{}: {detail}", n.name),
                None => n.name.clone(),
            },
            FactValue::Contact(c) => c.value.clone(),
            FactValue::TargetRole(t) => {
                let at = t.organisation.as_deref().map(|o| format!(" at {o}")).unwrap_or_default();
                format!("{}{at}", t.title)
            }
            FactValue::Requirement(r) => {
                format!("{} ({})", r.skill, if r.required { "required" } else { "preferred" })
            }
        }
    }
}

/// Where a fact was read.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Source {
    /// A span of one page of an uploaded document (character offsets in the
    /// page's extracted text, end exclusive).
    Document { document_id: DocumentId, page: u32, char_start: u32, char_end: u32 },
    /// An answer in the interview (`conversation/{session}/{turn}`).
    Conversation { session: String, turn: u32 },
    /// The user edited the fact.
    UserEdit,
}

/// One piece of evidence for a fact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    pub source: Source,
    /// The exact text the span covers.
    pub text: String,
    pub extractor: String,
    pub extractor_version: String,
    pub confidence: f32,
    /// RFC 3339.
    pub at: String,
}

/// Who may see a fact: private facts never leave in a shared export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    #[default]
    Public,
    Private,
}

/// A fact as extracted from one place, before it is merged into the graph.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Extracted {
    pub value: FactValue,
    pub provenance: Provenance,
}

/// A skill fact's concept in the skill ontology (`skill_mappings`), or the
/// flag that it has none: a skill nothing in the ontology matches well
/// enough stays free text (`unmapped`), never forced onto a wrong concept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SkillMapping {
    pub fact_id: FactId,
    /// "esco:skill/…", "onet:tech/python"; `None` when unmapped.
    pub concept_id: Option<String>,
    /// "esco" or "onet"; `None` when unmapped.
    pub scheme: Option<String>,
    /// The concept's preferred label; `None` when unmapped.
    pub label: Option<String>,
    /// The match score (0 when unmapped).
    pub score: f32,
    /// How it matched: exact_label, alias, normalised, typo, semantic; or unmapped.
    pub method: String,
    /// The skill stays free text: no concept scored above the mapping floor.
    #[serde(default)]
    pub unmapped: bool,
    /// The same skill in the other scheme, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub also: Option<String>,
    /// The skill name the mapping was made for (a later edit remaps it).
    pub name: String,
}

impl SkillMapping {
    /// The flag of a skill the ontology does not know.
    pub fn unmapped(fact_id: FactId, name: String) -> SkillMapping {
        SkillMapping {
            fact_id,
            concept_id: None,
            scheme: None,
            label: None,
            score: 0.0,
            method: "unmapped".to_owned(),
            unmapped: true,
            also: None,
            name,
        }
    }
}
