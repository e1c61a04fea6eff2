//! Finds the skill-ontology artifact, building it on first use with the
//! project's set-up step (`infra/scripts/build_ontology.sh`), this program
//! being the builder (`personalize build-ontology`).

use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

/// `PERSONALIZATION_ONTOLOGY`, or the artifact the set-up step makes (built now if missing).
pub fn artifact() -> Result<PathBuf> {
    if let Some(file) = platform::optional("PERSONALIZATION_ONTOLOGY") {
        return Ok(PathBuf::from(file));
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../infra/scripts/build_ontology.sh");
    anyhow::ensure!(
        script.is_file(),
        "PERSONALIZATION_ONTOLOGY is not set and the set-up script is not at {}; run infra/scripts/build_ontology.sh \
         from the project and set PERSONALIZATION_ONTOLOGY",
        script.display()
    );
    let model = crate::model::model_dir()?;
    let me = std::env::current_exe().context("cannot find this program to build the ontology with")?;
    eprintln!(
        "preparing the skill ontology (the first time: fetching ESCO and O*NET data and embedding ~27,000 labels, about two minutes)"
    );
    crate::model::run_setup(
        &script,
        "PERSONALIZATION_ONTOLOGY",
        &[
            ("PERSONALIZATION_EMBEDDING_MODEL", model.into_os_string()),
            ("PERSONALIZATION_ONTOLOGY_BUILDER", format!("{} build-ontology", me.display()).into()),
        ],
    )
}

/// Loads the ontology artifact (callers keep it for the life of the process).
pub fn load() -> Result<ontology::Ontology> {
    let path = artifact()?;
    ontology::Ontology::open(&path).with_context(|| format!("cannot load the ontology from {}", path.display()))
}

/// `personalize build-ontology ARGS`: what the `build_ontology` binary does.
pub fn build(args: Vec<String>) -> Result<()> {
    let (inputs, model, out) = ontology::build::parse_args(args).map_err(anyhow::Error::msg)?;
    let model = match model {
        Some(m) => m,
        None => crate::model::model_dir()?,
    };
    // The artifact must come out byte for byte the same from every build: one
    // plan for every batch (a plan specialised for a shape may round a last
    // bit differently, and which calls get one depends on the threads' timing).
    let embedder = embedding::Embedder::load(&model)?.with_threads(2).with_specialised_plans(0);
    let summary = ontology::build::build_artifact(&inputs, &embedder, &out)?;
    for note in &summary.notes {
        eprintln!("build-ontology: {note}");
    }
    eprintln!("build-ontology: {summary}");
    Ok(())
}
