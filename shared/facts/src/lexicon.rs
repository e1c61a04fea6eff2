//! Recognising skill names inside sentences. [`SkillLexicon`] is the seam:
//! the built-in [`BuiltinLexicon`] knows a few hundred common skills; the
//! skill ontology (O*NET, ESCO, a 31K-name gazetteer) plugs in behind the
//! same trait.

use std::collections::HashMap;
use std::sync::LazyLock;

/// A skill named in a text: its canonical name and byte span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkillMention {
    pub name: String,
    pub start: usize,
    pub end: usize,
}

/// Finds skill names in text.
pub trait SkillLexicon: Send + Sync {
    /// Every known skill named in `text`, longest match first at each place,
    /// non-overlapping, in order.
    fn mentions(&self, text: &str) -> Vec<SkillMention>;
    /// The canonical spelling of `name` if it is a known skill.
    fn canonical(&self, name: &str) -> Option<String>;
}

/// Skills as `canonical[|alias...]`. Hand-written: programming languages,
/// frameworks, data and cloud tools, methods, office tools, and common
/// non-technical skills.
const SKILLS: &[&str] = &[
    // programming languages
    "Python",
    "Java",
    "JavaScript|JS|Javascript",
    "TypeScript|TS",
    "C++|CPP",
    "C#|CSharp|C Sharp",
    "C",
    "Go|Golang",
    "Rust",
    "Ruby",
    "PHP",
    "Swift",
    "Kotlin",
    "Scala",
    "R",
    "MATLAB|Matlab",
    "Perl",
    "Haskell",
    "OCaml",
    "Erlang",
    "Elixir",
    "Clojure",
    "F#",
    "Dart",
    "Lua",
    "Julia",
    "Objective-C",
    "Visual Basic|VB.NET",
    "COBOL",
    "Fortran",
    "Assembly",
    "Bash|Shell scripting|Shell",
    "PowerShell",
    "SQL",
    "PL/SQL",
    "T-SQL",
    "HTML|HTML5",
    "CSS|CSS3",
    "Sass|SCSS",
    "Solidity",
    "Groovy",
    "VHDL",
    "Verilog",
    "LaTeX",
    "J2EE|Java EE|Jakarta EE",
    "Prolog",
    // web frameworks and libraries
    "React|React.js|ReactJS",
    "Redux",
    "Angular|AngularJS",
    "Vue.js|Vue|VueJS",
    "Svelte",
    "Next.js|NextJS",
    "Nuxt.js",
    "Node.js|NodeJS|Node",
    "Express.js|Express|ExpressJS",
    "NestJS",
    "Django",
    "Flask",
    "FastAPI",
    "Spring Boot",
    "Spring MVC",
    "Spring",
    "Hibernate",
    "Ruby on Rails|Rails",
    "Laravel",
    "Symfony",
    ".NET|dotnet",
    "ASP.NET",
    ".NET Core",
    "jQuery",
    "Bootstrap",
    "Tailwind CSS|Tailwind",
    "Webpack",
    "Vite",
    "GraphQL",
    "gRPC",
    "REST|RESTful APIs|REST APIs|RESTful",
    "WebSockets|WebSocket",
    "Koa",
    "Ember.js",
    "Backbone.js",
    "Three.js",
    "D3.js|D3",
    "WebGL",
    "Electron",
    "React Native",
    "Flutter",
    "SwiftUI",
    "Android",
    "iOS",
    "Xamarin",
    "Ionic",
    "Qt",
    "Unity",
    "Unreal Engine",
    // data, ML, AI
    "Machine Learning|ML",
    "Deep Learning",
    "Artificial Intelligence|AI",
    "Natural Language Processing|NLP",
    "Computer Vision",
    "Data Science",
    "Data Analysis|Data Analytics",
    "Data Engineering",
    "Data Visualization",
    "Statistics",
    "TensorFlow",
    "PyTorch",
    "Keras",
    "Scikit-learn|scikit-learn|sklearn",
    "Pandas",
    "NumPy",
    "SciPy",
    "Matplotlib",
    "Jupyter",
    "Spark|Apache Spark|PySpark",
    "Hadoop",
    "Hive",
    "Kafka|Apache Kafka",
    "Airflow|Apache Airflow",
    "Flink",
    "Beam",
    "dbt",
    "Snowflake",
    "BigQuery",
    "Redshift",
    "Databricks",
    "Tableau",
    "Power BI|PowerBI",
    "Looker",
    "Excel|Microsoft Excel|MS Excel",
    "XGBoost",
    "LightGBM",
    "Hugging Face|HuggingFace",
    "LLMs|LLM|Large Language Models",
    "OpenCV",
    "MLflow",
    "Kubeflow",
    "ETL",
    "A/B Testing|A/B testing",
    "Reinforcement Learning",
    "Generative AI",
    "RAG",
    "LangChain",
    "Time Series",
    // databases
    "PostgreSQL|Postgres",
    "MySQL",
    "SQLite",
    "MongoDB|Mongo",
    "Redis",
    "Cassandra",
    "DynamoDB",
    "Elasticsearch",
    "Oracle Database|Oracle DB",
    "Microsoft SQL Server|SQL Server|MSSQL",
    "MariaDB",
    "Neo4j",
    "CouchDB",
    "Firebase",
    "Supabase",
    "InfluxDB",
    "NoSQL",
    "pgvector",
    "ClickHouse",
    "Memcached",
    // cloud, devops, infrastructure
    "AWS|Amazon Web Services",
    "Azure|Microsoft Azure",
    "Google Cloud|GCP|Google Cloud Platform",
    "Docker",
    "Kubernetes|K8s",
    "Terraform",
    "Ansible",
    "Puppet",
    "Chef",
    "Jenkins",
    "GitHub Actions",
    "GitLab CI",
    "CircleCI",
    "Travis CI",
    "ArgoCD|Argo CD",
    "Helm",
    "Kustomize",
    "Istio",
    "Prometheus",
    "Grafana",
    "Datadog",
    "New Relic",
    "Splunk",
    "PagerDuty",
    "ELK|ELK Stack",
    "Kibana",
    "Logstash",
    "Nginx",
    "Apache",
    "Linux",
    "Unix",
    "Windows",
    "macOS",
    "CI/CD",
    "DevOps",
    "SRE|Site Reliability Engineering",
    "Serverless",
    "AWS Lambda|Lambda",
    "EC2",
    "S3",
    "ECS",
    "EKS",
    "RDS",
    "CloudFormation",
    "CloudWatch",
    "AWS SAM",
    "Packer",
    "Vagrant",
    "OpenStack",
    "VMware",
    "Git",
    "GitHub",
    "GitLab",
    "Bitbucket",
    "SVN",
    "Jira",
    "Confluence",
    "Microservices",
    "Distributed Systems",
    "Event-driven Architecture|Event-driven Systems",
    "RabbitMQ",
    "ActiveMQ",
    "SQS",
    "SNS",
    "Kinesis",
    "Pub/Sub",
    "OpenTelemetry",
    "Consul",
    "Vault",
    "Cilium",
    "Envoy",
    "Linkerd",
    "OpenShift",
    "Rancher",
    "Nomad",
    "Observability",
    "Infrastructure as Code|IaC",
    "GitOps",
    "Networking",
    "TCP/IP",
    "DNS",
    "Load Balancing",
    "CDN",
    "OpenVPN",
    "LDAP",
    "OAuth",
    "SSO",
    // testing and practices
    "JUnit|Junit",
    "Mockito",
    "pytest",
    "Jest",
    "Cypress",
    "Selenium",
    "Playwright",
    "Mocha",
    "TDD",
    "Unit Testing",
    "Integration Testing",
    "Agile|Agile methodologies|Agile Methodology",
    "Scrum",
    "Kanban",
    "Lean",
    "Six Sigma",
    "Waterfall",
    "Code Review",
    "System Design",
    "Software Architecture",
    "API Design",
    "Object-Oriented Programming|OOP",
    "Functional Programming",
    "Design Patterns",
    "Algorithms",
    "Data Structures",
    "Concurrency",
    "Performance Optimization",
    "Database Optimization",
    "Security",
    "Cybersecurity",
    "Penetration Testing",
    "Cryptography",
    "Blockchain",
    "Embedded Systems",
    "IoT",
    "Robotics",
    "FPGA",
    "Compilers",
    "Operating Systems",
    // design and product
    "Figma",
    "Sketch",
    "Adobe XD",
    "Photoshop|Adobe Photoshop",
    "Illustrator|Adobe Illustrator",
    "InDesign",
    "After Effects",
    "Premiere Pro",
    "UI Design",
    "UX Design|User Experience",
    "UX Research|User Research",
    "Wireframing",
    "Prototyping",
    "Product Management",
    "Product Strategy",
    "Roadmapping",
    "Project Management",
    "Program Management",
    "Stakeholder Management",
    "Requirements Gathering",
    "Business Analysis",
    "Market Research",
    "Competitive Analysis",
    "Go-to-Market Strategy|Go-to-Market|GTM",
    "OKRs",
    "KPIs",
    // business and office
    "Microsoft Word|MS Word|Word",
    "PowerPoint|Microsoft PowerPoint|MS PowerPoint",
    "Microsoft Office|MS Office",
    "Outlook",
    "Google Workspace|G Suite",
    "Salesforce",
    "HubSpot",
    "SAP",
    "QuickBooks",
    "Zendesk",
    "Slack",
    "Notion",
    "Trello",
    "Asana",
    "Marketing",
    "Digital Marketing",
    "SEO",
    "SEM",
    "Content Marketing",
    "Social Media",
    "Email Marketing",
    "Copywriting",
    "Sales",
    "Business Development",
    "Account Management",
    "Customer Service",
    "Customer Success",
    "Negotiation",
    "Public Speaking",
    "Communication",
    "Leadership",
    "Team Leadership",
    "Mentoring",
    "Coaching",
    "Teamwork",
    "Problem Solving",
    "Critical Thinking",
    "Time Management",
    "Budgeting",
    "Financial Analysis",
    "Financial Modeling",
    "Accounting",
    "Forecasting",
    "Risk Management",
    "Compliance",
    "Auditing",
    "Operations Management",
    "Supply Chain",
    "Logistics",
    "Recruiting",
    "Human Resources|HR",
    "Training",
    "Event Planning",
    "Fundraising",
    "Research",
    "Technical Writing",
    "Documentation",
    "Data Entry",
    "Bookkeeping",
    "Payroll",
    "Procurement",
    // healthcare and other fields
    "Patient Care",
    "Nursing",
    "EHR|Electronic Health Records",
    "Epic",
    "CPR",
    "First Aid",
    "Pharmacology",
    "Clinical Research",
    "Teaching",
    "Curriculum Development",
    "Tutoring",
    "AutoCAD",
    "SolidWorks",
    "Revit",
    "CAD",
    "GIS|ArcGIS",
    "Lab Techniques",
    "PCR",
];

/// Words that are skills only when written exactly so (case-sensitive),
/// because in lowercase they are ordinary words or letters.
const CASE_SENSITIVE: &[&str] = &[
    "C",
    "R",
    "Go",
    "Word",
    "Lean",
    "Node",
    "Spring",
    "Apache",
    "Unity",
    "Epic",
    "Sales",
    "Chef",
    "Puppet",
    "Vault",
    "Beam",
    "Lambda",
    "Express",
    "Vue",
    "Shell",
    "Training",
    "Research",
    "Security",
    "Marketing",
    "Leadership",
    "Communication",
    "Teaching",
    "Networking",
    "Statistics",
    "Algorithms",
    "Compliance",
    "Documentation",
    "Slack",
    "Notion",
    "Outlook",
    "Consul",
    "Envoy",
    "Flutter",
    "Swift",
    "Ruby",
    "Rust",
    "Dart",
    "Julia",
    "Scala",
    "Perl",
    "Lua",
    "Java",
    "Python",
    "Assembly",
    "ML",
    "AI",
    "HR",
    "RAG",
    "IaC",
    "TS",
    "JS",
    "SAP",
    "CDN",
    "Qt",
    "Ionic",
    "D3",
    "Koa",
    "Mongo",
    "dbt",
];

/// The built-in lexicon: exact (case-insensitive) names and aliases, with
/// short or common-word names only in their written case.
pub struct BuiltinLexicon {
    /// lowercase alias → (canonical name, case-sensitive spelling if any)
    by_alias: HashMap<String, (String, Option<String>)>,
    /// Longest alias in words, to bound the match window.
    max_words: usize,
}

impl BuiltinLexicon {
    fn build() -> Self {
        let mut by_alias = HashMap::new();
        let mut max_words = 1;
        for entry in SKILLS {
            let mut names = entry.split('|');
            let canonical = names.next().expect("canonical name").to_owned();
            for alias in std::iter::once(canonical.as_str()).chain(names) {
                max_words = max_words.max(alias.split_whitespace().count());
                let exact = CASE_SENSITIVE.contains(&alias).then(|| alias.to_owned());
                by_alias.insert(alias.to_lowercase(), (canonical.clone(), exact));
            }
        }
        Self { by_alias, max_words }
    }

    /// The shared instance, built on first use.
    pub fn get() -> &'static BuiltinLexicon {
        Self::shared_arc()
    }

    /// The shared instance as an `Arc`, for services that hold a `dyn SkillLexicon`.
    pub fn shared() -> std::sync::Arc<BuiltinLexicon> {
        std::sync::Arc::clone(Self::shared_arc())
    }

    fn shared_arc() -> &'static std::sync::Arc<BuiltinLexicon> {
        static LEXICON: LazyLock<std::sync::Arc<BuiltinLexicon>> =
            LazyLock::new(|| std::sync::Arc::new(BuiltinLexicon::build()));
        &LEXICON
    }

    fn lookup(&self, written: &str) -> Option<&str> {
        let (canonical, exact) = self.by_alias.get(&written.to_lowercase())?;
        match exact {
            Some(spelling) if spelling != written => None,
            _ => Some(canonical),
        }
    }
}

/// Word tokens of a text with byte spans: runs of letters, digits and the
/// characters skill names use inside words (`+#./-`), trailing dots trimmed.
fn tokens(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    let inner = |c: char| c.is_alphanumeric() || matches!(c, '+' | '#' | '.' | '/' | '-' | '\'');
    for (i, c) in text.char_indices().chain(std::iter::once((text.len(), ' '))) {
        match (start, inner(c)) {
            (None, true) => start = Some(i),
            (Some(s), false) => {
                let word = &text[s..i];
                let trimmed = word.trim_end_matches(['.', '-', '/', '\'']);
                let lead = trimmed.len() - trimmed.trim_start_matches(['.', '-', '/', '\'']).len();
                if !trimmed.is_empty() && lead < trimmed.len() {
                    out.push((s + lead, s + trimmed.len()));
                }
                start = None;
            }
            _ => {}
        }
    }
    out
}

/// Words that are skills only in some contexts, and the contexts where they
/// are not: what follows them (lower case, after one space) or what precedes.
/// "Spring 2017" is a season, "Excel at" a verb, "Go the extra mile" a verb.
const AMBIGUOUS: &[(&str, &[&str], &[&str])] = &[
    (
        "spring",
        &["semester", "term", "break", "quarter", "session", "season", "of", "and summer", "/ summer"],
        &["in the", "this", "last", "next", "early", "late"],
    ),
    ("excel", &["at", "in", "as", "when", "under"], &["to", "i", "we", "they", "will", "can"]),
    (
        "go",
        &["to", "the", "through", "on", "beyond", "live", "above", "back", "far", "further", "ahead", "out"],
        &["to", "will", "can", "i", "we", "let's"],
    ),
    ("swift", &["response", "action", "delivery", "resolution", "turnaround", "and"], &["a", "the", "and"]),
    ("rust", &["belt", "proofing", "prevention"], &[]),
];

/// Whether a lexicon hit is meant as the skill where it stands.
fn context_allows(text: &str, mention: &SkillMention) -> bool {
    let written = text[mention.start..mention.end].to_lowercase();
    let Some((_, after_words, before_words)) = AMBIGUOUS.iter().find(|(w, _, _)| *w == written) else { return true };
    let after = text[mention.end..].trim_start().to_lowercase();
    // A season or a month name followed by a year ("Spring 2017", "Spring '18").
    if written == "spring" && after.starts_with(|c: char| c.is_ascii_digit() || c == '\'' || c == '’') {
        return false;
    }
    let followed =
        |w: &&str| after.strip_prefix(*w).is_some_and(|rest| rest.chars().next().is_none_or(|c| !c.is_alphanumeric()));
    if after_words.iter().any(followed) {
        return false;
    }
    let before = text[..mention.start].trim_end().to_lowercase();
    let preceded = |w: &&str| {
        before.strip_suffix(*w).is_some_and(|rest| rest.chars().next_back().is_none_or(|c| !c.is_alphanumeric()))
    };
    !before_words.iter().any(preceded)
}

impl SkillLexicon for BuiltinLexicon {
    fn mentions(&self, text: &str) -> Vec<SkillMention> {
        let words = tokens(text);
        let mut out = Vec::new();
        let mut i = 0;
        while i < words.len() {
            let mut matched = None;
            for n in (1..=self.max_words.min(words.len() - i)).rev() {
                let (start, end) = (words[i].0, words[i + n - 1].1);
                let written = &text[start..end];
                // Multi-word names must be separated by single spaces only.
                if n > 1 && text[start..end].contains(['\n', ',', ';']) {
                    continue;
                }
                if let Some(name) = self.lookup(written) {
                    matched = Some((n, SkillMention { name: name.to_owned(), start, end }));
                    break;
                }
                // "Node.js" written "Node.js," or a plural like "microservices".
                if n == 1
                    && written.len() > 3
                    && written.ends_with('s')
                    && let Some(name) = self.lookup(&written[..written.len() - 1])
                {
                    matched = Some((n, SkillMention { name: name.to_owned(), start, end }));
                    break;
                }
            }
            match matched {
                Some((n, mention)) if context_allows(text, &mention) => {
                    out.push(mention);
                    i += n;
                }
                _ => i += 1,
            }
        }
        out
    }

    fn canonical(&self, name: &str) -> Option<String> {
        self.lookup(name.trim()).map(str::to_owned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skills_inside_sentences_with_aliases_and_case_rules() {
        let lexicon = BuiltinLexicon::get();
        let text = "Built APIs in Go and Node.js on AWS with Kubernetes; go to market with machine learning and CI/CD.";
        let names: Vec<String> = lexicon.mentions(text).into_iter().map(|m| m.name).collect();
        assert_eq!(names, ["Go", "Node.js", "AWS", "Kubernetes", "Machine Learning", "CI/CD"]);
        assert_eq!(lexicon.canonical("golang").as_deref(), Some("Go"));
        assert_eq!(lexicon.canonical("go"), None, "lowercase go is a verb");
        assert_eq!(lexicon.canonical("Scikit-learn").as_deref(), Some("Scikit-learn"));
        let spans = lexicon.mentions("Used C++ and C# daily");
        assert_eq!(&"Used C++ and C# daily"[spans[0].start..spans[0].end], "C++");
        assert_eq!(spans[1].name, "C#");
    }
}
