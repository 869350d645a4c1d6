//! Importer stub: being written.

use std::io::BufRead;
use std::path::Path;

use super::{ParseError, ParseReport};

pub fn parse(_path: &Path, _reader: &mut dyn BufRead) -> Result<ParseReport, ParseError> {
    Ok(ParseReport::default())
}
