//! GapAnalyzer: what the profile lacks or shows weakly, ranked by how much
//! an answer would add. A gap has a stable topic key (its kind and the fact
//! it is about), so a topic answered once is never asked again.

use facts::dates::{DateRange, YearMonth};
use facts::knowledge::{Fact, Knowledge, Relation, normalise};
use facts::model::{FactId, FactValue, Job, SkillSource, Statement};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// The kinds of gap, in the order of the value an answer usually adds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GapKind {
    /// A skill the target role (a job description) requires, with no evidence.
    TargetSkillUnevidenced,
    /// A job with no achievement.
    JobWithoutAchievements,
    /// An achievement or responsibility with no number.
    UnquantifiedAchievement,
    /// Months between two jobs (or since the last one) that nothing explains.
    UnexplainedDateGap,
    /// A listed skill no job, project or credential shows.
    SkillNotEvidenced,
    /// An education with no dates.
    EducationWithoutDates,
}

impl GapKind {
    pub fn as_str(self) -> &'static str {
        match self {
            GapKind::TargetSkillUnevidenced => "target_skill_unevidenced",
            GapKind::JobWithoutAchievements => "job_without_achievements",
            GapKind::UnquantifiedAchievement => "unquantified_achievement",
            GapKind::UnexplainedDateGap => "unexplained_date_gap",
            GapKind::SkillNotEvidenced => "skill_not_evidenced",
            GapKind::EducationWithoutDates => "education_without_dates",
        }
    }
}

/// One gap: what it is about, how much closing it is worth (0–1) and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Gap {
    /// Stable key: `{kind}:{fact id}` (or `{kind}:{from}:{to}` for a date gap).
    pub topic: String,
    pub kind: GapKind,
    pub score: f32,
    pub reason: String,
    /// What the question is about, in words ("Data Analyst at Acme").
    pub subject: String,
    /// The facts the gap is about.
    pub facts: Vec<FactId>,
    /// The job an answer belongs to, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<FactId>,
}

/// Weight of a job by recency: the current or latest role counts most.
fn recency(rank: usize) -> f32 {
    (1.0 - 0.15 * rank as f32).max(0.5)
}

fn round(x: f32) -> f32 {
    (x * 1000.0).round() / 1000.0
}

/// First month of a period (None when the start is unknown).
fn start_month(d: &Option<DateRange>) -> Option<i32> {
    d.as_ref().and_then(|d| d.start).map(|s| s.ordinal(1))
}

/// Last month of a period (today when current).
fn end_month(d: &DateRange, today: YearMonth) -> Option<i32> {
    if d.current { Some(today.ordinal(12)) } else { d.end.or(d.start).map(|e| e.ordinal(12)) }
}

fn month_name(ordinal: i32) -> String {
    // `YearMonth::ordinal` is year × 12 + month − 1.
    let (year, month) = (ordinal.div_euclid(12), ordinal.rem_euclid(12) + 1);
    const NAMES: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    format!("{} {year}", NAMES[(month - 1) as usize])
}

/// The jobs of a profile, latest first (current ones, then by start).
pub fn jobs_by_recency(knowledge: &Knowledge) -> Vec<(&Fact, &Job)> {
    let mut jobs: Vec<(&Fact, &Job)> = knowledge
        .live()
        .filter_map(|f| match &f.value {
            FactValue::Job(j) => Some((f, j)),
            _ => None,
        })
        .collect();
    jobs.sort_by(|(fa, a), (fb, b)| {
        let current = |j: &Job| j.dates.as_ref().is_some_and(|d| d.current);
        current(b).cmp(&current(a)).then(start_month(&b.dates).cmp(&start_month(&a.dates))).then(fa.id.cmp(&fb.id))
    });
    jobs
}

/// "Data Analyst at Acme".
pub fn job_label(job: &Job) -> String {
    match &job.organisation {
        Some(org) => format!("{} at {org}", job.title),
        None => job.title.clone(),
    }
}

/// The job a statement belongs to: its own field, else an IN edge.
pub fn job_of(knowledge: &Knowledge, fact: &Fact, statement: &Statement) -> Option<FactId> {
    statement.job.clone().or_else(|| {
        knowledge.edges.iter().find(|e| e.from == fact.id.0 && e.rel == Relation::In).map(|e| FactId(e.to.clone()))
    })
}

/// Whether `text` names `skill` (both normalised, on word boundaries).
pub fn names(text: &str, skill: &str) -> bool {
    let skill = normalise(skill);
    !skill.is_empty() && format!(" {} ", normalise(text)).contains(&format!(" {skill} "))
}

/// Every gap of the profile not in `covered` (topics answered or declined in
/// an earlier turn), best first (score, then topic).
pub fn analyze(knowledge: &Knowledge, covered: &BTreeSet<String>, today: YearMonth) -> Vec<Gap> {
    let mut gaps = Vec::new();
    let jobs = jobs_by_recency(knowledge);
    let rank: BTreeMap<&FactId, usize> = jobs.iter().enumerate().map(|(i, (f, _))| (&f.id, i)).collect();
    let label: BTreeMap<&FactId, String> = jobs.iter().map(|(f, j)| (&f.id, job_label(j))).collect();
    let statements: Vec<(&Fact, &Statement, bool)> = knowledge
        .live()
        .filter_map(|f| match &f.value {
            FactValue::Achievement(s) => Some((f, s, true)),
            FactValue::Responsibility(s) => Some((f, s, false)),
            _ => None,
        })
        .collect();
    let evidence_texts: Vec<&str> = knowledge
        .live()
        .filter_map(|f| match &f.value {
            FactValue::Achievement(s) | FactValue::Responsibility(s) => Some(s.text.as_str()),
            FactValue::Project(n) => Some(n.detail.as_deref().unwrap_or(&n.name)),
            FactValue::Certification(c) => Some(c.name.as_str()),
            _ => None,
        })
        .collect();

    // Jobs with no achievement.
    for (fact, job) in &jobs {
        let has = statements
            .iter()
            .any(|(f, s, achievement)| *achievement && job_of(knowledge, f, s).as_ref() == Some(&fact.id));
        if !has {
            let weight = if job.volunteer { 0.6 } else { 1.0 };
            gaps.push(Gap {
                topic: format!("{}:{}", GapKind::JobWithoutAchievements.as_str(), fact.id),
                kind: GapKind::JobWithoutAchievements,
                score: round(0.9 * recency(rank[&fact.id]) * weight),
                reason: format!("no achievement is recorded for {}", job_label(job)),
                subject: job_label(job),
                facts: vec![fact.id.clone()],
                job: Some(fact.id.clone()),
            });
        }
    }
    // Statements with no number.
    for (fact, statement, achievement) in &statements {
        if !statement.metrics.is_empty() {
            continue;
        }
        let job = job_of(knowledge, fact, statement);
        let weight = job.as_ref().and_then(|j| rank.get(j)).map_or(0.6, |r| recency(*r));
        let base = if *achievement { 0.75 } else { 0.55 };
        let at = job.as_ref().and_then(|j| label.get(j)).map(|l| format!(" ({l})")).unwrap_or_default();
        gaps.push(Gap {
            topic: format!("{}:{}", GapKind::UnquantifiedAchievement.as_str(), fact.id),
            kind: GapKind::UnquantifiedAchievement,
            score: round(base * weight),
            reason: format!("\"{}\"{at} has no number to show its size", statement.text),
            subject: statement.text.clone(),
            facts: vec![fact.id.clone()],
            job,
        });
    }
    // Skills: evidenced by a USED or EVIDENCES edge, or named in a statement,
    // a project or a credential.
    let skill_facts: Vec<(&Fact, &str, SkillSource)> = knowledge
        .live()
        .filter_map(|f| match &f.value {
            FactValue::Skill(s) => Some((f, s.name.as_str(), s.source)),
            _ => None,
        })
        .collect();
    let evidenced = |id: &FactId, name: &str| {
        knowledge.edges.iter().any(|e| e.to == id.0 && matches!(e.rel, Relation::Used | Relation::Evidences))
            || evidence_texts.iter().any(|t| names(t, name))
    };
    for (fact, name, source) in &skill_facts {
        if *source == SkillSource::Listed && !evidenced(&fact.id, name) {
            gaps.push(Gap {
                topic: format!("{}:{}", GapKind::SkillNotEvidenced.as_str(), fact.id),
                kind: GapKind::SkillNotEvidenced,
                score: 0.5,
                reason: format!("{name} is listed as a skill, but no job, project or credential shows it"),
                subject: (*name).to_owned(),
                facts: vec![fact.id.clone()],
                job: None,
            });
        }
    }
    // The target role's requirements.
    let target = knowledge.live().find_map(|f| match &f.value {
        FactValue::TargetRole(t) => Some(t.title.clone()),
        _ => None,
    });
    for fact in knowledge.live() {
        let FactValue::Requirement(r) = &fact.value else { continue };
        let held = skill_facts.iter().find(|(_, name, _)| normalise(name) == normalise(&r.skill));
        let shown = match held {
            Some((f, name, _)) => evidenced(&f.id, name),
            None => evidence_texts.iter().any(|t| names(t, &r.skill)),
        };
        if shown {
            continue;
        }
        let role = target.clone().unwrap_or_else(|| "the target role".to_owned());
        let need = if r.required { "requires" } else { "prefers" };
        gaps.push(Gap {
            topic: format!("{}:{}", GapKind::TargetSkillUnevidenced.as_str(), fact.id),
            kind: GapKind::TargetSkillUnevidenced,
            score: if r.required { 0.95 } else { 0.7 },
            reason: format!("{role} {need} {}; nothing in the profile shows it", r.skill),
            subject: r.skill.clone(),
            facts: [Some(fact.id.clone()), held.map(|(f, _, _)| f.id.clone())].into_iter().flatten().collect(),
            job: None,
        });
    }
    // Months between jobs.
    let mut dated: Vec<(&Fact, &Job, i32, i32)> = jobs
        .iter()
        .filter(|(_, j)| !j.volunteer)
        .filter_map(|(f, j)| {
            let d = j.dates.as_ref()?;
            Some((*f, *j, d.start?.ordinal(1), end_month(d, today)?))
        })
        .collect();
    dated.sort_by_key(|(f, _, start, _)| (*start, f.id.clone()));
    let mut covered_until: Option<(i32, &Fact)> = None;
    for (fact, job, start, end) in &dated {
        if let Some((until, before)) = covered_until {
            let months = start - until - 1;
            if months >= 6 {
                push_date_gap(&mut gaps, before, fact, until + 1, start - 1, months, Some(job));
            }
        }
        if covered_until.is_none_or(|(u, _)| *end > u) {
            covered_until = Some((*end, fact));
        }
    }
    if let Some((until, last)) = covered_until {
        let months = today.ordinal(12) - until - 1;
        if months >= 6 {
            push_date_gap(&mut gaps, last, last, until + 1, today.ordinal(12), months, None);
        }
    }
    // Education with no dates.
    for fact in knowledge.live() {
        let FactValue::Education(e) = &fact.value else { continue };
        if e.dates.as_ref().is_some_and(|d| d.start.is_some() || d.end.is_some()) {
            continue;
        }
        let what = [e.degree.as_deref(), e.institution.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(", ");
        gaps.push(Gap {
            topic: format!("{}:{}", GapKind::EducationWithoutDates.as_str(), fact.id),
            kind: GapKind::EducationWithoutDates,
            score: 0.35,
            reason: format!("{what} has no dates"),
            subject: what,
            facts: vec![fact.id.clone()],
            job: None,
        });
    }
    gaps.retain(|g| !covered.contains(&g.topic));
    gaps.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.topic.cmp(&b.topic)));
    gaps
}

fn push_date_gap(
    gaps: &mut Vec<Gap>,
    before: &Fact,
    after: &Fact,
    from: i32,
    to: i32,
    months: i32,
    next: Option<&Job>,
) {
    let (a, b) = (month_name(from), month_name(to));
    let subject = match next {
        Some(job) => format!("{a} to {b}, before {}", job_label(job)),
        None => format!("{a} to {b}, since the last role"),
    };
    let mut facts = vec![before.id.clone()];
    if after.id != before.id {
        facts.push(after.id.clone());
    }
    gaps.push(Gap {
        topic: format!("{}:{from}:{to}", GapKind::UnexplainedDateGap.as_str()),
        kind: GapKind::UnexplainedDateGap,
        score: round(0.5 + (months as f32 / 60.0).min(0.3)),
        reason: format!("{months} months ({a} to {b}) are not covered by any role"),
        subject,
        facts,
        job: None,
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use facts::extract::Found;
    use facts::model::{Extracted, Provenance, Requirement, Skill, Source, TargetRole};

    fn found(value: FactValue) -> Found {
        let provenance = Provenance {
            source: Source::UserEdit,
            text: value.summary(),
            extractor: "test".into(),
            extractor_version: "1".into(),
            confidence: 0.9,
            at: "2026-12-01T00:00:00Z".into(),
        };
        Found { fact: Extracted { value, provenance }, parent: None }
    }

    #[test]
    fn a_target_roles_requirements_without_evidence_are_gaps_ranked_by_need() {
        let today = YearMonth::new(2026, Some(12)).unwrap();
        let mut k = Knowledge::default();
        let requirement = |skill: &str, required| FactValue::Requirement(Requirement { skill: skill.into(), required });
        let statement = |text: &str| Statement { text: text.into(), metrics: facts::metrics::metrics(text), job: None };
        k.merge(
            vec![
                found(FactValue::TargetRole(TargetRole {
                    title: "Data Engineer".into(),
                    organisation: None,
                    seniority: None,
                })),
                found(requirement("Spark", true)),
                found(requirement("Airflow", false)),
                found(requirement("dbt", false)),
                found(FactValue::Skill(Skill { name: "Spark".into(), category: None, source: SkillSource::Listed })),
                found(FactValue::Achievement(statement("Scheduled 40 nightly pipelines in Airflow"))),
            ],
            &facts::knowledge::RuleMatcher { today },
            "now",
        );
        let gaps = analyze(&k, &BTreeSet::new(), today);
        let target: Vec<(&str, f32)> = gaps
            .iter()
            .filter(|g| g.kind == GapKind::TargetSkillUnevidenced)
            .map(|g| (g.subject.as_str(), g.score))
            .collect();
        // Spark is required and only listed; dbt is preferred and absent; Airflow is shown.
        assert_eq!(target, [("Spark", 0.95), ("dbt", 0.7)], "{gaps:#?}");
        assert_eq!(gaps[0].subject, "Spark", "the required skill comes first");
        assert!(gaps[0].reason.contains("Data Engineer requires Spark"), "{}", gaps[0].reason);
        // Covered topics are not gaps any more.
        let covered = BTreeSet::from([gaps[0].topic.clone()]);
        assert!(
            analyze(&k, &covered, today)
                .iter()
                .all(|g| g.subject != "Spark" || g.kind != GapKind::TargetSkillUnevidenced)
        );
    }
}
