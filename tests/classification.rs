//! Zero-shot document kinds with the real model, on documents made here (PDF,
//! DOCX and TXT, read back through the same text extraction classify uses):
//! one per kind, and an ambiguous one that must come out `other` with its
//! scores kept.

use classify::KindClassifier;
use domain::{ContentType, DocumentKind, PageText};
use integration_tests::fixtures;
use std::sync::{Arc, OnceLock};

fn classifier() -> &'static KindClassifier {
    static CLASSIFIER: OnceLock<KindClassifier> = OnceLock::new();
    CLASSIFIER.get_or_init(|| {
        let embedder = Arc::new(embedding::Embedder::load(&fixtures::model_dir()).expect("model"));
        KindClassifier::new(embedder).expect("label embeddings")
    })
}

fn lines(text: &str) -> Vec<String> {
    text.lines().map(str::trim).filter(|l| !l.is_empty()).map(String::from).collect()
}

fn from_pdf(text: &str) -> Vec<PageText> {
    let bytes = fixtures::pdf(&[lines(text)]);
    documents::extract_text(ContentType::Pdf, &bytes).expect("pdf text")
}

fn from_docx(text: &str) -> Vec<PageText> {
    let paragraphs = lines(text);
    let refs: Vec<&str> = paragraphs.iter().map(String::as_str).collect();
    let bytes = fixtures::docx(&refs, &[]);
    documents::extract_text(ContentType::Docx, &bytes).expect("docx text")
}

fn from_txt(text: &str) -> Vec<PageText> {
    documents::extract_text(ContentType::Txt, text.as_bytes()).expect("txt text")
}

const RESUME: &str = "Priya Raman
priya.raman@example.org | +1 415 555 0134 | linkedin.com/in/priyaraman
Summary
Product-minded backend engineer with eight years in payments.
Experience
Staff Engineer, Northwind Payments, March 2021 - Present
Led the ledger rewrite that cut reconciliation errors by 92%.
Software Engineer, Contoso Bank, 2016 - 2021
Built the card authorisation service handling 3,000 requests per second.
Education
BEng Software Engineering, University of Waterloo, 2016
Skills
Java, Kotlin, PostgreSQL, Kafka, AWS";

const COVER_LETTER: &str = "Dear Hiring Manager,
I am writing to apply for the Senior Data Analyst position at Fabrikam.
For the past five years I have turned messy sales data into decisions at Tailspin Toys,
and I would welcome the chance to bring the same curiosity to your analytics team.
Your company's focus on sustainable retail is what draws me to this role.
Thank you for your consideration. I look forward to hearing from you.
Sincerely,
Marco Bianchi";

const JOB_DESCRIPTION: &str = "Senior Site Reliability Engineer (Remote)
About the role
We are looking for an experienced SRE to keep our platform fast and available.
Responsibilities
Own the reliability of services running on Kubernetes across three regions.
Build automation for incident response and capacity planning.
Requirements
5+ years operating production systems; strong Linux and networking skills.
Experience with Terraform and Prometheus.
Nice to have
Go or Rust; on-call leadership.
Benefits
Equity, learning budget and 30 days of holiday.";

const CERTIFICATE: &str = "Certificate of Completion
This is to certify that
Amina Yusuf
has successfully completed the course
Applied Machine Learning with Python
issued by the Open Learning Institute on 12 May 2024
Credential ID: OLI-AML-558213";

const TRANSCRIPT: &str = "Official Academic Transcript
University of Northbridge - Office of the Registrar
Student: Liam O'Connor    Programme: BSc Economics
Term: Fall 2021
Course Code  Course Title                 Credits  Grade
ECON 101     Principles of Microeconomics  4        A
MATH 140     Calculus I                     4        B+
Term: Spring 2022
ECON 102     Principles of Macroeconomics  4        A-
STAT 200     Statistics for Economists      3        A
Semester GPA 3.78   Cumulative GPA 3.74   Credits earned 15";

const REFERENCE_LETTER: &str = "To whom it may concern,
I have known Sofia Herrera for six years, four of them as her manager at Litware Labs.
Sofia worked with me on our most demanding customer projects and consistently exceeded expectations.
She is a patient mentor, a careful engineer and a trusted colleague.
I recommend her without reservation for any senior engineering role.
Please contact me if you need further information.
Dr. Alan Ortiz, Head of Engineering, Litware Labs";

const INVOICE: &str = "INVOICE #2024-0113
Bill to: Adventure Works Ltd, 1 Harbour Street, Bristol
Date: 3 January 2024   Payment due: 2 February 2024
Description                 Quantity   Unit price   Amount
Consulting services, December   12         150.00     1,800.00
Travel expenses                  1          220.00       220.00
Subtotal 2,020.00   VAT 20% 404.00   Total amount due 2,424.00 GBP";

#[test]
fn one_document_per_kind_is_named_with_confidence() {
    let cases: Vec<(&str, Vec<PageText>, DocumentKind)> = vec![
        ("resume.pdf", from_pdf(RESUME), DocumentKind::Resume),
        ("cover_letter.docx", from_docx(COVER_LETTER), DocumentKind::CoverLetter),
        ("job_description.txt", from_txt(JOB_DESCRIPTION), DocumentKind::JobDescription),
        ("certificate.pdf", from_pdf(CERTIFICATE), DocumentKind::Certificate),
        ("transcript.pdf", from_pdf(TRANSCRIPT), DocumentKind::Transcript),
        ("reference_letter.docx", from_docx(REFERENCE_LETTER), DocumentKind::ReferenceLetter),
        ("invoice.pdf", from_pdf(INVOICE), DocumentKind::Other),
    ];
    let mut wrong = Vec::new();
    for (name, pages, expected) in &cases {
        assert!(!pages.is_empty() && !pages[0].text.trim().is_empty(), "{name} has text");
        let judgement = classifier().classify(pages).expect("classify");
        let total: f32 = judgement.scores.values().sum();
        assert!((total - 1.0).abs() < 1e-3, "{name}: scores are probabilities, sum {total}");
        assert_eq!(judgement.scores.len(), 7, "{name}: every kind scored");
        if judgement.kind != *expected || judgement.confidence < classify::kind::CONFIDENCE_THRESHOLD {
            wrong.push(format!("{name}: expected {expected:?}, got {judgement:?}"));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn unclear_documents_are_other_with_their_scores_kept() {
    for text in ["", "   \n  ", "Lorem ipsum dolor sit amet.", "12 34 56 78 90"] {
        let judgement = classifier().classify(&from_txt_or_empty(text)).expect("classify");
        assert_eq!(judgement.kind, DocumentKind::Other, "{text:?}: {judgement:?}");
        assert_eq!(judgement.scores.len(), 7);
    }
}

fn from_txt_or_empty(text: &str) -> Vec<PageText> {
    if text.trim().is_empty() { vec![PageText { page: 1, text: text.to_owned() }] } else { from_txt(text) }
}

/// Letters and postings in five languages: a letter speaks as "I" to a reader
/// and signs off; a posting speaks of "you" and "we", lists tasks and requirements.
const VOICES: &[(&str, &str, DocumentKind)] = &[
    (
        "es letter",
        "Estimado equipo de selección:\nMe dirijo a ustedes para presentar mi candidatura al puesto de analista de datos. Durante cuatro años he trabajado en Empresa Ejemplo, donde automaticé los informes mensuales.\nMe encantaría aportar mi experiencia a su equipo.\nAtentamente,\nLucía Gómez",
        DocumentKind::CoverLetter,
    ),
    (
        "es posting",
        "Buscamos Desarrollador/a Backend\nResponsabilidades:\n- Diseñar y mantener APIs en Java.\n- Colaborar con el equipo de producto.\nRequisitos:\n- 3 años de experiencia con Spring.\n- Inglés intermedio.\nOfrecemos: trabajo remoto, formación y salario competitivo.",
        DocumentKind::JobDescription,
    ),
    (
        "pt letter",
        "Prezados,\nVenho por meio desta apresentar minha candidatura à vaga de engenheiro de dados. Nos últimos três anos trabalhei na Empresa Exemplo, onde reduzi o tempo de processamento dos relatórios.\nFico à disposição para uma entrevista.\nAtenciosamente,\nJoão Silva",
        DocumentKind::CoverLetter,
    ),
    (
        "pt posting",
        "Vaga: Analista de Dados Pleno\nResponsabilidades:\n- Construir painéis e relatórios.\n- Apoiar as áreas de negócio.\nRequisitos:\n- SQL avançado e Python.\nOferecemos: vale-refeição, plano de saúde e horário flexível.",
        DocumentKind::JobDescription,
    ),
    (
        "fr letter",
        "Madame, Monsieur,\nJe me permets de vous adresser ma candidature au poste de développeuse web. Depuis trois ans, je conçois des applications pour une agence lyonnaise et j'ai mené la refonte de son site.\nJe vous prie d'agréer, Madame, Monsieur, mes salutations distinguées.\nClaire Martin",
        DocumentKind::CoverLetter,
    ),
    (
        "fr posting",
        "Nous recherchons un(e) ingénieur(e) DevOps\nVos missions :\n- Automatiser les déploiements.\n- Surveiller la production.\nProfil recherché :\n- Expérience avec Kubernetes et Terraform.\nNous offrons : télétravail partiel, tickets restaurant, mutuelle.",
        DocumentKind::JobDescription,
    ),
    (
        "de letter",
        "Sehr geehrte Damen und Herren,\nhiermit bewerbe ich mich um die Stelle als Softwareentwickler. In meiner bisherigen Tätigkeit bei der Beispiel GmbH habe ich eine Plattform für 200 Kunden entwickelt.\nÜber eine Einladung zum Vorstellungsgespräch freue ich mich sehr.\nMit freundlichen Grüßen\nLukas Weber",
        DocumentKind::CoverLetter,
    ),
    (
        "de posting",
        "Wir suchen eine:n Data Engineer (m/w/d)\nIhre Aufgaben:\n- Aufbau von Datenpipelines\n- Betrieb unserer Cloud-Plattform\nIhr Profil:\n- Erfahrung mit Python und SQL\nWir bieten: flexible Arbeitszeiten, 30 Tage Urlaub und ein tolles Team.",
        DocumentKind::JobDescription,
    ),
    (
        "en letter naming requirements",
        "Dear Ms Patel,\nYour posting asks for someone who can lead a data team and meet demanding requirements. I have led a team of six analysts at Contoso for three years, and I meet each of the qualifications you list.\nI would welcome the chance to discuss the role with you.\nKind regards,\nSam Okafor",
        DocumentKind::CoverLetter,
    ),
];

#[test]
fn letters_and_postings_are_told_apart_by_voice_in_five_languages() {
    let mut wrong = Vec::new();
    for (name, text, expected) in VOICES {
        let judgement = classifier().classify(&from_txt(text)).expect("classify");
        if judgement.kind != *expected {
            wrong.push(format!("{name}: expected {expected:?}, got {:?} {:?}", judgement.kind, judgement.scores));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn a_document_named_another_kind_with_a_substantial_resume_score_still_gives_resume_facts() {
    use facts::extract::Doc;
    let pages = from_pdf(RESUME);
    let doc = Doc::new(domain::DocumentId::new(), &pages, "2026-12-05T00:00:00Z");
    let lexicon = facts::lexicon::BuiltinLexicon::get();
    let jobs = |found: &[facts::extract::Found]| {
        found.iter().filter(|f| matches!(f.fact.value, facts::model::FactValue::Job(_))).count()
    };
    assert_eq!(jobs(&facts::extract_scored(DocumentKind::Other, Some(0.1), &doc, lexicon)), 0);
    let read = facts::extract_scored(DocumentKind::Other, Some(0.45), &doc, lexicon);
    assert_eq!(jobs(&read), 2);
    let full = facts::extract_scored(DocumentKind::Resume, Some(0.45), &doc, lexicon);
    // Kept, at lower confidence than when the document is named a résumé.
    let confidence = |found: &[facts::extract::Found]| {
        found
            .iter()
            .find(|f| matches!(f.fact.value, facts::model::FactValue::Job(_)))
            .map(|f| f.fact.provenance.confidence)
    };
    assert!(confidence(&read) < confidence(&full), "{:?} {:?}", confidence(&read), confidence(&full));
}
