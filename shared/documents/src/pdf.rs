//! PDF text per page on lopdf.
//!
//! lopdf parses the file structure; the content streams are interpreted here:
//! a small graphics/text-state machine turns every shown glyph into a
//! positioned run in device space (decoded through the font's ToUnicode CMap
//! or its simple encoding), and a layout pass rebuilds lines, word gaps and,
//! where a column gutter is evident, reading order by column.
//!
//! The input is untrusted: every loop is bounded (decompressed bytes,
//! operators, glyphs, Form XObject depth, CMap entries) and nothing here
//! panics on malformed data.

use crate::ExtractError;
use domain::PageText;
use lopdf::content::Content;
use lopdf::{Dictionary, Document, LoadOptions, Object, ObjectId, Stream};
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::OnceLock;

/// Bound on how large any single stream may decompress to while loading.
const MAX_STREAM_BYTES: usize = 32 << 20;
/// Bound on the decompressed content (page streams and forms) of one page.
const MAX_PAGE_CONTENT_BYTES: usize = 64 << 20;
/// Bound on the content-stream operators run for one page, forms included.
const MAX_OPS_PER_PAGE: usize = 2_000_000;
/// Bounds on the decompressed content and operators of the whole document.
const MAX_DOC_CONTENT_BYTES: usize = 256 << 20;
const MAX_DOC_OPS: usize = 20_000_000;
/// Bound on the decoded text of one page.
const MAX_PAGE_TEXT_BYTES: usize = 8 << 20;
/// Bound on the glyphs kept for one page.
const MAX_GLYPHS_PER_PAGE: usize = 400_000;
/// Nesting depth of Form XObjects.
const MAX_FORM_DEPTH: usize = 8;
/// Nesting depth of `q` (deeper saves are ignored).
const MAX_GSTATE_DEPTH: usize = 256;
/// Pages extracted at most.
const MAX_PAGES: usize = 5_000;
/// Bound on a CMap stream and on the entries kept from it.
const MAX_CMAP_BYTES: usize = 4 << 20;
const MAX_CMAP_ENTRIES: usize = 200_000;

/// A word gap is inserted when glyphs are further apart than this share of
/// the font size (LaTeX inter-word space is about 0.33 em, kerning < 0.1 em).
const SPACE_GAP_EM: f32 = 0.1;
/// A line is split into segments (candidate columns) at gaps wider than this.
const SEGMENT_GAP_EM: f32 = 1.0;

/// Text of every page, in reading order, words separated.
pub fn extract_pages(bytes: &[u8]) -> Result<Vec<PageText>, ExtractError> {
    // lopdf is third-party code on untrusted input: a panic in it must not
    // take the caller down.
    std::panic::catch_unwind(|| extract_inner(bytes))
        .unwrap_or_else(|_| Err(ExtractError::MalformedPdf("internal error while parsing the PDF".into())))
}

/// The document, its cross-reference table rebuilt by scanning for objects
/// when the one it holds leads to no page (offsets shifted by an edit or a
/// line-ending conversion: viewers read such files, so must we).
fn load(bytes: &[u8]) -> Result<Document, ExtractError> {
    let options = |force_reconstruct| LoadOptions {
        max_decompressed_size: Some(MAX_STREAM_BYTES),
        force_reconstruct,
        // The empty user password: see `extract_inner`.
        password: Some(String::new()),
        ..LoadOptions::default()
    };
    let first = match Document::load_mem_with_options(bytes, options(false)) {
        Ok(doc) if !doc.get_pages().is_empty() => return Ok(doc),
        first => first,
    };
    match (first, Document::load_mem_with_options(bytes, options(true))) {
        (_, Ok(doc)) if !doc.get_pages().is_empty() => Ok(doc),
        (Ok(doc), _) => Ok(doc),
        (Err(error), _) => {
            if contains(bytes, b"/Encrypt") {
                return Err(ExtractError::EncryptedPdf);
            }
            Err(ExtractError::MalformedPdf(error.to_string()))
        }
    }
}

fn extract_inner(bytes: &[u8]) -> Result<Vec<PageText>, ExtractError> {
    let mut doc = load(bytes)?;
    // Encrypted with an empty user password (an owner password that only
    // forbids copying or editing, as transcripts and certificates often are):
    // a reader opens it without asking, and so do we. Anything else needs a
    // password we do not have.
    if doc.is_encrypted() {
        // An object that fails to decrypt is reported, but the rest are readable.
        let _partial = doc.decrypt("");
    }
    if doc.is_encrypted() {
        return Err(ExtractError::EncryptedPdf);
    }
    let pages = doc.get_pages();
    if pages.is_empty() {
        return Err(ExtractError::MalformedPdf("the document has no pages".into()));
    }
    let mut state = DocState { fonts: HashMap::new(), content_budget: MAX_DOC_CONTENT_BYTES, ops_budget: MAX_DOC_OPS };
    let mut out = Vec::with_capacity(pages.len().min(MAX_PAGES));
    for (&number, &page_id) in pages.iter().take(MAX_PAGES) {
        let text = page_text(&doc, page_id, &mut state);
        out.push(PageText { page: number, text });
    }
    Ok(out)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

fn page_text(doc: &Document, page_id: ObjectId, state: &mut DocState) -> String {
    let mut resources = Resources::default();
    if let Ok((direct, ids)) = doc.get_page_resources(page_id) {
        if let Some(dict) = direct {
            resources.dicts.push(dict);
        }
        for id in ids {
            if let Ok(dict) = doc.get_dictionary(id) {
                resources.dicts.push(dict);
            }
        }
    }
    let mut interp = Interpreter::new(doc, state);
    for id in doc.get_page_contents(page_id) {
        let Ok(stream) = doc.get_object(id).and_then(Object::as_stream) else {
            continue;
        };
        let Some(data) = interp.decode_stream(stream) else {
            break;
        };
        // Content streams of a page are one stream split anywhere between
        // tokens; the graphics state carries over.
        interp.run(&data, &resources, 0);
    }
    let Interpreter { glyphs, text, ops, state, .. } = interp;
    state.ops_budget = state.ops_budget.saturating_sub(ops);
    layout_page(&glyphs, &text)
}

// ---------------------------------------------------------------------------
// Objects

static NULL: Object = Object::Null;

fn deref<'a>(doc: &'a Document, object: &'a Object) -> &'a Object {
    match doc.dereference(object) {
        Ok((_, object)) => object,
        Err(_) => &NULL,
    }
}

fn dict_get<'a>(doc: &'a Document, dict: &'a Dictionary, key: &[u8]) -> &'a Object {
    match dict.get(key) {
        Ok(object) => deref(doc, object),
        Err(_) => &NULL,
    }
}

fn as_dict(object: &Object) -> Option<&Dictionary> {
    match object {
        Object::Dictionary(dict) => Some(dict),
        Object::Stream(stream) => Some(&stream.dict),
        _ => None,
    }
}

fn number(object: &Object) -> Option<f32> {
    let value = match object {
        Object::Integer(i) => *i as f32,
        Object::Real(r) => *r,
        _ => return None,
    };
    value.is_finite().then_some(value)
}

fn name(object: &Object) -> Option<&[u8]> {
    match object {
        Object::Name(name) => Some(name),
        _ => None,
    }
}

#[derive(Default)]
struct Resources<'a> {
    /// Searched in order: the nearest resources first.
    dicts: Vec<&'a Dictionary>,
}

impl<'a> Resources<'a> {
    fn lookup(&self, doc: &'a Document, category: &[u8], key: &[u8]) -> Option<&'a Object> {
        for dict in &self.dicts {
            if let Some(category) = as_dict(dict_get(doc, dict, category))
                && let Ok(object) = category.get(key)
            {
                return Some(object);
            }
        }
        None
    }
}

// ---------------------------------------------------------------------------
// Geometry

#[derive(Debug, Clone, Copy, PartialEq)]
struct Matrix {
    a: f32,
    b: f32,
    c: f32,
    d: f32,
    e: f32,
    f: f32,
}

impl Matrix {
    const IDENTITY: Matrix = Matrix { a: 1.0, b: 0.0, c: 0.0, d: 1.0, e: 0.0, f: 0.0 };

    fn translate(x: f32, y: f32) -> Matrix {
        Matrix { e: x, f: y, ..Matrix::IDENTITY }
    }

    fn from_operands(operands: &[Object]) -> Option<Matrix> {
        if operands.len() < 6 {
            return None;
        }
        let v: Vec<f32> = operands[..6].iter().map(number).collect::<Option<_>>()?;
        Some(Matrix { a: v[0], b: v[1], c: v[2], d: v[3], e: v[4], f: v[5] })
    }

    /// `self` applied first, then `other` (PDF row-vector convention).
    fn then(&self, other: &Matrix) -> Matrix {
        Matrix {
            a: self.a * other.a + self.b * other.c,
            b: self.a * other.b + self.b * other.d,
            c: self.c * other.a + self.d * other.c,
            d: self.c * other.b + self.d * other.d,
            e: self.e * other.a + self.f * other.c + other.e,
            f: self.e * other.b + self.f * other.d + other.f,
        }
    }

    fn apply(&self, x: f32, y: f32) -> (f32, f32) {
        (x * self.a + y * self.c + self.e, x * self.b + y * self.d + self.f)
    }

    fn is_finite(&self) -> bool {
        [self.a, self.b, self.c, self.d, self.e, self.f].iter().all(|v| v.is_finite())
    }
}

// ---------------------------------------------------------------------------
// Interpreter

#[derive(Clone)]
struct GState {
    ctm: Matrix,
    font: Option<Rc<Font>>,
    font_size: f32,
    char_spacing: f32,
    word_spacing: f32,
    h_scale: f32,
    leading: f32,
    rise: f32,
}

impl Default for GState {
    fn default() -> Self {
        GState {
            ctm: Matrix::IDENTITY,
            font: None,
            font_size: 0.0,
            char_spacing: 0.0,
            word_spacing: 0.0,
            h_scale: 1.0,
            leading: 0.0,
            rise: 0.0,
        }
    }
}

/// One shown glyph in page space, rotated so that its writing direction
/// points along +x.
#[derive(Debug, Clone, Copy)]
struct Glyph {
    x0: f32,
    x1: f32,
    y: f32,
    size: f32,
    /// Byte range of the decoded text in the page text buffer.
    start: u32,
    end: u32,
    space: bool,
    /// Quarter turns of the writing direction (0 = left to right).
    orient: u8,
    /// Glyphs of one string shown with a font whose widths are unknown: their
    /// positions are estimates, so no gap is inferred between them.
    run: u32,
    widths_unknown: bool,
}

/// What the pages of one document share: parsed fonts and the work budgets.
struct DocState {
    fonts: HashMap<ObjectId, Rc<Font>>,
    /// Decompressed bytes (content streams, forms, CMaps) still allowed.
    content_budget: usize,
    /// Content-stream operators still allowed.
    ops_budget: usize,
}

struct Interpreter<'a> {
    doc: &'a Document,
    state: &'a mut DocState,
    gs: GState,
    stack: Vec<GState>,
    tm: Matrix,
    tlm: Matrix,
    ops: usize,
    content_budget: usize,
    glyphs: Vec<Glyph>,
    text: String,
    runs: u32,
    /// Open marked-content sequences; `Some` for spans carrying /ActualText.
    marked: Vec<Option<ActualSpan>>,
}

/// A marked-content span whose /ActualText replaces the glyphs shown in it.
struct ActualSpan {
    text: String,
    /// x0, x1, baseline, size and orientation of the glyphs it covers.
    bounds: Option<(f32, f32, f32, f32, u8)>,
}

const MAX_MARKED_DEPTH: usize = 256;

impl<'a> Interpreter<'a> {
    fn new(doc: &'a Document, state: &'a mut DocState) -> Self {
        let content_budget = MAX_PAGE_CONTENT_BYTES.min(state.content_budget);
        Interpreter {
            doc,
            state,
            gs: GState::default(),
            stack: Vec::new(),
            tm: Matrix::IDENTITY,
            tlm: Matrix::IDENTITY,
            ops: 0,
            content_budget,
            glyphs: Vec::new(),
            text: String::new(),
            runs: 0,
            marked: Vec::new(),
        }
    }

    /// Decompressed stream data charged to the page budget; `None` once the
    /// budget is spent.
    fn decode_stream(&mut self, stream: &Stream) -> Option<Vec<u8>> {
        if self.content_budget == 0 {
            return None;
        }
        let data = if stream.dict.has(b"Filter") {
            stream.decompressed_content_with_limit(self.content_budget).ok()?
        } else {
            if stream.content.len() > self.content_budget {
                return None;
            }
            stream.content.clone()
        };
        self.content_budget = self.content_budget.saturating_sub(data.len());
        self.state.content_budget = self.state.content_budget.saturating_sub(data.len());
        Some(data)
    }

    fn exhausted(&self) -> bool {
        self.ops >= MAX_OPS_PER_PAGE
            || self.ops >= self.state.ops_budget
            || self.glyphs.len() >= MAX_GLYPHS_PER_PAGE
            || self.text.len() >= MAX_PAGE_TEXT_BYTES
    }

    fn run(&mut self, data: &[u8], resources: &Resources<'a>, depth: usize) {
        for operation in Content::decode_iter(data) {
            let Ok(operation) = operation else {
                break;
            };
            self.ops += 1;
            if self.exhausted() {
                break;
            }
            self.operate(&operation.operator, &operation.operands, resources, depth);
        }
    }

    fn operate(&mut self, operator: &str, operands: &[Object], resources: &Resources<'a>, depth: usize) {
        let num = |i: usize| operands.get(i).and_then(number);
        match operator {
            "q" if self.stack.len() < MAX_GSTATE_DEPTH => self.stack.push(self.gs.clone()),
            "Q" => {
                if let Some(gs) = self.stack.pop() {
                    self.gs = gs;
                }
            }
            "cm" => {
                if let Some(m) = Matrix::from_operands(operands) {
                    let ctm = m.then(&self.gs.ctm);
                    if ctm.is_finite() {
                        self.gs.ctm = ctm;
                    }
                }
            }
            "BT" => {
                self.tm = Matrix::IDENTITY;
                self.tlm = Matrix::IDENTITY;
            }
            "ET" => {}
            "Tf" => {
                if let Some(size) = num(1) {
                    self.gs.font_size = size;
                }
                self.gs.font = operands
                    .first()
                    .and_then(name)
                    .and_then(|key| resources.lookup(self.doc, b"Font", key))
                    .and_then(|font| self.load_font(font));
            }
            "Tc" => self.gs.char_spacing = num(0).unwrap_or(0.0),
            "Tw" => self.gs.word_spacing = num(0).unwrap_or(0.0),
            "Tz" => self.gs.h_scale = num(0).unwrap_or(100.0) / 100.0,
            "TL" => self.gs.leading = num(0).unwrap_or(0.0),
            "Ts" => self.gs.rise = num(0).unwrap_or(0.0),
            "Td" => {
                if let (Some(x), Some(y)) = (num(0), num(1)) {
                    self.move_line(x, y);
                }
            }
            "TD" => {
                if let (Some(x), Some(y)) = (num(0), num(1)) {
                    self.gs.leading = -y;
                    self.move_line(x, y);
                }
            }
            "Tm" => {
                if let Some(m) = Matrix::from_operands(operands) {
                    self.tm = m;
                    self.tlm = m;
                }
            }
            "T*" => self.move_line(0.0, -self.gs.leading),
            "Tj" => {
                if let Some(Object::String(bytes, _)) = operands.first() {
                    self.show(bytes);
                }
            }
            "'" => {
                self.move_line(0.0, -self.gs.leading);
                if let Some(Object::String(bytes, _)) = operands.first() {
                    self.show(bytes);
                }
            }
            "\"" => {
                if let (Some(aw), Some(ac)) = (num(0), num(1)) {
                    self.gs.word_spacing = aw;
                    self.gs.char_spacing = ac;
                }
                self.move_line(0.0, -self.gs.leading);
                if let Some(Object::String(bytes, _)) = operands.get(2) {
                    self.show(bytes);
                }
            }
            "TJ" => {
                if let Some(Object::Array(items)) = operands.first() {
                    for item in items {
                        match item {
                            Object::String(bytes, _) => self.show(bytes),
                            other => {
                                if let Some(adjust) = number(other) {
                                    let tx = -adjust / 1000.0 * self.gs.font_size * self.gs.h_scale;
                                    self.advance(tx);
                                }
                            }
                        }
                    }
                }
            }
            "BMC" if self.marked.len() < MAX_MARKED_DEPTH => self.marked.push(None),
            "BDC" if self.marked.len() < MAX_MARKED_DEPTH => {
                let span = self.actual_text(operands.get(1), resources).map(|text| ActualSpan { text, bounds: None });
                self.marked.push(span);
            }
            "EMC" => {
                if let Some(Some(span)) = self.marked.pop() {
                    self.end_actual_text(span);
                }
            }
            "Do" => {
                if let Some(key) = operands.first().and_then(name) {
                    self.do_xobject(key, resources, depth);
                }
            }
            _ => {}
        }
    }

    fn actual_text(&self, properties: Option<&Object>, resources: &Resources<'a>) -> Option<String> {
        let doc = self.doc;
        let dict = match properties? {
            Object::Name(key) => as_dict(deref(doc, resources.lookup(doc, b"Properties", key)?))?,
            other => as_dict(deref(doc, other))?,
        };
        let text = dict_get(doc, dict, b"ActualText");
        let text = lopdf::decode_text_string(text).ok()?;
        let text: String = text.chars().take(4096).collect();
        let mut out = String::new();
        push_normalized(&text, &mut out);
        Some(out)
    }

    /// Emits the replacement text of a closed /ActualText span where its
    /// glyphs were.
    fn end_actual_text(&mut self, span: ActualSpan) {
        let Some((x0, x1, y, size, orient)) = span.bounds else {
            return;
        };
        if span.text.is_empty() || self.glyphs.len() >= MAX_GLYPHS_PER_PAGE {
            return;
        }
        self.runs = self.runs.wrapping_add(1);
        let start = self.text.len();
        self.text.push_str(&span.text);
        self.glyphs.push(Glyph {
            x0,
            x1,
            y,
            size,
            start: start as u32,
            end: self.text.len() as u32,
            space: span.text.chars().all(char::is_whitespace),
            orient,
            run: self.runs,
            widths_unknown: false,
        });
    }

    fn move_line(&mut self, x: f32, y: f32) {
        let tlm = Matrix::translate(x, y).then(&self.tlm);
        if tlm.is_finite() {
            self.tlm = tlm;
            self.tm = tlm;
        }
    }

    fn advance(&mut self, tx: f32) {
        let tm = Matrix::translate(tx, 0.0).then(&self.tm);
        if tm.is_finite() {
            self.tm = tm;
        }
    }

    fn do_xobject(&mut self, key: &[u8], resources: &Resources<'a>, depth: usize) {
        if depth >= MAX_FORM_DEPTH {
            return;
        }
        let doc = self.doc;
        let Some(object) = resources.lookup(doc, b"XObject", key) else {
            return;
        };
        let Object::Stream(stream) = deref(doc, object) else {
            return;
        };
        if name(dict_get(doc, &stream.dict, b"Subtype")) != Some(b"Form".as_slice()) {
            return;
        }
        let Some(data) = self.decode_stream(stream) else {
            return;
        };
        let mut inner = Resources::default();
        if let Some(dict) = as_dict(dict_get(doc, &stream.dict, b"Resources")) {
            inner.dicts.push(dict);
        }
        // Lenient: forms without their own resources use the parent's.
        inner.dicts.extend(resources.dicts.iter().copied());

        let saved_gs = self.gs.clone();
        let saved_stack = self.stack.len();
        let saved_marked = self.marked.len();
        let (saved_tm, saved_tlm) = (self.tm, self.tlm);
        if let Object::Array(values) = dict_get(doc, &stream.dict, b"Matrix")
            && let Some(m) = Matrix::from_operands(values)
        {
            let ctm = m.then(&self.gs.ctm);
            if ctm.is_finite() {
                self.gs.ctm = ctm;
            }
        }
        self.run(&data, &inner, depth + 1);
        self.gs = saved_gs;
        self.stack.truncate(saved_stack);
        self.marked.truncate(saved_marked);
        self.tm = saved_tm;
        self.tlm = saved_tlm;
    }

    fn load_font(&mut self, object: &Object) -> Option<Rc<Font>> {
        let doc = self.doc;
        match object {
            Object::Reference(id) => {
                if let Some(font) = self.state.fonts.get(id) {
                    return Some(Rc::clone(font));
                }
                let dict = as_dict(deref(doc, object))?;
                let font = Rc::new(Font::load(doc, dict, &mut self.state.content_budget));
                self.state.fonts.insert(*id, Rc::clone(&font));
                Some(font)
            }
            other => Some(Rc::new(Font::load(doc, as_dict(other)?, &mut self.state.content_budget))),
        }
    }

    fn show(&mut self, bytes: &[u8]) {
        let Some(font) = self.gs.font.clone() else {
            return;
        };
        self.runs = self.runs.wrapping_add(1);
        let gs = &self.gs;
        let size = gs.font_size;
        let h_scale = gs.h_scale;
        let mut i = 0;
        while i < bytes.len() {
            if self.glyphs.len() >= MAX_GLYPHS_PER_PAGE || self.text.len() >= MAX_PAGE_TEXT_BYTES {
                return;
            }
            let (code, len) = font.next_code(bytes, i);
            i += len.max(1);
            let w0 = font.width(code);
            let word_spacing = if len == 1 && code == 32 { self.gs.word_spacing } else { 0.0 };
            let char_spacing = self.gs.char_spacing;
            let m = self.tm.then(&self.gs.ctm);
            let ink = (w0 * size + char_spacing.max(0.0)) * h_scale;
            let (sx, sy) = m.apply(0.0, self.gs.rise);
            let (ex, ey) = m.apply(ink, self.gs.rise);
            let glyph_size = size.abs() * m.c.hypot(m.d) * font.size_ratio;

            let tx = (w0 * size + char_spacing + word_spacing) * h_scale;
            let (dx, dy) = (m.a, m.b);
            let orient = if dx.abs() >= dy.abs() {
                if dx >= 0.0 { 0 } else { 2 }
            } else if dy > 0.0 {
                1
            } else {
                3
            };
            if let Some(span) = self.marked.iter_mut().find_map(Option::as_mut) {
                let (x0, y) = rotate(orient, sx, sy);
                let (x1, _) = rotate(orient, ex, ey);
                if [x0, x1, y, glyph_size].iter().all(|v| v.is_finite()) && glyph_size > 0.01 {
                    span.bounds = Some(match span.bounds {
                        Some((a0, a1, ay, asize, ao)) => (a0.min(x0), a1.max(x1), ay, asize.max(glyph_size), ao),
                        None => (x0, x1.max(x0), y, glyph_size, orient),
                    });
                }
                self.advance(tx);
                continue;
            }
            let start = self.text.len();
            font.decode(code, len, &mut self.text);
            let end = self.text.len();
            if end > start && glyph_size > 0.01 && glyph_size.is_finite() {
                let decoded = &self.text[start..end];
                let space = decoded.chars().all(char::is_whitespace);
                let (x0, y) = rotate(orient, sx, sy);
                let (x1, _) = rotate(orient, ex, ey);
                if x0.is_finite() && x1.is_finite() && y.is_finite() {
                    self.glyphs.push(Glyph {
                        x0,
                        x1: x1.max(x0),
                        y,
                        size: glyph_size,
                        start: start as u32,
                        end: end as u32,
                        space,
                        orient,
                        run: self.runs,
                        widths_unknown: font.widths_unknown,
                    });
                } else {
                    self.text.truncate(start);
                }
            } else {
                self.text.truncate(start);
            }
            self.advance(tx);
        }
    }
}

/// Rotates a point so that writing direction `orient` (quarter turns
/// counter-clockwise) points along +x.
fn rotate(orient: u8, x: f32, y: f32) -> (f32, f32) {
    match orient {
        1 => (y, -x),
        2 => (-x, -y),
        3 => (-y, x),
        _ => (x, y),
    }
}

// ---------------------------------------------------------------------------
// Fonts

enum CodeSplit {
    /// Simple fonts: one byte per code.
    One,
    /// Identity and UCS-2 CMaps: two bytes per code.
    Two,
    /// Predefined multi-byte CMaps (e.g. GBK-EUC-H): bytes below 0x80 stand alone.
    Mixed,
    /// An embedded CMap's codespace ranges.
    Ranges(Vec<CodeRange>),
}

struct Font {
    split: CodeSplit,
    to_unicode: Option<CMap>,
    /// Simple fonts: text for each code from the encoding.
    encoding: Option<CodeTexts>,
    /// Composite fonts: code to CID from an embedded encoding CMap.
    cid_map: Option<CMap>,
    /// Composite fonts whose predefined CMap is UCS-2/UTF-16: code = Unicode.
    ucs2: bool,
    /// Composite fonts of an Adobe character collection with no ToUnicode:
    /// the collection's CID → Unicode table.
    cid_unicode: Option<&'static [u16]>,
    composite: bool,
    first_char: u32,
    widths: Vec<f32>,
    cid_widths: CidWidths,
    default_width: f32,
    /// Glyph-space units to text space (0.001, or the Type3 FontMatrix).
    width_scale: f32,
    /// Glyph height relative to the font size (Type3 fonts may differ).
    size_ratio: f32,
    standard_widths: Option<&'static [u16; 95]>,
    widths_unknown: bool,
}

impl Font {
    fn load(doc: &Document, dict: &Dictionary, budget: &mut usize) -> Font {
        let subtype = name(dict_get(doc, dict, b"Subtype")).unwrap_or(b"Type1");
        let to_unicode = match dict_get(doc, dict, b"ToUnicode") {
            Object::Stream(stream) => stream_data(stream, MAX_CMAP_BYTES, budget).map(|data| CMap::parse(&data)),
            _ => None,
        };
        if subtype == b"Type0" {
            return Font::load_composite(doc, dict, to_unicode, budget);
        }
        let is_type3 = subtype == b"Type3";
        let base_font = name(dict_get(doc, dict, b"BaseFont")).unwrap_or(b"");
        let base_font = strip_subset_prefix(base_font);
        let descriptor = as_dict(dict_get(doc, dict, b"FontDescriptor"));

        // Encoding: base table, then /Differences.
        let encoding_object = dict_get(doc, dict, b"Encoding");
        let mut base = if is_symbol_font(base_font) { Base::Symbol } else { Base::Standard };
        let mut differences: Option<&Vec<Object>> = None;
        match encoding_object {
            Object::Name(n) => base = Base::from_name(n).unwrap_or(base),
            Object::Dictionary(enc) => {
                if let Some(n) = name(dict_get(doc, enc, b"BaseEncoding")) {
                    base = Base::from_name(n).unwrap_or(base);
                }
                if let Object::Array(items) = dict_get(doc, enc, b"Differences") {
                    differences = Some(items);
                }
            }
            _ => {}
        }
        let mut encoding = CodeTexts::default();
        for b in 0..=255u8 {
            encoding.insert(1, u32::from(b), |t| base.decode(b, t));
        }
        if let Some(items) = differences {
            let mut code: i64 = 0;
            for item in items.iter().take(4096) {
                match deref(doc, item) {
                    Object::Integer(i) => code = *i,
                    Object::Name(glyph) => {
                        if let Ok(code) = u8::try_from(code) {
                            let text = glyph_name_to_unicode(glyph).unwrap_or_default();
                            encoding.insert(1, u32::from(code), |t| t.push_str(&text));
                        }
                        code = code.saturating_add(1);
                    }
                    _ => {}
                }
            }
        }

        encoding.seal();
        let first_char = number(dict_get(doc, dict, b"FirstChar")).map_or(0, |v| v.max(0.0) as u32);
        let widths: Vec<f32> = match dict_get(doc, dict, b"Widths") {
            Object::Array(items) => items.iter().take(65_536).map(|w| number(deref(doc, w)).unwrap_or(0.0)).collect(),
            _ => Vec::new(),
        };
        let missing_width = descriptor.and_then(|d| number(dict_get(doc, d, b"MissingWidth"))).unwrap_or(0.0);

        let mut width_scale = 0.001;
        let mut size_ratio = 1.0;
        if is_type3
            && let Object::Array(values) = dict_get(doc, dict, b"FontMatrix")
            && let Some(m) = Matrix::from_operands(values)
            && m.a != 0.0
        {
            width_scale = m.a.abs();
            size_ratio = (m.d / m.a).abs().clamp(0.01, 100.0);
        }
        let standard_widths = if widths.is_empty() { standard_widths(base_font) } else { None };
        let widths_unknown = widths.is_empty() && standard_widths.is_none();
        let default_width = if missing_width > 0.0 {
            missing_width
        } else if widths_unknown {
            500.0
        } else {
            0.0
        };
        Font {
            split: CodeSplit::One,
            to_unicode,
            encoding: Some(encoding),
            cid_map: None,
            ucs2: false,
            cid_unicode: None,
            composite: false,
            first_char,
            widths,
            cid_widths: CidWidths::default(),
            default_width,
            width_scale,
            size_ratio,
            standard_widths,
            widths_unknown,
        }
    }

    fn load_composite(doc: &Document, dict: &Dictionary, to_unicode: Option<CMap>, budget: &mut usize) -> Font {
        let mut split = CodeSplit::Two;
        let mut cid_map = None;
        let mut ucs2 = false;
        match dict_get(doc, dict, b"Encoding") {
            Object::Name(n) => {
                let n = String::from_utf8_lossy(n);
                if n.contains("UCS2") || n.contains("UTF16") {
                    ucs2 = true;
                } else if !n.starts_with("Identity") {
                    split = CodeSplit::Mixed;
                }
            }
            Object::Stream(stream) => {
                if let Some(data) = stream_data(stream, MAX_CMAP_BYTES, budget) {
                    let cmap = CMap::parse(&data);
                    if !cmap.codespace.is_empty() {
                        split = CodeSplit::Ranges(cmap.codespace.clone());
                    }
                    cid_map = Some(cmap);
                }
            }
            _ => {}
        }
        let descendant = match dict_get(doc, dict, b"DescendantFonts") {
            Object::Array(items) => items.first().and_then(|d| as_dict(deref(doc, d))),
            other => as_dict(other),
        };
        let mut default_width = 1000.0;
        let mut cid_widths = CidWidths::default();
        // "Adobe-GB1" and kin: a CID names a character of the collection.
        let cid_unicode = descendant
            .and_then(|cid_font| as_dict(dict_get(doc, cid_font, b"CIDSystemInfo")))
            .filter(|info| matches!(dict_get(doc, info, b"Registry"), Object::String(r, _) if r == b"Adobe"))
            .and_then(|info| match dict_get(doc, info, b"Ordering") {
                Object::String(o, _) => crate::cid::collection(&String::from_utf8_lossy(o)),
                _ => None,
            })
            .filter(|_| !matches!(split, CodeSplit::Mixed) && !ucs2);
        if let Some(cid_font) = descendant {
            if let Some(dw) = number(dict_get(doc, cid_font, b"DW")) {
                default_width = dw;
            }
            if let Object::Array(items) = dict_get(doc, cid_font, b"W") {
                cid_widths = CidWidths::parse(doc, items);
            }
        }
        Font {
            split,
            to_unicode,
            encoding: None,
            cid_map,
            ucs2,
            cid_unicode,
            composite: true,
            first_char: 0,
            widths: Vec::new(),
            cid_widths,
            default_width,
            width_scale: 0.001,
            size_ratio: 1.0,
            standard_widths: None,
            widths_unknown: false,
        }
    }

    /// The code at `i` and its length in bytes (at least 1).
    fn next_code(&self, bytes: &[u8], i: usize) -> (u32, usize) {
        let rest = &bytes[i.min(bytes.len())..];
        let two = |rest: &[u8]| -> (u32, usize) {
            match rest {
                [a, b, ..] => ((u32::from(*a) << 8) | u32::from(*b), 2),
                [a] => (u32::from(*a), 1),
                [] => (0, 1),
            }
        };
        match &self.split {
            CodeSplit::One => (rest.first().copied().map_or(0, u32::from), 1),
            CodeSplit::Two => two(rest),
            CodeSplit::Mixed => match rest.first() {
                Some(&b) if b < 0x80 => (u32::from(b), 1),
                _ => two(rest),
            },
            CodeSplit::Ranges(ranges) => {
                let mut code = 0u32;
                for len in 1..=4usize.min(rest.len()) {
                    code = (code << 8) | u32::from(rest[len - 1]);
                    if ranges.iter().any(|r| r.len as usize == len && r.lo <= code && code <= r.hi) {
                        return (code, len);
                    }
                }
                // Not in any range: take the shortest length in use.
                let len = ranges.iter().map(|r| r.len as usize).min().unwrap_or(1).clamp(1, 4).min(rest.len().max(1));
                let code = rest.iter().take(len).fold(0u32, |acc, &b| (acc << 8) | u32::from(b));
                (code, len)
            }
        }
    }

    /// Glyph width in text space per unit of font size.
    fn width(&self, code: u32) -> f32 {
        let w = if self.composite {
            let cid = self.cid_map.as_ref().and_then(|m| m.cid(code)).unwrap_or(code);
            self.cid_widths.get(cid).unwrap_or(self.default_width)
        } else if let Some(w) = code.checked_sub(self.first_char).and_then(|i| self.widths.get(i as usize)) {
            *w
        } else if let Some(table) = self.standard_widths {
            match code {
                32..=126 => f32::from(table[(code - 32) as usize]),
                _ => f32::from(table[(b'n' - 32) as usize]),
            }
        } else {
            self.default_width
        };
        w * self.width_scale
    }

    /// Appends the text of one code to `out`.
    fn decode(&self, code: u32, len: usize, out: &mut String) {
        if let Some(cmap) = &self.to_unicode
            && let Some(text) = cmap.unicode(code, len)
        {
            let start = out.len();
            push_normalized(text, out);
            // Some producers map a hyphen glyph to several hyphen characters.
            if out.len() > start + 1 && out[start..].bytes().all(|b| b == b'-') {
                out.truncate(start + 1);
            }
            return;
        }
        if let Some(encoding) = &self.encoding {
            if let Some(text) = encoding.get(1, code)
                && !text.is_empty()
            {
                push_normalized(text, out);
                return;
            }
            if let Some(c) = char::from_u32(code).filter(|c| c.is_ascii_graphic()) {
                out.push(c);
            }
            return;
        }
        if self.ucs2
            && let Some(c) = char::from_u32(code)
        {
            push_normalized(c.encode_utf8(&mut [0; 4]), out);
            return;
        }
        if let Some(table) = self.cid_unicode {
            let cid = self.cid_map.as_ref().and_then(|m| m.cid(code)).unwrap_or(code);
            if let Some(c) = crate::cid::char_of(table, cid) {
                push_normalized(c.encode_utf8(&mut [0; 4]), out);
            }
        }
    }
}

/// Decompressed data of a font's stream, bounded by `limit` and charged to
/// the document `budget`.
fn stream_data(stream: &Stream, limit: usize, budget: &mut usize) -> Option<Vec<u8>> {
    let limit = limit.min(*budget);
    let data = if stream.dict.has(b"Filter") {
        stream.decompressed_content_with_limit(limit).ok()?
    } else if stream.content.len() <= limit {
        stream.content.clone()
    } else {
        return None;
    };
    *budget = budget.saturating_sub(data.len().max(1));
    Some(data)
}

fn strip_subset_prefix(name: &[u8]) -> &[u8] {
    if name.len() > 7 && name[6] == b'+' && name[..6].iter().all(u8::is_ascii_uppercase) { &name[7..] } else { name }
}

fn is_symbol_font(base_font: &[u8]) -> bool {
    base_font.starts_with(b"Symbol") || base_font.starts_with(b"ZapfDingbats")
}

/// Appends decoded text, expanding ligatures and dropping control characters.
fn push_normalized(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '\u{FB00}' => out.push_str("ff"),
            '\u{FB01}' => out.push_str("fi"),
            '\u{FB02}' => out.push_str("fl"),
            '\u{FB03}' => out.push_str("ffi"),
            '\u{FB04}' => out.push_str("ffl"),
            '\u{FB05}' | '\u{FB06}' => out.push_str("st"),
            '\u{00A0}' | '\u{2002}'..='\u{200A}' | '\u{202F}' | '\u{3000}' => out.push(' '),
            '\u{00AD}' | '\u{2010}' | '\u{2011}' | '\u{2212}' => out.push('-'),
            '\t' | '\n' | '\r' => out.push(' '),
            '\u{FFFD}' | '\u{FEFF}' | '\u{200B}'..='\u{200D}' => {}
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
}

#[derive(Default)]
struct CidWidths {
    single: HashMap<u32, f32>,
    ranges: Vec<(u32, u32, f32)>,
}

impl CidWidths {
    fn parse(doc: &Document, items: &[Object]) -> CidWidths {
        let mut out = CidWidths::default();
        let mut i = 0;
        let mut budget = 200_000usize;
        while i < items.len() && budget > 0 {
            let Some(first) = number(deref(doc, &items[i])) else {
                i += 1;
                continue;
            };
            let first = first.max(0.0) as u32;
            match items.get(i + 1).map(|o| deref(doc, o)) {
                Some(Object::Array(list)) => {
                    for (k, w) in list.iter().enumerate().take(budget) {
                        if let Some(w) = number(deref(doc, w)) {
                            out.single.insert(first.saturating_add(k as u32), w);
                        }
                    }
                    budget = budget.saturating_sub(list.len().max(1));
                    i += 2;
                }
                Some(last) => {
                    if let (Some(last), Some(w)) = (number(last), items.get(i + 2).and_then(|o| number(deref(doc, o))))
                    {
                        out.ranges.push((first, last.max(0.0) as u32, w));
                    }
                    budget -= 1;
                    i += 3;
                }
                None => break,
            }
        }
        out
    }

    fn get(&self, cid: u32) -> Option<f32> {
        if let Some(w) = self.single.get(&cid) {
            return Some(*w);
        }
        self.ranges.iter().find(|(lo, hi, _)| *lo <= cid && cid <= *hi).map(|(_, _, w)| *w)
    }
}

// ---------------------------------------------------------------------------
// CMaps (ToUnicode and embedded encodings)

#[derive(Debug, Clone, Copy)]
struct CodeRange {
    len: u8,
    lo: u32,
    hi: u32,
}

#[derive(Default)]
struct CMap {
    codespace: Vec<CodeRange>,
    /// bfchar and (expanded) bfrange entries.
    chars: CodeTexts,
    cid_chars: HashMap<u32, u32>,
    cid_ranges: Vec<(CodeRange, u32)>,
}

/// The bytes of a hex string token, at most 128 (longer ones are cut).
#[derive(Clone, Copy)]
struct Hex {
    bytes: [u8; 128],
    len: usize,
}

impl Hex {
    fn decode(raw: &[u8]) -> Hex {
        let mut hex = Hex { bytes: [0; 128], len: 0 };
        let mut high: Option<u8> = None;
        for value in raw.iter().filter_map(|&d| (d as char).to_digit(16)) {
            match high.take() {
                None => high = Some(value as u8),
                Some(h) => hex.push((h << 4) | value as u8),
            }
        }
        if let Some(h) = high {
            hex.push(h << 4);
        }
        hex
    }

    fn push(&mut self, byte: u8) {
        if let Some(slot) = self.bytes.get_mut(self.len) {
            *slot = byte;
            self.len += 1;
        }
    }

    fn as_slice(&self) -> &[u8] {
        &self.bytes[..self.len.min(self.bytes.len())]
    }

    /// The bytes as UTF-16BE code units (a trailing odd byte counts as one unit).
    fn units(&self) -> impl Iterator<Item = u16> + '_ {
        self.as_slice().chunks(2).map(|p| if let [a, b] = p { u16::from_be_bytes([*a, *b]) } else { u16::from(p[0]) })
    }
}

enum Token<'a> {
    Hex(Hex),
    Name(&'a [u8]),
    Number(i64),
    Keyword(&'a [u8]),
    ArrayOpen,
    ArrayClose,
    Other,
}

struct Lexer<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Lexer<'a> {
    fn next_token(&mut self) -> Option<Token<'a>> {
        let data = self.data;
        loop {
            let &c = data.get(self.pos)?;
            if c.is_ascii_whitespace() || c == 0 {
                self.pos += 1;
            } else if c == b'%' {
                while self.pos < data.len() && data[self.pos] != b'\n' && data[self.pos] != b'\r' {
                    self.pos += 1;
                }
            } else {
                break;
            }
        }
        let c = data[self.pos];
        let is_delim = |c: u8| c.is_ascii_whitespace() || b"()<>[]{}/%".contains(&c);
        match c {
            b'<' if data.get(self.pos + 1) == Some(&b'<') => {
                self.pos += 2;
                Some(Token::Other)
            }
            b'>' if data.get(self.pos + 1) == Some(&b'>') => {
                self.pos += 2;
                Some(Token::Other)
            }
            b'<' => {
                self.pos += 1;
                let start = self.pos;
                while self.pos < data.len() && data[self.pos] != b'>' {
                    self.pos += 1;
                }
                let raw = &data[start..self.pos];
                self.pos += 1;
                Some(Token::Hex(Hex::decode(raw)))
            }
            b'(' => {
                // Literal strings are not used for mappings here; skip them.
                let mut depth = 0usize;
                while let Some(&d) = data.get(self.pos) {
                    self.pos += 1;
                    match d {
                        b'\\' => self.pos += 1,
                        b'(' => depth += 1,
                        b')' => {
                            depth = depth.saturating_sub(1);
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                Some(Token::Other)
            }
            b'[' => {
                self.pos += 1;
                Some(Token::ArrayOpen)
            }
            b']' => {
                self.pos += 1;
                Some(Token::ArrayClose)
            }
            b'/' => {
                self.pos += 1;
                let start = self.pos;
                while self.pos < data.len() && !is_delim(data[self.pos]) {
                    self.pos += 1;
                }
                Some(Token::Name(&data[start..self.pos]))
            }
            _ => {
                let start = self.pos;
                while self.pos < data.len() && !is_delim(data[self.pos]) {
                    self.pos += 1;
                }
                if self.pos == start {
                    self.pos += 1;
                    return Some(Token::Other);
                }
                let word = &data[start..self.pos];
                match std::str::from_utf8(word).ok().and_then(|s| s.parse::<i64>().ok()) {
                    Some(n) => Some(Token::Number(n)),
                    None => Some(Token::Keyword(word)),
                }
            }
        }
    }
}

fn code_of(bytes: &[u8]) -> Option<(u8, u32)> {
    if bytes.is_empty() || bytes.len() > 4 {
        return None;
    }
    Some((bytes.len() as u8, bytes.iter().fold(0u32, |acc, &b| (acc << 8) | u32::from(b))))
}

fn push_utf16(units: impl Iterator<Item = u16>, out: &mut String) {
    out.extend(char::decode_utf16(units).filter_map(Result::ok));
}

/// Texts for codes (by code length and code) in one buffer: filled with
/// `insert`, then `seal`ed; later entries win.
#[derive(Default)]
struct CodeTexts {
    entries: Vec<(u8, u32, u32, u32)>,
    text: String,
}

impl CodeTexts {
    /// Bound on the text buffer.
    const MAX_TEXT: usize = 4 << 20;

    fn insert(&mut self, len: u8, code: u32, write: impl FnOnce(&mut String)) {
        if self.text.len() >= Self::MAX_TEXT {
            return;
        }
        let start = self.text.len();
        write(&mut self.text);
        self.entries.push((len, code, start as u32, self.text.len() as u32));
    }

    fn seal(&mut self) {
        // Stable: equal keys stay in insertion order, and the last one is kept.
        self.entries.sort_by_key(|&(len, code, _, _)| (len, code));
        let mut kept: Vec<(u8, u32, u32, u32)> = Vec::with_capacity(self.entries.len());
        for entry in self.entries.drain(..) {
            match kept.last_mut() {
                Some(last) if (last.0, last.1) == (entry.0, entry.1) => *last = entry,
                _ => kept.push(entry),
            }
        }
        self.entries = kept;
    }

    fn get(&self, len: u8, code: u32) -> Option<&str> {
        let i = self.entries.binary_search_by_key(&(len, code), |&(l, c, _, _)| (l, c)).ok()?;
        let (_, _, start, end) = self.entries[i];
        self.text.get(start as usize..end as usize)
    }
}

impl CMap {
    fn parse(data: &[u8]) -> CMap {
        let mut cmap = CMap::default();
        let mut lexer = Lexer { data, pos: 0 };
        let mut entries = 0usize;
        while let Some(token) = lexer.next_token() {
            if entries > MAX_CMAP_ENTRIES {
                break;
            }
            let Token::Keyword(keyword) = token else {
                continue;
            };
            match keyword {
                b"begincodespacerange" => {
                    while let Some(Token::Hex(lo)) = lexer.next_token() {
                        let Some(Token::Hex(hi)) = lexer.next_token() else {
                            break;
                        };
                        if let (Some((len, lo)), Some((_, hi))) = (code_of(lo.as_slice()), code_of(hi.as_slice())) {
                            cmap.codespace.push(CodeRange { len, lo, hi });
                        }
                        entries += 1;
                    }
                }
                b"beginbfchar" => {
                    while let Some(Token::Hex(src)) = lexer.next_token() {
                        let target = lexer.next_token();
                        let Some((len, code)) = code_of(src.as_slice()) else {
                            continue;
                        };
                        match target {
                            Some(Token::Hex(dst)) => cmap.chars.insert(len, code, |t| push_utf16(dst.units(), t)),
                            Some(Token::Name(glyph)) => {
                                let text = glyph_name_to_unicode(glyph).unwrap_or_default();
                                cmap.chars.insert(len, code, |t| t.push_str(&text));
                            }
                            _ => break,
                        }
                        entries += 1;
                    }
                }
                b"beginbfrange" => {
                    while let Some(Token::Hex(lo)) = lexer.next_token() {
                        let Some(Token::Hex(hi)) = lexer.next_token() else {
                            break;
                        };
                        let (Some((len, lo)), Some((_, hi))) = (code_of(lo.as_slice()), code_of(hi.as_slice())) else {
                            break;
                        };
                        match lexer.next_token() {
                            Some(Token::Hex(dst)) => {
                                let mut units = [0u16; 64];
                                let mut count_units = 0;
                                for (slot, unit) in units.iter_mut().zip(dst.units()) {
                                    *slot = unit;
                                    count_units += 1;
                                }
                                let units = &mut units[..count_units];
                                let base = units.last().copied().unwrap_or(0);
                                let count = hi.saturating_sub(lo).min(MAX_CMAP_ENTRIES.saturating_sub(entries) as u32);
                                for offset in 0..=count {
                                    if let Some(last) = units.last_mut() {
                                        *last = base.wrapping_add(offset as u16);
                                    }
                                    cmap.chars.insert(len, lo + offset, |t| push_utf16(units.iter().copied(), t));
                                }
                                entries += count as usize + 1;
                            }
                            Some(Token::ArrayOpen) => {
                                let mut code = lo;
                                loop {
                                    let token = lexer.next_token();
                                    if matches!(token, Some(Token::ArrayClose) | None) {
                                        break;
                                    }
                                    if code > hi || entries >= MAX_CMAP_ENTRIES {
                                        continue;
                                    }
                                    match token {
                                        Some(Token::Hex(dst)) => {
                                            cmap.chars.insert(len, code, |t| push_utf16(dst.units(), t));
                                        }
                                        Some(Token::Name(glyph)) => {
                                            let text = glyph_name_to_unicode(glyph).unwrap_or_default();
                                            cmap.chars.insert(len, code, |t| t.push_str(&text));
                                        }
                                        _ => continue,
                                    }
                                    entries += 1;
                                    code = code.saturating_add(1);
                                }
                            }
                            _ => break,
                        }
                    }
                }
                b"begincidchar" => {
                    while let Some(Token::Hex(src)) = lexer.next_token() {
                        let Some(Token::Number(cid)) = lexer.next_token() else {
                            break;
                        };
                        if let (Some((_, code)), Ok(cid)) = (code_of(src.as_slice()), u32::try_from(cid)) {
                            cmap.cid_chars.insert(code, cid);
                        }
                        entries += 1;
                    }
                }
                b"begincidrange" => {
                    while let Some(Token::Hex(lo)) = lexer.next_token() {
                        let (Some(Token::Hex(hi)), Some(Token::Number(cid))) = (lexer.next_token(), lexer.next_token())
                        else {
                            break;
                        };
                        if let (Some((len, lo)), Some((_, hi)), Ok(cid)) =
                            (code_of(lo.as_slice()), code_of(hi.as_slice()), u32::try_from(cid))
                            && lo <= hi
                        {
                            cmap.cid_ranges.push((CodeRange { len, lo, hi }, cid));
                        }
                        entries += 1;
                    }
                }
                _ => {}
            }
        }
        cmap.chars.seal();
        cmap
    }

    fn unicode(&self, code: u32, len: usize) -> Option<&str> {
        if let Some(text) = self.chars.get(len as u8, code) {
            return Some(text);
        }
        // Some producers write codes of another length than the font uses.
        (1..=4u8).filter(|&l| usize::from(l) != len).find_map(|l| self.chars.get(l, code))
    }

    fn cid(&self, code: u32) -> Option<u32> {
        if let Some(cid) = self.cid_chars.get(&code) {
            return Some(*cid);
        }
        self.cid_ranges
            .iter()
            .find(|(r, _)| r.lo <= code && code <= r.hi)
            .map(|(r, cid)| cid.saturating_add(code - r.lo))
    }
}

// ---------------------------------------------------------------------------
// Simple-font encodings and glyph names

#[derive(Debug, Clone, Copy, PartialEq)]
enum Base {
    Standard,
    WinAnsi,
    MacRoman,
    /// Symbol and ZapfDingbats: only ASCII-range codes are guessed.
    Symbol,
}

/// WinAnsiEncoding 0x80..=0x9F (cp1252); `\0` where undefined.
const WIN_ANSI_80: &str = "€\0‚ƒ„…†‡ˆ‰Š‹Œ\0Ž\0\0‘’“”•–—˜™š›œ\0žŸ";
/// MacRomanEncoding 0x80..=0xFF.
const MAC_ROMAN_80: &str = "ÄÅÇÉÑÖÜáàâäãåçéèêëíìîïñóòôöõúùûü†°¢£§•¶ß®©™´¨≠ÆØ∞±≤≥¥µ∂∑∏π∫ªºΩæø¿¡¬√ƒ≈∆«»… ÀÃÕŒœ–—“”‘’÷◊ÿŸ⁄€‹›ﬁﬂ‡·‚„‰ÂÊÁËÈÍÎÏÌÓÔ\u{F8FF}ÒÚÛÙıˆ˜¯˘˙˚¸˝˛ˇ";
/// StandardEncoding above 0x7F: (code, text).
const STANDARD_HIGH: &[(u8, &str)] = &[
    (0xA1, "¡"),
    (0xA2, "¢"),
    (0xA3, "£"),
    (0xA4, "⁄"),
    (0xA5, "¥"),
    (0xA6, "ƒ"),
    (0xA7, "§"),
    (0xA8, "¤"),
    (0xA9, "'"),
    (0xAA, "“"),
    (0xAB, "«"),
    (0xAC, "‹"),
    (0xAD, "›"),
    (0xAE, "fi"),
    (0xAF, "fl"),
    (0xB1, "–"),
    (0xB2, "†"),
    (0xB3, "‡"),
    (0xB4, "·"),
    (0xB6, "¶"),
    (0xB7, "•"),
    (0xB8, "‚"),
    (0xB9, "„"),
    (0xBA, "”"),
    (0xBB, "»"),
    (0xBC, "…"),
    (0xBD, "‰"),
    (0xBF, "¿"),
    (0xC1, "`"),
    (0xC2, "´"),
    (0xC3, "ˆ"),
    (0xC4, "˜"),
    (0xC5, "¯"),
    (0xC6, "˘"),
    (0xC7, "˙"),
    (0xC8, "¨"),
    (0xCA, "˚"),
    (0xCB, "¸"),
    (0xCD, "˝"),
    (0xCE, "˛"),
    (0xCF, "ˇ"),
    (0xD0, "—"),
    (0xE1, "Æ"),
    (0xE3, "ª"),
    (0xE8, "Ł"),
    (0xE9, "Ø"),
    (0xEA, "Œ"),
    (0xEB, "º"),
    (0xF1, "æ"),
    (0xF5, "ı"),
    (0xF8, "ł"),
    (0xF9, "ø"),
    (0xFA, "œ"),
    (0xFB, "ß"),
];

impl Base {
    fn from_name(name: &[u8]) -> Option<Base> {
        match name {
            b"WinAnsiEncoding" => Some(Base::WinAnsi),
            b"MacRomanEncoding" => Some(Base::MacRoman),
            b"StandardEncoding" => Some(Base::Standard),
            _ => None,
        }
    }

    /// Appends the text of code `b`.
    fn decode(self, b: u8, out: &mut String) {
        match (self, b) {
            (_, 0..=0x1F) => {}
            (Base::Standard, 0x27) => out.push('’'),
            (Base::Standard, 0x60) => out.push('‘'),
            (_, 0x20..=0x7E) => out.push(char::from(b)),
            (Base::WinAnsi, 0x80..=0x9F) => {
                if let Some(c) = WIN_ANSI_80.chars().nth(usize::from(b - 0x80)).filter(|&c| c != '\0') {
                    out.push(c);
                }
            }
            (Base::WinAnsi, 0xA0..=0xFF) => out.push(char::from(b)),
            (Base::MacRoman, 0x80..=0xFF) => out.extend(MAC_ROMAN_80.chars().nth(usize::from(b - 0x80))),
            (Base::Standard, _) => {
                if let Some((_, text)) = STANDARD_HIGH.iter().find(|(code, _)| *code == b) {
                    out.push_str(text);
                }
            }
            _ => {}
        }
    }
}

/// Glyph names to text: punctuation, symbols, ligatures and accented letters
/// in common use. Letters, `uniXXXX`, `uXXXX`, `gXX` and suffixed or
/// underscore-joined names are derived in [`glyph_name_to_unicode`].
const GLYPH_NAMES: &str = "exclam ! quotedbl \" numbersign # dollar $ percent % ampersand & quotesingle ' \
quoteright ’ parenleft ( parenright ) asterisk * plus + comma , hyphen - period . slash / zero 0 one 1 two 2 \
three 3 four 4 five 5 six 6 seven 7 eight 8 nine 9 colon : semicolon ; less < equal = greater > question ? at @ \
bracketleft [ backslash \\ bracketright ] asciicircum ^ underscore _ grave ` quoteleft ‘ braceleft { bar | \
braceright } asciitilde ~ exclamdown ¡ cent ¢ sterling £ fraction ⁄ yen ¥ florin ƒ section § currency ¤ \
quotesinglbase ‚ quotedblleft “ guillemotleft « guillemetleft « guilsinglleft ‹ guilsinglright › fi fi fl fl \
ff ff ffi ffi ffl ffl endash – emdash — dagger † daggerdbl ‡ periodcentered · middot · paragraph ¶ bullet • \
quotedblbase „ quotedblright ” guillemotright » guillemetright » ellipsis … perthousand ‰ questiondown ¿ \
acute ´ circumflex ˆ tilde ˜ macron ¯ breve ˘ dotaccent ˙ dieresis ¨ ring ˚ cedilla ¸ hungarumlaut ˝ \
ogonek ˛ caron ˇ AE Æ ordfeminine ª Lslash Ł Oslash Ø OE Œ ordmasculine º ae æ dotlessi ı dotlessj ȷ \
lslash ł oslash ø oe œ germandbls ß onesuperior ¹ twosuperior ² threesuperior ³ logicalnot ¬ minus − \
multiply × divide ÷ degree ° plusminus ± mu µ copyright © registered ® trademark ™ brokenbar ¦ \
onehalf ½ onequarter ¼ threequarters ¾ Eth Ð eth ð Thorn Þ thorn þ Euro € sfthyphen - softhyphen - \
arrowright → arrowleft ← arrowup ↑ arrowdown ↓ arrowboth ↔ minute ′ second ″ bulletoperator ∙ \
openbullet ◦ circle ○ lozenge ◊ checkmark ✓ infinity ∞ notequal ≠ lessequal ≤ greaterequal ≥ \
approxequal ≈ partialdiff ∂ summation ∑ product ∏ pi π integral ∫ Omega Ω radical √ Delta ∆ \
numero № afii61352 № quoteleftreversed ‛ dotlessjmath ȷ perthousandzero ‰ \
Agrave À Aacute Á Acircumflex Â Atilde Ã Adieresis Ä Aring Å Ccedilla Ç Egrave È Eacute É \
Ecircumflex Ê Edieresis Ë Igrave Ì Iacute Í Icircumflex Î Idieresis Ï Ntilde Ñ Ograve Ò Oacute Ó \
Ocircumflex Ô Otilde Õ Odieresis Ö Ugrave Ù Uacute Ú Ucircumflex Û Udieresis Ü Yacute Ý agrave à \
aacute á acircumflex â atilde ã adieresis ä aring å ccedilla ç egrave è eacute é ecircumflex ê \
edieresis ë igrave ì iacute í icircumflex î idieresis ï ntilde ñ ograve ò oacute ó ocircumflex ô \
otilde õ odieresis ö ugrave ù uacute ú ucircumflex û udieresis ü yacute ý ydieresis ÿ Ydieresis Ÿ \
Scaron Š scaron š Zcaron Ž zcaron ž Ccaron Č ccaron č Ecaron Ě ecaron ě Rcaron Ř rcaron ř Ncaron Ň \
ncaron ň Dcaron Ď dcaron ď Tcaron Ť tcaron ť Aogonek Ą aogonek ą Eogonek Ę eogonek ę Cacute Ć \
cacute ć Nacute Ń nacute ń Sacute Ś sacute ś Zacute Ź zacute ź Zdotaccent Ż zdotaccent ż Uring Ů \
uring ů Ohungarumlaut Ő ohungarumlaut ő Uhungarumlaut Ű uhungarumlaut ű Abreve Ă abreve ă Gbreve Ğ \
gbreve ğ Idotaccent İ Scedilla Ş scedilla ş Amacron Ā amacron ā Emacron Ē emacron ē Imacron Ī \
imacron ī Omacron Ō omacron ō Umacron Ū umacron ū Alpha Α Beta Β Gamma Γ Theta Θ Lambda Λ Sigma Σ \
Phi Φ Psi Ψ alpha α beta β gamma γ delta δ epsilon ε lambda λ sigma σ tau τ phi φ omega ω \
ij ij IJ IJ dcroat đ Dcroat Đ eng ŋ Eng Ŋ lacute ĺ Lacute Ĺ lcaron ľ Lcaron Ľ racute ŕ Racute Ŕ \
scommaaccent ș Scommaaccent Ș tcommaaccent ţ Tcommaaccent Ţ ";

fn glyph_table() -> &'static HashMap<&'static str, &'static str> {
    static TABLE: OnceLock<HashMap<&'static str, &'static str>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut words = GLYPH_NAMES.split_whitespace();
        let mut table = HashMap::new();
        while let (Some(name), Some(text)) = (words.next(), words.next()) {
            table.insert(name, text);
        }
        for (name, text) in [("space", " "), ("nbspace", " "), ("nonbreakingspace", " "), ("uni00A0", " ")] {
            table.insert(name, text);
        }
        table
    })
}

fn glyph_name_to_unicode(name: &[u8]) -> Option<String> {
    let name = std::str::from_utf8(name).ok()?;
    glyph_name_inner(name, 0)
}

fn glyph_name_inner(name: &str, depth: u8) -> Option<String> {
    if name.is_empty() || depth > 2 {
        return None;
    }
    if let Some(text) = glyph_table().get(name) {
        return Some((*text).to_owned());
    }
    if name.len() == 1 && name.as_bytes()[0].is_ascii_alphabetic() {
        return Some(name.to_owned());
    }
    // Suffixes (`a.sc`, `one.oldstyle`) and ligatures (`f_f_i`).
    if let Some((base, _)) = name.split_once('.') {
        return glyph_name_inner(base, depth + 1);
    }
    if name.contains('_') {
        let parts: Option<String> = name.split('_').map(|part| glyph_name_inner(part, depth + 1)).collect();
        return parts;
    }
    let hex_units = |digits: &str| -> Option<String> {
        if digits.is_empty() || !digits.len().is_multiple_of(4) || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let units: Vec<u16> = digits
            .as_bytes()
            .chunks(4)
            .filter_map(|c| std::str::from_utf8(c).ok().and_then(|s| u16::from_str_radix(s, 16).ok()))
            .collect();
        let mut text = String::new();
        push_utf16(units.into_iter(), &mut text);
        Some(text)
    };
    if let Some(digits) = name.strip_prefix("uni")
        && let Some(text) = hex_units(digits)
    {
        return Some(text);
    }
    if let Some(digits) = name.strip_prefix('u')
        && (4..=6).contains(&digits.len())
        && let Ok(value) = u32::from_str_radix(digits, 16)
        && let Some(c) = char::from_u32(value)
    {
        return Some(c.to_string());
    }
    // `gXX` / `GXX`: the code in hex, as some producers name glyphs.
    if let Some(digits) = name.strip_prefix(['g', 'G'])
        && digits.len() == 2
        && let Ok(value) = u8::from_str_radix(digits, 16)
        && (0x20..0x7F).contains(&value)
    {
        return Some(char::from(value).to_string());
    }
    // `cNN` / `CNN`: the code in decimal.
    if let Some(digits) = name.strip_prefix(['c', 'C'])
        && (2..=3).contains(&digits.len())
        && let Ok(value) = digits.parse::<u8>()
        && (0x20..0x7F).contains(&value)
    {
        return Some(char::from(value).to_string());
    }
    // Small capitals (`Asmall`) and other accented letters: the base letter.
    const SUFFIXES: [&str; 15] = [
        "small",
        "grave",
        "acute",
        "circumflex",
        "tilde",
        "dieresis",
        "ring",
        "cedilla",
        "caron",
        "macron",
        "breve",
        "ogonek",
        "dotaccent",
        "hungarumlaut",
        "commaaccent",
    ];
    SUFFIXES
        .iter()
        .filter_map(|suffix| name.strip_suffix(suffix))
        .find(|base| base.len() == 1 && base.as_bytes()[0].is_ascii_alphabetic())
        .map(str::to_owned)
}

/// Widths of the standard fonts for codes 32..=126, for the Standard 14
/// fonts written without /Widths.
const HELVETICA_WIDTHS: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556, 556, 556, 556, 556,
    556, 556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833,
    722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, 333, 556, 556, 500, 556,
    556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334,
    260, 334, 584,
];
const HELVETICA_BOLD_WIDTHS: [u16; 95] = [
    278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556, 556, 556, 556, 556,
    556, 556, 556, 333, 333, 584, 584, 584, 611, 975, 722, 722, 722, 722, 667, 611, 778, 722, 278, 556, 722, 611, 833,
    722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 333, 278, 333, 584, 556, 333, 556, 611, 556, 611,
    556, 333, 611, 611, 278, 278, 556, 278, 889, 611, 611, 611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389,
    280, 389, 584,
];
const TIMES_WIDTHS: [u16; 95] = [
    250, 333, 408, 500, 500, 833, 778, 180, 333, 333, 500, 564, 250, 333, 250, 278, 500, 500, 500, 500, 500, 500, 500,
    500, 500, 500, 278, 278, 564, 564, 564, 444, 921, 722, 667, 667, 722, 611, 556, 722, 722, 333, 389, 722, 611, 889,
    722, 722, 556, 722, 667, 556, 611, 722, 722, 944, 722, 722, 611, 333, 278, 333, 469, 500, 333, 444, 500, 444, 500,
    444, 333, 500, 500, 278, 278, 500, 278, 778, 500, 500, 500, 500, 333, 389, 278, 500, 500, 722, 500, 500, 444, 480,
    200, 480, 541,
];
const COURIER_WIDTHS: [u16; 95] = [600; 95];

fn standard_widths(base_font: &[u8]) -> Option<&'static [u16; 95]> {
    let bold = contains(base_font, b"Bold");
    if base_font.starts_with(b"Helvetica") || base_font.starts_with(b"Arial") {
        Some(if bold { &HELVETICA_BOLD_WIDTHS } else { &HELVETICA_WIDTHS })
    } else if base_font.starts_with(b"Times") {
        Some(&TIMES_WIDTHS)
    } else if base_font.starts_with(b"Courier") {
        Some(&COURIER_WIDTHS)
    } else {
        None
    }
}

// ---------------------------------------------------------------------------
// Layout

/// A run of glyphs on one line without a wide gap.
#[derive(Debug)]
struct Segment {
    x0: f32,
    x1: f32,
    /// Baseline of the segment's first glyph.
    y: f32,
    size: f32,
    text: String,
}

#[derive(Debug)]
struct Line {
    segments: Vec<Segment>,
}

impl Line {
    fn text(&self) -> String {
        join_segments(self.segments.iter())
    }
}

fn join_segments<'s>(segments: impl Iterator<Item = &'s Segment>) -> String {
    let mut out = String::new();
    for segment in segments {
        let text = segment.text.trim();
        if text.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(text);
    }
    out
}

fn layout_page(glyphs: &[Glyph], text: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    for orient in 0..4u8 {
        let mut indices: Vec<usize> = (0..glyphs.len()).filter(|&i| glyphs[i].orient == orient).collect();
        if indices.is_empty() {
            continue;
        }
        let lines = build_lines(glyphs, text, &mut indices);
        if orient == 0 {
            emit_with_columns(&lines, &mut out);
        } else {
            out.extend(lines.iter().map(Line::text));
        }
    }
    let mut page = String::new();
    for line in out {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if !page.is_empty() {
            page.push('\n');
        }
        page.push_str(line);
    }
    page
}

/// Vertical extent of a glyph around its baseline (descent, ascent).
fn span(g: &Glyph) -> (f32, f32) {
    (g.y - 0.2 * g.size, g.y + 0.75 * g.size)
}

fn same_line(anchor: &Glyph, g: &Glyph) -> bool {
    let (a0, a1) = span(anchor);
    let (b0, b1) = span(g);
    let overlap = a1.min(b1) - a0.max(b0);
    overlap > 0.5 * (a1 - a0).min(b1 - b0)
}

fn build_lines(glyphs: &[Glyph], text: &str, indices: &mut [usize]) -> Vec<Line> {
    indices.sort_by(|&a, &b| glyphs[b].y.total_cmp(&glyphs[a].y).then(glyphs[a].x0.total_cmp(&glyphs[b].x0)));
    let mut groups: Vec<(usize, Vec<usize>)> = Vec::new();
    for &i in indices.iter() {
        match groups.last_mut() {
            Some((anchor, members)) if same_line(&glyphs[*anchor], &glyphs[i]) => members.push(i),
            _ => groups.push((i, vec![i])),
        }
    }
    groups
        .into_iter()
        .map(|(_, mut members)| {
            // Stable: glyphs at the same x keep content order.
            members.sort_by(|&a, &b| glyphs[a].x0.total_cmp(&glyphs[b].x0));
            Line { segments: segments_of(glyphs, text, &members) }
        })
        .collect()
}

fn segments_of(glyphs: &[Glyph], text: &str, members: &[usize]) -> Vec<Segment> {
    let content = |g: &Glyph| text.get(g.start as usize..g.end as usize).unwrap_or("");
    let mut groups: Vec<Vec<&Glyph>> = Vec::new();
    let mut prev: Option<&Glyph> = None;
    for &i in members {
        let g = &glyphs[i];
        let split = match prev {
            Some(p) => {
                let size = p.size.min(g.size);
                // The same glyph drawn twice (fake bold, shadows).
                if content(p) == content(g) && (g.x0 - p.x0).abs() < 0.15 * size && (g.y - p.y).abs() < 0.15 * size {
                    continue;
                }
                g.x0 - p.x1 > SEGMENT_GAP_EM * size
            }
            None => true,
        };
        if split {
            groups.push(Vec::new());
        }
        if let Some(group) = groups.last_mut() {
            group.push(g);
        }
        prev = Some(g);
    }
    groups.iter().filter_map(|group| segment_text(group, text)).collect()
}

/// Text of one segment: word gaps from real space glyphs and from gaps wider
/// than the segment's usual letter gap.
fn segment_text(group: &[&Glyph], text: &str) -> Option<Segment> {
    let first = group.first()?;
    // Letter-spaced text (headings) has uniformly wide gaps: measure word
    // gaps relative to the typical gap between letters.
    let mut gaps: Vec<f32> = group
        .windows(2)
        .filter(|w| !w[0].space && !w[1].space)
        .map(|w| (w[1].x0 - w[0].x1) / w[0].size.min(w[1].size))
        .collect();
    let mut threshold = SPACE_GAP_EM;
    if gaps.len() >= 4 {
        gaps.sort_by(f32::total_cmp);
        let median = gaps[gaps.len() / 2];
        if median > 0.5 * SPACE_GAP_EM && median < 0.5 {
            threshold = median + SPACE_GAP_EM;
        }
    }
    let mut segment = Segment { x0: first.x0, x1: first.x1, y: first.y, size: first.size, text: String::new() };
    let mut last_space = true;
    let mut prev: Option<&Glyph> = None;
    for &g in group {
        segment.x1 = segment.x1.max(g.x1);
        segment.size = segment.size.max(g.size);
        let gap_space = prev.is_some_and(|p| {
            let estimated = g.widths_unknown && p.widths_unknown && g.run == p.run;
            !estimated && g.x0 - p.x1 > threshold * p.size.min(g.size)
        });
        prev = Some(g);
        if g.space {
            if !last_space {
                segment.text.push(' ');
                last_space = true;
            }
            continue;
        }
        if gap_space && !last_space {
            segment.text.push(' ');
        }
        let content = text.get(g.start as usize..g.end as usize).unwrap_or("");
        segment.text.push_str(content);
        last_space = content.ends_with(char::is_whitespace);
    }
    Some(segment)
}

/// A vertical gutter `[x0, x1]` that splits the page's lines into two columns.
#[derive(Debug, Clone, Copy)]
struct Gutter {
    x0: f32,
    x1: f32,
}

/// Emits lines top to bottom; where a gutter separates two columns whose
/// lines do not share baselines (true columns, not table rows), the lines of
/// each band between full-width lines are emitted left column first.
fn emit_with_columns(lines: &[Line], out: &mut Vec<String>) {
    let Some(gutter) = find_gutter(lines) else {
        out.extend(lines.iter().map(Line::text));
        return;
    };
    let mut left: Vec<String> = Vec::new();
    let mut right: Vec<String> = Vec::new();
    let flush = |left: &mut Vec<String>, right: &mut Vec<String>, out: &mut Vec<String>| {
        out.append(left);
        out.append(right);
    };
    for line in lines {
        if line.segments.iter().any(|s| crosses(s, gutter)) {
            flush(&mut left, &mut right, out);
            out.push(line.text());
            continue;
        }
        let l = join_segments(line.segments.iter().filter(|s| s.x1 <= gutter.x0));
        let r = join_segments(line.segments.iter().filter(|s| s.x0 >= gutter.x1));
        if !l.is_empty() {
            left.push(l);
        }
        if !r.is_empty() {
            right.push(r);
        }
    }
    flush(&mut left, &mut right, out);
}

fn crosses(segment: &Segment, gutter: Gutter) -> bool {
    segment.x0 < gutter.x1 && segment.x1 > gutter.x0
}

fn find_gutter(lines: &[Line]) -> Option<Gutter> {
    const MAX_BINS: usize = 2_000;
    const MIN_SIDE_LINES: usize = 3;
    if lines.len() < 2 * MIN_SIDE_LINES {
        return None;
    }
    let segments = || lines.iter().flat_map(|l| l.segments.iter());
    let min_x = segments().map(|s| s.x0).fold(f32::INFINITY, f32::min);
    let max_x = segments().map(|s| s.x1).fold(f32::NEG_INFINITY, f32::max);
    if !(max_x - min_x).is_finite() || max_x - min_x < 1.0 {
        return None;
    }
    let bin = ((max_x - min_x) / MAX_BINS as f32).max(1.0);
    let bins = (((max_x - min_x) / bin).ceil() as usize).clamp(1, MAX_BINS);
    let bin_of = |x: f32| (((x - min_x) / bin) as usize).min(bins - 1);
    let mut coverage = vec![0usize; bins + 1];
    let mut diff = vec![0isize; bins + 1];
    for s in segments() {
        diff[bin_of(s.x0)] += 1;
        diff[bin_of(s.x1) + 1] -= 1;
    }
    let mut running = 0isize;
    for (c, d) in coverage.iter_mut().zip(&diff) {
        running += d;
        *c = running.max(0) as usize;
    }
    let mut sizes: Vec<f32> = segments().map(|s| s.size).collect();
    sizes.sort_by(f32::total_cmp);
    let median_size = sizes.get(sizes.len() / 2).copied().unwrap_or(10.0);
    let max_crossing = (lines.len() / 5).max(1);

    let mut best: Option<(usize, Gutter)> = None;
    let mut start = None;
    let mut candidates = 0;
    for b in 0..=bins {
        let open = b < bins && coverage[b] <= max_crossing;
        match (open, start) {
            (true, None) => start = Some(b),
            (false, Some(s)) => {
                start = None;
                // Runs touching the text's edges are margins, not gutters.
                if s == 0 || b >= bins {
                    continue;
                }
                candidates += 1;
                if candidates > 64 {
                    break;
                }
                // The gutter proper: the widest stretch of least coverage.
                let (best_start, best_len) = longest_least_run(&coverage[s..b]);
                let best_start = s + best_start;
                let gutter =
                    Gutter { x0: min_x + best_start as f32 * bin, x1: min_x + (best_start + best_len) as f32 * bin };
                if gutter.x1 - gutter.x0 < 0.5 * median_size {
                    continue;
                }
                if let Some(support) = column_support(lines, gutter, max_crossing)
                    && best.is_none_or(|(best_support, _)| support > best_support)
                {
                    best = Some((support, gutter));
                }
            }
            _ => {}
        }
    }
    best.map(|(_, gutter)| gutter)
}

/// Offset and length of the longest run of the least value in `values`.
fn longest_least_run(values: &[usize]) -> (usize, usize) {
    let least = values.iter().copied().min().unwrap_or(0);
    let (mut best, mut current) = ((0, 0), None::<usize>);
    for (k, &v) in values.iter().enumerate() {
        match (v == least, current) {
            (true, None) => current = Some(k),
            (false, Some(start)) => {
                if k - start > best.1 {
                    best = (start, k - start);
                }
                current = None;
            }
            _ => {}
        }
    }
    if let Some(start) = current
        && values.len() - start > best.1
    {
        best = (start, values.len() - start);
    }
    best
}

/// How many lines support `gutter` as a column split, or `None` when the two
/// sides look like table rows or a title with its dates (shared baselines)
/// or one side is too thin.
///
/// Two columns set with the same leading share baselines too; they are told
/// from rows by their shape: each side runs on from line to line, the sides
/// end at different heights (or leave gaps), and the right side is a
/// left-aligned column, not right-aligned dates.
fn column_support(lines: &[Line], gutter: Gutter, max_crossing: usize) -> Option<usize> {
    let (mut left, mut right, mut shared, mut crossing, mut one_sided) = (0usize, 0usize, 0usize, 0usize, 0usize);
    // Which sides each line (not crossing the gutter) has text on.
    let mut sides: Vec<(bool, bool)> = Vec::new();
    let (mut right_x0, mut right_x1) = (Vec::new(), Vec::new());
    for line in lines {
        if line.segments.iter().any(|s| crosses(s, gutter)) {
            crossing += 1;
            continue;
        }
        let ls: Vec<&Segment> = line.segments.iter().filter(|s| s.x1 <= gutter.x0).collect();
        let rs: Vec<&Segment> = line.segments.iter().filter(|s| s.x0 >= gutter.x1).collect();
        left += usize::from(!ls.is_empty());
        right += usize::from(!rs.is_empty());
        one_sided += usize::from(ls.is_empty() != rs.is_empty());
        sides.push((!ls.is_empty(), !rs.is_empty()));
        if !rs.is_empty() {
            right_x0.push(rs.iter().map(|s| s.x0).fold(f32::INFINITY, f32::min));
            right_x1.push(rs.iter().map(|s| s.x1).fold(f32::NEG_INFINITY, f32::max));
        }
        let aligned = ls.iter().any(|l| rs.iter().any(|r| (l.y - r.y).abs() <= (0.05 * l.size.min(r.size)).max(0.3)));
        shared += usize::from(aligned);
    }
    let thinner = left.min(right);
    if crossing > max_crossing || thinner < 3 {
        return None;
    }
    if shared * 10 > thinner * 3 {
        let runs_on = |side: fn(&(bool, bool)) -> bool| {
            let with: Vec<usize> = (0..sides.len()).filter(|&i| side(&sides[i])).collect();
            let continued = with.windows(2).filter(|w| w[1] == w[0] + 1).count();
            continued * 10 >= with.len().saturating_sub(1) * 8
        };
        let columns = runs_on(|s| s.0)
            && runs_on(|s| s.1)
            && one_sided >= 1
            && share_within(&right_x0, 1.0) >= 0.8
            && share_within(&right_x1, 1.0) < 0.5;
        if !columns {
            return None;
        }
    }
    Some(thinner)
}

/// The largest share of `values` within `tolerance` of one of them.
fn share_within(values: &[f32], tolerance: f32) -> f64 {
    let best = values.iter().map(|v| values.iter().filter(|w| (*w - v).abs() <= tolerance).count()).max().unwrap_or(0);
    if values.is_empty() { 0.0 } else { best as f64 / values.len() as f64 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lopdf::dictionary;

    /// Builds small PDFs in memory: Helvetica (WinAnsi, no /Widths) as /F1.
    struct Builder {
        doc: Document,
        pages_id: ObjectId,
        resources_id: ObjectId,
        kids: Vec<Object>,
        fonts: Dictionary,
        xobjects: Dictionary,
    }

    impl Builder {
        fn new() -> Builder {
            let mut doc = Document::with_version("1.5");
            let pages_id = doc.new_object_id();
            let resources_id = doc.new_object_id();
            let helvetica = doc.add_object(dictionary! {
                "Type" => "Font",
                "Subtype" => "Type1",
                "BaseFont" => "Helvetica",
                "Encoding" => "WinAnsiEncoding",
            });
            Builder {
                doc,
                pages_id,
                resources_id,
                kids: Vec::new(),
                fonts: dictionary! { "F1" => helvetica },
                xobjects: Dictionary::new(),
            }
        }

        fn font(&mut self, name: &str, font: Dictionary) -> &mut Self {
            let id = self.doc.add_object(font);
            self.fonts.set(name, id);
            self
        }

        fn form(&mut self, name: &str, content: &str) -> &mut Self {
            let form = Stream::new(
                dictionary! {
                    "Type" => "XObject",
                    "Subtype" => "Form",
                    "BBox" => vec![0.into(), 0.into(), 612.into(), 792.into()],
                    "Matrix" => vec![1.into(), 0.into(), 0.into(), 1.into(), 0.into(), 0.into()],
                },
                content.as_bytes().to_vec(),
            );
            let id = self.doc.add_object(form);
            self.xobjects.set(name, id);
            self
        }

        fn page(&mut self, content: &str) -> &mut Self {
            let content_id = self.doc.add_object(Stream::new(Dictionary::new(), content.as_bytes().to_vec()));
            let page_id = self.doc.add_object(dictionary! {
                "Type" => "Page",
                "Parent" => self.pages_id,
                "Contents" => content_id,
                "Resources" => self.resources_id,
                "MediaBox" => vec![0.into(), 0.into(), 612.into(), 792.into()],
            });
            self.kids.push(page_id.into());
            self
        }

        fn build_with(&mut self, edit: impl FnOnce(&mut Document)) -> Vec<u8> {
            let count = self.kids.len() as i64;
            let kids = std::mem::take(&mut self.kids);
            self.doc.objects.insert(
                self.pages_id,
                Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => kids, "Count" => count }),
            );
            let resources = dictionary! {
                "Font" => std::mem::take(&mut self.fonts),
                "XObject" => std::mem::take(&mut self.xobjects),
            };
            self.doc.objects.insert(self.resources_id, Object::Dictionary(resources));
            let catalog = self.doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => self.pages_id });
            self.doc.trailer.set("Root", catalog);
            edit(&mut self.doc);
            let mut out = Vec::new();
            self.doc.save_to(&mut out).expect("an in-memory PDF is written");
            out
        }

        fn build(&mut self) -> Vec<u8> {
            self.build_with(|_| {})
        }
    }

    fn texts(bytes: &[u8]) -> Vec<(u32, String)> {
        extract_pages(bytes).expect("the PDF is extracted").into_iter().map(|p| (p.page, p.text)).collect()
    }

    #[test]
    fn pdf_pages_lines_and_td() {
        let bytes = Builder::new()
            .page("BT /F1 12 Tf 72 700 Td (Hello World) Tj 0 -20 Td (Second line) Tj ET")
            .page("BT /F1 12 Tf 72 700 Td (Page) Tj 40 0 Td (two) Tj ET")
            .build();
        assert_eq!(texts(&bytes), vec![(1, "Hello World\nSecond line".into()), (2, "Page two".into())]);
    }

    #[test]
    fn pdf_word_gaps_from_tj_offsets_only() {
        // As LaTeX writes it: no space glyphs, words apart by TJ offsets, and
        // small kerning offsets inside words.
        let bytes = Builder::new()
            .page(
                "BT /F1 11 Tf 72 700 Td [(Resume)-333(P)20(ersonalization)-333(Engine)] TJ \
                 0 -14 Td [(W)80(orld)-40(wide)] TJ ET",
            )
            .build();
        assert_eq!(texts(&bytes), vec![(1, "Resume Personalization Engine\nWorldwide".into())]);
    }

    #[test]
    fn pdf_blocks_on_one_baseline_are_separated() {
        let bytes = Builder::new()
            .page("BT /F1 12 Tf 72 700 Td (Left block) Tj ET BT /F1 12 Tf 400 700 Td (Right block) Tj ET")
            .build();
        assert_eq!(texts(&bytes), vec![(1, "Left block Right block".into())]);
    }

    #[test]
    fn pdf_text_state_operators() {
        let bytes = Builder::new()
            .page(
                "BT /F1 10 Tf 14 TL 1 0 0 1 72 600 Tm (alpha) Tj T* (beta) Tj (gamma) ' 2 0 (delta) \" \
                 0 -30 TD (epsilon) Tj T* 150 Tz 1 Tc (zeta) Tj ET \
                 q 2 0 0 2 0 0 cm BT /F1 8 Tf 36 100 Td 3 Ts (scaled) Tj ET Q",
            )
            .build();
        assert_eq!(texts(&bytes), vec![(1, "alpha\nbeta\ngamma\ndelta\nepsilon\nzeta\nscaled".into())]);
    }

    #[test]
    fn pdf_letter_spaced_heading_keeps_words() {
        let bytes =
            Builder::new().page("BT /F1 12 Tf 72 700 Td [(S)-250(U)-250(M)-700(M)-250(A)-250(R)-250(Y)] TJ ET").build();
        assert_eq!(texts(&bytes), vec![(1, "SUM MARY".into())]);
    }

    #[test]
    fn pdf_form_xobjects_recurse_with_a_limit() {
        // /Fm1 draws itself: the depth limit stops it.
        let bytes = Builder::new()
            .form("Fm1", "BT /F1 12 Tf 72 500 Td (Inside form) Tj ET /Fm1 Do")
            .page("BT /F1 12 Tf 72 700 Td (Before) Tj ET /Fm1 Do")
            .build();
        let pages = texts(&bytes);
        assert_eq!(pages.len(), 1);
        assert!(pages[0].1.starts_with("Before\nInside form"), "{}", pages[0].1);
    }

    #[test]
    fn pdf_identity_h_font_with_tounicode() {
        let mut builder = Builder::new();
        let cmap = "/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n\
            1 begincodespacerange <0000> <FFFF> endcodespacerange\n\
            2 beginbfchar <0001> <0048> <0002> <0069> endbfchar\n\
            2 beginbfrange <0010> <0012> <0061> <0020> <0021> [<FB01> <006F>] endbfrange\n\
            endcmap CMapName currentdict /CMap defineresource pop end end";
        let to_unicode = builder.doc.add_object(Stream::new(Dictionary::new(), cmap.as_bytes().to_vec()));
        let cid_font = builder.doc.add_object(dictionary! {
            "Type" => "Font",
            "Subtype" => "CIDFontType2",
            "BaseFont" => "TestSans",
            "W" => vec![1.into(), vec![600.into(), 300.into()].into(), 16.into(), 18.into(), 500.into(), 32.into(), 33.into(), 550.into()],
            "DW" => 1000,
        });
        builder.font(
            "F2",
            dictionary! {
                "Type" => "Font",
                "Subtype" => "Type0",
                "BaseFont" => "TestSans",
                "Encoding" => "Identity-H",
                "DescendantFonts" => vec![cid_font.into()],
                "ToUnicode" => to_unicode,
            },
        );
        let bytes =
            builder.page("BT /F2 12 Tf 72 700 Td [<00010002> -400 <001000110012> -400 <00200021>] TJ ET").build();
        assert_eq!(texts(&bytes), vec![(1, "Hi abc fio".into())]);
    }

    #[test]
    fn pdf_adobe_gb1_font_without_tounicode_reads_through_the_collection() {
        // CJK LaTeX output: an Identity-H CID font of Adobe-GB1 and no ToUnicode map.
        let mut builder = Builder::new();
        let cid_font = builder.doc.add_object(dictionary! {
            "Type" => "Font",
            "Subtype" => "CIDFontType0",
            "BaseFont" => "AdobeHeitiStd-Regular",
            "CIDSystemInfo" => dictionary! {
                "Registry" => Object::string_literal("Adobe"),
                "Ordering" => Object::string_literal("GB1"),
                "Supplement" => 5,
            },
            "DW" => 1000,
        });
        builder.font(
            "F4",
            dictionary! {
                "Type" => "Font",
                "Subtype" => "Type0",
                "BaseFont" => "AdobeHeitiStd-Regular-Identity-H",
                "Encoding" => "Identity-H",
                "DescendantFonts" => vec![cid_font.into()],
            },
        );
        let bytes = builder.page("BT /F4 12 Tf 72 700 Td <11660EBF> Tj 0 -20 Td <06FD04F10D3D> Tj ET").build();
        assert_eq!(texts(&bytes), vec![(1, "张伟\n工程师".into())]);
    }

    #[test]
    fn pdf_differences_glyph_names() {
        let mut builder = Builder::new();
        builder.font(
            "F3",
            dictionary! {
                "Type" => "Font",
                "Subtype" => "Type1",
                "BaseFont" => "ABCDEF+CustomSerif",
                "FirstChar" => 1,
                "Widths" => vec![556.into(), 278.into(), 667.into(), 500.into(), 500.into()],
                "Encoding" => dictionary! {
                    "Type" => "Encoding",
                    "BaseEncoding" => "WinAnsiEncoding",
                    "Differences" => vec![1.into(), "f_i".into(), "quoteright".into(), "uni0041".into(), "eacute".into(), "g41".into()],
                },
            },
        );
        let bytes = builder.page("BT /F3 12 Tf 72 700 Td (\\001\\002\\003\\004\\005\\223) Tj ET").build();
        assert_eq!(texts(&bytes), vec![(1, "fi’AéA“".into())]);
    }

    #[test]
    fn pdf_two_columns_are_read_column_by_column() {
        let mut content = String::from("BT /F1 10 Tf ET ");
        for i in 0..8 {
            content.push_str(&format!("BT /F1 10 Tf 72 {} Td (Left {i}) Tj ET ", 700 - 14 * i));
            content.push_str(&format!("BT /F1 10 Tf 320 {} Td (Right {i}) Tj ET ", 695 - 17 * i));
        }
        let bytes = Builder::new().page(&content).build();
        let expected: Vec<String> =
            (0..8).map(|i| format!("Left {i}")).chain((0..8).map(|i| format!("Right {i}"))).collect();
        assert_eq!(texts(&bytes), vec![(1, expected.join("\n"))]);
    }

    #[test]
    fn pdf_table_rows_stay_rows() {
        let mut content = String::new();
        for i in 0..8 {
            content.push_str(&format!(
                "BT /F1 10 Tf 72 {y} Td (Company {i}) Tj ET BT /F1 10 Tf 450 {y} Td (20{i}0) Tj ET ",
                y = 700 - 14 * i
            ));
        }
        let bytes = Builder::new().page(&content).build();
        let expected: Vec<String> = (0..8).map(|i| format!("Company {i} 20{i}0")).collect();
        assert_eq!(texts(&bytes), vec![(1, expected.join("\n"))]);
    }

    #[test]
    fn pdf_columns_on_shared_baselines_are_read_column_by_column() {
        // A sidebar and a main column set with the same leading: every
        // sidebar line shares a baseline with a main-column line.
        let side = ["Ana Silva", "ana@example.com", "SKILLS", "Rust, SQL,", "Kafka"];
        let main = [
            "EXPERIENCE",
            "Engineer, Acme, 2020 - Present",
            "Built the billing pipeline for the team",
            "Cut costs by 30% in one year of work",
            "Analyst, Initech, 2017 - 2020",
            "Wrote the reports that the board read",
            "Trained four new analysts on the tools",
        ];
        let mut content = String::from("BT /F1 9 Tf 12 TL 40 800 Td ");
        for line in side {
            content.push_str(&format!("({line}) Tj T* "));
        }
        content.push_str("ET BT /F1 9 Tf 12 TL 230 800 Td ");
        for line in main {
            content.push_str(&format!("({line}) Tj T* "));
        }
        content.push_str("ET");
        let bytes = Builder::new().page(&content).build();
        let expected: Vec<&str> = side.iter().chain(main.iter()).copied().collect();
        assert_eq!(texts(&bytes), vec![(1, expected.join("\n"))]);
    }

    #[test]
    fn pdf_titles_with_dates_at_a_tab_stop_stay_rows() {
        // Title left, dates at a tab stop, bullets under each: rows, not columns.
        let mut content = String::new();
        let mut expected = Vec::new();
        let mut y = 700;
        for (i, dates) in ["2020 - Present", "Jan 2017 - Mar 2020", "2015 - 2017"].iter().enumerate() {
            content.push_str(&format!(
                "BT /F1 10 Tf 72 {y} Td (Engineer {i}) Tj ET BT /F1 10 Tf 400 {y} Td ({dates}) Tj ET "
            ));
            expected.push(format!("Engineer {i} {dates}"));
            for b in 0..2 {
                y -= 14;
                content.push_str(&format!("BT /F1 10 Tf 72 {y} Td (Did thing {b}) Tj ET "));
                expected.push(format!("Did thing {b}"));
            }
            y -= 14;
        }
        let bytes = Builder::new().page(&content).build();
        assert_eq!(texts(&bytes), vec![(1, expected.join("\n"))]);
    }

    #[test]
    fn pdf_actual_text_replaces_glyphs() {
        let bytes = Builder::new()
            .page("BT /F1 12 Tf 72 700 Td (Phone) Tj ET /Span << /ActualText (tel:) >> BDC BT /F1 12 Tf 120 700 Td (X) Tj ET EMC")
            .build();
        assert_eq!(texts(&bytes), vec![(1, "Phone tel:".into())]);
    }

    #[test]
    fn pdf_truncated_is_malformed() {
        let bytes = Builder::new().page("BT /F1 12 Tf 72 700 Td (Hello) Tj ET").build();
        for cut in [20, bytes.len() / 3] {
            match extract_pages(&bytes[..cut]) {
                Err(ExtractError::MalformedPdf(_)) => {}
                other => panic!("cut at {cut}: {other:?}"),
            }
        }
        assert!(matches!(extract_pages(b"not a pdf at all"), Err(ExtractError::MalformedPdf(_))));
        assert!(matches!(extract_pages(b""), Err(ExtractError::MalformedPdf(_))));
    }

    #[test]
    fn pdf_encrypted_trailer_is_reported() {
        let bytes = Builder::new().page("BT /F1 12 Tf 72 700 Td (Secret) Tj ET").build_with(|doc| {
            let encrypt = doc.add_object(dictionary! {
                "Filter" => "Standard",
                "V" => 1,
                "R" => 2,
                "O" => Object::string_literal(vec![0x11u8; 32]),
                "U" => Object::string_literal(vec![0x22u8; 32]),
                "P" => -4,
            });
            doc.trailer.set("Encrypt", encrypt);
            doc.trailer.set("ID", vec![Object::string_literal(vec![1u8; 16]), Object::string_literal(vec![1u8; 16])]);
        });
        assert_eq!(extract_pages(&bytes), Err(ExtractError::EncryptedPdf));
    }

    #[test]
    fn pdf_hostile_content_is_bounded() {
        let deep = "q ".repeat(100_000) + "BT /F1 12 Tf 72 700 Td (Deep) Tj ET" + &" Q".repeat(100_000);
        let bytes = Builder::new()
            .page(&deep)
            .page("BT /F1 1e30 Tf 1e30 0 0 1e30 1e30 1e30 Tm (Huge) Tj /Nope 12 Tf (x) Tj ET")
            .page("BT /F1 12 Tf [(a) 1 (b)] TJ ] ] >> << (unbalanced ET")
            .build();
        let pages = texts(&bytes);
        assert_eq!(pages.len(), 3);
        assert_eq!(pages[0].1, "Deep");
    }

    #[test]
    fn pdf_tables_are_complete() {
        assert_eq!(MAC_ROMAN_80.chars().count(), 128);
        assert_eq!(WIN_ANSI_80.chars().count(), 32);
        assert_eq!(glyph_name_to_unicode(b"f_f_i").as_deref(), Some("ffi"));
        assert_eq!(glyph_name_to_unicode(b"uni00E9").as_deref(), Some("é"));
        assert_eq!(glyph_name_to_unicode(b"one.oldstyle").as_deref(), Some("1"));
        assert_eq!(glyph_name_to_unicode(b"Ograve").as_deref(), Some("Ò"));
        assert_eq!(glyph_name_to_unicode(b"bullet").as_deref(), Some("•"));
        assert_eq!(glyph_name_to_unicode(b"notaglyph"), None);
    }

    /// Real resumes when the shared sample folder is present.
    #[test]
    fn pdf_sample_documents() {
        let dir = std::env::var_os("PERSONALIZATION_TESTDATA_DOCS")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/docs"));
        let Ok(entries) = std::fs::read_dir(&dir) else {
            eprintln!("skipping: sample PDFs not found at {}", dir.display());
            return;
        };
        let mut paths: Vec<_> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("pdf")))
            .collect();
        paths.sort();
        let expected = [("resumematcher_barry_allen_fe.pdf", "Barry Allen"), ("openresume_example.pdf", "John Doe")];
        for path in &paths {
            let bytes = std::fs::read(path).expect("sample is readable");
            let pages = extract_pages(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert!(!pages.is_empty(), "{}", path.display());
            let all: String = pages.iter().map(|p| p.text.as_str()).collect::<Vec<_>>().join("\n");
            assert!(all.split_whitespace().count() >= 5, "{}: too little text", path.display());
            for (i, page) in pages.iter().enumerate() {
                assert_eq!(page.page as usize, i + 1);
                let mut run = 0;
                for c in page.text.chars() {
                    run = if c.is_ascii_alphabetic() { run + 1 } else { 0 };
                    assert!(run <= 40, "{}: words run together on page {}", path.display(), page.page);
                }
            }
            let file = path.file_name().and_then(|f| f.to_str()).unwrap_or("");
            for (name, words) in expected {
                if file == name {
                    assert!(all.contains(words), "{file}: {words:?} not found");
                }
            }
        }
    }
}
