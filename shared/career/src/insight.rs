//! The insights: PatternRecognizer (the career's trajectory),
//! InsightGenerator (hidden strengths), CareerPathAnalyzer (adjacent roles
//! from the skill ontology) and RecommendationEngine (next steps). Every
//! insight carries its evidence; one without evidence is never emitted.

use crate::behavior::{self, PatternKind, PatternRecord};
use crate::gaps::{self, Gap, GapKind, names};
use facts::dates::YearMonth;
use facts::knowledge::{Fact, Knowledge, normalise};
use facts::model::{FactId, FactValue, MetricKind, SkillSource};
use ontology::model::ConceptKind;
use ontology::profile::{TitleInput, rank_occupations};
use ontology::{Ontology, OntologyError};
use ports::TextEmbedder;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// What an insight rests on: facts of the profile, the words they were read
/// from, and interview answers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    pub fact_ids: Vec<FactId>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub quotes: Vec<String>,
    /// `conversation/{session}/{turn}` of answers that show it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conversations: Vec<String>,
}

impl Evidence {
    pub fn is_empty(&self) -> bool {
        self.fact_ids.is_empty() && self.conversations.is_empty()
    }

    fn add_fact(&mut self, id: &FactId) {
        if !self.fact_ids.contains(id) {
            self.fact_ids.push(id.clone());
        }
    }

    fn add_quote(&mut self, quote: &str) {
        if !self.quotes.iter().any(|q| q == quote) && self.quotes.len() < 5 {
            self.quotes.push(quote.to_owned());
        }
    }
}

fn round(x: f32) -> f32 {
    (x * 1000.0).round() / 1000.0
}

// ------------------------------------------------------------ trajectory

/// One job on the trajectory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    pub fact_id: FactId,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organisation: Option<String>,
    /// 0 intern … 8 chief.
    pub seniority: u8,
    pub months: i32,
    /// The largest count in its achievements (a team, users, items).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<f64>,
}

/// A move between two kinds of work (analyst → engineer).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainMove {
    pub from: String,
    pub to: String,
    pub evidence: Vec<FactId>,
}

/// The shape of a career: seniority over time, moves between domains,
/// tenure, and growth of scope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trajectory {
    pub steps: Vec<Step>,
    /// "rising", "steady", "mixed" or "declining".
    pub direction: String,
    /// Seniority levels gained per year over the dated career.
    pub growth_per_year: f32,
    pub domain_moves: Vec<DomainMove>,
    pub average_tenure_months: f32,
    /// "short stints", "steady tenures" or "long tenures".
    pub tenure_pattern: String,
    /// "growing", "flat" or "unknown": the scope of later roles against earlier ones.
    pub scope: String,
    pub summary: String,
    pub evidence: Evidence,
}

/// Seniority of a title, 0 (intern) to 8 (chief).
pub fn seniority(title: &str) -> u8 {
    let w = format!(" {} ", crate::words(title).join(" "));
    let has = |list: &[&str]| list.iter().any(|x| w.contains(&format!(" {x} ")));
    if has(&["chief", "ceo", "cto", "cfo", "coo", "cio", "founder", "president"]) {
        8
    } else if has(&["vp", "vice"]) {
        7
    } else if has(&["director"]) {
        6
    } else if has(&["head", "manager"]) {
        5
    } else if has(&["lead", "principal", "staff", "architect"]) {
        4
    } else if has(&["senior", "sr"]) {
        3
    } else if has(&["junior", "jr", "associate", "assistant", "graduate"]) {
        1
    } else if has(&["intern", "trainee", "apprentice", "student"]) {
        0
    } else {
        2
    }
}

/// The kind of work a title names: its last word that is not a level.
fn domain(title: &str) -> String {
    let levels = ["senior", "sr", "junior", "jr", "lead", "principal", "staff", "i", "ii", "iii", "iv", "intern"];
    crate::words(title.split([',', '(', '/', '-']).next().unwrap_or(title))
        .into_iter()
        .rev()
        .find(|w| !levels.contains(&w.as_str()))
        .unwrap_or_default()
}

/// PatternRecognizer: the trajectory of the dated jobs (two at least).
pub fn trajectory(knowledge: &Knowledge, today: YearMonth) -> Option<Trajectory> {
    let mut jobs: Vec<(&Fact, &facts::model::Job, i32, i32)> = gaps::jobs_by_recency(knowledge)
        .into_iter()
        .filter(|(_, j)| !j.volunteer)
        .filter_map(|(f, j)| {
            let d = j.dates.as_ref()?;
            let start = d.start?.ordinal(1);
            let end = if d.current { today.ordinal(12) } else { d.end.map_or(start, |e| e.ordinal(12)) };
            Some((f, j, start, end.max(start)))
        })
        .collect();
    if jobs.len() < 2 {
        return None;
    }
    jobs.sort_by_key(|(f, _, start, _)| (*start, f.id.clone()));
    let scope_of = |job: &FactId| -> Option<f64> {
        knowledge
            .live()
            .filter_map(|f| match &f.value {
                FactValue::Achievement(s) if s.job.as_ref() == Some(job) => Some(s),
                _ => None,
            })
            .flat_map(|s| s.metrics.iter())
            .filter(|m| m.kind == MetricKind::Count)
            .map(|m| m.value)
            .reduce(f64::max)
    };
    let steps: Vec<Step> = jobs
        .iter()
        .map(|(f, j, start, end)| Step {
            fact_id: f.id.clone(),
            title: j.title.clone(),
            organisation: j.organisation.clone(),
            seniority: seniority(&j.title),
            months: end - start + 1,
            scope: scope_of(&f.id),
        })
        .collect();
    let levels: Vec<i32> = steps.iter().map(|s| i32::from(s.seniority)).collect();
    let (first, last) = (levels[0], levels[levels.len() - 1]);
    let drops = levels.windows(2).filter(|w| w[1] < w[0]).count();
    let direction = match (last.cmp(&first), drops) {
        (std::cmp::Ordering::Greater, 0) => "rising",
        (std::cmp::Ordering::Greater, _) => "mixed",
        (std::cmp::Ordering::Equal, 0) => "steady",
        (std::cmp::Ordering::Equal, _) => "mixed",
        (std::cmp::Ordering::Less, _) => "declining",
    };
    let span_years = ((jobs[jobs.len() - 1].3 - jobs[0].2 + 1) as f32 / 12.0).max(1.0);
    let growth_per_year = round((last - first) as f32 / span_years);
    let mut domain_moves = Vec::new();
    for pair in steps.windows(2) {
        let (a, b) = (domain(&pair[0].title), domain(&pair[1].title));
        if !a.is_empty() && !b.is_empty() && a != b {
            domain_moves.push(DomainMove {
                from: pair[0].title.clone(),
                to: pair[1].title.clone(),
                evidence: vec![pair[0].fact_id.clone(), pair[1].fact_id.clone()],
            });
        }
    }
    let average = steps.iter().map(|s| s.months as f32).sum::<f32>() / steps.len() as f32;
    let tenure_pattern = if average < 18.0 {
        "short stints"
    } else if average > 48.0 {
        "long tenures"
    } else {
        "steady tenures"
    };
    let scopes: Vec<f64> = steps.iter().filter_map(|s| s.scope).collect();
    let scope = match scopes.as_slice() {
        [] | [_] => "unknown",
        [a, .., b] if b > a => "growing",
        _ => "flat",
    };
    let summary = format!(
        "{} jobs over {:.0} years: seniority {direction} ({} → {}), {} domain move(s), {tenure_pattern} (average {:.0} months)",
        steps.len(),
        span_years,
        steps[0].title,
        steps[steps.len() - 1].title,
        domain_moves.len(),
        average
    );
    let evidence = Evidence { fact_ids: steps.iter().map(|s| s.fact_id.clone()).collect(), ..Default::default() };
    Some(Trajectory {
        steps,
        direction: direction.to_owned(),
        growth_per_year,
        domain_moves,
        average_tenure_months: round(average),
        tenure_pattern: tenure_pattern.to_owned(),
        scope: scope.to_owned(),
        summary,
        evidence,
    })
}

// ------------------------------------------------------------ strengths

/// A strength the record shows but the user never claims.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Strength {
    pub name: String,
    /// "pattern" (a way of working) or "skill" (named in the work, never listed).
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<PatternKind>,
    pub confidence: f32,
    pub reason: String,
    pub evidence: Evidence,
}

/// The statements of the profile: (fact, text).
fn statements(knowledge: &Knowledge) -> Vec<(&Fact, &str)> {
    knowledge
        .live()
        .filter_map(|f| match &f.value {
            FactValue::Achievement(s) | FactValue::Responsibility(s) | FactValue::Motivation(s) => {
                Some((f, s.text.as_str()))
            }
            FactValue::Project(n) => Some((f, n.detail.as_deref().unwrap_or(&n.name))),
            _ => None,
        })
        .collect()
}

/// InsightGenerator: hidden strengths, best first.
pub fn hidden_strengths(knowledge: &Knowledge, patterns: &[PatternRecord]) -> Vec<Strength> {
    let skills: Vec<(&Fact, &facts::model::Skill)> = knowledge
        .live()
        .filter_map(|f| match &f.value {
            FactValue::Skill(s) => Some((f, s)),
            _ => None,
        })
        .collect();
    let statements = statements(knowledge);
    let mut out = Vec::new();
    // Ways of working.
    let mut by_kind: BTreeMap<PatternKind, (Evidence, Vec<f32>)> = BTreeMap::new();
    for &(fact, text) in &statements {
        for p in behavior::patterns(text) {
            let (ev, confidences) = by_kind.entry(p.kind).or_default();
            if !ev.fact_ids.contains(&fact.id) {
                ev.add_fact(&fact.id);
                confidences.push(p.confidence);
            }
            ev.add_quote(&p.quote);
        }
    }
    for record in patterns {
        let (ev, confidences) = by_kind.entry(record.kind).or_default();
        if !ev.conversations.contains(&record.source) {
            ev.conversations.push(record.source.clone());
            confidences.push(record.confidence);
        }
        for f in &record.facts {
            ev.add_fact(f);
        }
        ev.add_quote(&record.quote);
    }
    for (kind, (evidence, confidences)) in by_kind {
        if evidence.is_empty() || skills.iter().any(|(_, s)| behavior::claims(&s.name, kind)) {
            continue;
        }
        let confidence = 1.0 - confidences.iter().map(|c| 1.0 - c).product::<f32>();
        if confidences.len() < 2 && confidence < 0.7 {
            continue;
        }
        let name = kind.as_str().replace('_', " ");
        out.push(Strength {
            reason: format!("{} statement(s) show {name}, but no skill in the profile claims it", confidences.len()),
            name,
            kind: "pattern".to_owned(),
            pattern: Some(kind),
            confidence: round(confidence.min(0.95)),
            evidence,
        });
    }
    // Skills used in the work but never listed.
    let listed: BTreeSet<String> =
        skills.iter().filter(|(_, s)| s.source == SkillSource::Listed).map(|(_, s)| normalise(&s.name)).collect();
    for (fact, skill) in &skills {
        if listed.contains(&normalise(&skill.name)) {
            continue;
        }
        let mut evidence = Evidence::default();
        for &(f, text) in &statements {
            if names(text, &skill.name) {
                evidence.add_fact(&f.id);
                evidence.add_quote(text);
            }
        }
        if evidence.is_empty() {
            continue;
        }
        let n = evidence.fact_ids.len();
        evidence.add_fact(&fact.id);
        out.push(Strength {
            name: skill.name.clone(),
            kind: "skill".to_owned(),
            pattern: None,
            confidence: round((0.5 + 0.1 * n as f32).min(0.85)),
            reason: format!("{} is used in {n} statement(s) but not in the skills you list", skill.name),
            evidence,
        });
    }
    out.sort_by(|a, b| b.confidence.total_cmp(&a.confidence).then_with(|| a.name.cmp(&b.name)));
    out
}

// ------------------------------------------------------------ career paths

/// A skill the user has that a role uses, with the facts behind it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeldSkill {
    pub skill: String,
    pub concept_id: String,
    pub fact_ids: Vec<FactId>,
}

/// An adjacent or alternative role.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CareerPath {
    /// O*NET-SOC code ("15-2051.00").
    pub code: String,
    pub title: String,
    /// How it was found: "related to {current} (Primary-Short)", "matches your profile".
    pub relation: String,
    pub have: Vec<HeldSkill>,
    /// Technologies the role uses that the profile does not show, hot ones first.
    pub missing: Vec<String>,
    /// 0 (a step away) to 1 (far): 0.85 × the share of the role's core (the
    /// user's skills it uses and its hot technologies the user lacks, ten at
    /// most) not shown, + 0.15 × the remoteness of the relation.
    pub distance: f32,
    pub evidence: Evidence,
}

/// The O*NET technology concepts of the user's skills, with their facts.
fn user_technologies(
    knowledge: &Knowledge,
    onto: &Ontology,
    embedder: Option<&dyn TextEmbedder>,
) -> Result<BTreeMap<u32, (String, Vec<FactId>)>, OntologyError> {
    let mut out: BTreeMap<u32, (String, Vec<FactId>)> = BTreeMap::new();
    for fact in knowledge.live() {
        let FactValue::Skill(skill) = &fact.value else { continue };
        let mut concepts: Vec<u32> = Vec::new();
        match knowledge.mappings.get(&fact.id) {
            Some(m) if m.name == skill.name => {
                concepts.extend(
                    [m.concept_id.as_deref(), m.also.as_deref()].into_iter().flatten().filter_map(|id| onto.find(id)),
                );
            }
            _ => {
                if let Some(m) = onto.map_skill(&skill.name, None, embedder)? {
                    concepts.extend([Some(m.concept), m.also].into_iter().flatten());
                }
            }
        }
        for c in concepts.into_iter().filter(|c| onto.concept(*c).kind == ConceptKind::Technology) {
            let entry = out.entry(c).or_insert_with(|| (skill.name.clone(), Vec::new()));
            if !entry.1.contains(&fact.id) {
                entry.1.push(fact.id.clone());
            }
        }
    }
    Ok(out)
}

/// CareerPathAnalyzer: roles related to the user's likeliest occupation
/// (O*NET's related-occupation tiers) and the other occupations the profile
/// matches, each with the skills the user has, those missing, and the distance.
pub fn career_paths(
    knowledge: &Knowledge,
    onto: &Ontology,
    embedder: Option<&dyn TextEmbedder>,
    limit: usize,
) -> Result<Vec<CareerPath>, OntologyError> {
    let jobs = gaps::jobs_by_recency(knowledge);
    let titles: Vec<TitleInput> =
        jobs.iter().enumerate().map(|(rank, (_, j))| TitleInput { title: j.title.clone(), rank }).collect();
    let skills: Vec<String> = knowledge
        .live()
        .filter_map(|f| match &f.value {
            FactValue::Skill(s) => Some(s.name.clone()),
            _ => None,
        })
        .collect();
    let ranked = rank_occupations(onto, &titles, &skills, embedder, 6)?;
    let Some(current) = ranked.first() else { return Ok(Vec::new()) };
    let mine = user_technologies(knowledge, onto, embedder)?;
    let job_facts: Vec<FactId> =
        jobs.iter().filter(|(_, j)| current.titles.contains(&j.title)).map(|(f, _)| f.id.clone()).collect();
    let current_title = onto.concept(current.concept).label.clone();
    let mut candidates: Vec<(u32, String, f32)> = onto
        .related(current.concept)
        .into_iter()
        .map(|(c, tier)| {
            let far = match tier {
                "Primary-Short" => 0.0,
                "Primary-Long" => 0.5,
                _ => 1.0,
            };
            (c, format!("related to {current_title} ({tier})"), far)
        })
        .collect();
    for r in ranked.iter().skip(1) {
        candidates.push((r.concept, "matches your profile".to_owned(), 0.5));
    }
    let mut seen = BTreeSet::from([current.concept]);
    let mut out = Vec::new();
    for (concept, relation, far) in candidates {
        if !seen.insert(concept) {
            continue;
        }
        let mut techs = onto.technologies_of(concept);
        techs.sort_unstable();
        techs.dedup();
        let have: Vec<HeldSkill> = techs
            .iter()
            .filter_map(|t| {
                mine.get(t).map(|(name, ids)| HeldSkill {
                    skill: name.clone(),
                    concept_id: onto.concept(*t).id.clone(),
                    fact_ids: ids.clone(),
                })
            })
            .collect();
        if have.is_empty() {
            continue;
        }
        let mut missing: Vec<u32> = techs.iter().copied().filter(|t| !mine.contains_key(t)).collect();
        missing.sort_by(|a, b| {
            let (ca, cb) = (onto.concept(*a), onto.concept(*b));
            cb.hot.cmp(&ca.hot).then_with(|| ca.label.cmp(&cb.label))
        });
        // The role's core: what the user has plus its hot technologies the user lacks (ten at most).
        let hot_missing = missing.iter().filter(|t| onto.concept(**t).hot).count().min(10);
        let coverage = have.len() as f32 / (have.len() + hot_missing) as f32;
        let distance = round((0.85 * (1.0 - coverage.min(1.0)) + 0.15 * far).clamp(0.0, 1.0));
        let mut evidence = Evidence::default();
        for h in &have {
            for f in &h.fact_ids {
                evidence.add_fact(f);
            }
        }
        for f in &job_facts {
            evidence.add_fact(f);
        }
        let c = onto.concept(concept);
        out.push(CareerPath {
            code: c.id.trim_start_matches("onet:").to_owned(),
            title: c.label.clone(),
            relation,
            have,
            missing: missing.into_iter().take(5).map(|t| onto.concept(t).label.clone()).collect(),
            distance,
            evidence,
        });
    }
    out.sort_by(|a, b| a.distance.total_cmp(&b.distance).then_with(|| a.code.cmp(&b.code)));
    out.truncate(limit);
    Ok(out)
}

// ------------------------------------------------------------ recommendations

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecommendationKind {
    QuantifyFact,
    DescribeResult,
    EvidenceSkill,
    LearnSkill,
    Certification,
    TargetRole,
}

/// One concrete next step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recommendation {
    pub kind: RecommendationKind,
    pub action: String,
    pub score: f32,
    /// The gap behind it, when it comes from one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gap: Option<String>,
    pub evidence: Evidence,
}

/// RecommendationEngine: steps from the gaps and the paths, ranked.
pub fn recommendations(knowledge: &Knowledge, gaps: &[Gap], paths: &[CareerPath]) -> Vec<Recommendation> {
    let mut out = Vec::new();
    let mut per_kind: BTreeMap<GapKind, usize> = BTreeMap::new();
    for gap in gaps {
        let n = per_kind.entry(gap.kind).or_default();
        if *n >= 3 {
            continue;
        }
        *n += 1;
        let (kind, action) = match gap.kind {
            GapKind::UnquantifiedAchievement => {
                (RecommendationKind::QuantifyFact, format!("Add a number to \"{}\"", gap.subject))
            }
            GapKind::JobWithoutAchievements => {
                (RecommendationKind::DescribeResult, format!("Describe one result you achieved as {}", gap.subject))
            }
            GapKind::TargetSkillUnevidenced | GapKind::SkillNotEvidenced => (
                RecommendationKind::EvidenceSkill,
                format!("Back {} with a project or an achievement that shows it", gap.subject),
            ),
            GapKind::UnexplainedDateGap | GapKind::EducationWithoutDates => continue,
        };
        out.push(Recommendation {
            kind,
            action,
            score: gap.score,
            gap: Some(gap.topic.clone()),
            evidence: Evidence { fact_ids: gap.facts.clone(), ..Default::default() },
        });
    }
    if let Some(best) = paths.first() {
        let have: Vec<&str> = best.have.iter().map(|h| h.skill.as_str()).collect();
        out.push(Recommendation {
            kind: RecommendationKind::TargetRole,
            action: format!("Consider {} roles: you already have {}", best.title, have.join(", ")),
            score: round(0.8 * (1.0 - best.distance) + 0.2),
            gap: None,
            evidence: best.evidence.clone(),
        });
        if let Some(skill) = best.missing.first() {
            out.push(Recommendation {
                kind: RecommendationKind::LearnSkill,
                action: format!("Learn or show {skill}: {} roles use it", best.title),
                score: round(0.6 * (1.0 - best.distance) + 0.2),
                gap: None,
                evidence: best.evidence.clone(),
            });
            let certified = knowledge.live().any(|f| matches!(f.value, FactValue::Certification(_)));
            if !certified {
                out.push(Recommendation {
                    kind: RecommendationKind::Certification,
                    action: format!("A certification in {skill} would evidence it for {} roles", best.title),
                    score: round(0.4 * (1.0 - best.distance) + 0.1),
                    gap: None,
                    evidence: best.evidence.clone(),
                });
            }
        }
    }
    out.retain(|r| !r.evidence.is_empty());
    out.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.action.cmp(&b.action)));
    out
}

// ------------------------------------------------------------ all of it

/// Everything the insight function emits for one user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Insights {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trajectory: Option<Trajectory>,
    pub strengths: Vec<Strength>,
    pub paths: Vec<CareerPath>,
    pub recommendations: Vec<Recommendation>,
}

impl Insights {
    pub fn count(&self) -> usize {
        usize::from(self.trajectory.is_some()) + self.strengths.len() + self.paths.len() + self.recommendations.len()
    }
}

/// Generates the insights of a profile. Without the ontology there are no
/// career paths (the rest stands).
pub fn generate(
    knowledge: &Knowledge,
    patterns: &[PatternRecord],
    onto: Option<&Ontology>,
    embedder: Option<&dyn TextEmbedder>,
    today: YearMonth,
) -> Result<Insights, OntologyError> {
    let gaps = gaps::analyze(knowledge, &BTreeSet::new(), today);
    let paths = match onto {
        Some(o) => career_paths(knowledge, o, embedder, 5)?,
        None => Vec::new(),
    };
    let mut insights = Insights {
        trajectory: trajectory(knowledge, today).filter(|t| !t.evidence.is_empty()),
        strengths: hidden_strengths(knowledge, patterns),
        recommendations: recommendations(knowledge, &gaps, &paths),
        paths,
    };
    insights.strengths.retain(|s| !s.evidence.is_empty());
    insights.paths.retain(|p| !p.evidence.is_empty());
    Ok(insights)
}
