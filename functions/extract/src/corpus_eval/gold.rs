//! The corpus as files: `manifest.tsv` (one row per real document, with its
//! split), `gold/<id>.json` (résumés), and the rendered set
//! (`rendered/themes.tsv`, `rendered/resumes/*.json` in JSON Resume form,
//! `rendered/pdf/<theme>/<resume>.pdf`).

use domain::DocumentKind;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Which half of the corpus a document belongs to: tuning looks at `Dev` only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Split {
    Dev,
    Test,
}

impl Split {
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "dev" => Ok(Self::Dev),
            "test" => Ok(Self::Test),
            other => Err(format!("unknown split {other:?} (dev or test)")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Dev => "dev",
            Self::Test => "test",
        }
    }
}

/// A job as the gold states it; dates are `YYYY`, `YYYY-MM` or `present`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct GoldJob {
    /// `None` where the document writes no title.
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub organisation: Option<String>,
    #[serde(default)]
    pub start: Option<String>,
    #[serde(default)]
    pub end: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct GoldEducation {
    #[serde(default)]
    pub institution: Option<String>,
    #[serde(default)]
    pub degree: Option<String>,
    #[serde(default)]
    pub start: Option<String>,
    #[serde(default)]
    pub end: Option<String>,
}

/// The facts a person reading the résumé wrote down.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct GoldResume {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "nulls_as_empty")]
    pub jobs: Vec<GoldJob>,
    #[serde(default, deserialize_with = "nulls_as_empty")]
    pub education: Vec<GoldEducation>,
    #[serde(default, deserialize_with = "nulls_as_empty")]
    pub skills: Vec<String>,
}

fn nulls_as_empty<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

/// One document of the corpus.
#[derive(Debug, Clone)]
pub struct CorpusEntry {
    pub id: String,
    /// Where the file is (absent files are reported, not fatal).
    pub file: PathBuf,
    pub kind: DocumentKind,
    pub format: String,
    pub lang: String,
    /// Layout for real documents, the theme for rendered ones.
    pub group: String,
    pub split: Split,
    pub rendered: bool,
    pub gold: Option<GoldResume>,
}

fn parse_kind(s: &str) -> Result<DocumentKind, String> {
    serde_json::from_value(serde_json::Value::String(s.to_owned())).map_err(|_| format!("unknown kind {s:?}"))
}

/// Rows of a TSV with a header, as maps from column name to cell.
fn rows(tsv: &str) -> Result<Vec<std::collections::HashMap<String, String>>, String> {
    let mut lines = tsv.lines();
    let header: Vec<String> = lines.next().ok_or("empty table")?.split('\t').map(|h| h.trim().to_owned()).collect();
    Ok(lines
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|line| header.iter().cloned().zip(line.split('\t').map(|c| c.trim().to_owned())).collect())
        .collect())
}

fn cell<'a>(row: &'a std::collections::HashMap<String, String>, name: &str) -> Result<&'a str, String> {
    row.get(name).map(String::as_str).ok_or_else(|| format!("a row without {name}"))
}

/// The real documents: `corpus/manifest.tsv` and `corpus/gold/`, with the
/// files themselves under `docs` (the manifest's `path` is relative to it).
pub fn load_manifest(corpus: &Path, docs: &Path) -> Result<Vec<CorpusEntry>, String> {
    let manifest = corpus.join("manifest.tsv");
    let text = std::fs::read_to_string(&manifest).map_err(|e| format!("{}: {e}", manifest.display()))?;
    let mut out = Vec::new();
    for row in rows(&text)? {
        let id = cell(&row, "id")?.to_owned();
        let kind = parse_kind(cell(&row, "kind")?)?;
        let gold_path = corpus.join("gold").join(format!("{id}.json"));
        let gold = if kind == DocumentKind::Resume {
            let text = std::fs::read_to_string(&gold_path).map_err(|e| format!("{}: {e}", gold_path.display()))?;
            Some(serde_json::from_str(&text).map_err(|e| format!("{}: {e}", gold_path.display()))?)
        } else {
            None
        };
        out.push(CorpusEntry {
            file: docs.join(cell(&row, "path")?),
            kind,
            format: cell(&row, "format")?.to_owned(),
            lang: cell(&row, "lang")?.to_owned(),
            group: cell(&row, "layout")?.to_owned(),
            split: Split::parse(cell(&row, "split")?)?,
            rendered: false,
            gold,
            id,
        });
    }
    Ok(out)
}

/// JSON Resume (v1) fields the gold is read from.
#[derive(Deserialize)]
struct JsonResume {
    #[serde(default)]
    basics: Option<Basics>,
    #[serde(default)]
    work: Vec<Work>,
    #[serde(default)]
    education: Vec<School>,
    #[serde(default)]
    skills: Vec<SkillGroup>,
}

#[derive(Deserialize)]
struct Basics {
    #[serde(default)]
    name: Option<String>,
}

#[derive(Deserialize)]
struct Work {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    position: Option<String>,
    #[serde(default, rename = "startDate")]
    start: Option<String>,
    #[serde(default, rename = "endDate")]
    end: Option<String>,
}

#[derive(Deserialize)]
struct School {
    #[serde(default)]
    institution: Option<String>,
    #[serde(default, rename = "studyType")]
    study_type: Option<String>,
    #[serde(default, rename = "startDate")]
    start: Option<String>,
    #[serde(default, rename = "endDate")]
    end: Option<String>,
}

#[derive(Deserialize)]
struct SkillGroup {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    keywords: Vec<String>,
}

/// `2013-12-01` → `2013-12`; `2013` stays.
fn month_of(date: &str) -> String {
    date.split('-').take(2).collect::<Vec<_>>().join("-")
}

/// The gold of a JSON Resume document: a work entry without an end date is ongoing.
pub fn gold_of_json_resume(json: &str) -> Result<GoldResume, String> {
    let r: JsonResume = serde_json::from_str(json).map_err(|e| e.to_string())?;
    Ok(GoldResume {
        name: r.basics.and_then(|b| b.name),
        jobs: r
            .work
            .into_iter()
            .map(|w| GoldJob {
                title: w.position,
                organisation: w.name,
                start: w.start.as_deref().map(month_of),
                end: Some(w.end.as_deref().map_or_else(|| "present".to_owned(), month_of)),
            })
            .collect(),
        education: r
            .education
            .into_iter()
            .map(|e| GoldEducation {
                institution: e.institution,
                degree: e.study_type,
                start: e.start.as_deref().map(month_of),
                end: e.end.as_deref().map(month_of),
            })
            .collect(),
        skills: r
            .skills
            .into_iter()
            .flat_map(|g| if g.keywords.is_empty() { g.name.into_iter().collect() } else { g.keywords })
            .collect(),
    })
}

/// The rendered set: every résumé of `rendered/resumes/` through every theme of
/// `rendered/themes.tsv`, read from `rendered/pdf/<theme>/<resume>.pdf` (none without `rendered/`).
pub fn load_rendered(corpus: &Path) -> Result<Vec<CorpusEntry>, String> {
    let dir = corpus.join("rendered");
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let themes = std::fs::read_to_string(dir.join("themes.tsv")).map_err(|e| format!("rendered/themes.tsv: {e}"))?;
    let mut resumes: Vec<(String, GoldResume)> = Vec::new();
    let listing = std::fs::read_dir(dir.join("resumes")).map_err(|e| format!("rendered/resumes: {e}"))?;
    for entry in listing {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.extension().is_some_and(|e| e == "json") {
            let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
            let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            resumes.push((stem, gold_of_json_resume(&text).map_err(|e| format!("{}: {e}", path.display()))?));
        }
    }
    resumes.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out = Vec::new();
    for row in rows(&themes)? {
        let theme = cell(&row, "theme")?;
        let split = Split::parse(cell(&row, "split")?)?;
        for (resume, gold) in &resumes {
            out.push(CorpusEntry {
                id: format!("{theme}/{resume}"),
                file: dir.join("pdf").join(theme).join(format!("{resume}.pdf")),
                kind: DocumentKind::Resume,
                format: "pdf".into(),
                lang: "en".into(),
                group: theme.to_owned(),
                split,
                rendered: true,
                gold: Some(gold.clone()),
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_resume_work_without_end_is_ongoing_and_dates_keep_the_month() {
        let json = r#"{"basics":{"name":"Ana Díaz"},"work":[
            {"name":"Acme","position":"Engineer","startDate":"2019-03-01"},
            {"name":"Beta","position":"Intern","startDate":"2017","endDate":"2018-06-15"}],
            "skills":[{"name":"Web","keywords":["HTML","CSS"]},{"name":"Leadership"}]}"#;
        let gold = gold_of_json_resume(json).unwrap();
        assert_eq!(gold.name.as_deref(), Some("Ana Díaz"));
        assert_eq!(gold.jobs[0].end.as_deref(), Some("present"));
        assert_eq!(gold.jobs[0].start.as_deref(), Some("2019-03"));
        assert_eq!((gold.jobs[1].start.as_deref(), gold.jobs[1].end.as_deref()), (Some("2017"), Some("2018-06")));
        assert_eq!(gold.skills, ["HTML", "CSS", "Leadership"]);
    }

    #[test]
    fn a_bad_split_or_kind_is_named() {
        assert!(Split::parse("train").unwrap_err().contains("train"));
        assert!(parse_kind("memo").unwrap_err().contains("memo"));
    }
}
