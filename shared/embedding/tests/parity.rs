//! The real model on tract against the reference: sentence-transformers on
//! PyTorch with the same original weights, one sentence at a time
//! (`infra/scripts/make_reference_embeddings.py`), plus tokenizer edge cases.
//! Needs the model dir from `infra/scripts/setup_model.sh`
//! (`PERSONALIZATION_EMBEDDING_MODEL`); `.ci/run` sets it.

use embedding::{DIMENSIONS, Embedder, MAX_TOKENS};
use std::path::PathBuf;
use std::sync::OnceLock;

fn embedder() -> &'static Embedder {
    static EMBEDDER: OnceLock<Embedder> = OnceLock::new();
    EMBEDDER.get_or_init(load)
}

fn load() -> Embedder {
    let dir = std::env::var("PERSONALIZATION_EMBEDDING_MODEL").expect(
        "PERSONALIZATION_EMBEDDING_MODEL must name the model dir: \
         eval \"$(infra/scripts/setup_model.sh)\" (.ci/run does this)",
    );
    Embedder::load(&PathBuf::from(dir)).expect("load the model")
}

fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| f64::from(*x) * f64::from(*y)).sum();
    let na: f64 = a.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
    dot / (na * nb)
}

#[derive(serde::Deserialize)]
struct Reference {
    max_tokens: usize,
    items: Vec<Item>,
}

#[derive(serde::Deserialize)]
struct Item {
    text: String,
    token_count: usize,
    embedding: Vec<f32>,
}

fn reference() -> Reference {
    let raw = include_str!("data/reference_embeddings.json");
    serde_json::from_str(raw).expect("reference json")
}

#[test]
fn tract_matches_the_reference_on_50_sentences_alone_and_batched() {
    let reference = reference();
    assert_eq!(reference.max_tokens, MAX_TOKENS);
    assert_eq!(reference.items.len(), 50);
    let e = embedder();
    // what is compared is the graph with our kernels in it: 13 layer norms, 6
    // attentions, 36 projections; 12 residual adds, 6 mask adds and 2
    // embedding adds, of which the 12 residual adds and the 6 GELUs are done
    // by the projections before them
    let own = e.own_kernels();
    assert_eq!(
        (own.layer_norms, own.attentions, own.linears, own.adds_and_softmaxes, own.epilogues),
        (13, 6, 36, 20, 18),
        "{own:?}"
    );
    let texts: Vec<&str> = reference.items.iter().map(|i| i.text.as_str()).collect();
    let batched = e.embed(&texts).expect("batch");
    let mut worst = 1.0f64;
    for (item, from_batch) in reference.items.iter().zip(&batched) {
        let alone = e.embed(&[item.text.as_str()]).expect("one").remove(0);
        assert_eq!(alone.len(), DIMENSIONS);
        for v in [&alone, from_batch] {
            let c = cosine(v, &item.embedding);
            worst = worst.min(c);
            assert!(c >= 0.999, "cosine {c} for {:?}", item.text);
        }
    }
    eprintln!("worst cosine vs reference: {worst:.7}");
}

#[test]
fn tokenizer_edge_cases() {
    let e = embedder();
    for item in reference().items {
        let counted = e.count_tokens(&item.text).expect("count");
        assert_eq!(counted.min(MAX_TOKENS), item.token_count, "{:?}", item.text);
    }
    // Empty text still embeds ([CLS] [SEP]) to a unit vector.
    let empty = e.embed(&[""]).expect("empty").remove(0);
    let norm: f32 = empty.iter().map(|x| x * x).sum::<f32>().sqrt();
    assert!((norm - 1.0).abs() < 1e-4, "{norm}");
    // Past 256 tokens the text is truncated: adding more changes nothing.
    let long = "Led the migration of payment services to Kubernetes. ".repeat(60);
    assert!(e.count_tokens(&long).expect("count") > MAX_TOKENS);
    let longer = format!("{long} And then something entirely different about gardening.");
    let (a, b) = (e.embed(&[long.as_str()]).expect("long"), e.embed(&[longer.as_str()]).expect("longer"));
    assert!(cosine(&a[0], &b[0]) > 0.99999, "truncation did not apply");
    // The model's normaliser lowercases and strips accents (as sentence-transformers does);
    // an emoji outside the vocabulary is [UNK], which still counts.
    let plain = e.embed(&["cafe in zurich"]).expect("plain").remove(0);
    let accented = e.embed(&["Café in Zürich"]).expect("accented").remove(0);
    assert!(cosine(&plain, &accented) > 0.99999);
    let emoji = e.embed(&["Café in Zürich 🚀"]).expect("emoji").remove(0);
    assert!(cosine(&plain, &emoji) < 0.9999);
    assert!(e.embed(&[]).expect("nothing").is_empty());
}

#[test]
fn similar_meanings_are_closer_than_different_ones() {
    let e = embedder();
    let v = e
        .embed(&["Senior software engineer", "Experienced backend developer", "Pastry chef at a bakery"])
        .expect("embed");
    assert!(cosine(&v[0], &v[1]) > cosine(&v[0], &v[2]) + 0.1);
}

#[test]
fn a_shape_asked_for_again_gets_its_own_plan_with_the_same_vectors() {
    let texts = ["Led a team of 8 engineers", "Shipped the payments API", "Cut costs by 30%"];
    // one thread: one call per batch, so one shape per batch
    let symbolic = load().with_threads(1).with_specialised_plans(0);
    let specialised = load().with_threads(1).with_specialised_plans(2);
    let want = symbolic.embed(&texts).expect("symbolic");
    assert_eq!(specialised.specialised_plans(), 0);
    for call in 1..=3 {
        let got = specialised.embed(&texts).expect("specialised");
        // the first call runs the symbolic plan; the second makes one for (3, its length)
        assert_eq!(specialised.specialised_plans(), usize::from(call >= 2), "after call {call}");
        for (g, w) in got.iter().zip(&want) {
            assert!(cosine(g, w) > 0.999_999, "call {call}: cosine {}", cosine(g, w));
        }
    }
    // two more shapes: the limit of two plans holds
    for extra in [&["one two"][..], &["a", "b"][..]] {
        specialised.embed(extra).expect("extra");
        specialised.embed(extra).expect("extra");
    }
    assert_eq!(specialised.specialised_plans(), 2);
    assert_eq!(symbolic.specialised_plans(), 0);
}
