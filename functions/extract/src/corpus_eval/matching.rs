//! Extracted facts against a résumé's gold, field by field. Jobs are paired
//! greedily by agreement (title, organisation, start, end); each field then
//! counts as right on a pair when it agrees, so precision is over the jobs
//! extracted and recall over the jobs in the gold.

use super::gold::{GoldJob, GoldResume};
use facts::dates::{DateRange, YearMonth};
use facts::lexicon::SkillLexicon;
use facts::model::{ContactKind, Education, FactValue, Job};

/// True positives, extracted and gold counts of one field.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct FieldCounts {
    pub right: usize,
    pub extracted: usize,
    pub gold: usize,
}

impl FieldCounts {
    pub fn add(&mut self, other: FieldCounts) {
        self.right += other.right;
        self.extracted += other.extracted;
        self.gold += other.gold;
    }
    pub fn precision(&self) -> f64 {
        ratio(self.right, self.extracted)
    }
    pub fn recall(&self) -> f64 {
        ratio(self.right, self.gold)
    }
    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 { 0.0 } else { 2.0 * p * r / (p + r) }
    }
}

pub fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// How one résumé scored.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResumeScore {
    pub name: Option<bool>,
    pub extracted_name: Option<String>,
    pub job_count_exact: bool,
    pub jobs_extracted: usize,
    pub title: FieldCounts,
    pub organisation: FieldCounts,
    pub start: FieldCounts,
    pub end: FieldCounts,
    /// Title, organisation, start and end all right.
    pub job: FieldCounts,
    pub institution: FieldCounts,
    pub skills: FieldCounts,
    pub missing_skills: Vec<String>,
    /// Jobs of the gold with no right extraction, and extracted jobs that match none.
    pub missed_jobs: Vec<String>,
    pub extra_jobs: Vec<String>,
}

/// Lower case letters and digits as words (any script).
fn words(s: &str) -> Vec<String> {
    s.to_lowercase()
        .split(|c: char| !c.is_alphanumeric() && c != '+' && c != '#')
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

fn is_cjk(s: &str) -> bool {
    s.chars().any(|c| ('\u{3040}'..='\u{9fff}').contains(&c) || ('\u{ac00}'..='\u{d7af}').contains(&c))
}

/// Two names of a title or an organisation agree: same words, at least half
/// the words shared (Jaccard), or (CJK) most character pairs shared.
pub fn similar(a: &str, b: &str) -> bool {
    let (wa, wb) = (words(a), words(b));
    if wa.is_empty() || wb.is_empty() {
        return false;
    }
    if wa.concat() == wb.concat() {
        return true;
    }
    if is_cjk(a) || is_cjk(b) {
        let pairs = |s: &str| -> Vec<(char, char)> {
            let c: Vec<char> = s.chars().filter(|c| c.is_alphanumeric()).collect();
            c.windows(2).map(|w| (w[0], w[1])).collect()
        };
        let (pa, pb) = (pairs(a), pairs(b));
        let shared = pa.iter().filter(|p| pb.contains(p)).count();
        return 2.0 * shared as f64 / (pa.len() + pb.len()).max(1) as f64 >= 0.6;
    }
    let shared = wa.iter().filter(|w| wb.contains(w)).count();
    let union = wa.len() + wb.len() - shared;
    shared as f64 / union as f64 >= 0.5
}

fn parse_gold_date(s: &str) -> Option<YearMonth> {
    let mut parts = s.split('-');
    let year = parts.next()?.trim().parse().ok()?;
    let month = parts.next().and_then(|m| m.trim().parse().ok());
    YearMonth::new(year, month)
}

/// A date agrees when the year does and the month does where both state one.
fn date_agrees(got: Option<YearMonth>, want: Option<&str>) -> bool {
    match (got, want.and_then(parse_gold_date)) {
        (None, None) => true,
        (Some(g), Some(w)) => g.year == w.year && (g.month.is_none() || w.month.is_none() || g.month == w.month),
        _ => false,
    }
}

fn start_agrees(dates: Option<&DateRange>, gold: &GoldJob) -> bool {
    date_agrees(dates.and_then(|d| d.start), gold.start.as_deref())
}

fn end_agrees(dates: Option<&DateRange>, gold: &GoldJob) -> bool {
    let current = dates.is_some_and(|d| d.current);
    match gold.end.as_deref().map(str::trim) {
        Some(p) if p.eq_ignore_ascii_case("present") => current,
        None => !current && dates.and_then(|d| d.end).is_none_or(|e| Some(e) == dates.and_then(|d| d.start)),
        Some(w) => !current && date_agrees(dates.and_then(|d| d.end), Some(w)),
    }
}

struct Agreement {
    title: bool,
    organisation: bool,
    start: bool,
    end: bool,
}

fn agreement(job: &Job, gold: &GoldJob) -> Agreement {
    let organisation = match (&job.organisation, &gold.organisation) {
        (Some(a), Some(b)) => similar(a, b),
        (None, None) => true,
        (None, Some(b)) => b.trim().is_empty(),
        (Some(_), None) => false,
    };
    Agreement {
        title: similar(&job.title, gold.title.as_deref().unwrap_or_default()),
        organisation,
        start: start_agrees(job.dates.as_ref(), gold),
        end: end_agrees(job.dates.as_ref(), gold),
    }
}

fn describe(title: &str, org: Option<&str>, start: Option<String>, end: Option<String>) -> String {
    format!(
        "{title} | {} | {} – {}",
        org.unwrap_or("-"),
        start.unwrap_or_else(|| "?".into()),
        end.unwrap_or_else(|| "?".into())
    )
}

fn describe_job(job: &Job) -> String {
    let d = job.dates.as_ref();
    describe(
        &job.title,
        job.organisation.as_deref(),
        d.and_then(|d| d.start).map(|s| s.to_string()),
        d.map(|d| if d.current { "present".into() } else { d.end.map(|e| e.to_string()).unwrap_or_default() }),
    )
}

/// The names of every skill, spoken language and required skill among the facts.
pub fn skill_names(facts: &[FactValue]) -> Vec<String> {
    facts
        .iter()
        .filter_map(|f| match f {
            FactValue::Skill(s) => Some(s.name.clone()),
            FactValue::Language(l) => Some(l.name.clone()),
            FactValue::Requirement(r) => Some(r.skill.clone()),
            _ => None,
        })
        .collect()
}

/// A gold skill is found when a name has its letters, their canonical names
/// agree, or a name holds it as whole words ("Python 3" holds "Python").
pub fn skill_found(gold: &str, names: &[String], lexicon: &dyn SkillLexicon) -> bool {
    let g = words(gold);
    if g.is_empty() {
        return true;
    }
    let canonical = lexicon.canonical(gold).map(|c| words(&c));
    names.iter().any(|name| {
        let n = words(name);
        n.concat() == g.concat()
            || canonical.as_ref().is_some_and(|c| *c == n)
            || lexicon.canonical(name).is_some_and(|c| words(&c) == g)
            || (n.len() > g.len() && n.windows(g.len()).any(|w| w == g.as_slice()))
    })
}

/// Scores one résumé's extracted facts (volunteer roles are not jobs here).
pub fn score_resume(gold: &GoldResume, facts: &[FactValue], lexicon: &dyn SkillLexicon) -> ResumeScore {
    let extracted_name = facts.iter().find_map(|f| match f {
        FactValue::Contact(c) if c.kind == ContactKind::Name => Some(c.value.clone()),
        _ => None,
    });
    let name = gold.name.as_ref().map(|g| extracted_name.as_ref().is_some_and(|e| words(e) == words(g)));
    let jobs: Vec<&Job> = facts
        .iter()
        .filter_map(|f| match f {
            FactValue::Job(j) if !j.volunteer => Some(j),
            _ => None,
        })
        .collect();
    let mut score = ResumeScore {
        name,
        extracted_name,
        job_count_exact: jobs.len() == gold.jobs.len(),
        jobs_extracted: jobs.len(),
        ..Default::default()
    };
    // Greedy pairing, best agreement first.
    let mut candidates: Vec<(usize, usize, usize)> = Vec::new();
    for (i, job) in jobs.iter().enumerate() {
        for (j, g) in gold.jobs.iter().enumerate() {
            let a = agreement(job, g);
            let weight =
                3 * usize::from(a.title) + 3 * usize::from(a.organisation) + usize::from(a.start) + usize::from(a.end);
            if a.title || a.organisation {
                candidates.push((weight, i, j));
            }
        }
    }
    candidates.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    let (mut used_got, mut used_gold) = (vec![false; jobs.len()], vec![false; gold.jobs.len()]);
    let mut fully = vec![false; gold.jobs.len()];
    for (_, i, j) in candidates {
        if used_got[i] || used_gold[j] {
            continue;
        }
        used_got[i] = true;
        used_gold[j] = true;
        let a = agreement(jobs[i], &gold.jobs[j]);
        score.title.right += usize::from(a.title);
        score.organisation.right += usize::from(a.organisation);
        score.start.right += usize::from(a.start);
        score.end.right += usize::from(a.end);
        let all = a.title && a.organisation && a.start && a.end;
        score.job.right += usize::from(all);
        fully[j] = all;
        if !all {
            score.extra_jobs.push(describe_job(jobs[i]));
        }
    }
    for field in [&mut score.title, &mut score.organisation, &mut score.start, &mut score.end, &mut score.job] {
        field.extracted = jobs.len();
        field.gold = gold.jobs.len();
    }
    for (i, job) in jobs.iter().enumerate() {
        if !used_got[i] {
            score.extra_jobs.push(describe_job(job));
        }
    }
    for (j, g) in gold.jobs.iter().enumerate() {
        if !fully[j] {
            score.missed_jobs.push(describe(
                g.title.as_deref().unwrap_or("-"),
                g.organisation.as_deref(),
                g.start.clone(),
                g.end.clone(),
            ));
        }
    }
    // Education: institutions.
    let schools: Vec<&Education> = facts
        .iter()
        .filter_map(|f| match f {
            FactValue::Education(e) => Some(e),
            _ => None,
        })
        .collect();
    let gold_schools: Vec<&str> = gold.education.iter().filter_map(|e| e.institution.as_deref()).collect();
    let mut taken = vec![false; schools.len()];
    for g in &gold_schools {
        if let Some(i) = (0..schools.len()).find(|&i| {
            !taken[i]
                && schools[i]
                    .institution
                    .as_deref()
                    .is_some_and(|s| similar(s, g) || words(s).concat().contains(&words(g).concat()))
        }) {
            taken[i] = true;
            score.institution.right += 1;
        }
    }
    score.institution.extracted = schools.iter().filter(|s| s.institution.is_some()).count();
    score.institution.gold = gold_schools.len();
    // Skills: recall of the listed ones.
    let names = skill_names(facts);
    score.missing_skills = gold.skills.iter().filter(|s| !skill_found(s, &names, lexicon)).cloned().collect();
    score.skills = FieldCounts {
        right: gold.skills.len() - score.missing_skills.len(),
        extracted: names.len(),
        gold: gold.skills.len(),
    };
    score
}

#[cfg(test)]
mod tests {
    use super::*;
    use facts::lexicon::BuiltinLexicon;
    use facts::model::{Contact, Skill, SkillSource};

    fn job(title: &str, org: Option<&str>, start: Option<(u16, Option<u8>)>, current: bool) -> FactValue {
        FactValue::Job(Job {
            title: title.into(),
            organisation: org.map(str::to_owned),
            location: None,
            dates: Some(DateRange {
                start: start.and_then(|(y, m)| YearMonth::new(y, m)),
                end: None,
                current,
                raw: String::new(),
                confidence: 1.0,
            }),
            volunteer: false,
        })
    }

    fn gold() -> GoldResume {
        serde_json::from_str(
            r#"{"name":"Jane Doe","jobs":[
              {"title":"Senior Software Engineer","organisation":"Acme Corp","start":"2019-03","end":"present"},
              {"title":"Analyst","organisation":"Beta","start":"2016","end":"2019"}],
              "skills":["Python","Microsoft Excel","C++"]}"#,
        )
        .unwrap()
    }

    #[test]
    fn a_right_job_counts_on_every_field_and_a_wrong_end_only_on_its_own() {
        let facts = vec![
            FactValue::Contact(Contact { kind: ContactKind::Name, value: "JANE DOE".into() }),
            job("Software Engineer", Some("Acme Corp."), Some((2019, Some(3))), true),
            job("Analyst", Some("Beta"), Some((2016, None)), true),
            FactValue::Skill(Skill { name: "python".into(), category: None, source: SkillSource::Listed }),
            FactValue::Skill(Skill { name: "Excel".into(), category: None, source: SkillSource::Listed }),
        ];
        let s = score_resume(&gold(), &facts, BuiltinLexicon::get());
        assert_eq!(s.name, Some(true));
        assert!(s.job_count_exact);
        assert_eq!((s.title.right, s.organisation.right, s.start.right, s.end.right, s.job.right), (2, 2, 2, 1, 1));
        assert_eq!(s.missing_skills, ["C++"]);
        assert_eq!(s.job.f1(), 0.5);
    }

    #[test]
    fn an_invented_job_costs_precision_and_a_missing_one_recall() {
        let facts = vec![
            job("Senior Software Engineer", Some("Acme Corp"), Some((2019, Some(3))), true),
            job("Cook", Some("Diner"), Some((2010, None)), false),
        ];
        let s = score_resume(&gold(), &facts, BuiltinLexicon::get());
        assert_eq!(s.job, FieldCounts { right: 1, extracted: 2, gold: 2 });
        assert_eq!(s.name, Some(false));
        assert_eq!(s.missed_jobs.len(), 1);
        assert_eq!(s.extra_jobs.len(), 1);
    }

    #[test]
    fn similar_names_share_half_their_words_or_most_cjk_pairs() {
        assert!(similar("Software Engineer", "Senior Software Engineer"));
        assert!(!similar("Engineer", "Senior Software Engineer"));
        assert!(similar("高级软件工程师", "高级软件工程师（后端）"));
        assert!(!similar("", "x"));
    }
}
