//! The artifact's contents: concepts of two schemes, their aliases, the
//! O*NET relations and the ESCO ↔ O*NET crosswalk.

use serde::{Deserialize, Serialize};

/// Which reference a concept comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scheme {
    Esco,
    Onet,
}

impl Scheme {
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Esco => "esco",
            Scheme::Onet => "onet",
        }
    }
    pub fn parse(s: &str) -> Option<Scheme> {
        match s.to_ascii_lowercase().as_str() {
            "esco" => Some(Scheme::Esco),
            "onet" | "o*net" => Some(Scheme::Onet),
            _ => None,
        }
    }
}

/// What a concept is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConceptKind {
    /// An ESCO skill or knowledge concept.
    Skill,
    /// An O*NET technology (a named tool or language, e.g. "Python").
    Technology,
    /// An ESCO occupation or an O*NET-SOC occupation.
    Occupation,
}

/// One concept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Concept {
    /// "esco:skill/<uuid>", "esco:occupation/<uuid>", "onet:15-1252.00",
    /// "onet:tech/<slug>".
    pub id: String,
    pub scheme: Scheme,
    pub kind: ConceptKind,
    pub label: String,
    /// Other names (alternative labels, alternate and reported titles).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// A short description (ESCO's, O*NET's, or a technology's commodity title).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// O*NET technology: the UNSPSC commodity code; O*NET occupation: its job zone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// O*NET technology: a "hot technology".
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub hot: bool,
}

/// An O*NET related-occupation link.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Related {
    pub from: u32,
    pub to: u32,
    /// "Primary-Short", "Primary-Long", "Supplemental".
    pub tier: String,
    pub index: u32,
}

/// Two concepts of the two schemes naming the same thing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Crosswalk {
    pub esco: u32,
    pub onet: u32,
    pub confidence: f32,
    /// "label" (the same name) or "embedding" (labels close in meaning).
    pub method: String,
}

/// Where the data came from (shown in reference-data responses).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Source {
    pub name: String,
    pub version: String,
    pub sha256: String,
    pub licence: String,
    pub attribution: String,
}

/// Everything but the vectors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Catalogue {
    pub format: u32,
    /// Model that made the vectors (must match the query embedder's).
    pub model_version: String,
    pub sources: Vec<Source>,
    pub concepts: Vec<Concept>,
    /// (O*NET occupation, O*NET technology) pairs: the technologies an occupation uses.
    pub uses: Vec<(u32, u32)>,
    pub related: Vec<Related>,
    pub crosswalk: Vec<Crosswalk>,
    /// Skill names for recognising skills in text (the skill-extractor gazetteer).
    pub gazetteer: Vec<String>,
    /// The nearest concepts by meaning of each gazetteer name that is no
    /// concept's name: (gazetteer index, [(concept, cosine × 1000)]), best
    /// first, computed at build time so looking such a name up embeds nothing.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gazetteer_neighbours: Vec<GazetteerNeighbours>,
}

/// A gazetteer name's index and its nearest concepts (concept, cosine × 1000).
pub type GazetteerNeighbours = (u32, Vec<(u32, u16)>);

impl Catalogue {
    pub const FORMAT: u32 = 1;
}
