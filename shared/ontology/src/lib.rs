//! The skill ontology: ESCO skills and occupations, O*NET-SOC occupations and
//! technologies, loaded once from a compact artifact, searched by exact label,
//! alias, a case- and punctuation-blind form, edit distance and meaning.
//!
//! Pure: no I/O but reading the artifact's bytes, no SDK. The query embedder
//! is the `ports::TextEmbedder` the caller already holds.

pub mod artifact;
pub mod build;
pub mod esco;
pub mod model;
pub mod profile;

use artifact::Vectors;
use model::{Catalogue, Concept, ConceptKind, Scheme};
use ports::TextEmbedder;
use std::collections::HashMap;

#[derive(Debug, thiserror::Error)]
pub enum OntologyError {
    /// The artifact cannot be read (permanent: rebuild it).
    #[error("ontology artifact: {0}")]
    Format(String),
    #[error("ontology artifact {path}: {error}")]
    Io { path: String, error: String },
    /// The artifact's vectors were made by another model than the query embedder.
    #[error("the artifact's vectors are from {artifact}, the embedder is {embedder}")]
    ModelMismatch { artifact: String, embedder: String },
    #[error("embedding the query: {0}")]
    Embedding(String),
    #[error("ontology build: {0}")]
    Build(String),
}

/// Why a hit matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchReason {
    /// The query is the concept's preferred label.
    ExactLabel,
    /// The query is one of its other names.
    Alias,
    /// The same letters and digits, ignoring case, spaces and punctuation.
    Normalised,
    /// Within a small edit distance of a name.
    Typo,
    /// Close in meaning (MiniLM cosine).
    Semantic,
}

impl MatchReason {
    pub fn as_str(self) -> &'static str {
        match self {
            MatchReason::ExactLabel => "exact_label",
            MatchReason::Alias => "alias",
            MatchReason::Normalised => "normalised",
            MatchReason::Typo => "typo",
            MatchReason::Semantic => "semantic",
        }
    }
}

/// One search result.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub concept: u32,
    pub score: f32,
    pub reason: MatchReason,
    /// The name that matched (the label, an alias, or the label for semantic hits).
    pub matched: String,
    /// Edit distance for typo hits.
    pub distance: Option<u32>,
}

/// A skill's concept (see [`Ontology::map_skill`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Mapping {
    pub concept: u32,
    /// The same skill in the other scheme, when known.
    pub also: Option<u32>,
    pub score: f32,
    pub reason: MatchReason,
}

/// Below this a skill is left unmapped (a typo of a name still maps; a
/// semantic neighbour must be close).
pub const MAP_MIN_SCORE: f32 = 0.8;
/// The same with a context (scores are then 0.3 match + 0.7 closeness).
pub const MAP_MIN_SCORE_WITH_CONTEXT: f32 = 0.45;

/// What to look for.
#[derive(Debug, Clone, Copy)]
pub struct Query<'a> {
    pub text: &'a str,
    pub limit: usize,
    pub scheme: Option<Scheme>,
    /// Which kinds of concept (empty: all).
    pub kinds: &'a [ConceptKind],
    /// Words around the term (a sentence of the résumé): breaks ties between
    /// the meanings of an ambiguous term.
    pub context: Option<&'a str>,
}

impl<'a> Query<'a> {
    pub fn skills(text: &'a str, limit: usize) -> Query<'a> {
        Query { text, limit, scheme: None, kinds: &[ConceptKind::Skill, ConceptKind::Technology], context: None }
    }
    pub fn occupations(text: &'a str, limit: usize) -> Query<'a> {
        Query { text, limit, scheme: None, kinds: &[ConceptKind::Occupation], context: None }
    }
}

/// Scores of the lexical reasons; semantic hits score their cosine.
const EXACT: f32 = 1.0;
const DERIVED_SCORE: f32 = 0.97;
const ALIAS: f32 = 0.95;
const NORMALISED: f32 = 0.9;
const TYPO_1: f32 = 0.85;
const TYPO_2: f32 = 0.75;
/// Semantic hits below this cosine are not returned.
pub const SEMANTIC_THRESHOLD: f32 = 0.6;
/// Meanings compared with a context, at most.
const CONTEXT_CANDIDATES: usize = 12;
/// Typo candidates checked with an edit distance per query.
const TYPO_CANDIDATES: usize = 400;

/// FNV-1a: the indexes hash a few hundred thousand short keys at load, where
/// SipHash's DoS resistance buys nothing (the keys are the artifact's).
#[derive(Default, Clone, Copy)]
pub struct Fnv(u64);

impl std::hash::Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 { 0xcbf2_9ce4_8422_2325 } else { self.0 };
        for b in bytes {
            h = (h ^ *b as u64).wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

type FnvMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<Fnv>>;

/// Trigram postings in one sorted array: `keys[i]`'s names are
/// `postings[starts[i]..starts[i + 1]]`.
#[derive(Debug, Default)]
struct Postings {
    keys: Vec<u32>,
    starts: Vec<u32>,
    postings: Vec<u32>,
}

impl Postings {
    fn build(mut pairs: Vec<u64>) -> Postings {
        pairs.sort_unstable();
        pairs.dedup();
        let mut p = Postings { keys: Vec::new(), starts: Vec::new(), postings: Vec::with_capacity(pairs.len()) };
        for pair in pairs {
            let (key, name) = ((pair >> 32) as u32, pair as u32);
            if p.keys.last() != Some(&key) {
                p.keys.push(key);
                p.starts.push(p.postings.len() as u32);
            }
            p.postings.push(name);
        }
        p.starts.push(p.postings.len() as u32);
        p
    }
    fn get(&self, key: u32) -> &[u32] {
        match self.keys.binary_search(&key) {
            Ok(i) => &self.postings[self.starts[i] as usize..self.starts[i + 1] as usize],
            Err(_) => &[],
        }
    }
}

/// Where a name is held: the concept and which of its names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct NameRef {
    concept: u32,
    /// `u32::MAX`: the label; otherwise the alias index.
    alias: u32,
}

const LABEL: u32 = u32::MAX;
/// `alias` values from here up name a derived name (`Ontology::derived`).
const DERIVED: u32 = 1 << 31;

/// Words a product name may start with that people leave out ("Excel").
const VENDORS: &[&str] = &[
    "Microsoft",
    "Apple",
    "Google",
    "Adobe",
    "Amazon",
    "IBM",
    "Oracle",
    "SAP",
    "Autodesk",
    "Atlassian",
    "Apache",
    "Salesforce",
    "Cisco",
    "Intuit",
    "Red Hat",
    "VMware",
    "Meta",
    "Facebook",
];
/// Generic last words of a product name ("Spring Framework" is "Spring").
const GENERIC_TAILS: &[&str] = &["Framework", "framework", "software", "Software", "programming language"];

/// The acronym a name carries for itself: "Structure query language SQL",
/// "CSS Cascading Style Sheets", "Amazon Web Services AWS" → the acronym,
/// when its first and last letters are the phrase's first and last initials
/// (so "SQL Server Integration Services" does not become "SQL").
fn acronym_of(name: &str) -> Option<String> {
    let words: Vec<&str> = name.split_whitespace().collect();
    if words.len() < 3 {
        return None;
    }
    let is_acronym = |w: &str| (2..=6).contains(&w.len()) && w.chars().all(|c| c.is_ascii_uppercase());
    let (acronym, phrase) = if is_acronym(words[words.len() - 1]) {
        (words[words.len() - 1], &words[..words.len() - 1])
    } else if is_acronym(words[0]) {
        (words[0], &words[1..])
    } else {
        return None;
    };
    let initial = |w: &str| w.chars().next().map(|c| c.to_ascii_uppercase());
    let (first, last) = (acronym.chars().next(), acronym.chars().last());
    (phrase.len() >= 2 && initial(phrase[0]) == first && initial(phrase[phrase.len() - 1]) == last)
        .then(|| acronym.to_owned())
}

/// The phrase with its last word in the singular, when it is a plural.
fn singular_phrase(phrase: &str) -> Option<String> {
    let (head, last) = match phrase.rsplit_once(' ') {
        Some((h, l)) => (Some(h), l),
        None => (None, phrase),
    };
    let singular = if let Some(stem) = last.strip_suffix("ies") {
        format!("{stem}y")
    } else if let Some(stem) = last.strip_suffix("sses") {
        format!("{stem}ss")
    } else if let Some(stem) = last.strip_suffix("men") {
        format!("{stem}man")
    } else if let Some(stem) = last.strip_suffix('s').filter(|s| !s.ends_with('s') && s.len() >= 2) {
        stem.to_owned()
    } else {
        return None;
    };
    Some(match head {
        Some(h) => format!("{h} {singular}"),
        None => singular,
    })
}

/// Other names people use for a concept, derived from its label: without a
/// parenthesised qualifier, without the vendor, without a generic last word.
fn derived_names(concept: &Concept) -> Vec<String> {
    let mut out = Vec::new();
    let label = concept.label.as_str();
    if let Some(bare) = without_qualifier(label) {
        out.push(bare.to_owned());
    }
    if concept.kind == ConceptKind::Occupation && concept.scheme == Scheme::Onet {
        // "Registered Nurses" → "Registered Nurse"; "Accountants and Auditors"
        // → "Accountant", "Auditor"; "Managers, All Other" → "Manager".
        let main = label.split(", ").next().unwrap_or(label);
        let parts: Vec<&str> = main.split(" and ").collect();
        if let Some(whole) = singular_phrase(main) {
            out.push(whole);
        }
        // Each part alone only when the first is one word (a longer first
        // part's words qualify the second too: "Nursing Instructors and Teachers").
        if parts.len() == 2 {
            let single = !parts[0].contains(' ');
            out.extend(parts.iter().take(if single { 2 } else { 1 }).filter_map(|p| singular_phrase(p)));
        }
    }
    let mut forms = vec![label.to_owned()];
    if concept.kind == ConceptKind::Technology {
        for tail in GENERIC_TAILS {
            if let Some(rest) = label.strip_suffix(tail).and_then(|r| r.strip_suffix(' ')) {
                forms.push(rest.to_owned());
            }
        }
    }
    for form in &forms {
        out.extend(acronym_of(form));
    }
    if concept.kind == ConceptKind::Technology {
        for vendor in VENDORS {
            if let Some(rest) = label.strip_prefix(vendor).and_then(|r| r.strip_prefix(' '))
                && rest.chars().count() >= 2
            {
                out.push(rest.to_owned());
            }
        }
        for tail in GENERIC_TAILS {
            if let Some(rest) = label.strip_suffix(tail).and_then(|r| r.strip_suffix(' '))
                && rest.chars().count() >= 2
            {
                out.push(rest.to_owned());
            }
        }
    }
    out
}

/// The loaded ontology and its indexes.
pub struct Ontology {
    catalogue: Catalogue,
    vectors: Vectors,
    /// Normalised name → its index in `all_names`.
    names: FnvMap<String, u32>,
    /// Names derived from labels (see [`derived_names`]).
    derived: Vec<String>,
    /// Letters and digits only → normalised names.
    squashed: FnvMap<String, Vec<u32>>,
    /// Every distinct normalised name (for edit distance), where each is held,
    /// and their trigrams.
    all_names: Vec<String>,
    name_refs: Vec<Vec<NameRef>>,
    trigrams: Postings,
    by_id: FnvMap<String, u32>,
    /// Every word of every name and of the gazetteer: a query sharing none
    /// is not looked up by meaning (nothing in the ontology speaks of it).
    words: std::collections::HashSet<String, std::hash::BuildHasherDefault<Fnv>>,
    /// Normalised gazetteer name → its entry in the catalogue's precomputed neighbours.
    gazetteer_near: FnvMap<String, u32>,
    /// Query vectors already computed (bounded; emptied when full).
    query_vectors: std::sync::Mutex<FnvMap<String, Vec<f32>>>,
}

/// Query vectors kept per container.
const QUERY_CACHE: usize = 4096;

impl std::fmt::Debug for Ontology {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ontology").field("concepts", &self.catalogue.concepts.len()).finish()
    }
}

/// Lower case, punctuation to spaces (keeping `+` and `#`: C++, C#), spaces collapsed.
pub fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut gap = false;
    for c in text.chars() {
        if c.is_alphanumeric() || c == '+' || c == '#' {
            if gap && !out.is_empty() {
                out.push(' ');
            }
            gap = false;
            if c.is_ascii() {
                out.push(c.to_ascii_lowercase());
            } else {
                out.extend(c.to_lowercase());
            }
        } else {
            gap = true;
        }
    }
    out
}

fn squash(normalised: &str) -> String {
    normalised.chars().filter(|c| *c != ' ').collect()
}

/// A name without a trailing parenthesis: "Python (computer programming)" → "Python".
pub fn without_qualifier(label: &str) -> Option<&str> {
    let open = label.find(" (")?;
    label.trim_end().ends_with(')').then(|| label[..open].trim()).filter(|s| !s.is_empty())
}

fn trigram_keys(name: &str) -> Vec<u32> {
    let mut keys = Vec::new();
    trigram_keys_into(name, &mut keys);
    keys
}

/// The distinct trigram hashes of ` name ` (padded), into `keys` (cleared first).
fn trigram_keys_into(name: &str, keys: &mut Vec<u32>) {
    keys.clear();
    let mut window = [' '; 3];
    let mut filled = 1;
    for c in name.chars().chain(std::iter::once(' ')) {
        window = [window[1], window[2], c];
        filled += 1;
        if filled >= 3 {
            let mut h: u32 = 2166136261;
            for c in window {
                h = (h ^ c as u32).wrapping_mul(16777619);
            }
            keys.push(h);
        }
    }
    keys.sort_unstable();
    keys.dedup();
}

/// Edit distance (insertions, deletions, substitutions and adjacent
/// transpositions: "pyhton" is one edit from "python"), or `None` above `max`.
/// Integer dot product of an int8 row and a query quantised to the same
/// range. (The plain form: on the baseline x86-64 target the compiler
/// vectorises it better than hand-split lanes, measured 1.6 against 2.2 and
/// 5.2 ms for a scan of the whole ontology.)
fn dot_i8(row: &[i8], q: &[i16]) -> i32 {
    row.iter().zip(q).map(|(v, q)| i32::from(*v) * i32::from(*q)).sum()
}

pub fn edit_distance(a: &str, b: &str, max: usize) -> Option<usize> {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > max {
        return None;
    }
    let width = b.len() + 1;
    let mut before: Vec<usize> = vec![0; width];
    let mut prev: Vec<usize> = (0..width).collect();
    let mut cur = vec![0; width];
    for i in 1..=a.len() {
        cur[0] = i;
        let mut row_min = cur[0];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(before[j - 2] + 1);
            }
            cur[j] = d;
            row_min = row_min.min(d);
        }
        if row_min > max {
            return None;
        }
        std::mem::swap(&mut before, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    (prev[b.len()] <= max).then_some(prev[b.len()])
}

impl Ontology {
    /// Reads an artifact file.
    pub fn open(path: &std::path::Path) -> Result<Ontology, OntologyError> {
        let bytes = std::fs::read(path)
            .map_err(|e| OntologyError::Io { path: path.display().to_string(), error: e.to_string() })?;
        Ontology::from_bytes(&bytes)
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Ontology, OntologyError> {
        let (catalogue, vectors) = artifact::read(bytes)?;
        Ok(Ontology::new(catalogue, vectors))
    }

    pub fn new(catalogue: Catalogue, vectors: Vectors) -> Ontology {
        let mut names: FnvMap<String, u32> = FnvMap::default();
        names.reserve(catalogue.concepts.len() * 6);
        let mut all_names: Vec<String> = Vec::new();
        let mut name_refs: Vec<Vec<NameRef>> = Vec::new();
        let mut derived: Vec<String> = Vec::new();
        for (c, concept) in catalogue.concepts.iter().enumerate() {
            let c = c as u32;
            let first_derived = derived.len() as u32;
            derived.extend(derived_names(concept));
            let extra = (first_derived..derived.len() as u32).map(|d| (derived[d as usize].clone(), DERIVED + d));
            let labels = std::iter::once((concept.label.clone(), LABEL))
                .chain(concept.aliases.iter().enumerate().map(|(a, alias)| (alias.clone(), a as u32)))
                .chain(extra.collect::<Vec<_>>());
            for (name, alias) in labels {
                let name = name.as_str();
                let key = normalise(name);
                if key.is_empty() {
                    continue;
                }
                let n = match names.get(&key) {
                    Some(n) => *n as usize,
                    None => {
                        names.insert(key.clone(), all_names.len() as u32);
                        all_names.push(key);
                        name_refs.push(Vec::new());
                        all_names.len() - 1
                    }
                };
                match name_refs[n].iter_mut().find(|r| r.concept == c) {
                    // A form of the label outranks an alias of the same spelling.
                    Some(r) if r.alias != LABEL && r.alias < DERIVED && alias >= DERIVED => r.alias = alias,
                    Some(_) => {}
                    None => name_refs[n].push(NameRef { concept: c, alias }),
                }
            }
        }
        // The squashed forms and the trigram postings, on two threads.
        let (squashed, trigrams, words) = std::thread::scope(|scope| {
            let postings = scope.spawn(|| {
                let mut pairs: Vec<u64> = Vec::with_capacity(all_names.len() * 28);
                let mut keys = Vec::new();
                for (i, name) in all_names.iter().enumerate() {
                    trigram_keys_into(name, &mut keys);
                    pairs.extend(keys.iter().map(|k| ((*k as u64) << 32) | i as u64));
                }
                Postings::build(pairs)
            });
            let mut squashed: FnvMap<String, Vec<u32>> = FnvMap::default();
            squashed.reserve(all_names.len());
            for (i, name) in all_names.iter().enumerate() {
                squashed.entry(squash(name)).or_default().push(i as u32);
            }
            let mut words: std::collections::HashSet<String, std::hash::BuildHasherDefault<Fnv>> = Default::default();
            for name in all_names.iter().chain(catalogue.gazetteer.iter()) {
                for w in name.split(' ') {
                    if w.chars().count() >= 2 && !words.contains(w) {
                        words.insert(w.to_lowercase());
                    }
                }
            }
            (squashed, postings.join().unwrap_or_default(), words)
        });
        let by_id = catalogue.concepts.iter().enumerate().map(|(i, c)| (c.id.clone(), i as u32)).collect();
        let gazetteer_near = catalogue
            .gazetteer_neighbours
            .iter()
            .enumerate()
            .filter_map(|(n, (g, _))| catalogue.gazetteer.get(*g as usize).map(|name| (normalise(name), n as u32)))
            .collect();
        Ontology {
            catalogue,
            vectors,
            names,
            derived,
            squashed,
            all_names,
            name_refs,
            trigrams,
            by_id,
            words,
            gazetteer_near,
            query_vectors: Default::default(),
        }
    }

    /// Whether some concept is named exactly `name` (normalised).
    pub fn names_exactly(&self, name: &str) -> bool {
        self.names.contains_key(&normalise(name))
    }

    /// The precomputed nearest concepts of a gazetteer name (normalised key).
    fn precomputed(&self, key: &str) -> Option<&[(u32, u16)]> {
        let n = *self.gazetteer_near.get(key)?;
        self.catalogue.gazetteer_neighbours.get(n as usize).map(|(_, near)| near.as_slice())
    }

    pub fn catalogue(&self) -> &Catalogue {
        &self.catalogue
    }

    pub fn concept(&self, index: u32) -> &Concept {
        &self.catalogue.concepts[index as usize]
    }

    pub fn find(&self, id: &str) -> Option<u32> {
        self.by_id.get(id).copied()
    }

    pub fn len(&self) -> usize {
        self.catalogue.concepts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.catalogue.concepts.is_empty()
    }

    /// The name of a hit's matched alias (or label).
    fn name_of(&self, r: NameRef) -> &str {
        let c = self.concept(r.concept);
        match r.alias {
            LABEL => &c.label,
            a if a >= DERIVED => &self.derived[(a - DERIVED) as usize],
            a => &c.aliases[a as usize],
        }
    }

    fn admits(&self, q: &Query<'_>, concept: u32) -> bool {
        let c = self.concept(concept);
        q.scheme.is_none_or(|s| s == c.scheme) && (q.kinds.is_empty() || q.kinds.contains(&c.kind))
    }

    /// Ranked hits for the query: lexical matches first, then (when an embedder
    /// is given and no name matched, or for occupations short of `limit`)
    /// semantic ones above [`SEMANTIC_THRESHOLD`]. With a context, the term's
    /// meanings (lexical and semantic) are scored by how close each concept's
    /// description is to the context.
    pub fn search(&self, q: &Query<'_>, embedder: Option<&dyn TextEmbedder>) -> Result<Vec<Hit>, OntologyError> {
        let key = normalise(q.text);
        if key.is_empty() || q.limit == 0 {
            return Ok(Vec::new());
        }
        let mut hits: Vec<Hit> = Vec::new();
        let push = |hits: &mut Vec<Hit>, hit: Hit| {
            if !self.admits(q, hit.concept) {
                return;
            }
            match hits.iter_mut().find(|h| h.concept == hit.concept) {
                Some(existing) if existing.score >= hit.score => {}
                Some(existing) => *existing = hit,
                None => hits.push(hit),
            }
        };
        // Exact and alias.
        let exact: &[NameRef] = match self.names.get(&key) {
            Some(n) => &self.name_refs[*n as usize],
            None => &[],
        };
        for r in exact {
            let (score, reason) = match r.alias {
                LABEL => (EXACT, MatchReason::ExactLabel),
                // A form of the label itself ("Cashier" of "Cashiers") beats
                // an alternate title several occupations share.
                a if a >= DERIVED => (DERIVED_SCORE, MatchReason::Alias),
                _ => (ALIAS, MatchReason::Alias),
            };
            push(
                &mut hits,
                Hit { concept: r.concept, score, reason, matched: self.name_of(*r).to_owned(), distance: None },
            );
        }
        // Case, spaces and punctuation ignored ("nodejs" = "Node.js").
        for &n in self.squashed.get(&squash(&key)).into_iter().flatten() {
            for r in &self.name_refs[n as usize] {
                push(
                    &mut hits,
                    Hit {
                        concept: r.concept,
                        score: NORMALISED,
                        reason: MatchReason::Normalised,
                        matched: self.name_of(*r).to_owned(),
                        distance: None,
                    },
                );
            }
        }
        // Edit distance, for queries long enough to carry a typo.
        // (Five letters at least, and only against names as long: "ocaml" is
        // one edit from "caml", a different thing.)
        let chars = key.chars().count();
        if hits.is_empty() && chars >= 5 {
            let max = if chars <= 7 { 1 } else { 2 };
            for (n, d) in self.typo_candidates(&key, max) {
                for r in &self.name_refs[n as usize] {
                    let score = if d <= 1 { TYPO_1 } else { TYPO_2 };
                    push(
                        &mut hits,
                        Hit {
                            concept: r.concept,
                            score,
                            reason: MatchReason::Typo,
                            matched: self.name_of(*r).to_owned(),
                            distance: Some(d as u32),
                        },
                    );
                }
            }
        }
        let context = match (q.context, embedder) {
            (Some(c), Some(e)) if !c.trim().is_empty() => Some(self.embed_one(e, c)?),
            _ => None,
        };
        // Ties (an alternate title several occupations share) go to the
        // concept whose label is closest in meaning to the query.
        // (For occupations only: skill ties are the same thing in both schemes.)
        let occupations = q.kinds == [ConceptKind::Occupation];
        let tied =
            occupations && hits.iter().enumerate().any(|(i, a)| hits[i + 1..].iter().any(|b| b.score == a.score));
        let known_word = key.split(' ').any(|w| self.words.contains(w));
        let semantic = known_word && (hits.is_empty() || context.is_some() || (occupations && hits.len() < q.limit));
        // A gazetteer name's neighbours were found at build time: no embedding.
        let precomputed = match (semantic, tied, &context) {
            (true, false, None) => self.precomputed(&key),
            _ => None,
        };
        if let Some(near) = precomputed {
            for &(concept, milli) in near {
                let cosine = f32::from(milli) / 1000.0;
                push(
                    &mut hits,
                    Hit {
                        concept,
                        score: cosine.min(NORMALISED - 0.01),
                        reason: MatchReason::Semantic,
                        matched: self.concept(concept).label.clone(),
                        distance: None,
                    },
                );
            }
        }
        let mut query_vector = None;
        if let Some(e) = embedder
            && (tied || (semantic && precomputed.is_none()))
        {
            query_vector = Some(self.embed_one(e, q.text)?);
        }
        let closeness: HashMap<u32, f32> = match (&query_vector, tied) {
            (Some(v), true) => hits.iter().map(|h| (h.concept, self.cosine(v, h.concept))).collect(),
            _ => HashMap::new(),
        };
        // Meaning: when no name matches, when a context is to choose between
        // the term's meanings (its other meanings may share no name), and for
        // occupations (a title written any way).
        if semantic
            && precomputed.is_none()
            && let Some(query) = &query_vector
        {
            for (concept, cosine) in self.nearest(query, q.limit * 4, |c| self.admits(q, c)) {
                if cosine < SEMANTIC_THRESHOLD {
                    break;
                }
                push(
                    &mut hits,
                    Hit {
                        concept,
                        score: cosine.min(NORMALISED - 0.01),
                        reason: MatchReason::Semantic,
                        matched: self.concept(concept).label.clone(),
                        distance: None,
                    },
                );
            }
        }
        // With a context, each candidate meaning is described (label and
        // description, embedded now: only a few) and the score becomes
        // 0.3 × the match + 0.7 × the description's closeness to the context.
        if let (Some(ctx), Some(e)) = (&context, embedder) {
            hits.sort_by(|a, b| b.score.total_cmp(&a.score));
            hits.truncate(CONTEXT_CANDIDATES);
            let texts: Vec<String> = hits
                .iter()
                .map(|h| {
                    let c = self.concept(h.concept);
                    if c.description.is_empty() { c.label.clone() } else { format!("{}: {}", c.label, c.description) }
                })
                .collect();
            let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
            let described = e.embed(&refs).map_err(|e| OntologyError::Embedding(e.to_string()))?;
            for (h, v) in hits.iter_mut().zip(&described) {
                let closeness: f32 = v.iter().zip(ctx).map(|(a, b)| a * b).sum();
                h.score = 0.3 * h.score + 0.7 * closeness.max(0.0);
            }
        }
        // Order: score, closeness to the query among ties, the shorter label,
        // then id (stable across runs).
        hits.sort_by(|a, b| {
            let near = |h: &Hit| closeness.get(&h.concept).copied().unwrap_or(0.0);
            b.score
                .total_cmp(&a.score)
                .then_with(|| near(b).total_cmp(&near(a)))
                .then_with(|| self.concept(a.concept).label.len().cmp(&self.concept(b.concept).label.len()))
                .then_with(|| self.concept(a.concept).id.cmp(&self.concept(b.concept).id))
        });
        hits.truncate(q.limit);
        Ok(hits)
    }

    /// Maps a skill named in a document to its concept, preferring an ESCO
    /// skill (with its O*NET technology through the crosswalk when there is
    /// one). `None` when nothing matches well enough ([`MAP_MIN_SCORE`]): the
    /// skill then stays free text, never forced onto a wrong concept.
    pub fn map_skill(
        &self,
        name: &str,
        context: Option<&str>,
        embedder: Option<&dyn TextEmbedder>,
    ) -> Result<Option<Mapping>, OntologyError> {
        let mut q = Query::skills(name, 5);
        q.context = context;
        let hits = self.search(&q, embedder)?;
        let Some(best) = hits.first() else { return Ok(None) };
        let floor = if context.is_some() { MAP_MIN_SCORE_WITH_CONTEXT } else { MAP_MIN_SCORE };
        if best.score < floor {
            return Ok(None);
        }
        // The best hit is the concept (on a tie the ESCO one: hits are ordered
        // by id after score and label); the same skill in the other scheme
        // rides along, from the crosswalk or an equally good hit there.
        let chosen = best;
        let scheme = self.concept(chosen.concept).scheme;
        let partner =
            self.crosswalk(chosen.concept).into_iter().max_by(|a, b| a.1.total_cmp(&b.1)).map(|(c, _, _)| c).or_else(
                || {
                    hits.iter()
                        .find(|h| h.score == chosen.score && self.concept(h.concept).scheme != scheme)
                        .map(|h| h.concept)
                },
            );
        Ok(Some(Mapping { concept: chosen.concept, also: partner, score: chosen.score, reason: chosen.reason }))
    }

    fn typo_candidates(&self, key: &str, max: usize) -> Vec<(u32, usize)> {
        // Shared-trigram counts in a dense array (a hash map here costs more
        // than the rest of a lexical lookup).
        let mut counts = vec![0u16; self.all_names.len()];
        let mut touched: Vec<u32> = Vec::new();
        for k in trigram_keys(key) {
            for &n in self.trigrams.get(k) {
                let c = &mut counts[n as usize];
                if *c == 0 {
                    touched.push(n);
                }
                *c += 1;
            }
        }
        let mut ranked: Vec<(u32, u16)> = touched.into_iter().map(|n| (n, counts[n as usize])).collect();
        // The best TYPO_CANDIDATES by shared trigrams (then id): selected in
        // linear time, then only those sorted (a long query touches tens of
        // thousands of names, and sorting them all was most of its time).
        let order = |a: &(u32, u16), b: &(u32, u16)| b.1.cmp(&a.1).then(a.0.cmp(&b.0));
        if ranked.len() > TYPO_CANDIDATES {
            ranked.select_nth_unstable_by(TYPO_CANDIDATES - 1, order);
            ranked.truncate(TYPO_CANDIDATES);
        }
        ranked.sort_unstable_by(order);
        let mut out: Vec<(u32, usize)> = ranked
            .into_iter()
            .filter(|(n, _)| self.all_names[*n as usize].chars().count() >= 5)
            .filter_map(|(n, _)| edit_distance(key, &self.all_names[n as usize], max).map(|d| (n, d)))
            .collect();
        out.sort_by_key(|(n, d)| (*d, *n));
        out
    }

    fn embed_one(&self, embedder: &dyn TextEmbedder, text: &str) -> Result<Vec<f32>, OntologyError> {
        if embedder.model_version() != self.catalogue.model_version {
            return Err(OntologyError::ModelMismatch {
                artifact: self.catalogue.model_version.clone(),
                embedder: embedder.model_version().to_owned(),
            });
        }
        if let Some(v) = self.query_vectors.lock().ok().and_then(|m| m.get(text).cloned()) {
            return Ok(v);
        }
        let v = embedder
            .embed(&[text])
            .map_err(|e| OntologyError::Embedding(e.to_string()))?
            .pop()
            .ok_or_else(|| OntologyError::Embedding("no vector".into()))?;
        if let Ok(mut cache) = self.query_vectors.lock() {
            if cache.len() >= QUERY_CACHE {
                cache.clear();
            }
            cache.insert(text.to_owned(), v.clone());
        }
        Ok(v)
    }

    /// Cosine of a unit query vector and a concept's (quantised) label vector.
    pub fn cosine(&self, query: &[f32], concept: u32) -> f32 {
        let row = self.vectors.row(concept as usize);
        let dot: f32 = row.iter().zip(query).map(|(v, q)| *v as f32 * q).sum();
        dot * self.vectors.scales[concept as usize]
    }

    /// The `k` concepts (passing `keep`) nearest to a unit vector, best first.
    pub fn nearest(&self, query: &[f32], k: usize, keep: impl Fn(u32) -> bool) -> Vec<(u32, f32)> {
        // The query quantised too: an integer dot product per row.
        let max = query.iter().fold(0f32, |m, x| m.max(x.abs())).max(f32::MIN_POSITIVE);
        let qscale = max / 127.0;
        let q: Vec<i16> = query.iter().map(|x| (x / qscale).round() as i16).collect();
        let mut best: Vec<(u32, f32)> = Vec::with_capacity(k + 1);
        let dim = self.vectors.dim;
        for (i, row) in self.vectors.values.chunks_exact(dim).enumerate() {
            let dot = dot_i8(row, &q);
            let cosine = dot as f32 * self.vectors.scales[i] * qscale;
            if best.len() == k && best.last().is_some_and(|(_, c)| *c >= cosine) {
                continue;
            }
            if !keep(i as u32) {
                continue;
            }
            let at = best.partition_point(|(_, c)| *c >= cosine);
            best.insert(at, (i as u32, cosine));
            best.truncate(k);
        }
        best
    }

    /// O*NET related occupations of an O*NET occupation, by tier order.
    pub fn related(&self, concept: u32) -> Vec<(u32, &str)> {
        let mut out: Vec<(u32, &str, u32)> = self
            .catalogue
            .related
            .iter()
            .filter(|r| r.from == concept)
            .map(|r| (r.to, r.tier.as_str(), r.index))
            .collect();
        out.sort_by_key(|(_, _, i)| *i);
        out.into_iter().map(|(c, t, _)| (c, t)).collect()
    }

    /// The technologies an O*NET occupation uses, and the occupations using a technology.
    pub fn technologies_of(&self, occupation: u32) -> Vec<u32> {
        self.catalogue.uses.iter().filter(|(o, _)| *o == occupation).map(|(_, t)| *t).collect()
    }
    pub fn occupations_using(&self, technology: u32) -> Vec<u32> {
        self.catalogue.uses.iter().filter(|(_, t)| *t == technology).map(|(o, _)| *o).collect()
    }

    /// The O*NET occupation standing for an occupation concept: itself, or an
    /// ESCO occupation's crosswalk partner.
    pub fn onet_occupation(&self, concept: u32) -> Option<u32> {
        let c = self.concept(concept);
        if c.kind != ConceptKind::Occupation {
            return None;
        }
        if c.scheme == Scheme::Onet {
            return Some(concept);
        }
        self.crosswalk(concept)
            .into_iter()
            .filter(|(o, _, _)| self.concept(*o).scheme == Scheme::Onet)
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(o, _, _)| o)
    }

    /// What carries over from occupation `from` to occupation `to`: the
    /// technologies both use (O*NET technology skills; ESCO occupations
    /// through the crosswalk), "hot" technologies first, then by label.
    pub fn transferable_skills(&self, from: u32, to: u32) -> Vec<u32> {
        let (Some(a), Some(b)) = (self.onet_occupation(from), self.onet_occupation(to)) else {
            return Vec::new();
        };
        let theirs: std::collections::HashSet<u32> = self.technologies_of(b).into_iter().collect();
        let mut shared: Vec<u32> = self.technologies_of(a).into_iter().filter(|t| theirs.contains(t)).collect();
        shared.sort_by(|x, y| {
            let (cx, cy) = (self.concept(*x), self.concept(*y));
            cy.hot.cmp(&cx.hot).then_with(|| cx.label.cmp(&cy.label))
        });
        shared.dedup();
        shared
    }

    /// The crosswalk partners of a concept, with confidence and method.
    pub fn crosswalk(&self, concept: u32) -> Vec<(u32, f32, &str)> {
        self.catalogue
            .crosswalk
            .iter()
            .filter_map(|x| {
                if x.esco == concept {
                    Some((x.onet, x.confidence, x.method.as_str()))
                } else if x.onet == concept {
                    Some((x.esco, x.confidence, x.method.as_str()))
                } else {
                    None
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_normalise() {
        assert_eq!(normalise("  Node.JS "), "node js");
        assert_eq!(normalise("C++ / C#"), "c++ c#");
        assert_eq!(squash(&normalise("Node.js")), "nodejs");
        assert_eq!(without_qualifier("Python (computer programming)"), Some("Python"));
        assert_eq!(without_qualifier("Python"), None);
        assert_eq!(acronym_of("Structure query language SQL").as_deref(), Some("SQL"));
        assert_eq!(acronym_of("CSS Cascading Style Sheets").as_deref(), Some("CSS"));
        assert_eq!(acronym_of("Hypertext markup language HTML").as_deref(), Some("HTML"));
        assert_eq!(acronym_of("SQL Server Integration Services"), None);
        assert_eq!(singular_phrase("Registered Nurses").as_deref(), Some("Registered Nurse"));
        assert_eq!(singular_phrase("Secretaries").as_deref(), Some("Secretary"));
        assert_eq!(singular_phrase("Chief Executives").as_deref(), Some("Chief Executive"));
    }

    #[test]
    fn the_lane_dot_product_is_the_plain_one() {
        let row: Vec<i8> = (0..384i32).map(|i| (i * 37 % 255 - 127) as i8).collect();
        let q: Vec<i16> = (0..384).map(|i| (i * 53 % 255) as i16 - 127).collect();
        let plain: i32 = row.iter().zip(&q).map(|(a, b)| i32::from(*a) * i32::from(*b)).sum();
        assert_eq!(dot_i8(&row, &q), plain);
        assert_eq!(
            dot_i8(&row[..21], &q[..21]),
            row[..21].iter().zip(&q[..21]).map(|(a, b)| i32::from(*a) * i32::from(*b)).sum::<i32>()
        );
    }

    #[test]
    fn edit_distance_is_bounded() {
        assert_eq!(edit_distance("pyhton", "python", 1), Some(1));
        assert_eq!(edit_distance("pthyon", "python", 1), None);
        assert_eq!(edit_distance("kubernets", "kubernetes", 1), Some(1));
        assert_eq!(edit_distance("java", "javascript", 2), None);
        assert_eq!(edit_distance("", "ab", 2), Some(2));
    }
}
