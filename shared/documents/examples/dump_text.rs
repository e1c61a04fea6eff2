//! Prints the text the engine extracts from files, page by page.
//! `cargo run --release -p documents --example dump_text -- FILE...`
fn main() -> Result<(), Box<dyn std::error::Error>> {
    for path in std::env::args().skip(1) {
        let bytes = std::fs::read(&path)?;
        let inspection = documents::inspect(&bytes, &domain::Limits::default());
        let Ok(content_type) = inspection.map(|i| i.content_type) else {
            println!("==== {path}: refused");
            continue;
        };
        for page in documents::extract_text(content_type, &bytes)? {
            println!("==== {path} page {}\n{}", page.page, page.text);
        }
    }
    Ok(())
}
