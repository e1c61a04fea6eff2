//! One user's knowledge graph: facts merged across documents without
//! duplicates, each with all its sources, and the edges between them.
//!
//! Merging: a fact found again (same identity key: the hash of its
//! normalised content) gains a source; a fact that is the same thing worded
//! differently (a [`FactMatcher`] says so: same organisation with overlapping
//! dates, near-identical sentences) is merged into the existing one, whose
//! missing fields it may fill. A fact the user edited is never changed by an
//! extraction; one the user deleted stays deleted.

use crate::dates::{DateRange, YearMonth};
use crate::extract::Found;
use crate::model::{FactId, FactKind, FactValue, Provenance, Source, Visibility};
use domain::DocumentId;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashSet};

/// A fact in the graph.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fact {
    pub id: FactId,
    #[serde(flatten)]
    pub value: FactValue,
    /// How sure the engine is, from all sources (1 − Π(1 − cᵢ)).
    pub confidence: f32,
    #[serde(default)]
    pub visibility: Visibility,
    /// The user changed it: extraction leaves it alone.
    #[serde(default)]
    pub user_edited: bool,
    /// Soft-deleted by the user: kept for the audit, shown nowhere.
    #[serde(default)]
    pub deleted: bool,
    pub created_at: String,
    pub updated_at: String,
}

impl Fact {
    pub fn kind(&self) -> FactKind {
        self.value.kind()
    }
}

/// How two nodes relate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Relation {
    /// job → skill: the skill was used in the role.
    Used,
    /// achievement or responsibility → job.
    In,
    /// certification or education → skill it attests.
    Evidences,
    /// document → fact it states.
    Supports,
    /// job or education → organisation.
    At,
}

impl Relation {
    pub fn as_str(self) -> &'static str {
        match self {
            Relation::Used => "USED",
            Relation::In => "IN",
            Relation::Evidences => "EVIDENCES",
            Relation::Supports => "SUPPORTS",
            Relation::At => "AT",
        }
    }
}

/// An edge between two node ids: a fact id, `org:{name}` or `doc:{id}`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Edge {
    pub from: String,
    pub rel: Relation,
    pub to: String,
}

/// Lowercase letters and digits only, words separated by one space.
pub fn normalise(text: &str) -> String {
    let cleaned: String = text
        .to_lowercase()
        .chars()
        .map(|c| if c.is_alphanumeric() || c == '+' || c == '#' { c } else { ' ' })
        .collect();
    cleaned.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// An organisation's name without its company form ("ABC Company, Inc." → "abc company").
pub fn normalise_org(name: &str) -> String {
    const FORMS: &[&str] =
        &["inc", "llc", "ltd", "limited", "corp", "corporation", "co", "gmbh", "ag", "plc", "llp", "sa", "pvt", "the"];
    normalise(name).split(' ').filter(|w| !FORMS.contains(w)).collect::<Vec<_>>().join(" ")
}

fn opt(s: &Option<String>) -> String {
    s.as_deref().map(normalise).unwrap_or_default()
}

fn start_of(d: &Option<DateRange>) -> String {
    d.as_ref().and_then(|d| d.start.or(d.end)).map(|s| s.to_string()).unwrap_or_default()
}

/// The identity of a fact: facts with the same key are the same fact.
pub fn identity_key(value: &FactValue) -> String {
    let body = match value {
        FactValue::Job(j) => format!(
            "{}|{}|{}",
            j.organisation.as_deref().map(normalise_org).unwrap_or_default(),
            normalise(&j.title),
            start_of(&j.dates)
        ),
        FactValue::Achievement(s) | FactValue::Responsibility(s) | FactValue::Motivation(s) => normalise(&s.text),
        FactValue::Education(e) => format!(
            "{}|{}|{}",
            e.institution.as_deref().map(normalise_org).unwrap_or_default(),
            opt(&e.degree),
            opt(&e.field)
        ),
        FactValue::Skill(s) => normalise(&s.name),
        FactValue::Certification(c) => normalise(&c.name),
        FactValue::Language(l) => normalise(&l.name),
        FactValue::Project(n) | FactValue::Award(n) | FactValue::Course(n) => normalise(&n.name),
        FactValue::Contact(c) => format!("{:?}|{}", c.kind, normalise(&c.value)),
        FactValue::TargetRole(t) => format!("{}|{}", normalise(&t.title), opt(&t.organisation)),
        FactValue::Requirement(r) => format!("{}|{}", normalise(&r.skill), r.required),
    };
    format!("{}:{body}", value.kind().as_str())
}

/// The fact id for an identity key.
pub fn fact_id(key: &str) -> FactId {
    FactId(domain::sha256_hex(key.as_bytes())[..20].to_owned())
}

/// Decides whether two facts of one kind are the same thing worded differently.
/// The rule can improve (embedding similarity) behind this trait.
pub trait FactMatcher: Send + Sync {
    /// A score in 0..=1 when `new` is the same as `existing`, else `None`.
    fn same(&self, existing: &FactValue, new: &FactValue) -> Option<f32>;
}

/// Words shared over words in either (Jaccard).
fn overlap(a: &str, b: &str) -> f32 {
    let a: HashSet<&str> = a.split(' ').filter(|w| !w.is_empty()).collect();
    let b: HashSet<&str> = b.split(' ').filter(|w| !w.is_empty()).collect();
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    a.intersection(&b).count() as f32 / a.union(&b).count() as f32
}

/// Rules: the same organisation with overlapping dates (or the same title
/// when a side has no dates) is the same job; sentences sharing 70 % of their
/// words are the same achievement; the same institution and degree level is
/// the same education.
pub struct RuleMatcher {
    pub today: YearMonth,
}

impl FactMatcher for RuleMatcher {
    fn same(&self, existing: &FactValue, new: &FactValue) -> Option<f32> {
        match (existing, new) {
            (FactValue::Job(a), FactValue::Job(b)) => {
                let (oa, ob) =
                    (a.organisation.as_deref().map(normalise_org)?, b.organisation.as_deref().map(normalise_org)?);
                if oa.is_empty() || oa != ob {
                    return None;
                }
                let titles = overlap(&normalise(&a.title), &normalise(&b.title));
                match (&a.dates, &b.dates) {
                    (Some(da), Some(db)) if da.start.is_some() && db.start.is_some() => {
                        da.overlaps(db, self.today).then_some(0.7 + 0.3 * titles)
                    }
                    _ => (titles >= 0.5).then_some(0.6 + 0.3 * titles),
                }
            }
            (FactValue::Achievement(a), FactValue::Achievement(b))
            | (FactValue::Responsibility(a), FactValue::Responsibility(b))
            | (FactValue::Achievement(a), FactValue::Responsibility(b))
            | (FactValue::Responsibility(a), FactValue::Achievement(b))
            | (FactValue::Motivation(a), FactValue::Motivation(b)) => {
                let score = overlap(&normalise(&a.text), &normalise(&b.text));
                (score >= 0.7).then_some(score)
            }
            (FactValue::Education(a), FactValue::Education(b)) => {
                let (ia, ib) =
                    (a.institution.as_deref().map(normalise_org)?, b.institution.as_deref().map(normalise_org)?);
                let same_degree = match (&a.degree, &b.degree) {
                    (Some(x), Some(y)) => normalise(x).chars().next() == normalise(y).chars().next(),
                    _ => true,
                };
                (ia == ib && same_degree).then_some(0.8)
            }
            _ => None,
        }
    }
}

/// What merging one document did.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct MergeReport {
    /// Facts the document added to the graph.
    pub added: Vec<FactId>,
    /// Existing facts it gave another source (or filled in).
    pub merged: Vec<FactId>,
    /// Found facts that were already known (exactly or semantically), over all found.
    pub dedup_rate: f32,
    pub found: usize,
}

/// Every change, for the append-only audit trail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub fact_id: FactId,
    pub action: ChangeAction,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
    /// Why, for changes the engine made on its own (withdrawals, retractions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<ChangeReason>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeAction {
    Extracted,
    Merged,
    Edited,
    Deleted,
    /// One source of the fact no longer says it; the fact stays on its others.
    Withdrawn,
    /// The fact lost its last source and was removed.
    Retracted,
}

/// Why the engine withdrew a source or retracted a fact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeReason {
    /// The document was read again as another kind (the user corrected it).
    KindChanged,
    /// The document was read again and the reading no longer gives it.
    NotReproduced,
}

/// What re-reading a document withdrew.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct Retraction {
    /// Facts that lost their last source and were removed.
    pub retracted: Vec<FactId>,
    /// Facts that lost sources in the document and stay on their others
    /// (another document, an interview answer, the user's edit).
    pub withdrawn: Vec<FactId>,
}

/// What a save must delete: withdrawn sources and retracted facts.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Removals {
    pub sources: Vec<(FactId, Source)>,
    pub facts: Vec<FactId>,
}

fn in_document(source: &Source, document: DocumentId) -> bool {
    matches!(source, Source::Document { document_id, .. } if *document_id == document)
}

/// One user's facts, their sources and the edges between them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Knowledge {
    pub facts: BTreeMap<FactId, Fact>,
    pub sources: BTreeMap<FactId, Vec<Provenance>>,
    pub edges: BTreeSet<Edge>,
    /// Each skill fact's concept in the skill ontology, when it has one.
    pub mappings: BTreeMap<FactId, crate::model::SkillMapping>,
    /// Changes since the last [`Knowledge::take_changes`].
    changes: Vec<Change>,
    /// Facts changed since then, to write back.
    dirty: BTreeSet<FactId>,
    /// Sources withdrawn and facts retracted since then, to delete.
    removals: Removals,
}

fn combined(a: f32, b: f32) -> f32 {
    1.0 - (1.0 - a) * (1.0 - b)
}

/// Fills the fields `existing` lacks from `new` (same kind).
fn fill_gaps(existing: &mut FactValue, new: &FactValue) -> bool {
    fn fill<T: Clone>(slot: &mut Option<T>, from: &Option<T>) -> bool {
        if slot.is_none() && from.is_some() {
            *slot = from.clone();
            true
        } else {
            false
        }
    }
    match (existing, new) {
        (FactValue::Job(a), FactValue::Job(b)) => {
            let dates = match (&a.dates, &b.dates) {
                (Some(da), Some(db)) if da.start.is_none() && db.start.is_some() => {
                    a.dates = Some(db.clone());
                    true
                }
                _ => fill(&mut a.dates, &b.dates),
            };
            fill(&mut a.organisation, &b.organisation) | fill(&mut a.location, &b.location) | dates
        }
        (FactValue::Education(a), FactValue::Education(b)) => {
            fill(&mut a.degree, &b.degree)
                | fill(&mut a.field, &b.field)
                | fill(&mut a.institution, &b.institution)
                | fill(&mut a.dates, &b.dates)
                | fill(&mut a.grade, &b.grade)
        }
        (FactValue::Certification(a), FactValue::Certification(b)) => {
            fill(&mut a.issuer, &b.issuer) | fill(&mut a.date, &b.date) | fill(&mut a.credential_id, &b.credential_id)
        }
        (FactValue::Skill(a), FactValue::Skill(b)) => {
            let listed =
                a.source == crate::model::SkillSource::Mentioned && b.source == crate::model::SkillSource::Listed;
            if listed {
                a.source = b.source;
            }
            fill(&mut a.category, &b.category) | listed
        }
        (FactValue::Language(a), FactValue::Language(b)) => fill(&mut a.level, &b.level),
        _ => false,
    }
}

impl Knowledge {
    /// A graph from stored facts, sources and edges.
    pub fn from_parts(facts: Vec<Fact>, sources: Vec<(FactId, Provenance)>, edges: Vec<Edge>) -> Self {
        let mut k = Knowledge::default();
        for f in facts {
            k.facts.insert(f.id.clone(), f);
        }
        for (id, p) in sources {
            k.sources.entry(id).or_default().push(p);
        }
        k.edges = edges.into_iter().collect();
        k
    }

    /// Facts that are not deleted.
    pub fn live(&self) -> impl Iterator<Item = &Fact> {
        self.facts.values().filter(|f| !f.deleted)
    }

    /// The audit entries and changed fact ids since the last call.
    pub fn take_changes(&mut self) -> (Vec<Change>, BTreeSet<FactId>) {
        (std::mem::take(&mut self.changes), std::mem::take(&mut self.dirty))
    }

    /// The sources withdrawn and facts retracted since the last call.
    pub fn take_removals(&mut self) -> Removals {
        std::mem::take(&mut self.removals)
    }

    /// Adds `p` to the fact's sources unless the same source is there.
    fn add_source(&mut self, id: &FactId, p: Provenance) -> bool {
        let list = self.sources.entry(id.clone()).or_default();
        if list.iter().any(|q| q.source == p.source) {
            return false;
        }
        list.push(p);
        true
    }

    fn find_match(&self, value: &FactValue, matcher: &dyn FactMatcher) -> Option<FactId> {
        let key = fact_id(&identity_key(value));
        if self.facts.contains_key(&key) {
            return Some(key);
        }
        self.facts
            .values()
            .filter(|f| {
                f.kind() == value.kind()
                    || matches!(
                        (f.kind(), value.kind()),
                        (FactKind::Achievement, FactKind::Responsibility)
                            | (FactKind::Responsibility, FactKind::Achievement)
                    )
            })
            .filter_map(|f| matcher.same(&f.value, value).map(|s| (s, &f.id)))
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, id)| id.clone())
    }

    /// Merges one document's (or one answer's) facts. `parent` links become
    /// statement → job fields and IN / USED edges; every source gets a
    /// SUPPORTS edge from its document.
    pub fn merge(&mut self, found: Vec<Found>, matcher: &dyn FactMatcher, now: &str) -> MergeReport {
        self.merge_found(&found, matcher, now).0
    }

    /// Reads `document` again: merges what the new reading found, then
    /// withdraws the document's sources the new reading did not give again
    /// (a fact left with no source at all is retracted: removed, as if never
    /// extracted, so a later reading that finds it again restores it).
    /// Facts other documents, interview answers or the user's edit support
    /// stay on those; a fact the user deleted stays deleted. Every withdrawal
    /// and retraction is audited with `reason`.
    pub fn reread(
        &mut self,
        document: DocumentId,
        found: Vec<Found>,
        matcher: &dyn FactMatcher,
        reason: ChangeReason,
        now: &str,
    ) -> (MergeReport, Retraction) {
        let (report, ids) = self.merge_found(&found, matcher, now);
        let reproduced: HashSet<(FactId, Source)> = found
            .iter()
            .zip(ids)
            .filter(|(item, _)| in_document(&item.fact.provenance.source, document))
            .map(|(item, id)| (id, item.fact.provenance.source.clone()))
            .collect();
        let retraction = self.withdraw_unreproduced(document, &reproduced, reason, now);
        (report, retraction)
    }

    /// Withdraws every source in `document` that is not in `reproduced`.
    fn withdraw_unreproduced(
        &mut self,
        document: DocumentId,
        reproduced: &HashSet<(FactId, Source)>,
        reason: ChangeReason,
        now: &str,
    ) -> Retraction {
        let mut out = Retraction::default();
        let supports =
            |id: &FactId| Edge { from: format!("doc:{document}"), rel: Relation::Supports, to: id.0.clone() };
        let ids: Vec<FactId> = self.sources.keys().cloned().collect();
        for id in ids {
            let Some(list) = self.sources.get_mut(&id) else { continue };
            let (gone, kept): (Vec<Provenance>, Vec<Provenance>) = std::mem::take(list).into_iter().partition(|p| {
                in_document(&p.source, document) && !reproduced.contains(&(id.clone(), p.source.clone()))
            });
            *list = kept;
            if gone.is_empty() {
                continue;
            }
            let still_in_document = list.iter().any(|p| in_document(&p.source, document));
            let left: Vec<f32> = list.iter().map(|p| p.confidence).collect();
            if !still_in_document {
                self.edges.remove(&supports(&id));
            }
            self.removals.sources.extend(gone.iter().map(|p| (id.clone(), p.source.clone())));
            let Some(fact) = self.facts.get_mut(&id) else { continue };
            if left.is_empty() && !fact.deleted {
                // Nothing says it any more. (A fact the user edited always keeps its user-edit source.)
                self.facts.remove(&id);
                self.sources.remove(&id);
                self.mappings.remove(&id);
                self.edges.retain(|e| e.from != id.0 && e.to != id.0);
                self.dirty.remove(&id);
                self.removals.facts.push(id.clone());
                self.changes.push(Change {
                    fact_id: id.clone(),
                    action: ChangeAction::Retracted,
                    source: gone.first().map(|p| p.source.clone()),
                    reason: Some(reason),
                });
                out.retracted.push(id);
                continue;
            }
            if !fact.user_edited && !fact.deleted {
                fact.confidence = left.iter().fold(0.0, |acc, c| combined(acc, *c)).min(0.99);
            }
            fact.updated_at = now.to_owned();
            self.dirty.insert(id.clone());
            for p in gone {
                self.changes.push(Change {
                    fact_id: id.clone(),
                    action: ChangeAction::Withdrawn,
                    source: Some(p.source),
                    reason: Some(reason),
                });
            }
            out.withdrawn.push(id);
        }
        // A statement whose job was retracted no longer names it.
        let retracted: HashSet<&FactId> = out.retracted.iter().collect();
        for fact in self.facts.values_mut().filter(|f| !f.user_edited) {
            if let FactValue::Achievement(s) | FactValue::Responsibility(s) | FactValue::Motivation(s) = &mut fact.value
                && s.job.as_ref().is_some_and(|j| retracted.contains(j))
            {
                s.job = None;
                fact.updated_at = now.to_owned();
                self.dirty.insert(fact.id.clone());
            }
        }
        out
    }

    /// [`Knowledge::merge`], also returning the fact id each found item went to.
    fn merge_found(&mut self, found: &[Found], matcher: &dyn FactMatcher, now: &str) -> (MergeReport, Vec<FactId>) {
        let mut report = MergeReport { found: found.len(), ..Default::default() };
        let mut ids: Vec<FactId> = Vec::with_capacity(found.len());
        let mut known = 0usize;
        for item in found {
            let value = &item.fact.value;
            let provenance = item.fact.provenance.clone();
            let id = match self.find_match(value, matcher) {
                Some(id) => {
                    known += 1;
                    let mut changed = self.add_source(&id, provenance.clone());
                    if let Some(fact) = self.facts.get_mut(&id) {
                        if !fact.user_edited && !fact.deleted {
                            changed |= fill_gaps(&mut fact.value, value);
                        }
                        if changed {
                            fact.confidence = combined(fact.confidence, provenance.confidence).min(0.99);
                            fact.updated_at = now.to_owned();
                        }
                    }
                    if changed {
                        self.dirty.insert(id.clone());
                        self.changes.push(Change {
                            fact_id: id.clone(),
                            action: ChangeAction::Merged,
                            source: Some(provenance.source.clone()),
                            reason: None,
                        });
                        if !report.merged.contains(&id) && !report.added.contains(&id) {
                            report.merged.push(id.clone());
                        }
                    }
                    id
                }
                None => {
                    let id = fact_id(&identity_key(value));
                    let fact = Fact {
                        id: id.clone(),
                        value: value.clone(),
                        confidence: provenance.confidence,
                        visibility: Visibility::Public,
                        user_edited: false,
                        deleted: false,
                        created_at: now.to_owned(),
                        updated_at: now.to_owned(),
                    };
                    self.facts.insert(id.clone(), fact);
                    self.add_source(&id, provenance.clone());
                    self.dirty.insert(id.clone());
                    self.changes.push(Change {
                        fact_id: id.clone(),
                        action: ChangeAction::Extracted,
                        source: Some(provenance.source.clone()),
                        reason: None,
                    });
                    report.added.push(id.clone());
                    id
                }
            };
            if let Source::Document { document_id, .. } = &provenance.source {
                self.edges.insert(Edge {
                    from: format!("doc:{document_id}"),
                    rel: Relation::Supports,
                    to: id.0.clone(),
                });
            }
            ids.push(id);
        }
        // Links found in the document.
        for (item, id) in found.iter().zip(&ids) {
            let Some(parent) = item.parent.and_then(|p| ids.get(p)) else { continue };
            let parent_kind = self.facts.get(parent).map(Fact::kind);
            match (item.fact.value.kind(), parent_kind) {
                (FactKind::Achievement | FactKind::Responsibility, Some(FactKind::Job)) => {
                    self.edges.insert(Edge { from: id.0.clone(), rel: Relation::In, to: parent.0.clone() });
                    if let Some(fact) = self.facts.get_mut(id)
                        && !fact.user_edited
                        && let FactValue::Achievement(s) | FactValue::Responsibility(s) = &mut fact.value
                        && s.job.is_none()
                    {
                        s.job = Some(parent.clone());
                        self.dirty.insert(id.clone());
                    }
                }
                (FactKind::Skill, Some(FactKind::Job | FactKind::Project)) => {
                    self.edges.insert(Edge { from: parent.0.clone(), rel: Relation::Used, to: id.0.clone() });
                }
                _ => {}
            }
        }
        self.derive_edges();
        report.dedup_rate = if found.is_empty() { 0.0 } else { known as f32 / found.len() as f32 };
        (report, ids)
    }

    /// Edges that follow from the facts themselves: a job AT its organisation,
    /// a job USED a skill named in its achievements, a credential EVIDENCES the
    /// skills its name contains.
    pub fn derive_edges(&mut self) {
        let skills: Vec<(FactId, String)> = self
            .live()
            .filter_map(|f| match &f.value {
                FactValue::Skill(s) => Some((f.id.clone(), normalise(&s.name))),
                _ => None,
            })
            .collect();
        let contains = |text: &str, skill: &str| {
            let t = format!(" {} ", normalise(text));
            !skill.is_empty() && t.contains(&format!(" {skill} "))
        };
        let mut new_edges = Vec::new();
        for fact in self.live() {
            match &fact.value {
                FactValue::Job(j) => {
                    if let Some(org) = j.organisation.as_deref().map(normalise_org).filter(|o| !o.is_empty()) {
                        new_edges.push(Edge { from: fact.id.0.clone(), rel: Relation::At, to: format!("org:{org}") });
                    }
                }
                FactValue::Education(e) => {
                    if let Some(org) = e.institution.as_deref().map(normalise_org).filter(|o| !o.is_empty()) {
                        new_edges.push(Edge { from: fact.id.0.clone(), rel: Relation::At, to: format!("org:{org}") });
                    }
                }
                FactValue::Achievement(s) | FactValue::Responsibility(s) => {
                    if let Some(job) = &s.job {
                        // A statement tied to its job by field (an interview answer) is IN it too.
                        if self.facts.get(job).is_some_and(|j| j.kind() == FactKind::Job && !j.deleted) {
                            new_edges.push(Edge { from: fact.id.0.clone(), rel: Relation::In, to: job.0.clone() });
                        }
                        for (skill, name) in &skills {
                            if contains(&s.text, name) {
                                new_edges.push(Edge { from: job.0.clone(), rel: Relation::Used, to: skill.0.clone() });
                            }
                        }
                    }
                }
                FactValue::Certification(c) => {
                    for (skill, name) in &skills {
                        if contains(&c.name, name) {
                            new_edges.push(Edge {
                                from: fact.id.0.clone(),
                                rel: Relation::Evidences,
                                to: skill.0.clone(),
                            });
                        }
                    }
                }
                _ => {}
            }
        }
        self.edges.extend(new_edges);
    }

    /// A user's edit: replaces the value (same kind), marks it edited, and
    /// records a user-edit source.
    pub fn edit(
        &mut self,
        id: &FactId,
        value: Option<FactValue>,
        visibility: Option<Visibility>,
        now: &str,
    ) -> Result<&Fact, EditError> {
        let fact = self.facts.get_mut(id).filter(|f| !f.deleted).ok_or(EditError::NotFound)?;
        if let Some(v) = &value
            && v.kind() != fact.kind()
        {
            return Err(EditError::KindChanged { from: fact.kind(), to: v.kind() });
        }
        if let Some(v) = value {
            fact.value = v;
            fact.user_edited = true;
            fact.confidence = 1.0;
        }
        if let Some(vis) = visibility {
            fact.visibility = vis;
        }
        fact.updated_at = now.to_owned();
        let provenance = Provenance {
            source: Source::UserEdit,
            text: fact.value.summary(),
            extractor: "user".into(),
            extractor_version: "1".into(),
            confidence: 1.0,
            at: now.to_owned(),
        };
        let list = self.sources.entry(id.clone()).or_default();
        list.retain(|p| p.source != Source::UserEdit);
        list.push(provenance);
        self.dirty.insert(id.clone());
        self.changes.push(Change {
            fact_id: id.clone(),
            action: ChangeAction::Edited,
            source: Some(Source::UserEdit),
            reason: None,
        });
        Ok(&self.facts[id])
    }

    /// Soft delete: the fact stays (for the audit) but is excluded from everything.
    pub fn delete(&mut self, id: &FactId, now: &str) -> Result<(), EditError> {
        let fact = self.facts.get_mut(id).filter(|f| !f.deleted).ok_or(EditError::NotFound)?;
        fact.deleted = true;
        fact.updated_at = now.to_owned();
        self.edges.retain(|e| e.from != id.0 && e.to != id.0);
        self.dirty.insert(id.clone());
        self.changes.push(Change { fact_id: id.clone(), action: ChangeAction::Deleted, source: None, reason: None });
        Ok(())
    }
}

/// Why an edit was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EditError {
    #[error("no such fact")]
    NotFound,
    #[error("a {} fact cannot become a {}", from.as_str(), to.as_str())]
    KindChanged { from: FactKind, to: FactKind },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::Doc;
    use crate::lexicon::BuiltinLexicon;
    use domain::{DocumentId, DocumentKind, PageText};

    const RESUME: &str = "Jane Doe\njane@example.com\nExperience\nSenior Engineer, Acme Corp, Jan 2019 - Present\n\
        • Reduced cloud costs by 30% using Kubernetes\nSkills\nKubernetes, Rust\n";
    const LETTER: &str = "Dear Team,\nAs a Senior Software Engineer at Acme since 2019, I cut cloud costs by 30% with Kubernetes.\n\
        I am passionate about reliable infrastructure.\n";

    fn found(kind: DocumentKind, text: &str, doc: DocumentId) -> Vec<Found> {
        let pages = vec![PageText { page: 1, text: text.to_owned() }];
        let d = Doc::new(doc, &pages, "t");
        crate::extract_document(kind, &d, BuiltinLexicon::get())
    }

    fn matcher() -> RuleMatcher {
        RuleMatcher { today: YearMonth::new(2026, Some(12)).unwrap() }
    }

    #[test]
    fn the_same_resume_twice_adds_nothing() {
        let mut k = Knowledge::default();
        let doc = DocumentId::new();
        let first = k.merge(found(DocumentKind::Resume, RESUME, doc), &matcher(), "t1");
        assert!(!first.added.is_empty());
        let count = k.facts.len();
        let again = k.merge(found(DocumentKind::Resume, RESUME, doc), &matcher(), "t2");
        assert!(again.added.is_empty() && again.merged.is_empty(), "{again:?}");
        assert_eq!((k.facts.len(), again.dedup_rate), (count, 1.0));
        // A second upload of the same file (another document id) adds sources, not facts.
        let copy = k.merge(found(DocumentKind::Resume, RESUME, DocumentId::new()), &matcher(), "t3");
        assert!(copy.added.is_empty());
        assert_eq!(k.facts.len(), count);
    }

    #[test]
    fn a_resume_and_a_cover_letter_on_the_same_job_give_one_job_with_two_sources() {
        let mut k = Knowledge::default();
        k.merge(found(DocumentKind::Resume, RESUME, DocumentId::new()), &matcher(), "t1");
        let report = k.merge(found(DocumentKind::CoverLetter, LETTER, DocumentId::new()), &matcher(), "t2");
        let jobs: Vec<&Fact> = k.live().filter(|f| f.kind() == FactKind::Job).collect();
        assert_eq!(jobs.len(), 1, "{:#?}", k.facts);
        assert_eq!(k.sources[&jobs[0].id].len(), 2);
        assert!(report.merged.contains(&jobs[0].id));
        // The job used Kubernetes; the achievement is in the job.
        let kubernetes = k.live().find(|f| matches!(&f.value, FactValue::Skill(s) if s.name == "Kubernetes")).unwrap();
        assert!(k.edges.contains(&Edge {
            from: jobs[0].id.0.clone(),
            rel: Relation::Used,
            to: kubernetes.id.0.clone()
        }));
        assert!(k.edges.iter().any(|e| e.rel == Relation::In && e.to == jobs[0].id.0));
        assert!(k.edges.iter().any(|e| e.rel == Relation::At && e.to == "org:acme"));
    }

    #[test]
    fn a_user_edit_survives_reingestion_and_a_delete_stays_deleted() {
        let mut k = Knowledge::default();
        let doc = DocumentId::new();
        k.merge(found(DocumentKind::Resume, RESUME, doc), &matcher(), "t1");
        let job = k.live().find(|f| f.kind() == FactKind::Job).unwrap().id.clone();
        let FactValue::Job(mut edited) = k.facts[&job].value.clone() else { panic!() };
        edited.title = "Principal Engineer".into();
        edited.location = None;
        k.edit(&job, Some(FactValue::Job(edited.clone())), None, "t2").unwrap();
        let rust = k.live().find(|f| matches!(&f.value, FactValue::Skill(s) if s.name == "Rust")).unwrap().id.clone();
        k.delete(&rust, "t2").unwrap();
        k.merge(found(DocumentKind::Resume, RESUME, doc), &matcher(), "t3");
        assert_eq!(k.facts[&job].value, FactValue::Job(edited));
        assert!(k.facts[&rust].deleted);
        assert_eq!(k.live().filter(|f| matches!(&f.value, FactValue::Skill(s) if s.name == "Rust")).count(), 0);
        let (changes, _) = k.take_changes();
        let actions: Vec<ChangeAction> = changes.iter().map(|c| c.action).collect();
        assert!(
            actions.contains(&ChangeAction::Extracted)
                && actions.contains(&ChangeAction::Edited)
                && actions.contains(&ChangeAction::Deleted)
        );
        assert_eq!(k.edit(&rust, None, Some(Visibility::Private), "t4"), Err(EditError::NotFound));
    }

    fn live_ids(k: &Knowledge) -> BTreeSet<FactId> {
        k.live().map(|f| f.id.clone()).collect()
    }

    fn skill(k: &Knowledge, name: &str) -> FactId {
        k.live().find(|f| matches!(&f.value, FactValue::Skill(s) if s.name == name)).unwrap().id.clone()
    }

    #[test]
    fn rereading_a_resume_as_a_cover_letter_retracts_what_only_the_resume_reading_said() {
        let mut k = Knowledge::default();
        let (resume, letter) = (DocumentId::new(), DocumentId::new());
        k.merge(found(DocumentKind::Resume, RESUME, resume), &matcher(), "t1");
        k.merge(found(DocumentKind::CoverLetter, LETTER, letter), &matcher(), "t1");
        let as_resume = live_ids(&k);
        let job = k.live().find(|f| f.kind() == FactKind::Job).unwrap().id.clone();
        let email = k
            .live()
            .find(|f| matches!(&f.value, FactValue::Contact(c) if c.kind == crate::model::ContactKind::Email))
            .unwrap()
            .id
            .clone();
        // The user renamed the Rust skill: their edit outlives any reading.
        let rust = skill(&k, "Rust");
        let renamed = FactValue::Skill(crate::model::Skill {
            name: "Rust (systems)".into(),
            category: None,
            source: crate::model::SkillSource::Listed,
        });
        k.edit(&rust, Some(renamed.clone()), None, "t1").unwrap();
        k.take_changes();
        k.take_removals();

        let (_, retraction) = k.reread(
            resume,
            found(DocumentKind::CoverLetter, RESUME, resume),
            &matcher(),
            ChangeReason::KindChanged,
            "t2",
        );
        // The résumé alone gave the email: retracted, with its edges.
        assert!(retraction.retracted.contains(&email) && !k.facts.contains_key(&email), "{retraction:?}");
        assert!(!k.sources.contains_key(&email));
        assert!(!k.edges.iter().any(|e| e.from == email.0 || e.to == email.0));
        // The letter also states the job: it stays, on the letter's sources.
        assert!(k.facts.contains_key(&job) && !k.facts[&job].deleted);
        assert!(k.sources[&job].iter().any(|p| in_document(&p.source, letter)));
        // The edited skill stays as the user wrote it, on the user's edit alone.
        assert_eq!(k.facts[&rust].value, renamed);
        assert_eq!(k.sources[&rust].iter().map(|p| &p.source).collect::<Vec<_>>(), vec![&Source::UserEdit]);
        assert!(retraction.withdrawn.contains(&rust));
        assert!(!k.edges.contains(&Edge {
            from: format!("doc:{resume}"),
            rel: Relation::Supports,
            to: rust.0.clone()
        }));
        // Every withdrawal and retraction is audited with its reason; the save deletes them.
        let (changes, _) = k.take_changes();
        let retracted: Vec<&Change> = changes.iter().filter(|c| c.action == ChangeAction::Retracted).collect();
        assert_eq!(retracted.len(), retraction.retracted.len());
        assert!(
            changes
                .iter()
                .filter(|c| matches!(c.action, ChangeAction::Retracted | ChangeAction::Withdrawn))
                .all(|c| c.reason == Some(ChangeReason::KindChanged))
        );
        let removals = k.take_removals();
        assert!(removals.facts.contains(&email));
        assert!(removals.sources.iter().any(|(id, s)| id == &email && in_document(s, resume)));
        assert!(removals.sources.iter().all(|(_, s)| in_document(s, resume)), "only this document's sources go");

        // The same reading again changes nothing.
        let facts = k.facts.clone();
        let (report, again) = k.reread(
            resume,
            found(DocumentKind::CoverLetter, RESUME, resume),
            &matcher(),
            ChangeReason::KindChanged,
            "t3",
        );
        assert_eq!(again, Retraction::default());
        assert!(report.added.is_empty() && report.merged.is_empty(), "{report:?}");
        assert_eq!(k.facts, facts);
        assert!(k.take_changes().0.is_empty() && k.take_removals() == Removals::default());

        // Read as a résumé again: the résumé's facts are back under their ids, the edit kept.
        k.reread(resume, found(DocumentKind::Resume, RESUME, resume), &matcher(), ChangeReason::KindChanged, "t4");
        assert_eq!(live_ids(&k), as_resume);
        assert_eq!(k.facts[&rust].value, renamed);
        let achievement = k.live().find(|f| f.kind() == FactKind::Achievement).unwrap();
        assert!(matches!(&achievement.value, FactValue::Achievement(s) if s.job.as_ref() == Some(&job)));
    }

    #[test]
    fn a_deleted_fact_stays_deleted_when_its_document_is_reread() {
        let mut k = Knowledge::default();
        let resume = DocumentId::new();
        k.merge(found(DocumentKind::Resume, RESUME, resume), &matcher(), "t1");
        let kubernetes = skill(&k, "Kubernetes");
        k.delete(&kubernetes, "t1").unwrap();
        k.reread(resume, found(DocumentKind::Other, RESUME, resume), &matcher(), ChangeReason::KindChanged, "t2");
        assert!(k.facts[&kubernetes].deleted, "the user's delete is kept, not forgotten");
        assert_eq!(k.live().count(), 0, "`other` documents state nothing");
        k.reread(resume, found(DocumentKind::Resume, RESUME, resume), &matcher(), ChangeReason::KindChanged, "t3");
        assert!(k.facts[&kubernetes].deleted);
        assert!(k.live().count() > 0);
    }
}
