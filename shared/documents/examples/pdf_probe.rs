fn main() {
    let path = std::env::args().nth(1).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let o = lopdf::LoadOptions { password: Some(String::new()), ..Default::default() };
    match lopdf::Document::load_mem_with_options(&bytes, o) {
        Ok(mut d) => {
            println!("loaded enc={} was={} pages={}", d.is_encrypted(), d.was_encrypted(), d.get_pages().len());
            if d.is_encrypted() {
                println!("decrypt: {:?}", d.decrypt(""));
                println!("enc={}", d.is_encrypted());
            }
        }
        Err(e) => println!("err {e}"),
    }
}
