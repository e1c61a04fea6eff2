//! Finds the embedding model, running the project's setup step on first use.

use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

/// `PERSONALIZATION_EMBEDDING_MODEL`, or the setup step's default folder, made
/// by `infra/scripts/setup_model.sh` if it is not there yet.
pub fn model_dir() -> Result<PathBuf> {
    if let Some(dir) = platform::optional("PERSONALIZATION_EMBEDDING_MODEL") {
        return Ok(PathBuf::from(dir));
    }
    let cache = platform::optional("PERSONALIZATION_CACHE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache/personalization")))
        .context("neither PERSONALIZATION_EMBEDDING_MODEL nor HOME is set")?;
    let default = cache.join("models/all-MiniLM-L6-v2");
    if default.join("manifest.json").is_file() {
        return Ok(default);
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../infra/scripts/setup_model.sh");
    anyhow::ensure!(
        script.is_file(),
        "the embedding model is not in {} and the setup script is not at {}; run infra/scripts/setup_model.sh \
         from the project and set PERSONALIZATION_EMBEDDING_MODEL",
        default.display(),
        script.display()
    );
    eprintln!("first start: fetching and preparing all-MiniLM-L6-v2 (one time, a few minutes)");
    run_setup(&script, "PERSONALIZATION_EMBEDDING_MODEL", &[])
}

/// Runs one of the project's set-up scripts (their progress on stderr) and
/// returns the path it names on stdout as `export VARIABLE=<path>`.
pub fn run_setup(script: &Path, variable: &str, env: &[(&str, std::ffi::OsString)]) -> Result<PathBuf> {
    let mut command = std::process::Command::new("bash");
    command.arg(script).stderr(std::process::Stdio::inherit());
    for (k, v) in env {
        command.env(k, v);
    }
    let out = command.output().with_context(|| format!("cannot run {}", script.display()))?;
    anyhow::ensure!(out.status.success(), "{} failed ({})", script.display(), out.status);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let prefix = format!("export {variable}=");
    let path = stdout
        .lines()
        .find_map(|l| l.strip_prefix(prefix.as_str()))
        .with_context(|| format!("{} did not name {variable}", script.display()))?;
    Ok(PathBuf::from(path.trim()))
}
