//! `Ocr` on Textract (DetectDocumentText: one page per call).

use crate::error::{classify, to_port};
use async_trait::async_trait;
use aws_config::SdkConfig;
use aws_sdk_textract::Client;
use aws_sdk_textract::primitives::Blob;
use aws_sdk_textract::types::{Block, BlockType, Document};
use bytes::Bytes;
use ports::{Ocr, OcrError, OcrOutcome};

/// Textract's synchronous text detection.
#[derive(Clone, Debug)]
pub struct TextractOcr {
    client: Client,
}

impl TextractOcr {
    pub fn new(config: &SdkConfig) -> Self {
        Self::from_client(Client::new(config))
    }

    pub fn from_client(client: Client) -> Self {
        Self { client }
    }
}

/// The LINE blocks' text, in order, one line each.
pub(crate) fn lines_text(blocks: &[Block]) -> String {
    blocks
        .iter()
        .filter(|b| b.block_type() == Some(&BlockType::Line))
        .filter_map(|b| b.text())
        .collect::<Vec<_>>()
        .join("\n")
}

#[async_trait]
impl Ocr for TextractOcr {
    async fn recognize(&self, image: Bytes) -> Result<OcrOutcome, OcrError> {
        let out = self
            .client
            .detect_document_text()
            .document(Document::builder().bytes(Blob::new(image.to_vec())).build())
            .send()
            .await
            .map_err(|e| to_port(classify("DetectDocumentText", &e), OcrError::Transient, OcrError::Permanent))?;
        Ok(OcrOutcome::Text(vec![lines_text(out.blocks())]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(kind: BlockType, text: &str) -> Block {
        Block::builder().block_type(kind).text(text).build()
    }

    #[test]
    fn only_line_blocks_are_joined_in_order() {
        let blocks = vec![
            Block::builder().block_type(BlockType::Page).build(),
            block(BlockType::Line, "Jane Doe"),
            block(BlockType::Word, "Jane"),
            block(BlockType::Word, "Doe"),
            block(BlockType::Line, "Senior Engineer"),
            Block::builder().block_type(BlockType::Line).build(),
            block(BlockType::Line, "Rust, AWS"),
        ];
        assert_eq!(lines_text(&blocks), "Jane Doe\nSenior Engineer\nRust, AWS");
    }

    #[test]
    fn no_lines_is_empty_text() {
        assert_eq!(lines_text(&[]), "");
    }
}
