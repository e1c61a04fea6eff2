//! Totals over a set of documents and the kind confusion matrix, as the
//! evaluation prints them, and the measures a guard file can hold.

use super::matching::{FieldCounts, ResumeScore, ratio};
use domain::DocumentKind;
use std::collections::BTreeMap;

/// Résumé figures summed over a set of documents.
#[derive(Debug, Clone, Default)]
pub struct Totals {
    pub resumes: usize,
    pub names: usize,
    pub names_right: usize,
    pub counts_right: usize,
    pub no_facts: usize,
    pub title: FieldCounts,
    pub organisation: FieldCounts,
    pub start: FieldCounts,
    pub end: FieldCounts,
    pub job: FieldCounts,
    pub institution: FieldCounts,
    pub skills: FieldCounts,
}

impl Totals {
    pub fn add(&mut self, s: &ResumeScore, facts: usize) {
        self.resumes += 1;
        if let Some(ok) = s.name {
            self.names += 1;
            self.names_right += usize::from(ok);
        }
        self.counts_right += usize::from(s.job_count_exact);
        self.no_facts += usize::from(facts == 0);
        self.title.add(s.title);
        self.organisation.add(s.organisation);
        self.start.add(s.start);
        self.end.add(s.end);
        self.job.add(s.job);
        self.institution.add(s.institution);
        self.skills.add(s.skills);
    }

    /// A named measure, for guards.
    pub fn measure(&self, name: &str) -> Option<f64> {
        Some(match name {
            "name_exact" => ratio(self.names_right, self.names),
            "job_count_exact" => ratio(self.counts_right, self.resumes),
            "job_f1" => self.job.f1(),
            "title_f1" => self.title.f1(),
            "organisation_f1" => self.organisation.f1(),
            "start_f1" => self.start.f1(),
            "end_f1" => self.end.f1(),
            "institution_recall" => self.institution.recall(),
            "skills_recall" => self.skills.recall(),
            "no_facts" => self.no_facts as f64,
            _ => return None,
        })
    }

    /// The figures in a few lines.
    pub fn render(&self, label: &str) -> String {
        let field = |name: &str, c: &FieldCounts| {
            format!(
                "  {name:<13} P {:.3} R {:.3} F1 {:.3} ({} right, {} extracted, {} gold)\n",
                c.precision(),
                c.recall(),
                c.f1(),
                c.right,
                c.extracted,
                c.gold
            )
        };
        let mut out = format!(
            "{label}: {} résumés; name exact {}/{} = {:.3}; number of jobs exact {}/{} = {:.3}; without facts {}\n",
            self.resumes,
            self.names_right,
            self.names,
            ratio(self.names_right, self.names),
            self.counts_right,
            self.resumes,
            ratio(self.counts_right, self.resumes),
            self.no_facts
        );
        for (name, c) in [
            ("job (all 4)", &self.job),
            ("title", &self.title),
            ("organisation", &self.organisation),
            ("start", &self.start),
            ("end", &self.end),
            ("institution", &self.institution),
        ] {
            out.push_str(&field(name, c));
        }
        out.push_str(&format!(
            "  skills recall {:.3} ({} of {} listed skills found)\n",
            self.skills.recall(),
            self.skills.right,
            self.skills.gold
        ));
        out
    }
}

/// Gold kind → predicted kind → count.
#[derive(Debug, Clone, Default)]
pub struct Confusion {
    pub cells: BTreeMap<DocumentKind, BTreeMap<DocumentKind, usize>>,
}

impl Confusion {
    pub fn add(&mut self, gold: DocumentKind, got: DocumentKind) {
        *self.cells.entry(gold).or_default().entry(got).or_default() += 1;
    }

    pub fn total(&self) -> usize {
        self.cells.values().flat_map(|r| r.values()).sum()
    }

    pub fn right(&self) -> usize {
        self.cells.iter().map(|(g, r)| r.get(g).copied().unwrap_or(0)).sum()
    }

    pub fn accuracy(&self) -> f64 {
        ratio(self.right(), self.total())
    }

    pub fn render(&self, label: &str) -> String {
        let short = |k: DocumentKind| match k {
            DocumentKind::Resume => "res",
            DocumentKind::CoverLetter => "cov",
            DocumentKind::JobDescription => "job",
            DocumentKind::Certificate => "cert",
            DocumentKind::Transcript => "tran",
            DocumentKind::ReferenceLetter => "ref",
            DocumentKind::Other => "oth",
            DocumentKind::Unclassified => "?",
        };
        let mut out = format!(
            "{label}: kind accuracy {}/{} = {:.3}\n  gold \\ got {}\n",
            self.right(),
            self.total(),
            self.accuracy(),
            DocumentKind::SETTABLE.iter().map(|k| format!("{:>5}", short(*k))).collect::<String>()
        );
        for gold in DocumentKind::SETTABLE {
            let Some(row) = self.cells.get(&gold) else { continue };
            out.push_str(&format!(
                "  {:<10} {}\n",
                short(gold),
                DocumentKind::SETTABLE
                    .iter()
                    .map(|k| format!("{:>5}", row.get(k).copied().unwrap_or(0)))
                    .collect::<String>()
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_confusion_matrix_counts_the_diagonal_as_right() {
        let mut c = Confusion::default();
        c.add(DocumentKind::Resume, DocumentKind::Resume);
        c.add(DocumentKind::CoverLetter, DocumentKind::JobDescription);
        assert_eq!((c.right(), c.total()), (1, 2));
        assert!(c.render("x").contains("cov"));
        let t = Totals::default();
        assert_eq!(t.measure("job_f1"), Some(0.0));
        assert_eq!(t.measure("nonsense"), None);
    }
}
