//! The occupations a profile points to: its job titles matched to O*NET
//! occupations (the current role counting most), and its skills mapped to
//! O*NET technologies, each supporting the occupations that use it (a
//! technology many occupations use supports each of them less).

use crate::model::{ConceptKind, Scheme};
use crate::{Ontology, OntologyError, Query};
use ports::TextEmbedder;
use std::collections::BTreeMap;

/// A job title of the profile, and how recent it is (0 = the current or latest role).
#[derive(Debug, Clone, PartialEq)]
pub struct TitleInput {
    pub title: String,
    pub rank: usize,
}

/// One likely occupation with what supports it.
#[derive(Debug, Clone, PartialEq)]
pub struct RankedOccupation {
    pub concept: u32,
    pub score: f32,
    /// The profile's titles that matched it.
    pub titles: Vec<String>,
    /// The profile's skills it uses (as the user wrote them).
    pub skills: Vec<String>,
}

/// Weight of a title by recency: 1, 0.8, 0.65, … (never below 0.3).
fn recency(rank: usize) -> f32 {
    (0.8f32.powi(rank as i32)).max(0.3)
}

fn slot(scores: &mut BTreeMap<u32, RankedOccupation>, concept: u32) -> &mut RankedOccupation {
    scores.entry(concept).or_insert_with(|| RankedOccupation { concept, score: 0.0, titles: vec![], skills: vec![] })
}

/// Ranks O*NET occupations for a profile's titles and skills.
pub fn rank_occupations(
    ontology: &Ontology,
    titles: &[TitleInput],
    skills: &[String],
    embedder: Option<&dyn TextEmbedder>,
    limit: usize,
) -> Result<Vec<RankedOccupation>, OntologyError> {
    let mut scores: BTreeMap<u32, RankedOccupation> = BTreeMap::new();
    for t in titles {
        let mut q = Query::occupations(&t.title, 3);
        q.scheme = Some(Scheme::Onet);
        for (i, hit) in ontology.search(&q, embedder)?.into_iter().enumerate() {
            // The best match counts fully, the next ones less.
            let weight = recency(t.rank) * hit.score * [1.0, 0.5, 0.3][i.min(2)];
            let r = slot(&mut scores, hit.concept);
            r.score += weight;
            if !r.titles.contains(&t.title) {
                r.titles.push(t.title.clone());
            }
        }
    }
    for skill in skills {
        let Some(mapping) = ontology.map_skill(skill, None, embedder)? else { continue };
        let technology = [Some(mapping.concept), mapping.also]
            .into_iter()
            .flatten()
            .find(|c| ontology.concept(*c).kind == ConceptKind::Technology);
        let Some(technology) = technology else { continue };
        let users = ontology.occupations_using(technology);
        if users.is_empty() {
            continue;
        }
        let weight = 0.15 / (1.0 + (users.len() as f32).ln());
        for o in users {
            let r = slot(&mut scores, o);
            r.score += weight;
            if !r.skills.contains(skill) {
                r.skills.push(skill.clone());
            }
        }
    }
    let mut ranked: Vec<RankedOccupation> = scores.into_values().collect();
    ranked.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.concept.cmp(&b.concept)));
    ranked.truncate(limit);
    Ok(ranked)
}
