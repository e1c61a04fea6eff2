//! One test per class of reading defect seen on third-party documents (issue
//! 18), each on documents built here (PDF and DOCX, plain text, Markdown):
//! the text is extracted as uploads are, then read as a résumé.

use domain::{ContentType, DocumentId, DocumentKind, PageText};
use facts::extract::Doc;
use facts::lexicon::BuiltinLexicon;
use facts::model::{ContactKind, FactValue, Job};
use integration_tests::fixtures;

fn pages(content_type: ContentType, bytes: &[u8]) -> Vec<PageText> {
    documents::extract_text(content_type, bytes).expect("text")
}

fn read(pages: &[PageText]) -> Vec<FactValue> {
    let doc = Doc::new(DocumentId::new(), pages, "2026-12-05T00:00:00Z");
    facts::extract_document(DocumentKind::Resume, &doc, BuiltinLexicon::get())
        .into_iter()
        .map(|f| f.fact.value)
        .collect()
}

fn pdf_lines(lines: &[&str]) -> Vec<FactValue> {
    read(&pages(ContentType::Pdf, &fixtures::pdf(&[lines.iter().map(|l| (*l).to_owned()).collect()])))
}

fn docx_lines(lines: &[&str]) -> Vec<FactValue> {
    read(&pages(ContentType::Docx, &fixtures::docx(lines, &[])))
}

fn txt(text: &str) -> Vec<FactValue> {
    read(&pages(ContentType::Txt, text.as_bytes()))
}

fn jobs(facts: &[FactValue]) -> Vec<&Job> {
    facts.iter().filter_map(|f| if let FactValue::Job(j) = f { Some(j) } else { None }).collect()
}

fn name(facts: &[FactValue]) -> Option<&str> {
    facts.iter().find_map(|f| match f {
        FactValue::Contact(c) if c.kind == ContactKind::Name => Some(c.value.as_str()),
        _ => None,
    })
}

fn skills(facts: &[FactValue]) -> Vec<String> {
    facts.iter().filter_map(|f| if let FactValue::Skill(s) = f { Some(s.name.to_lowercase()) } else { None }).collect()
}

fn statements(facts: &[FactValue]) -> Vec<&str> {
    facts
        .iter()
        .filter_map(|f| match f {
            FactValue::Achievement(s) | FactValue::Responsibility(s) => Some(s.text.as_str()),
            _ => None,
        })
        .collect()
}

fn summary(j: &Job) -> (String, Option<String>, Option<String>, Option<String>, bool) {
    let d = j.dates.as_ref();
    (
        j.title.clone(),
        j.organisation.clone(),
        d.and_then(|d| d.start).map(|s| s.to_string()),
        d.and_then(|d| d.end).map(|s| s.to_string()),
        d.is_some_and(|d| d.current),
    )
}

#[test]
fn wrapped_bullets_and_hyphenated_words_come_back_as_whole_sentences() {
    let facts = pdf_lines(&[
        "Ana Lima",
        "Experience",
        "Counsellor, Riverside School   2015 - 2017",
        "* Served as a positive role model, mediator, and",
        "leader through one-on-one and small group interven-",
        "tions with 40 students.",
        "* Planned weekly activities.",
    ]);
    let said = statements(&facts);
    assert!(
        said.contains(&"Served as a positive role model, mediator, and leader through one-on-one and small group interventions with 40 students."),
        "{said:#?}"
    );
    assert!(!said.iter().any(|s| s.starts_with("leader") || s.starts_with("tions")), "{said:#?}");
}

#[test]
fn title_organisation_and_dates_in_any_order_and_place() {
    // Dates in a margin column left of the entry, organisation on the line below the title.
    let margin = fixtures::pdf_at(&[
        (56.0, 780.0, "Marta Ruiz"),
        (56.0, 750.0, "EXPERIENCE"),
        (56.0, 730.0, "2019 - Present"),
        (160.0, 730.0, "Data Engineer"),
        (160.0, 716.0, "Northwind Traders"),
        (160.0, 702.0, "Built pipelines for 30 teams."),
        (56.0, 680.0, "2016 - 2019"),
        (160.0, 680.0, "Analyst"),
        (160.0, 666.0, "Contoso Ltd"),
    ]);
    let got: Vec<_> = jobs(&read(&pages(ContentType::Pdf, &margin))).into_iter().map(summary).collect();
    assert_eq!(got.len(), 2, "{got:#?}");
    assert_eq!(
        (got[0].0.as_str(), got[0].1.as_deref(), got[0].2.as_deref(), got[0].4),
        ("Data Engineer", Some("Northwind Traders"), Some("2019"), true)
    );
    assert_eq!((got[1].0.as_str(), got[1].1.as_deref()), ("Analyst", Some("Contoso Ltd")));
    // Organisation first, then title, then dates, each on its own line (DOCX).
    let three = docx_lines(&[
        "Li Wei",
        "Work Experience",
        "Fabrikam Inc.",
        "Product Manager",
        "Mar 2020 – Jun 2023",
        "Led a team of 6.",
    ]);
    let got: Vec<_> = jobs(&three).into_iter().map(summary).collect();
    assert_eq!(got.len(), 1, "{got:#?}");
    assert_eq!((got[0].0.as_str(), got[0].1.as_deref()), ("Product Manager", Some("Fabrikam Inc.")));
    assert_eq!((got[0].2.as_deref(), got[0].3.as_deref()), (Some("2020-03"), Some("2023-06")));
}

#[test]
fn several_roles_at_one_employer_are_several_jobs_with_their_own_dates() {
    let facts = docx_lines(&[
        "Sam Okafor",
        "Experience",
        "Acme Corporation",
        "Engineering Manager  Jan 2021 – Present",
        "• Grew the team from 4 to 11 engineers.",
        "Senior Engineer  Jun 2018 – Dec 2020",
        "• Cut build times by 40%.",
        "Engineer  Jul 2016 – May 2018",
        "• Shipped the billing service.",
    ]);
    let got: Vec<_> = jobs(&facts).into_iter().map(summary).collect();
    assert_eq!(got.len(), 3, "{got:#?}");
    for (job, title) in got.iter().zip(["Engineering Manager", "Senior Engineer", "Engineer"]) {
        assert_eq!((job.0.as_str(), job.1.as_deref()), (title, Some("Acme Corporation")), "{got:#?}");
    }
    assert_eq!((got[1].2.as_deref(), got[1].3.as_deref()), (Some("2018-06"), Some("2020-12")));
}

#[test]
fn names_in_capitals_with_credentials_or_after_a_heading_line() {
    assert_eq!(name(&pdf_lines(&["JANE DOE, PhD, PMP", "jane@example.org", "Experience"])), Some("JANE DOE"));
    assert_eq!(name(&pdf_lines(&["Curriculum Vitae", "Leonhard Euler", "Education"])), Some("Leonhard Euler"));
    assert_eq!(name(&docx_lines(&["Richard Hendriks, Programmer", "richard@example.com"])), Some("Richard Hendriks"));
    assert_eq!(
        name(&docx_lines(&["PRIYA RAMASWAMY-", "COLTER", "JUNIOR SOFTWARE ENGINEER"])),
        Some("PRIYA RAMASWAMY-COLTER")
    );
}

#[test]
fn plain_text_exports_and_markdown_give_their_jobs() {
    let markdown = "# Tom Berg\n\ntom@example.com\n\n## Experience\n\n### Backend Developer, Globex — 2018 – 2022\n\n- Rebuilt the order API.\n\n## Skills\n\nPython, PostgreSQL, Docker\n";
    let facts = txt(markdown);
    assert_eq!(name(&facts), Some("Tom Berg"));
    let got: Vec<_> = jobs(&facts).into_iter().map(summary).collect();
    assert_eq!(got.len(), 1, "{got:#?}");
    assert_eq!(
        (got[0].0.as_str(), got[0].1.as_deref(), got[0].2.as_deref()),
        ("Backend Developer", Some("Globex"), Some("2018"))
    );
    assert!(skills(&facts).contains(&"postgresql".to_owned()));
    let export = "Ines Costa\nines@example.com\n\nWORK EXPERIENCE\n\nAccountant\nInitech - Porto\n01/2017 to Present\nPrepared monthly reports.\n";
    let got: Vec<_> = jobs(&txt(export)).into_iter().map(summary).collect();
    assert_eq!(got.len(), 1, "{got:#?}");
    assert_eq!((got[0].0.as_str(), got[0].1.as_deref(), got[0].4), ("Accountant", Some("Initech"), true));
}

#[test]
fn german_french_spanish_portuguese_and_chinese_resumes_give_their_jobs() {
    let cases: [(&[&str], &str, &str, &str, bool); 5] = [
        (
            &[
                "Lukas Weber",
                "Berufserfahrung",
                "Softwareentwickler, Beispiel GmbH   03/2018 – heute",
                "Ausbildung",
                "B.Sc. Informatik, TU Berlin   2014 – 2018",
            ],
            "Softwareentwickler",
            "Beispiel GmbH",
            "2018-03",
            true,
        ),
        (
            &[
                "Claire Martin",
                "Expérience professionnelle",
                "Ingénieure logiciel, Société Exemple   janvier 2019 – aujourd'hui",
                "Formation",
                "Master, Université de Lyon   2017",
            ],
            "Ingénieure logiciel",
            "Société Exemple",
            "2019-01",
            true,
        ),
        (
            &["Lucía Gómez", "Experiencia laboral", "Analista de datos, Empresa Ejemplo   marzo de 2016 - actualidad"],
            "Analista de datos",
            "Empresa Ejemplo",
            "2016-03",
            true,
        ),
        (
            &["João Silva", "Experiência profissional", "Desenvolvedor, Empresa Exemplo   set 2015 - atual"],
            "Desenvolvedor",
            "Empresa Exemplo",
            "2015-09",
            true,
        ),
        (
            &["张伟", "工作经历", "软件工程师，示例科技有限公司   2018年3月 - 至今"],
            "软件工程师",
            "示例科技有限公司",
            "2018-03",
            true,
        ),
    ];
    for (lines, title, org, start, current) in cases {
        let facts = docx_lines(lines);
        let got: Vec<_> = jobs(&facts).into_iter().map(summary).collect();
        assert_eq!(got.len(), 1, "{lines:?}: {got:#?}");
        assert_eq!(
            (got[0].0.as_str(), got[0].1.as_deref(), got[0].2.as_deref(), got[0].4),
            (title, Some(org), Some(start), current),
            "{lines:?}"
        );
        assert_eq!(name(&facts), Some(lines[0]), "{lines:?}");
    }
}

#[test]
fn text_layers_as_they_are_zero_widths_lookalikes_and_letter_spacing() {
    // Zero-width spaces inside the name, Cyrillic "а" and "о" inside Latin words, a letter-spaced heading.
    let facts = docx_lines(&[
        "Jo\u{200B}hn Sm\u{200D}ith",
        "E X P E R I E N C E",
        "Jаvа Develоper, Tailspin Toys   2017 - 2020",
        "S K I L L S",
        "Jаvа, Kotlin",
    ]);
    assert_eq!(name(&facts), Some("John Smith"));
    let got: Vec<_> = jobs(&facts).into_iter().map(summary).collect();
    assert_eq!(got.len(), 1, "{got:#?}");
    assert_eq!((got[0].0.as_str(), got[0].1.as_deref()), ("Java Developer", Some("Tailspin Toys")));
    assert!(skills(&facts).contains(&"java".to_owned()), "{:?}", skills(&facts));
    // A PDF whose cross-reference table is off by a few bytes (a file edited after saving) still reads.
    let mut shifted = fixtures::resume_pdf();
    let at = shifted.windows(7).position(|w| w == b"1 0 obj").expect("an object");
    shifted.splice(at..at, b"\n\n\n".iter().copied());
    assert!(pages(ContentType::Pdf, &shifted).iter().any(|p| p.text.contains("Jane Q. Example")));
}

#[test]
fn every_skills_section_whatever_its_heading_and_vendor_groups_split() {
    for heading in ["Computer Skills", "Technical Proficiencies", "Tools", "Kenntnisse", "Compétences", "专业技能"]
    {
        let lines =
            ["Leo Park", heading, "Microsoft Office: Word, PowerPoint, and basic Excel", "Languages: Python, R"];
        // The PDF fixture's font encodes Latin-1 only: other headings go through DOCX alone.
        let mut readings = vec![docx_lines(&lines)];
        if heading.is_ascii() {
            readings.push(pdf_lines(&lines));
        }
        for facts in readings {
            let found = skills(&facts);
            for want in ["word", "powerpoint", "excel", "python", "r"] {
                let hit = |s: &String| s == want || s == &format!("microsoft {want}");
                assert!(found.iter().any(hit), "{heading}: {want} not in {found:?}");
            }
        }
    }
}

#[test]
fn a_word_is_a_skill_only_where_its_context_says_so() {
    let facts = docx_lines(&[
        "Mia Chen",
        "Experience",
        "Research Intern, Lab Corp   2017 - 2017",
        "• Completed an internship in Spring 2017 on ocean data.",
        "• Excel at building trust with clients and go the extra mile.",
        "• Wrote services in Go and Rust, and analyses in R.",
    ]);
    let found = skills(&facts);
    assert!(!found.iter().any(|s| s.contains("spring")), "{found:?}");
    assert!(!found.contains(&"excel".to_owned()) && !found.contains(&"microsoft excel".to_owned()), "{found:?}");
    for want in ["go", "rust", "r"] {
        assert!(found.contains(&want.to_owned()), "{want} not in {found:?}");
    }
}

#[test]
fn no_job_has_an_empty_dated_punctuation_or_duplicated_field() {
    let facts = pdf_lines(&[
        "Noor Ali",
        "Experience",
        "– , 2009 – 2009",
        "Acme Acme 2010 - 2012",
        "2013 - 2015",
        "Designer, Designer   2016 - 2018",
        "Designer, Studio Nine   2019 - 2021",
    ]);
    for j in jobs(&facts) {
        assert!(j.title.chars().filter(|c| c.is_alphabetic()).count() >= 2, "{j:?}");
        if let Some(org) = &j.organisation {
            assert!(org.chars().filter(|c| c.is_alphabetic()).count() >= 2, "{j:?}");
            assert!(!org.eq_ignore_ascii_case(&j.title), "{j:?}");
        }
    }
    assert!(jobs(&facts).iter().any(|j| j.organisation.as_deref() == Some("Studio Nine")));
}

#[test]
fn schools_are_found_in_other_languages_too() {
    let facts = docx_lines(&[
        "Anna Berger",
        "Ausbildung",
        "Master Informatik, Universität Wien   2016 – 2018",
        "Licence, Université de Lyon   2013 – 2016",
        "本科，北京大学   2009 – 2013",
    ]);
    let schools: Vec<String> = facts
        .iter()
        .filter_map(|f| match f {
            FactValue::Education(e) => e.institution.clone(),
            _ => None,
        })
        .collect();
    for want in ["Universität Wien", "Université de Lyon", "北京大学"] {
        assert!(schools.iter().any(|s| s.contains(want)), "{want} not in {schools:?}");
    }
}
