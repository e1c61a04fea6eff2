//! The embedded wiring: one data dir, one process.

use crate::trigger::NotifyingBlobStore;
use crate::worker;
use anyhow::{Context, Result};
use api::auth::{JwtConfig, KeySource, Secret};
use api::{AppState, DocumentView, JwtVerifier, PagesView, Problem};
use bytes::Bytes;
use classify::{Classifier, KindClassifier};
use domain::{DocumentId, DocumentRecord, DocumentStatus, Limits, PageText, UserId};
use embed::EmbedService;
use embedded::{EmbeddedDb, FsBlobStore, RedbQueue, RedbTableStore, RedbVectorStore};
use extract::ExtractService;
use facts::lexicon::BuiltinLexicon;
use ports::{BlobStore, NoOcr, Ports, QueueConsumer, QueueName, TextEmbedder, VectorStore};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use store::{DocumentRepo, keys};
use upload::UploadService;

/// Issuer and audience of the tokens the local runner mints and accepts.
pub const LOCAL_ISSUER: &str = "personalize-local";
pub const LOCAL_AUDIENCE: &str = "personalization";
/// Receives before a message goes to the DLQ (as `MaxReceiveCount` on AWS).
pub const MAX_RECEIVES: u32 = 4;

pub struct Local {
    ports: Ports,
    queue: Arc<RedbQueue>,
    notifier: Arc<NotifyingBlobStore>,
    classifier: Classifier,
    embedder: Arc<dyn TextEmbedder>,
    vectors: Arc<dyn VectorStore>,
    embed: EmbedService,
    extract: ExtractService,
    knowledge: store::KnowledgeRepo,
    insight: Arc<insight::InsightService>,
    conversation: Arc<converse::ConversationService>,
    uploads: UploadService,
    documents: DocumentRepo,
    user: UserId,
    secret: Vec<u8>,
}

impl Local {
    /// Opens (or creates) the data dir and loads the embedding model (set up on
    /// first start). Only one process may hold the data dir.
    pub async fn open(data_dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(data_dir).with_context(|| format!("cannot create {}", data_dir.display()))?;
        let chunking = platform::chunk_config()?;
        let model = crate::model::model_dir()?;
        let embedder = embedding::Embedder::load(&model)?.with_max_tokens(chunking.size)?;
        let embedder: Arc<dyn TextEmbedder> = Arc::new(embedder);
        let kinds = Arc::new(KindClassifier::new(embedder.clone())?);
        let db = EmbeddedDb::open(data_dir)?;
        let vectors: Arc<dyn VectorStore> = Arc::new(RedbVectorStore::new(db.clone()));
        let queue = Arc::new(RedbQueue::new(db.clone(), MAX_RECEIVES));
        let files: Arc<dyn BlobStore> = Arc::new(FsBlobStore::new(data_dir));
        let notifier = Arc::new(NotifyingBlobStore::new(files, queue.clone()));
        let ports = Ports {
            blobs: notifier.clone(),
            queue: queue.clone(),
            table: Arc::new(RedbTableStore::new(db)),
            ocr: Arc::new(NoOcr),
        };
        let user = local_user()?;
        let secret = signing_secret(data_dir)?;
        let limits = Limits::default();
        Ok(Self {
            classifier: Classifier::new(ports.clone(), limits, MAX_RECEIVES).with_kinds(kinds),
            embed: EmbedService::new(ports.clone(), vectors.clone(), embedder.clone(), chunking, MAX_RECEIVES),
            extract: ExtractService::new(ports.clone(), BuiltinLexicon::shared(), MAX_RECEIVES),
            knowledge: store::KnowledgeRepo::new(ports.table.clone()),
            insight: Arc::new(insight::InsightService::new(ports.table.clone(), ports.queue.clone(), MAX_RECEIVES)),
            conversation: Arc::new(converse::ConversationService::new(
                ports.table.clone(),
                ports.queue.clone(),
                BuiltinLexicon::shared(),
            )),
            embedder,
            vectors,
            uploads: UploadService::new(ports.clone(), limits),
            documents: DocumentRepo::new(ports.table.clone()),
            ports,
            queue,
            notifier,
            user,
            secret,
        })
    }

    /// Makes work abandoned by a crash visible again: in-flight messages, and
    /// objects stored under `raw/` whose notification was never enqueued.
    /// Returns how many messages are pending.
    pub async fn recover(&self) -> Result<usize> {
        self.queue.recover_in_flight().await?;
        let pending = self.queue.depth(QueueName::Classify).await?;
        if pending == 0 {
            for key in self.ports.blobs.list("raw/").await? {
                let Some((user, doc)) = keys::parse_raw_object(&key) else { continue };
                if let Some(record) = self.documents.get(&user, &doc).await?
                    && record.status == DocumentStatus::Uploaded
                {
                    self.notifier.notify(&key, record.size_bytes).await?;
                }
            }
        }
        Ok(self.queue.depth(QueueName::Classify).await?)
    }

    /// Uploads one file as the local user through the same service as the API.
    pub async fn upload_file(&self, path: &Path) -> Result<std::result::Result<DocumentRecord, Problem>> {
        let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        match self.uploads.upload(&self.user, &name, Bytes::from(bytes)).await {
            Ok(record) => Ok(Ok(record)),
            Err(upload::UploadError::Rejected(r)) => Ok(Err(upload::UploadError::Rejected(r).to_problem())),
            Err(upload::UploadError::Quota(q)) => Ok(Err(upload::UploadError::Quota(q).to_problem())),
            Err(other) => Err(other.into()),
        }
    }

    fn stages(&self) -> worker::Stages<'_> {
        worker::Stages {
            classify: &self.classifier,
            extract: &self.extract,
            embed: &self.embed,
            insight: &self.insight,
        }
    }

    /// Receives and processes one batch from each stage's queue.
    pub async fn step(&self) -> Result<usize> {
        Ok(worker::step(self.queue.as_ref(), &self.stages(), &worker::ALL).await?)
    }

    /// One batch from `queues` only.
    pub async fn step_queues(&self, queues: &[QueueName]) -> Result<usize> {
        Ok(worker::step(self.queue.as_ref(), &self.stages(), queues).await?)
    }

    /// Messages waiting in (or in flight on) the stage queues.
    pub async fn pending_messages(&self) -> Result<usize> {
        self.pending_in(&worker::ALL).await
    }

    pub async fn pending_in(&self, queues: &[QueueName]) -> Result<usize> {
        let mut pending = 0;
        for &queue in queues {
            pending += self.queue.depth(queue).await?;
        }
        Ok(pending)
    }

    /// The interview service, as the local user's.
    pub fn conversation(&self) -> &converse::ConversationService {
        &self.conversation
    }

    pub fn user(&self) -> &UserId {
        &self.user
    }

    /// The local user's latest insights (what `GET /insights` answers):
    /// regenerated first when the knowledge changed since.
    pub async fn insights(&mut self) -> Result<store::InsightVersion> {
        self.enable_skill_mapping()?;
        Ok(insight::routes::latest(&self.insight, &self.user).await?)
    }

    /// The local user's knowledge graph as `GET /knowledge` shows it.
    pub async fn knowledge(&self) -> Result<api::KnowledgeView> {
        Ok(api::knowledge::knowledge_view(&self.knowledge.load(&self.user).await?))
    }

    /// The facts a document states (those with a source in it).
    pub async fn facts_of(&self, document: &DocumentId) -> Result<Vec<api::knowledge::FactView>> {
        let knowledge = self.knowledge.load(&self.user).await?;
        let view = api::knowledge::knowledge_view(&knowledge);
        Ok(view
            .facts
            .into_values()
            .flatten()
            .filter(|f| {
                f.sources.iter().any(
                    |s| matches!(&s.source, facts::model::Source::Document { document_id, .. } if document_id == document),
                )
            })
            .collect())
    }

    /// The local user's public profile as a JSON Resume document.
    /// The local user's likely occupations (what `GET /occupations/mine` answers).
    pub async fn my_occupations(&self, limit: usize) -> Result<api::ontology::MyOccupations> {
        let knowledge = self.knowledge.load(&self.user).await?;
        let onto = crate::reference::load()?;
        Ok(api::ontology::my_occupations(&onto, self.embedder.as_ref(), &knowledge, limit)?)
    }

    pub async fn json_resume(&self) -> Result<serde_json::Value> {
        Ok(api::knowledge::json_resume(&self.knowledge.load(&self.user).await?))
    }

    /// Everything held about the local user (what `GET /export` answers).
    pub async fn export(&self, state: &AppState) -> Result<api::knowledge::Export> {
        api::knowledge::export(state, &self.user).await.map_err(|p| anyhow::anyhow!("{} ({})", p.detail, p.code))
    }

    /// The app state for the API routes, with the local verifier.
    pub fn app_state(&self) -> Result<AppState> {
        let config = JwtConfig {
            issuer: platform::optional("JWT_ISSUER").unwrap_or_else(|| LOCAL_ISSUER.into()),
            audience: platform::optional("JWT_AUDIENCE").unwrap_or_else(|| LOCAL_AUDIENCE.into()),
            keys: KeySource::Hs256(Secret::new(self.secret.clone())),
        };
        Ok(AppState::new(self.ports.clone(), Arc::new(JwtVerifier::new(&config)?), Limits::default()))
    }

    /// Semantic search over the local user's chunks and facts (what `GET /search` answers).
    pub async fn search(&self, query: &str, k: usize) -> Result<std::result::Result<api::SearchResponse, Problem>> {
        let params = api::search::SearchParams { q: Some(query.to_owned()), k: Some(k.to_string()) };
        let (q, k) = match api::search::validate(&params) {
            Ok(valid) => valid,
            Err(problem) => return Ok(Err(problem)),
        };
        Ok(api::search::search(self.embedder.clone(), self.vectors.as_ref(), &self.user, q, k).await)
    }

    pub async fn document(&self, id: &DocumentId) -> Result<Option<DocumentView>> {
        Ok(self.documents.get(&self.user, id).await?.as_ref().map(DocumentView::from))
    }

    pub async fn documents(&self) -> Result<Vec<DocumentView>> {
        Ok(self.documents.list(&self.user).await?.iter().map(DocumentView::from).collect())
    }

    pub async fn text(&self, id: &DocumentId) -> Result<PagesView> {
        let doc = self.documents.get(&self.user, id).await?.context("no such document")?;
        anyhow::ensure!(
            doc.status == DocumentStatus::TextExtracted,
            "the document's status is {}{}",
            doc.status,
            doc.reason.map(|r| format!(" ({r})")).unwrap_or_default()
        );
        let bytes = self.ports.blobs.get(&keys::text_object(&self.user, id)).await?;
        let pages: Vec<PageText> = serde_json::from_slice(&bytes)?;
        Ok(PagesView { document_id: *id, pages })
    }

    /// The HTTP API and the workers until Ctrl-C.
    /// Maps skill facts to the ontology from now on (ingest and serve; the
    /// artifact is built on first use).
    pub fn enable_skill_mapping(&mut self) -> Result<Arc<ontology::Ontology>> {
        let onto = Arc::new(crate::reference::load()?);
        self.extract.set_ontology(onto.clone(), self.embedder.clone());
        self.insight.set_ontology(onto.clone(), self.embedder.clone());
        Ok(onto)
    }

    pub async fn serve(mut self, port: u16) -> Result<()> {
        let onto = self.enable_skill_mapping()?;
        let state = self.app_state()?;
        let verifier = state.verifier.clone();
        let search = api::SearchState { verifier, embedder: self.embedder.clone(), vectors: self.vectors.clone() };
        let reference = api::OntologyState {
            verifier: state.verifier.clone(),
            ontology: onto,
            embedder: self.embedder.clone(),
            knowledge: Some(self.knowledge.clone()),
        };
        let insights = insight::InsightState { verifier: state.verifier.clone(), service: self.insight.clone() };
        let conversations =
            converse::ConversationState { verifier: state.verifier.clone(), service: self.conversation.clone() };
        let router = upload::router(state.clone())
            .merge(axum::Router::new().nest(api::API_PREFIX, converse::conversation_routes().with_state(conversations)))
            .merge(axum::Router::new().nest(api::API_PREFIX, insight::insight_routes().with_state(insights)))
            .merge(axum::Router::new().nest(api::API_PREFIX, api::search_routes().with_state(search)))
            .merge(axum::Router::new().nest(api::API_PREFIX, api::knowledge_routes().with_state(state)))
            .merge(axum::Router::new().nest(api::API_PREFIX, api::ontology_routes().with_state(reference)));
        let pending = self.recover().await?;
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .with_context(|| format!("cannot listen on 127.0.0.1:{port}"))?;
        let address = listener.local_addr()?;
        tracing::info!(%address, pending, "serving");
        eprintln!("listening on http://{address}/api/v1/personalization/ ({pending} pending message(s))");

        let worker = tokio::spawn(async move {
            loop {
                match worker::step(self.queue.as_ref(), &self.stages(), &worker::ALL).await {
                    Ok(0) => tokio::time::sleep(Duration::from_millis(200)).await,
                    Ok(_) => {}
                    Err(e) => {
                        tracing::error!(error = %e, "worker step failed");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            }
        });
        axum::serve(listener, router)
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await?;
        worker.abort();
        Ok(())
    }
}

/// The local user: `PERSONALIZE_USER`, or `local`.
pub fn local_user() -> Result<UserId> {
    let raw = platform::optional("PERSONALIZE_USER").unwrap_or_else(|| "local".into());
    UserId::parse(&raw).context("PERSONALIZE_USER is not a valid user id")
}

/// The HS256 secret `serve` verifies with: `JWT_HS256_SECRET`, or one kept in the data dir.
pub fn signing_secret(data_dir: &Path) -> Result<Vec<u8>> {
    match platform::optional("JWT_HS256_SECRET") {
        Some(s) => Ok(s.into_bytes()),
        None => local_secret(data_dir),
    }
}

/// A bearer token for the local user. Needs no database, so it works while
/// `serve` owns the data dir.
pub fn token(data_dir: &Path, ttl_secs: u64) -> Result<String> {
    std::fs::create_dir_all(data_dir).with_context(|| format!("cannot create {}", data_dir.display()))?;
    let secret = signing_secret(data_dir)?;
    let user = local_user()?;
    let issuer = platform::optional("JWT_ISSUER").unwrap_or_else(|| LOCAL_ISSUER.into());
    let audience = platform::optional("JWT_AUDIENCE").unwrap_or_else(|| LOCAL_AUDIENCE.into());
    Ok(api::auth::mint_hs256(&secret, &issuer, &audience, user.as_str(), ttl_secs))
}

/// A random HS256 secret kept in the data dir, made on first use.
fn local_secret(data_dir: &Path) -> Result<Vec<u8>> {
    let path = data_dir.join("jwt-secret");
    if let Ok(existing) = std::fs::read(&path)
        && existing.len() >= 32
    {
        return Ok(existing);
    }
    let secret = format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
    std::fs::write(&path, &secret).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(secret.into_bytes())
}
