//! `personalize`: the engine on one machine, no cloud account. The same handlers
//! as the Lambda functions, wired to embedded adapters (files on disk, a redb
//! database for the table and the queues, no OCR).

mod chat;
mod local;
mod model;
mod reference;
mod trigger;
mod worker;

use anyhow::{Context, Result};
use api::{DocumentView, PagesView};
use clap::{Parser, Subcommand};
use domain::DocumentId;
use indicatif::{ProgressBar, ProgressStyle};
use local::Local;
use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Parser)]
#[command(name = "personalize", version, about = "Resume Personalization Engine, embedded on one machine")]
struct Cli {
    /// Where documents, text and the database live.
    #[arg(long, global = true, env = "PERSONALIZE_DATA_DIR", default_value = "./personalize-data")]
    data_dir: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP API and the background workers on 127.0.0.1.
    Serve {
        #[arg(long, default_value_t = 8080)]
        port: u16,
    },
    /// Upload local files (or every file in given folders) as the local user and
    /// run the pipeline until each reaches a terminal status. With no files,
    /// finishes work left pending by an earlier run.
    Ingest {
        paths: Vec<PathBuf>,
        /// One JSON object per document on stdout (the shape of GET /documents/{id}).
        #[arg(long)]
        json: bool,
    },
    /// Print a document's extracted text.
    Text {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// List the local user's documents, or correct one's kind.
    Documents {
        /// Set the kind of document ID to KIND (resume, cover_letter, job_description, certificate,
        /// transcript, reference_letter, other) as `PUT /documents/{id}` does: the document is read
        /// again as that kind and facts only the old kind gave are retracted. Prints the document.
        #[arg(long, num_args = 2, value_names = ["ID", "KIND"])]
        set_kind: Option<Vec<String>>,
        /// One JSON object per document (the shape of GET /documents/{id}).
        #[arg(long)]
        json: bool,
    },
    /// Semantic search over the local user's documents (what `GET /search` answers).
    Search {
        query: String,
        /// Number of hits (1 to 50).
        #[arg(short, long, default_value_t = 10)]
        k: usize,
        /// The JSON `GET /search` returns.
        #[arg(long)]
        json: bool,
    },
    /// The local user's merged profile: facts by kind with their sources.
    Knowledge {
        /// Exactly what `GET /knowledge` returns.
        #[arg(long)]
        json: bool,
    },
    /// Everything held about the local user as JSON (what `GET /export` returns).
    Export {
        /// Only the shareable profile, as a JSON Resume v1 document.
        #[arg(long)]
        json_resume: bool,
    },
    /// Look a skill up in the ontology (ESCO skills, O*NET technologies):
    /// what `GET /skills/search` answers.
    Skills {
        query: String,
        /// Results (1 to 50).
        #[arg(short, long, default_value_t = 10)]
        limit: usize,
        /// Only `esco` or `onet`.
        #[arg(long)]
        scheme: Option<String>,
        /// A sentence around the term, to choose between its meanings.
        #[arg(long)]
        context: Option<String>,
        /// Exactly what `GET /skills/search` returns.
        #[arg(long)]
        json: bool,
    },
    /// Occupations (O*NET-SOC and ESCO) for a job title written any way:
    /// what `GET /occupations/search` answers (top 5).
    Occupations {
        /// A job title (not with --mine).
        #[arg(required_unless_present = "mine")]
        query: Option<String>,
        /// The local user's likely occupations, from their titles and skills
        /// (what `GET /occupations/mine` answers).
        #[arg(long, conflicts_with = "query")]
        mine: bool,
        #[arg(short, long, default_value_t = 5)]
        limit: usize,
        #[arg(long)]
        scheme: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// The adaptive interview in the terminal: questions on stdout, answers
    /// from stdin (one line each; an empty line skips). Ends when the
    /// interview ends or stdin closes (the session can then be resumed).
    Chat {
        /// One JSON object per turn (what `POST /conversation/turn` answers).
        #[arg(long)]
        json: bool,
        /// Questions in the session (1 to 20).
        #[arg(long)]
        budget: Option<u32>,
        /// Resume this session instead of starting one.
        #[arg(long)]
        session: Option<String>,
    },
    /// The local user's insights: trajectory, hidden strengths, career paths
    /// and recommendations, each with its evidence.
    Insights {
        /// Exactly what `GET /insights` returns.
        #[arg(long)]
        json: bool,
    },
    /// Builds the ontology artifact (the set-up step calls this).
    #[command(hide = true)]
    BuildOntology {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Print a bearer token for the local user, for calling `serve`.
    Token {
        #[arg(long, default_value_t = 3600)]
        ttl_secs: u64,
    },
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(run(cli))
}

async fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Serve { port } => {
            platform::init_tracing();
            let local = Local::open(&cli.data_dir).await?;
            local.serve(port).await
        }
        Command::Ingest { paths, json } => ingest(&cli.data_dir, &paths, json).await,
        Command::Text { id, json } => {
            let local = Local::open(&cli.data_dir).await?;
            let id = DocumentId::parse(&id).context("ID is not a document id")?;
            let pages: PagesView = local.text(&id).await?;
            if json {
                println!("{}", serde_json::to_string(&pages)?);
            } else {
                for page in &pages.pages {
                    if pages.pages.len() > 1 {
                        println!("--- page {} ---", page.page);
                    }
                    println!("{}", page.text);
                }
            }
            Ok(())
        }
        Command::Documents { set_kind: Some(args), json } => {
            let [id, kind] = args.as_slice() else { anyhow::bail!("--set-kind takes a document id and a kind") };
            set_kind(&cli.data_dir, id, kind, json).await
        }
        Command::Documents { set_kind: None, json } => {
            let local = Local::open(&cli.data_dir).await?;
            for doc in local.documents().await? {
                print_document(&doc, None, json)?;
            }
            Ok(())
        }
        Command::Search { query, k, json } => {
            let local = Local::open(&cli.data_dir).await?;
            let response = match local.search(&query, k).await? {
                Ok(response) => response,
                Err(problem) => anyhow::bail!("{} ({})", problem.detail, problem.code),
            };
            if json {
                println!("{}", serde_json::to_string(&response)?);
            } else {
                print_hits(&response);
            }
            Ok(())
        }
        Command::Knowledge { json } => {
            let local = Local::open(&cli.data_dir).await?;
            let view = local.knowledge().await?;
            if json {
                println!("{}", serde_json::to_string(&view)?);
            } else {
                print_knowledge(&view);
            }
            Ok(())
        }
        Command::Export { json_resume } => {
            let local = Local::open(&cli.data_dir).await?;
            if json_resume {
                println!("{}", serde_json::to_string_pretty(&local.json_resume().await?)?);
            } else {
                let state = local.app_state()?;
                println!("{}", serde_json::to_string_pretty(&local.export(&state).await?)?);
            }
            Ok(())
        }
        Command::Skills { query, limit, scheme, context, json } => lookup(&query, limit, scheme, context, false, json),
        Command::Occupations { query: Some(query), limit, scheme, json, .. } => {
            lookup(&query, limit, scheme, None, true, json)
        }
        Command::Occupations { query: None, limit, json, .. } => {
            let local = Local::open(&cli.data_dir).await?;
            let mine = local.my_occupations(limit).await?;
            if json {
                println!("{}", serde_json::to_string(&mine)?);
            } else if mine.occupations.is_empty() {
                println!("no occupation found yet: ingest a résumé first");
            } else {
                for o in &mine.occupations {
                    println!("{:.2}  {:<11} {}", o.score, o.code, o.title);
                    if !o.supporting_titles.is_empty() {
                        println!("      titles: {}", o.supporting_titles.join("; "));
                    }
                    if !o.supporting_skills.is_empty() {
                        println!("      skills: {}", o.supporting_skills.join(", "));
                    }
                }
            }
            Ok(())
        }
        Command::Chat { json, budget, session } => chat::run(&cli.data_dir, json, budget, session).await,
        Command::Insights { json } => {
            let mut local = Local::open(&cli.data_dir).await?;
            // Work left by earlier runs (facts from a chat to embed) first.
            while local.pending_in(&[ports::QueueName::Embed]).await? > 0 {
                local.step_queues(&[ports::QueueName::Embed]).await?;
            }
            let latest = local.insights().await?;
            if json {
                println!("{}", serde_json::to_string(&latest)?);
            } else {
                chat::print_insights(&latest);
            }
            Ok(())
        }
        Command::BuildOntology { args } => reference::build(args),
        Command::Token { ttl_secs } => {
            println!("{}", local::token(&cli.data_dir, ttl_secs)?);
            Ok(())
        }
    }
}

/// `personalize skills` and `personalize occupations`.
fn lookup(
    query: &str,
    limit: usize,
    scheme: Option<String>,
    context: Option<String>,
    occupations: bool,
    json: bool,
) -> Result<()> {
    let params =
        api::ontology::LookupParams { q: Some(query.to_owned()), limit: Some(limit.to_string()), scheme, context };
    let checked = match api::ontology::validate(&params) {
        Ok(checked) => checked,
        Err(problem) => anyhow::bail!("{} ({})", problem.detail, problem.code),
    };
    let onto = reference::load()?;
    let embedder = embedding::Embedder::load(&model::model_dir()?)?;
    let response = api::ontology::lookup(&onto, &embedder, &checked, occupations)?;
    if json {
        println!("{}", serde_json::to_string(&response)?);
        return Ok(());
    }
    if response.results.is_empty() {
        println!("nothing found for {query:?}");
    }
    for hit in &response.results {
        let why = match hit.distance {
            Some(d) => format!("{} (distance {d})", hit.reason),
            None => hit.reason.clone(),
        };
        println!("{:.2}  {:<48} {}  [{}; matched {:?}, {why}]", hit.score, hit.id, hit.label, hit.kind, hit.matched);
    }
    for line in &response.attribution {
        eprintln!("{line}");
    }
    Ok(())
}

/// Files named on the command line, folders expanded (sorted, not recursive
/// into hidden entries).
fn expand(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
                .with_context(|| format!("cannot read folder {}", path.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')))
                .collect();
            entries.sort();
            files.extend(expand(&entries)?);
        } else if path.is_file() {
            files.push(path.clone());
        } else {
            anyhow::bail!("{} is not a file or a folder", path.display());
        }
    }
    Ok(files)
}

async fn ingest(data_dir: &Path, paths: &[PathBuf], json: bool) -> Result<()> {
    let files = expand(paths)?;
    let mut local = Local::open(data_dir).await?;
    local.enable_skill_mapping()?;
    let resumed = local.recover().await?;
    if resumed > 0 {
        eprintln!("resuming {resumed} pending message(s) from an earlier run");
    }
    let bar = ProgressBar::new(files.len() as u64 * 2);
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );

    let mut accepted: Vec<(DocumentId, PathBuf)> = Vec::new();
    let mut rejected = 0usize;
    for file in &files {
        bar.set_message(format!("uploading {}", file.display()));
        match local.upload_file(file).await? {
            Ok(record) => accepted.push((record.document_id, file.clone())),
            Err(problem) => {
                rejected += 1;
                bar.inc(1);
                bar.suspend(|| print_rejection(file, &problem, json))?;
            }
        }
        bar.inc(1);
    }

    let mut pending: HashSet<DocumentId> = accepted.iter().map(|(id, _)| *id).collect();
    bar.set_message("extracting text, classifying, extracting facts and embedding");
    let mut stdout = std::io::stdout().lock();
    // Work until every document of this run is terminal and nothing is queued
    // (which also finishes work left by an earlier run).
    loop {
        let handled = local.step().await?;
        let mut done = Vec::new();
        for id in &pending {
            // Done when terminal and, with text, embedded and its facts
            // extracted (or failed on the way).
            if let Some(doc) = local.document(id).await?
                && doc.status.is_terminal()
                && (doc.status != domain::DocumentStatus::TextExtracted
                    || (doc.chunks.is_some() && doc.facts.is_some()))
            {
                done.push((*id, doc));
            }
        }
        for (id, doc) in done {
            pending.remove(&id);
            bar.inc(1);
            let file = accepted.iter().find(|(d, _)| *d == id).map(|(_, f)| f.as_path());
            let facts = local.facts_of(&id).await?;
            bar.suspend(|| print_ingested(&mut stdout, &doc, &facts, file, json))?;
        }
        if pending.is_empty() && local.pending_messages().await? == 0 {
            break;
        }
        if handled == 0 {
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    }
    bar.finish_and_clear();
    if !json {
        eprintln!("{} accepted, {} rejected", accepted.len(), rejected);
    }
    Ok(())
}

/// `documents --set-kind ID KIND`: what `PUT /documents/{id}` does, then the
/// re-extraction it queued (and the work it leads to) run to the end.
async fn set_kind(data_dir: &Path, id: &str, kind: &str, json: bool) -> Result<()> {
    let kind = domain::DocumentKind::parse_settable(kind)?;
    let mut local = Local::open(data_dir).await?;
    local.enable_skill_mapping()?;
    local.recover().await?;
    let state = local.app_state()?;
    let doc = match api::documents::set_kind(&state, local.user(), id, kind).await {
        Ok(doc) => doc,
        Err(e) => {
            let problem = e.to_problem();
            anyhow::bail!("{} ({})", problem.detail, problem.code)
        }
    };
    while local.pending_messages().await? > 0 {
        if local.step().await? == 0 {
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    }
    let view = local.document(&doc.document_id).await?.context("the document disappeared")?;
    print_document(&view, None, json)
}

fn print_document(doc: &DocumentView, file: Option<&Path>, json: bool) -> Result<()> {
    print_document_to(&mut std::io::stdout().lock(), doc, file, json)
}

fn print_document_to(out: &mut impl Write, doc: &DocumentView, file: Option<&Path>, json: bool) -> Result<()> {
    if json {
        writeln!(out, "{}", serde_json::to_string(doc)?)?;
    } else {
        let reason = doc.reason.as_ref().map(|r| format!(" ({}: {})", r.code, r.detail)).unwrap_or_default();
        let mut summary = match (doc.pages, doc.text_chars) {
            (Some(p), Some(c)) => format!(", {p} page(s), {c} characters"),
            _ => String::new(),
        };
        if let Some(chunks) = doc.chunks {
            summary.push_str(&format!(", {chunks} chunk(s)"));
        }
        if let Some(facts) = doc.facts {
            summary.push_str(&format!(", {facts} fact(s)"));
        }
        if doc.kind_source == domain::KindSource::User {
            summary.push_str(&format!(", {} (set by the user)", doc.kind));
        } else if doc.kind != domain::DocumentKind::Unclassified {
            summary.push_str(&format!(", {} ({:.2})", doc.kind, doc.confidence.unwrap_or(0.0)));
        }
        let name = file.map(|f| f.display().to_string()).unwrap_or_else(|| doc.filename.clone());
        writeln!(out, "{}  {}  {}{}{}", doc.document_id, doc.status, name, summary, reason)?;
    }
    out.flush()?;
    Ok(())
}

/// A document of this run with the facts it states.
fn print_ingested(
    out: &mut impl Write,
    doc: &DocumentView,
    facts: &[api::knowledge::FactView],
    file: Option<&Path>,
    json: bool,
) -> Result<()> {
    if json {
        let mut value = serde_json::to_value(doc)?;
        value["facts"] = serde_json::to_value(facts)?;
        writeln!(out, "{value}")?;
        return Ok(out.flush()?);
    }
    print_document_to(out, doc, file, false)?;
    for fact in facts {
        writeln!(out, "    {:<14} {}", fact.kind.as_str(), fact.summary)?;
    }
    Ok(out.flush()?)
}

/// The merged profile, one section per kind.
fn print_knowledge(view: &api::KnowledgeView) {
    for (kind, facts) in &view.facts {
        println!("{} ({})", kind.as_str(), facts.len());
        for fact in facts {
            let sources = fact.sources.len();
            let edited = if fact.user_edited { ", edited" } else { "" };
            let private = if fact.visibility == facts::model::Visibility::Private { ", private" } else { "" };
            println!("  {}  [{sources} source(s){edited}{private}, id {}]", fact.summary, fact.id);
        }
    }
    println!(
        "completeness {:.0}%{}",
        view.completeness.score * 100.0,
        if view.completeness.missing.is_empty() {
            String::new()
        } else {
            format!("; missing: {}", view.completeness.missing.join(", "))
        }
    );
}

fn print_hits(response: &api::SearchResponse) {
    if response.hits.is_empty() {
        println!("no matches for {:?}", response.query);
    }
    for (rank, hit) in response.hits.iter().enumerate() {
        match &hit.source {
            ports::HitSource::Chunk { document_id, page, char_start, char_end, text, .. } => {
                let snippet: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
                let snippet: String = snippet.chars().take(160).collect();
                println!(
                    "{:>2}. {:.3}  {document_id} p.{page} [{char_start}..{char_end}]  {snippet}",
                    rank + 1,
                    hit.score
                );
            }
            ports::HitSource::Fact { fact_id } => println!("{:>2}. {:.3}  fact {fact_id}", rank + 1, hit.score),
        }
    }
}

fn print_rejection(file: &Path, problem: &api::Problem, json: bool) -> Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        let value = serde_json::json!({
            "file": file.display().to_string(),
            "status": "rejected",
            "reason": { "code": problem.code, "detail": problem.detail },
        });
        writeln!(out, "{value}")?;
    } else {
        writeln!(out, "-  rejected  {}  ({}: {})", file.display(), problem.code, problem.detail)?;
    }
    Ok(())
}
