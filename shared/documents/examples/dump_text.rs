//! Prints the text the engine extracts from a file, page by page:
//! `cargo run --release -p documents --example dump_text -- FILE`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).ok_or("usage: dump_text FILE")?;
    let bytes = std::fs::read(&path)?;
    let inspection = documents::inspect(&bytes, &domain::Limits::default()).map_err(|r| format!("{r:?}"))?;
    for page in documents::extract_text(inspection.content_type, &bytes)? {
        println!("---- page {}\n{}", page.page, page.text);
    }
    Ok(())
}
