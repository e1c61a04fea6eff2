//! The artifact file: a magic line, the catalogue as JSON, then one label
//! vector per concept quantised to `i8` with a per-vector scale.
//!
//! ```text
//! b"PONTOLOGY1\n"  u64 LE json length  json  u32 LE count  u32 LE dim  count × f32 LE scale  count × dim i8
//! ```

use crate::OntologyError;
use crate::model::Catalogue;

const MAGIC: &[u8] = b"PONTOLOGY1\n";

/// Unit vectors quantised to `i8`: component ≈ `value as f32 * scale`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Vectors {
    pub dim: usize,
    pub scales: Vec<f32>,
    pub values: Vec<i8>,
}

impl Vectors {
    pub fn quantise(vectors: &[Vec<f32>], dim: usize) -> Vectors {
        let mut out = Vectors { dim, scales: Vec::with_capacity(vectors.len()), values: Vec::new() };
        for v in vectors {
            let max = v.iter().fold(0f32, |m, x| m.max(x.abs())).max(f32::MIN_POSITIVE);
            let scale = max / 127.0;
            out.scales.push(scale);
            out.values.extend(v.iter().map(|x| (x / scale).round().clamp(-127.0, 127.0) as i8));
        }
        out
    }
    pub fn len(&self) -> usize {
        self.scales.len()
    }
    pub fn is_empty(&self) -> bool {
        self.scales.is_empty()
    }
    pub fn row(&self, i: usize) -> &[i8] {
        &self.values[i * self.dim..(i + 1) * self.dim]
    }
    /// Cosine of two rows (an integer dot product, scaled back).
    pub fn cosine(&self, a: usize, b: usize) -> f32 {
        let dot: i32 = self.row(a).iter().zip(self.row(b)).map(|(x, y)| *x as i32 * *y as i32).sum();
        dot as f32 * self.scales[a] * self.scales[b]
    }
}

pub fn write(catalogue: &Catalogue, vectors: &Vectors) -> Result<Vec<u8>, OntologyError> {
    let json = serde_json::to_vec(catalogue).map_err(|e| OntologyError::Format(e.to_string()))?;
    let mut out = Vec::with_capacity(json.len() + vectors.values.len() + vectors.scales.len() * 4 + 64);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(json.len() as u64).to_le_bytes());
    out.extend_from_slice(&json);
    out.extend_from_slice(&(vectors.len() as u32).to_le_bytes());
    out.extend_from_slice(&(vectors.dim as u32).to_le_bytes());
    for s in &vectors.scales {
        out.extend_from_slice(&s.to_le_bytes());
    }
    out.extend(vectors.values.iter().map(|v| *v as u8));
    Ok(out)
}

pub fn read(bytes: &[u8]) -> Result<(Catalogue, Vectors), OntologyError> {
    let bad = |what: &str| OntologyError::Format(format!("not an ontology artifact: {what}"));
    let rest = bytes.strip_prefix(MAGIC).ok_or_else(|| bad("magic"))?;
    let (len, rest) = take_u64(rest).ok_or_else(|| bad("header"))?;
    let len = usize::try_from(len).map_err(|_| bad("length"))?;
    if rest.len() < len {
        return Err(bad("truncated catalogue"));
    }
    let (json, rest) = rest.split_at(len);
    let catalogue: Catalogue = serde_json::from_slice(json).map_err(|e| OntologyError::Format(e.to_string()))?;
    if catalogue.format != Catalogue::FORMAT {
        return Err(OntologyError::Format(format!(
            "artifact format {} (this build reads {})",
            catalogue.format,
            Catalogue::FORMAT
        )));
    }
    let (count, rest) = take_u32(rest).ok_or_else(|| bad("vector header"))?;
    let (dim, rest) = take_u32(rest).ok_or_else(|| bad("vector header"))?;
    let (count, dim) = (count as usize, dim as usize);
    if count != catalogue.concepts.len() || rest.len() != count * 4 + count * dim {
        return Err(bad("vector section size"));
    }
    let (scales, values) = rest.split_at(count * 4);
    let scales = scales.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
    let values = values.iter().map(|v| *v as i8).collect();
    Ok((catalogue, Vectors { dim, scales, values }))
}

fn take_u64(b: &[u8]) -> Option<(u64, &[u8])> {
    let (head, rest) = b.split_first_chunk::<8>()?;
    Some((u64::from_le_bytes(*head), rest))
}

fn take_u32(b: &[u8]) -> Option<(u32, &[u8])> {
    let (head, rest) = b.split_first_chunk::<4>()?;
    Some((u32::from_le_bytes(*head), rest))
}
