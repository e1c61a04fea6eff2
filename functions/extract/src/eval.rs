//! Scoring extraction against a gold file (`../shared/testdata/gold/gold_facts.tsv`:
//! `path`, `gold_name`, `gold_n_jobs`, `gold_skills`; an empty cell is not assessed).

use crate::corpus_eval::matching::{skill_found, skill_names};
use facts::lexicon::SkillLexicon;
use facts::model::{ContactKind, FactValue};

/// The gold facts of one document.
#[derive(Debug, Clone, PartialEq)]
pub struct Gold {
    pub path: String,
    pub name: Option<String>,
    pub jobs: Option<usize>,
    pub skills: Vec<String>,
}

/// Parses the gold TSV (header row with named columns).
pub fn parse_gold(tsv: &str) -> Result<Vec<Gold>, String> {
    let mut lines = tsv.lines();
    let header: Vec<&str> = lines.next().ok_or("empty gold file")?.split('\t').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).ok_or(format!("no {name} column"));
    let (path, name, jobs, skills) = (col("path")?, col("gold_name")?, col("gold_n_jobs")?, col("gold_skills")?);
    let mut out = Vec::new();
    for line in lines.filter(|l| !l.trim().is_empty()) {
        let cells: Vec<&str> = line.split('\t').collect();
        let cell = |i: usize| cells.get(i).map(|c| c.trim()).filter(|c| !c.is_empty());
        out.push(Gold {
            path: cell(path).ok_or("a row without a path")?.to_owned(),
            name: cell(name).map(str::to_owned),
            jobs: cell(jobs).map(|j| j.parse().map_err(|_| format!("bad job count {j:?}"))).transpose()?,
            skills: cell(skills).map(|s| s.split(';').map(|x| x.trim().to_owned()).collect()).unwrap_or_default(),
        });
    }
    Ok(out)
}

/// What the extraction got for one document.
#[derive(Debug, Clone, PartialEq)]
pub struct Score {
    pub name: Option<bool>,
    pub jobs: Option<(usize, usize)>,
    pub skills_found: usize,
    pub skills_total: usize,
    pub missing_skills: Vec<String>,
    pub extracted_name: Option<String>,
}

fn normalise(s: &str) -> String {
    s.to_lowercase().chars().filter(|c| c.is_alphanumeric() || *c == '+' || *c == '#').collect()
}

/// Dated paid roles, as the gold counts them (volunteer roles aside).
pub fn counted_jobs(facts: &[FactValue]) -> usize {
    facts
        .iter()
        .filter(|f| matches!(f, FactValue::Job(j) if !j.volunteer && j.dates.as_ref().is_some_and(|d| d.start.is_some() || d.end.is_some())))
        .count()
}

/// Scores the facts of one document against its gold row. Names compare
/// case-insensitively; a gold skill is found when some skill fact (or a
/// requirement, or a spoken language) has the same letters or the same
/// canonical name in the lexicon ("Agile methodologies" is "Agile"), or
/// contains it as a word.
pub fn score(gold: &Gold, facts: &[FactValue], lexicon: &dyn SkillLexicon) -> Score {
    let extracted_name = facts.iter().find_map(|f| match f {
        FactValue::Contact(c) if c.kind == ContactKind::Name => Some(c.value.clone()),
        _ => None,
    });
    let name = gold.name.as_ref().map(|g| extracted_name.as_ref().is_some_and(|e| normalise(e) == normalise(g)));
    let jobs = gold.jobs.map(|g| (counted_jobs(facts), g));
    let skill_names = skill_names(facts);
    let found = |gold: &str| skill_found(gold, &skill_names, lexicon);
    let missing_skills: Vec<String> = gold.skills.iter().filter(|s| !found(s)).cloned().collect();
    Score {
        name,
        jobs,
        skills_found: gold.skills.len() - missing_skills.len(),
        skills_total: gold.skills.len(),
        missing_skills,
        extracted_name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use facts::model::{Contact, Skill, SkillSource};

    #[test]
    fn gold_rows_parse_and_score() {
        let tsv = "path\tgold_name\tgold_n_jobs\tgold_skills\tnotes\ndocs/a.pdf\tJane Doe\t0\tPython;SQL\tx\ndocs/b.pdf\t\t\t\t\n";
        let gold = parse_gold(tsv).unwrap();
        assert_eq!(gold[0].skills, ["Python", "SQL"]);
        assert_eq!((gold[1].name.clone(), gold[1].jobs), (None, None));
        let facts = vec![
            FactValue::Contact(Contact { kind: ContactKind::Name, value: "JANE DOE".into() }),
            FactValue::Skill(Skill { name: "Python".into(), category: None, source: SkillSource::Listed }),
        ];
        let s = score(&gold[0], &facts, facts::lexicon::BuiltinLexicon::get());
        assert_eq!(
            (s.name, s.jobs, s.skills_found, s.missing_skills.clone()),
            (Some(true), Some((0, 0)), 1, vec!["SQL".to_owned()])
        );
    }
}
