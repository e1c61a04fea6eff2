//! Document kind. The learned model ([`crate::learned`]) reads the mean
//! all-MiniLM-L6-v2 embedding of the opening windows, the zero-shot prior (the
//! similarity to short descriptions of each kind), structural cues (section
//! headings, salutations, requirement lists, grade tables) and the voice of
//! the text ([`crate::features`]). Without it (`zero_shot_only`), the prior
//! and the cues alone decide, and below a confidence threshold the kind is
//! `other`; the scores are kept either way.

use crate::features::{KINDS, SALUTATION_AT, SHAPE_FEATURES, SIGN_OFF_AT, joined, shape};
use crate::learned::{KindModel, ModelError};
use domain::{DocumentKind, PageText};
use ports::{EmbedderError, TextEmbedder, cosine};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Descriptions each kind's embedding is compared with (the best one counts).
const DESCRIPTIONS: &[(DocumentKind, &[&str])] = &[
    (
        DocumentKind::Resume,
        &[
            "Resume: work experience with job titles, companies and dates, education, skills and contact details.",
            "Curriculum vitae listing professional experience, employment history, projects and technical skills.",
            "A person's name and contact details followed by a list of skills and technologies they know.",
        ],
    ),
    (
        DocumentKind::CoverLetter,
        &[
            "Cover letter: Dear hiring manager, I am writing to apply for the position at your company. Sincerely.",
            "A letter from a job applicant explaining their motivation and why they are a good fit for the role.",
        ],
    ),
    (
        DocumentKind::JobDescription,
        &[
            "Job description: we are looking for a candidate. Responsibilities, requirements and qualifications.",
            "Job posting for an open role: what you will do, required skills, preferred experience and benefits.",
        ],
    ),
    (
        DocumentKind::Certificate,
        &[
            "Certificate of completion: this certifies that the named person has successfully completed the course.",
            "Professional certification awarded to the holder, with issuing organisation, date and credential id.",
        ],
    ),
    (
        DocumentKind::Transcript,
        &[
            "Academic transcript listing courses, credits, grades, semesters and the cumulative GPA of a student.",
            "Official record of grades from a university: course codes, credit hours and grade point average.",
        ],
    ),
    (
        DocumentKind::ReferenceLetter,
        &[
            "Reference letter: to whom it may concern, I recommend this person without reservation.",
            "Letter of recommendation from a former manager describing a colleague's work, character and strengths.",
        ],
    ),
    (
        DocumentKind::Other,
        &[
            "Invoice or receipt with items, quantities, prices, tax, total amount due and payment details.",
            "A news article, manual, contract or form unrelated to a person's career.",
        ],
    ),
];

/// Phrases whose presence is a structural cue for a kind (lower case, matched
/// on word boundaries in the lower-cased text; `^` anchors at a line start).
const CUES: &[(DocumentKind, &[&str])] = &[
    (
        DocumentKind::Resume,
        &[
            "^experience",
            "^work experience",
            "^professional experience",
            "^employment",
            "^education",
            "^skills",
            "^technical skills",
            "^projects",
            "^summary",
            "^certifications",
            "^languages",
            "present",
            // Spanish, Portuguese, French, German, Chinese section headings.
            "^experiencia",
            "^experiência",
            "^educación",
            "^educação",
            "^formación",
            "^habilidades",
            "^idiomas",
            "^expérience",
            "^expérience professionnelle",
            "^formation",
            "^compétences",
            "^berufserfahrung",
            "^ausbildung",
            "^kenntnisse",
            "教育背景",
            "工作经历",
            "工作背景",
            "工作经验",
            "项目经验",
            "技能",
            "个人兴趣",
            "简历",
        ],
    ),
    (
        DocumentKind::CoverLetter,
        &[
            "^dear",
            "sincerely",
            "best regards",
            "kind regards",
            "i am writing",
            "to apply",
            "my application",
            "your company",
            "i would welcome",
            "thank you for your consideration",
            "^estimado",
            "^estimada",
            "atentamente",
            "^madame, monsieur",
            "cordialement",
            "^sehr geehrte",
            "mit freundlichen grüßen",
            "尊敬的",
            "此致",
            "prezados",
            "prezado",
            "prezada",
            "atenciosamente",
            "venho por meio desta",
            "minha candidatura",
            "me dirijo",
            "mi candidatura",
            "je me permets",
            "ma candidature",
            "vous prie d'agréer",
            "salutations distinguées",
            "hiermit bewerbe",
            "bewerbe ich mich",
            "vorstellungsgespräch",
            "gentile",
            "cordiali saluti",
        ],
    ),
    (
        DocumentKind::JobDescription,
        &[
            "responsibilities",
            "requirements",
            "qualifications",
            "we are looking for",
            "you will",
            "what you'll do",
            "about the role",
            "nice to have",
            "preferred",
            "benefits",
            "the ideal candidate",
            "job description",
            "puesto de trabajo",
            "sobre nosotros",
            "descripción del trabajo",
            "responsabilidades",
            "requisitos",
            "estamos buscando",
            "ofrecemos",
            "nous recherchons",
            "profil recherché",
            "vos missions",
            "wir suchen",
            "wir bieten",
            "ihre aufgaben",
            "ihr profil",
            "oferecemos",
            "vaga",
            "vos missions",
            "nous offrons",
            "m/w/d",
            "wir freuen uns auf ihre bewerbung",
            "岗位职责",
            "任职要求",
            "职位描述",
        ],
    ),
    (
        DocumentKind::Certificate,
        &[
            "certificate",
            "certify",
            "certifies",
            "has successfully completed",
            "awarded to",
            "credential",
            "certification id",
            "issued",
        ],
    ),
    (
        DocumentKind::Transcript,
        &["transcript", "gpa", "credits", "credit hours", "semester", "grade", "cumulative", "course code", "term"],
    ),
    (
        DocumentKind::ReferenceLetter,
        &[
            "to whom it may concern",
            "recommend",
            "recommendation",
            "reference",
            "i have known",
            "without reservation",
            "worked with",
            "under my supervision",
        ],
    ),
    (
        DocumentKind::Other,
        &["invoice", "receipt", "amount due", "subtotal", "total", "bill to", "quantity", "unit price", "payment"],
    ),
];

/// Characters of opening text compared with the descriptions (a window of
/// about 256 tokens each), and how many windows at most.
const WINDOW_CHARS: usize = 1200;
const MAX_WINDOWS: usize = 3;
/// Softmax temperature on cosine similarity and the weight of the cues.
const TEMPERATURE: f32 = 0.05;
const CUE_WEIGHT: f32 = 4.0;
/// Cue hits that count as a full cue.
const CUE_SATURATION: f32 = 4.0;
/// Below this similarity to every description, with no cue, the kind is `other`.
pub const MIN_SIMILARITY: f32 = 0.25;
/// Texts shorter than this many words are scraps, not documents, to the learned model.
const SCRAP_WORDS: usize = 40;
/// Below this confidence the kind is `other`.
pub const CONFIDENCE_THRESHOLD: f32 = 0.5;

/// The verdict for one document.
#[derive(Debug, Clone, PartialEq)]
pub struct KindJudgement {
    pub kind: DocumentKind,
    /// Probability of the winning kind (of the named one even when it fell below
    /// the threshold and the kind became `other`).
    pub confidence: f32,
    /// Probability of every kind.
    pub scores: BTreeMap<DocumentKind, f32>,
    /// Highest cosine similarity of the text to any description: how much the
    /// document looks like any known kind at all.
    pub best_similarity: f32,
}

/// Dimensions of the sentence embedding the features hold.
pub const EMBEDDING_DIMENSIONS: usize = 384;
/// Length of the learned model's feature vector: the mean window embedding,
/// the zero-shot similarity and the cue score of each kind, the shape features.
pub const FEATURES: usize = EMBEDDING_DIMENSIONS + 2 * KINDS.len() + SHAPE_FEATURES.len();

/// Why a document could not be classified, or the classifier not built.
#[derive(Debug, thiserror::Error)]
pub enum KindError {
    #[error(transparent)]
    Embedder(#[from] EmbedderError),
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error("the kind model reads {model} features, the classifier makes {made}")]
    Dimensions { model: usize, made: usize },
}

/// The classifier: description vectors computed once per container, the
/// learned weights loaded once.
pub struct KindClassifier {
    embedder: Arc<dyn TextEmbedder>,
    prototypes: Vec<(DocumentKind, Vec<Vec<f32>>)>,
    model: Option<KindModel>,
}

/// What the zero-shot reading of a document gives: per-kind similarity and
/// cue score, and the mean of the window embeddings.
struct Reading {
    similarities: Vec<f32>,
    cues: Vec<f32>,
    mean: Vec<f32>,
    shape: Vec<f32>,
    words: usize,
}

impl Reading {
    /// The learned model's input, in [`FEATURES`] order.
    fn vector(&self) -> Vec<f32> {
        let mut x = self.mean.clone();
        x.resize(EMBEDDING_DIMENSIONS, 0.0);
        x.extend(&self.similarities);
        x.extend(&self.cues);
        x.extend(&self.shape);
        x
    }
}

impl KindClassifier {
    /// The classifier with the shipped learned model (its hash checked).
    pub fn new(embedder: Arc<dyn TextEmbedder>) -> Result<Self, KindError> {
        let model = KindModel::shipped()?;
        let mut classifier = Self::zero_shot_only(embedder)?;
        if model.dimensions() != FEATURES {
            return Err(KindError::Dimensions { model: model.dimensions(), made: FEATURES });
        }
        classifier.model = Some(model);
        Ok(classifier)
    }

    /// The zero-shot classifier alone (descriptions and cues): the prior, and
    /// what the training script builds features with.
    pub fn zero_shot_only(embedder: Arc<dyn TextEmbedder>) -> Result<Self, KindError> {
        let mut prototypes = Vec::new();
        for kind in KINDS {
            let descriptions = DESCRIPTIONS.iter().find(|(k, _)| *k == kind).map_or(&[][..], |(_, d)| *d);
            prototypes.push((kind, embedder.embed(descriptions)?));
        }
        Ok(Self { embedder, prototypes, model: None })
    }

    /// The learned model's input for a document (`None` for a text with no words).
    pub fn features(&self, pages: &[PageText]) -> Result<Option<Vec<f32>>, KindError> {
        Ok(self.read(pages)?.map(|r| r.vector()))
    }

    fn read(&self, pages: &[PageText]) -> Result<Option<Reading>, KindError> {
        let text = joined(pages);
        let windows = windows(&text);
        if windows.is_empty() {
            return Ok(None);
        }
        let refs: Vec<&str> = windows.iter().map(String::as_str).collect();
        let vectors = self.embedder.embed(&refs)?;
        let lower = text.to_lowercase();
        let mut mean = vec![0f32; vectors.first().map_or(0, Vec::len)];
        for v in &vectors {
            for (m, x) in mean.iter_mut().zip(v) {
                *m += x / vectors.len() as f32;
            }
        }
        let (mut similarities, mut cues) = (Vec::new(), Vec::new());
        for (kind, protos) in &self.prototypes {
            // Best window against best description.
            let similarity =
                vectors.iter().flat_map(|v| protos.iter().map(move |p| cosine(v, p))).fold(f32::MIN, f32::max);
            similarities.push(similarity);
            cues.push(cue_score(*kind, &lower));
        }
        let words = text.split_whitespace().count();
        Ok(Some(Reading { similarities, cues, mean, shape: shape(&text), words }))
    }

    /// Classifies a document from its pages' text.
    pub fn classify(&self, pages: &[PageText]) -> Result<KindJudgement, KindError> {
        let Some(reading) = self.read(pages)? else {
            let scores = self.prototypes.iter().map(|(k, _)| (*k, 0.0)).collect();
            return Ok(KindJudgement { kind: DocumentKind::Other, confidence: 0.0, scores, best_similarity: 0.0 });
        };
        let best_similarity = reading.similarities.iter().copied().fold(f32::MIN, f32::max);
        let best_cue = reading.cues.iter().copied().fold(0f32, f32::max);
        if let Some(model) = &self.model {
            let p = model.probabilities(&reading.vector());
            let scores: BTreeMap<DocumentKind, f32> = model.kinds.iter().copied().zip(p).collect();
            let (best, confidence) = best_of(&scores);
            // A scrap of text (the model learned from whole documents) like none
            // of the descriptions, with no cue and no letter's salutation or
            // sign-off, is not a career document.
            let letter = reading.shape[SALUTATION_AT] > 0.0 || reading.shape[SIGN_OFF_AT] > 0.0;
            let scrap = reading.words < SCRAP_WORDS;
            let unrelated = scrap && best_similarity < MIN_SIMILARITY && best_cue == 0.0 && !letter;
            let kind = if unrelated { DocumentKind::Other } else { best };
            return Ok(KindJudgement { kind, confidence, scores, best_similarity });
        }
        let mut logits: Vec<(DocumentKind, f32)> = Vec::with_capacity(self.prototypes.len());
        for (((kind, _), similarity), cue) in self.prototypes.iter().zip(&reading.similarities).zip(&reading.cues) {
            logits.push((*kind, similarity / TEMPERATURE + CUE_WEIGHT * cue));
        }
        let max = logits.iter().map(|(_, l)| *l).fold(f32::MIN, f32::max);
        let total: f32 = logits.iter().map(|(_, l)| (l - max).exp()).sum();
        let scores: BTreeMap<DocumentKind, f32> = logits.iter().map(|(k, l)| (*k, (l - max).exp() / total)).collect();
        let (best, confidence) = best_of(&scores);
        // Relative scores always name a winner; a text like none of the
        // descriptions and with no cue at all is not a career document.
        let unrelated = best_similarity < MIN_SIMILARITY && best_cue == 0.0;
        let kind = if confidence < CONFIDENCE_THRESHOLD || unrelated { DocumentKind::Other } else { best };
        Ok(KindJudgement { kind, confidence, scores, best_similarity })
    }
}

fn best_of(scores: &BTreeMap<DocumentKind, f32>) -> (DocumentKind, f32) {
    scores.iter().max_by(|a, b| a.1.total_cmp(b.1)).map(|(k, p)| (*k, *p)).unwrap_or((DocumentKind::Other, 0.0))
}

/// Up to [`MAX_WINDOWS`] windows of the opening text, cut at whitespace.
fn windows(text: &str) -> Vec<String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut out = Vec::new();
    let mut current = String::new();
    for word in words {
        if current.len() + word.len() + 1 > WINDOW_CHARS {
            out.push(std::mem::take(&mut current));
            if out.len() == MAX_WINDOWS {
                return out;
            }
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(word);
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// Fraction (saturating) of a kind's cue phrases found in the text.
fn cue_score(kind: DocumentKind, lower: &str) -> f32 {
    let Some((_, cues)) = CUES.iter().find(|(k, _)| *k == kind) else { return 0.0 };
    let hits = cues.iter().filter(|cue| has_cue(lower, cue)).count() as f32;
    (hits / CUE_SATURATION).min(1.0)
}

fn has_cue(lower: &str, cue: &str) -> bool {
    // Scripts written without spaces between words (CJK) have no word boundaries to check.
    if !cue.is_ascii() && cue.chars().all(|c| c as u32 >= 0x2E80) {
        return lower.contains(cue);
    }
    if let Some(heading) = cue.strip_prefix('^') {
        return lower.lines().any(|line| {
            let line = line.trim_start_matches(|c: char| !c.is_alphanumeric());
            line.strip_prefix(heading).is_some_and(|rest| rest.chars().next().is_none_or(|c| !c.is_alphanumeric()))
        });
    }
    lower.match_indices(cue).any(|(i, _)| {
        let before = lower[..i].chars().next_back();
        let after = lower[i + cue.len()..].chars().next();
        before.is_none_or(|c| !c.is_alphanumeric()) && after.is_none_or(|c| !c.is_alphanumeric())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cues_match_words_and_line_headings_only() {
        assert!(has_cue("work\nexperience:\nacme", "^experience"));
        assert!(has_cue("• skills", "^skills"));
        assert!(!has_cue("my experience is", "^experience"));
        assert!(!has_cue("experienced", "^experience"));
        assert!(has_cue("total: 10", "total"));
        assert!(!has_cue("totally", "total"));
        assert_eq!(cue_score(DocumentKind::Transcript, "nothing here"), 0.0);
        assert!(has_cue("个人简历：教育背景", "教育背景"));
        assert!(has_cue("requisitos:\n", "requisitos"));
        assert_eq!(cue_score(DocumentKind::Other, "invoice total subtotal amount due payment"), 1.0);
    }

    #[test]
    fn windows_are_bounded() {
        let text = "word ".repeat(2000);
        let w = windows(&text);
        assert_eq!(w.len(), MAX_WINDOWS);
        assert!(w.iter().all(|w| w.len() <= WINDOW_CHARS));
        assert!(windows("  \n ").is_empty());
    }
}
