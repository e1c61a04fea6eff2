//! Type detection from magic bytes and structure. TODO(helper)
