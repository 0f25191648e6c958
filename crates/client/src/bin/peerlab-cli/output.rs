//! Printing items as a table, JSON lines or CSV.

use std::borrow::Cow;
use std::io::{self, Write};
use std::marker::PhantomData;

use futures::{Stream, StreamExt};
use serde_json::Value;

use crate::args::Format;
use crate::failure::CliError;

/// Something the CLI prints: a JSON object, and column paths into it.
pub trait Record {
    /// CSV columns, as dotted paths into [`Record::to_json`] (`answer.state`).
    const COLUMNS: &'static [&'static str];
    /// The table's columns: the most useful of [`Record::COLUMNS`].
    const TABLE: &'static [&'static str];
    /// Every field, by its proto name.
    fn to_json(&self) -> Value;
}

/// Where items go, in one format. Tables are aligned, so they are printed
/// when finished, unless `live` (a feed that never finishes).
pub struct Sink<R, W: Write> {
    format: Format,
    out: W,
    live: bool,
    header_done: bool,
    rows: Vec<Vec<String>>,
    record: PhantomData<fn(&R)>,
}

impl<R: Record, W: Write> Sink<R, W> {
    /// A sink for a finite list.
    pub fn new(format: Format, out: W) -> Self {
        Sink { format, out, live: false, header_done: false, rows: Vec::new(), record: PhantomData }
    }

    /// A sink that prints every table row at once, unaligned.
    pub fn live(format: Format, out: W) -> Self {
        Sink { live: true, ..Sink::new(format, out) }
    }

    /// Print (or keep) one item.
    pub fn push(&mut self, item: &R) -> io::Result<()> {
        let json = item.to_json();
        match self.format {
            Format::Json => writeln!(self.out, "{json}")?,
            Format::Csv => {
                self.header()?;
                let row: Vec<String> = R::COLUMNS.iter().map(|c| cell(&json, c)).collect();
                writeln!(self.out, "{}", csv_row(&row))?;
            }
            Format::Table => {
                let row: Vec<String> = R::TABLE.iter().map(|c| table_cell(&cell(&json, c))).collect();
                if self.live {
                    self.header()?;
                    writeln!(self.out, "{}", row.join("  "))?;
                } else {
                    self.rows.push(row);
                }
            }
        }
        if self.live { self.out.flush() } else { Ok(()) }
    }

    /// Print every item of `items`, stopping at the first error.
    pub async fn drain(
        &mut self,
        items: impl Stream<Item = Result<R, peerlab_client::Error>>,
    ) -> Result<usize, CliError> {
        let mut items = std::pin::pin!(items);
        let mut count = 0;
        while let Some(item) = items.next().await {
            self.push(&item?)?;
            count += 1;
        }
        Ok(count)
    }

    /// Print what was kept (an aligned table; a CSV header even for no rows).
    pub fn finish(mut self) -> io::Result<W> {
        match self.format {
            Format::Csv => self.header()?,
            Format::Table if !self.rows.is_empty() => {
                let header: Vec<String> = R::TABLE.iter().map(|c| column_title(c)).collect();
                let rows = std::mem::take(&mut self.rows);
                write_aligned(&mut self.out, std::iter::once(&header).chain(&rows))?;
            }
            Format::Table | Format::Json => {}
        }
        self.out.flush()?;
        Ok(self.out)
    }

    fn header(&mut self) -> io::Result<()> {
        if !self.header_done {
            self.header_done = true;
            match self.format {
                Format::Csv => writeln!(self.out, "{}", csv_row(R::COLUMNS))?,
                Format::Table => {
                    let titles: Vec<String> = R::TABLE.iter().map(|c| column_title(c)).collect();
                    writeln!(self.out, "{}", titles.join("  "))?;
                }
                Format::Json => {}
            }
        }
        Ok(())
    }
}

/// The value at a dotted `path` of `json`, as text: lists joined by `", "`,
/// missing and null as empty.
pub fn cell(json: &Value, path: &str) -> String {
    path.split('.').try_fold(json, |value, key| value.get(key)).map(text).unwrap_or_default()
}

fn text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(text) => text.clone(),
        Value::Array(items) => items.iter().map(text).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

fn column_title(path: &str) -> String {
    path.replace('.', "_").to_uppercase()
}

fn table_cell(text: &str) -> String {
    const MAX: usize = 48;
    let flat = text.replace(['\n', '\r', '\t'], " ");
    if flat.chars().count() <= MAX { flat } else { flat.chars().take(MAX - 1).chain(['…']).collect() }
}

fn write_aligned<'a>(out: &mut impl Write, rows: impl Iterator<Item = &'a Vec<String>> + Clone) -> io::Result<()> {
    let mut widths: Vec<usize> = Vec::new();
    for row in rows.clone() {
        widths.resize(widths.len().max(row.len()), 0);
        for (width, text) in widths.iter_mut().zip(row) {
            *width = (*width).max(text.chars().count());
        }
    }
    for row in rows {
        let mut line = String::new();
        for (i, text) in row.iter().enumerate() {
            if i + 1 < row.len() {
                let pad = widths[i] - text.chars().count() + 2;
                line.push_str(text);
                line.extend(std::iter::repeat_n(' ', pad));
            } else {
                line.push_str(text);
            }
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

/// One CSV field, quoted when it holds a comma, quote, line break, or
/// leading/trailing space (RFC 4180); quotes inside are doubled.
pub fn csv_field(text: &str) -> Cow<'_, str> {
    let needs_quotes = text.contains([',', '"', '\n', '\r'])
        || text.starts_with(char::is_whitespace)
        || text.ends_with(char::is_whitespace);
    if needs_quotes { Cow::Owned(format!("\"{}\"", text.replace('"', "\"\""))) } else { Cow::Borrowed(text) }
}

fn csv_row(fields: &[impl AsRef<str>]) -> String {
    fields.iter().map(|f| csv_field(f.as_ref())).collect::<Vec<_>>().join(",")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn csv_fields_are_quoted_only_when_needed() {
        assert_eq!(csv_field("Mostar"), "Mostar");
        assert_eq!(csv_field("Skopje, Centar"), "\"Skopje, Centar\"");
        assert_eq!(csv_field(r#"the "smart city" pilot"#), r#""the ""smart city"" pilot""#);
        assert_eq!(csv_field("line one\nline two"), "\"line one\nline two\"");
        assert_eq!(csv_field("\r"), "\"\r\"");
        assert_eq!(csv_field(" padded"), "\" padded\"");
        assert_eq!(csv_field(""), "");
        assert_eq!(csv_row(&["a", "b,c", ""]), "a,\"b,c\",");
    }

    struct Item(Value);
    impl Record for Item {
        const COLUMNS: &'static [&'static str] = &["name", "themes", "answer.state"];
        const TABLE: &'static [&'static str] = &["name", "answer.state"];
        fn to_json(&self) -> Value {
            self.0.clone()
        }
    }

    fn items() -> Vec<Item> {
        vec![
            Item(json!({ "name": "municipalities/1", "themes": ["a", "b"], "answer": { "state": "adopted" } })),
            Item(json!({ "name": "m/2", "themes": [], "answer": null })),
        ]
    }

    fn print(format: Format, items: &[Item]) -> String {
        let mut sink = Sink::new(format, Vec::new());
        items.iter().try_for_each(|i| sink.push(i)).unwrap_or_else(|e| panic!("{e}"));
        String::from_utf8(sink.finish().unwrap_or_default()).unwrap_or_default()
    }

    #[test]
    fn cells_follow_dotted_paths_and_join_lists() {
        let json = json!({ "a": { "b": 3 }, "list": ["x", 1], "none": null });
        assert_eq!(
            (cell(&json, "a.b"), cell(&json, "list"), cell(&json, "none"), cell(&json, "a.zz")),
            ("3".into(), "x, 1".into(), String::new(), String::new())
        );
    }

    #[test]
    fn tables_align_columns_and_csv_has_a_header_even_when_empty() {
        assert_eq!(print(Format::Table, &items()), "NAME              ANSWER_STATE\nmunicipalities/1  adopted\nm/2\n");
        assert_eq!(
            print(Format::Csv, &items()),
            "name,themes,answer.state\nmunicipalities/1,\"a, b\",adopted\nm/2,,\n"
        );
        assert_eq!(print(Format::Csv, &[]), "name,themes,answer.state\n");
        assert_eq!(print(Format::Table, &[]), "");
        assert_eq!(print(Format::Json, &items()[..1]).lines().count(), 1);
    }

    #[test]
    fn long_or_multiline_table_cells_are_shortened() {
        assert_eq!(table_cell("a\nb"), "a b");
        assert_eq!(table_cell(&"x".repeat(60)).chars().count(), 48);
    }
}
