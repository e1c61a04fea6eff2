//! The small learned parts of the engine: multinomial logistic regression
//! (softmax over standardised features), trained by scripts in the repository
//! on the dev split of the corpus and shipped as JSON whose SHA-256 is pinned
//! beside it and checked at load; and hashed word features for text.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Why shipped weights could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("the model's SHA-256 is {actual}, not the pinned {expected}")]
    Hash { expected: String, actual: String },
    #[error("the model is malformed: {0}")]
    Malformed(String),
}

/// Standardised features → one logit per label.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SoftmaxModel {
    pub labels: Vec<String>,
    pub mean: Vec<f32>,
    pub scale: Vec<f32>,
    /// One row per label, one column per feature.
    pub weights: Vec<Vec<f32>>,
    pub bias: Vec<f32>,
    /// What it was trained on (documents, samples, regularisation).
    pub trained_on: String,
}

/// Training settings.
#[derive(Debug, Clone, Copy)]
pub struct Training {
    pub l2: f32,
    pub epochs: usize,
    pub learning_rate: f32,
}

impl Default for Training {
    fn default() -> Self {
        Self { l2: 1e-2, epochs: 400, learning_rate: 0.05 }
    }
}

impl SoftmaxModel {
    /// Weights as shipped (`json`), checked against the pinned hash (the first
    /// word of `sha256_line`, as `sha256sum` writes it).
    pub fn from_shipped(json: &[u8], sha256_line: &str) -> Result<Self, ModelError> {
        let actual = hex::encode(Sha256::digest(json));
        let expected = sha256_line.split_whitespace().next().unwrap_or_default().to_owned();
        if actual != expected {
            return Err(ModelError::Hash { expected, actual });
        }
        let model: Self = serde_json::from_slice(json).map_err(|e| ModelError::Malformed(e.to_string()))?;
        model.check()?;
        Ok(model)
    }

    fn check(&self) -> Result<(), ModelError> {
        let d = self.mean.len();
        let consistent = self.scale.len() == d
            && self.weights.len() == self.labels.len()
            && self.bias.len() == self.labels.len()
            && self.weights.iter().all(|w| w.len() == d)
            && !self.labels.is_empty();
        if consistent { Ok(()) } else { Err(ModelError::Malformed("shapes disagree".into())) }
    }

    /// How many features it reads.
    pub fn dimensions(&self) -> usize {
        self.mean.len()
    }

    /// Probabilities per label, in `self.labels` order.
    pub fn probabilities(&self, x: &[f32]) -> Vec<f32> {
        let z: Vec<f32> = x.iter().zip(&self.mean).zip(&self.scale).map(|((v, m), s)| (v - m) / s).collect();
        let logits: Vec<f32> = self
            .weights
            .iter()
            .zip(&self.bias)
            .map(|(w, b)| b + w.iter().zip(&z).map(|(a, b)| a * b).sum::<f32>())
            .collect();
        softmax(&logits)
    }

    /// Fits the model: features standardised, classes weighted by inverse
    /// frequency, L2 on the weights, full-batch gradient descent with Adam.
    /// Deterministic for the same samples.
    pub fn train(samples: &[(Vec<f32>, usize)], labels: &[String], t: Training, trained_on: String) -> Self {
        let d = samples.first().map_or(0, |s| s.0.len());
        let k = labels.len();
        let n = samples.len().max(1) as f32;
        let mut mean = vec![0f32; d];
        for (x, _) in samples {
            for (m, v) in mean.iter_mut().zip(x) {
                *m += v / n;
            }
        }
        let mut scale = vec![0f32; d];
        for (x, _) in samples {
            for ((s, v), m) in scale.iter_mut().zip(x).zip(&mean) {
                *s += (v - m) * (v - m) / n;
            }
        }
        for s in &mut scale {
            *s = s.sqrt().max(1e-3);
        }
        let z: Vec<Vec<f32>> = samples
            .iter()
            .map(|(x, _)| x.iter().zip(&mean).zip(&scale).map(|((v, m), s)| (v - m) / s).collect())
            .collect();
        let mut count = vec![0f32; k];
        for (_, y) in samples {
            count[*y] += 1.0;
        }
        let present = count.iter().filter(|c| **c > 0.0).count().max(1) as f32;
        let class_weight: Vec<f32> = count.iter().map(|c| if *c > 0.0 { n / (present * c) } else { 0.0 }).collect();
        let mut w = vec![vec![0f32; d]; k];
        let mut b = vec![0f32; k];
        let (mut mw, mut vw) = (vec![vec![0f32; d]; k], vec![vec![0f32; d]; k]);
        let (mut mb, mut vb) = (vec![0f32; k], vec![0f32; k]);
        let (beta1, beta2, eps) = (0.9f32, 0.999f32, 1e-8f32);
        for epoch in 1..=t.epochs {
            let mut gw = vec![vec![0f32; d]; k];
            let mut gb = vec![0f32; k];
            for (x, (_, y)) in z.iter().zip(samples) {
                let logits: Vec<f32> =
                    w.iter().zip(&b).map(|(wk, bk)| bk + wk.iter().zip(x).map(|(a, c)| a * c).sum::<f32>()).collect();
                let p = softmax(&logits);
                let cw = class_weight[*y] / n;
                for c in 0..k {
                    let g = cw * (p[c] - f32::from(u8::from(c == *y)));
                    gb[c] += g;
                    for (gwi, xi) in gw[c].iter_mut().zip(x) {
                        *gwi += g * xi;
                    }
                }
            }
            let (c1, c2) = (1.0 - beta1.powi(epoch as i32), 1.0 - beta2.powi(epoch as i32));
            for c in 0..k {
                for i in 0..d {
                    let g = gw[c][i] + t.l2 * w[c][i];
                    mw[c][i] = beta1 * mw[c][i] + (1.0 - beta1) * g;
                    vw[c][i] = beta2 * vw[c][i] + (1.0 - beta2) * g * g;
                    w[c][i] -= t.learning_rate * (mw[c][i] / c1) / ((vw[c][i] / c2).sqrt() + eps);
                }
                mb[c] = beta1 * mb[c] + (1.0 - beta1) * gb[c];
                vb[c] = beta2 * vb[c] + (1.0 - beta2) * gb[c] * gb[c];
                b[c] -= t.learning_rate * (mb[c] / c1) / ((vb[c] / c2).sqrt() + eps);
            }
        }
        Self { labels: labels.to_vec(), mean, scale, weights: w, bias: b, trained_on }
    }

    /// The model as shipped: weights rounded to 5 significant digits (stable
    /// across rebuilds, small) and its SHA-256.
    pub fn to_shipped_json(&self) -> (String, String) {
        let round = |v: &[f32]| -> Vec<f32> { v.iter().map(|x| format!("{x:.5e}").parse().unwrap_or(*x)).collect() };
        let rounded = Self {
            labels: self.labels.clone(),
            mean: round(&self.mean),
            scale: round(&self.scale),
            weights: self.weights.iter().map(|w| round(w)).collect(),
            bias: round(&self.bias),
            trained_on: self.trained_on.clone(),
        };
        let json = serde_json::to_string(&rounded).unwrap_or_default() + "\n";
        let hash = hex::encode(Sha256::digest(json.as_bytes()));
        (json, hash)
    }
}

/// A model with its standardisation folded into the weights, laid out one
/// row of label weights per feature: logits of a sparse input (most features
/// zero, as hashed words are) cost one row per non-zero feature.
#[derive(Debug, Clone)]
pub struct Folded {
    labels: usize,
    /// `features × labels`: weight / scale.
    weights: Vec<f32>,
    /// bias − Σ weight · mean / scale, per label.
    bias: Vec<f32>,
}

impl SoftmaxModel {
    /// The same model for sparse inputs (equal up to rounding).
    pub fn folded(&self) -> Folded {
        let k = self.labels.len();
        let d = self.dimensions();
        let mut weights = vec![0f32; d * k];
        let mut bias = self.bias.clone();
        for (label, row) in self.weights.iter().enumerate() {
            for i in 0..d {
                let w = row[i] / self.scale[i];
                weights[i * k + label] = w;
                bias[label] -= w * self.mean[i];
            }
        }
        Folded { labels: k, weights, bias }
    }
}

impl Folded {
    /// Probabilities per label of an input given as (feature, value) pairs
    /// (features not named are zero).
    pub fn probabilities_sparse(&self, x: &[(usize, f32)]) -> Vec<f32> {
        let mut logits = self.bias.clone();
        for &(i, v) in x {
            if let Some(row) = self.weights.get(i * self.labels..(i + 1) * self.labels) {
                for (l, w) in logits.iter_mut().zip(row) {
                    *l += w * v;
                }
            }
        }
        softmax(&logits)
    }
}

fn softmax(logits: &[f32]) -> Vec<f32> {
    let max = logits.iter().copied().fold(f32::MIN, f32::max);
    let e: Vec<f32> = logits.iter().map(|l| (l - max).exp()).collect();
    let total: f32 = e.iter().sum();
    e.iter().map(|v| v / total).collect()
}

/// Indices in `0..buckets` of hashed string features (FNV-1a), for a sparse
/// bag of words in a dense vector.
pub fn hashed(feature: &str, buckets: usize) -> usize {
    let mut h: u32 = 0x811c_9dc5;
    for b in feature.as_bytes() {
        h ^= u32::from(*b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h as usize % buckets.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn training_separates_two_clusters_and_the_shipped_json_round_trips() {
        let labels = ["a".to_owned(), "b".to_owned()];
        let samples: Vec<(Vec<f32>, usize)> = (0..40)
            .map(|i| {
                let y = i % 2;
                let jitter = (i as f32 * 0.37).sin() * 0.3;
                (vec![y as f32 * 2.0 - 1.0 + jitter, jitter, 5.0], y)
            })
            .collect();
        let model = SoftmaxModel::train(&samples, &labels, Training::default(), "toy".into());
        assert!(model.probabilities(&[1.0, 0.0, 5.0])[1] > 0.9);
        assert!(model.probabilities(&[-1.0, 0.0, 5.0])[0] > 0.9);
        let (json, hash) = model.to_shipped_json();
        let back = SoftmaxModel::from_shipped(json.as_bytes(), &format!("{hash}  m.json")).unwrap();
        assert_eq!(back.dimensions(), 3);
        let tampered = json.replacen('1', "2", 1);
        assert!(matches!(SoftmaxModel::from_shipped(tampered.as_bytes(), &hash), Err(ModelError::Hash { .. })));
    }

    #[test]
    fn the_folded_model_gives_the_dense_probabilities_for_a_sparse_input() {
        let labels = ["a".to_owned(), "b".to_owned(), "c".to_owned()];
        let samples: Vec<(Vec<f32>, usize)> = (0..30)
            .map(|i| {
                let mut x = vec![0f32; 6];
                x[i % 3] = 1.0;
                x[3 + i % 2] = (i as f32 * 0.7).cos();
                (x, i % 3)
            })
            .collect();
        let model = SoftmaxModel::train(&samples, &labels, Training::default(), String::new());
        let folded = model.folded();
        let dense = [0.0, 1.0, 0.0, 0.5, 0.0, 0.0];
        let sparse = [(1, 1.0), (3, 0.5)];
        for (a, b) in model.probabilities(&dense).iter().zip(folded.probabilities_sparse(&sparse)) {
            assert!((a - b).abs() < 1e-5, "{a} {b}");
        }
    }

    #[test]
    fn hashed_features_are_stable_and_in_range() {
        assert_eq!(hashed("word", 64), hashed("word", 64));
        assert!(hashed("anything", 10) < 10);
    }
}
