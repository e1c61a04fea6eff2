//! The learned part of the kind classifier: softmax regression over
//! [`crate::features`], trained by `train_kinds` on the dev split of the corpus
//! and shipped in the binary as `model/kinds.json`, whose SHA-256 is checked
//! at load against `model/kinds.json.sha256`.

use crate::features::KINDS;
use domain::DocumentKind;
pub use learn::{ModelError, SoftmaxModel, Training};

const SHIPPED: &[u8] = include_bytes!("../model/kinds.json");
const SHIPPED_SHA256: &str = include_str!("../model/kinds.json.sha256");

/// The learned kind model: labels read back as kinds.
#[derive(Debug, Clone)]
pub struct KindModel {
    pub kinds: Vec<DocumentKind>,
    pub model: SoftmaxModel,
}

impl KindModel {
    /// The weights shipped in this binary, checked against their pinned hash.
    pub fn shipped() -> Result<Self, ModelError> {
        Self::from_model(SoftmaxModel::from_shipped(SHIPPED, SHIPPED_SHA256)?)
    }

    pub fn from_model(model: SoftmaxModel) -> Result<Self, ModelError> {
        let kinds = model
            .labels
            .iter()
            .map(|l| {
                serde_json::from_value(serde_json::Value::String(l.clone()))
                    .map_err(|_| ModelError::Malformed(format!("unknown kind {l:?}")))
            })
            .collect::<Result<Vec<DocumentKind>, _>>()?;
        Ok(Self { kinds, model })
    }

    /// Fits a model on samples labelled by index into [`KINDS`].
    pub fn train(samples: &[(Vec<f32>, usize)], t: Training, trained_on: String) -> Self {
        let labels: Vec<String> = KINDS.iter().map(|k| k.as_str().to_owned()).collect();
        Self { kinds: KINDS.to_vec(), model: SoftmaxModel::train(samples, &labels, t, trained_on) }
    }

    pub fn dimensions(&self) -> usize {
        self.model.dimensions()
    }

    pub fn probabilities(&self, x: &[f32]) -> Vec<f32> {
        self.model.probabilities(x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_model_matches_its_pinned_hash_and_reads_every_kind() {
        let model = KindModel::shipped().expect("shipped kind model");
        assert_eq!(model.kinds, KINDS);
        assert_eq!(model.dimensions(), crate::kind::FEATURES);
    }
}
