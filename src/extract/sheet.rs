//! Spreadsheets: XLSX streamed cell by cell with calamine, legacy XLS through calamine's range
//! reader.
//!
//! calamine's `worksheet_range` densifies the used range, so a 1.5 KB XLSX with cells A1 and
//! XFD1048576 asks for 550 GB and aborts; `worksheet_cells_reader` streams the same file in a
//! few KB. The package's declared sizes are checked before calamine opens it, because calamine
//! inflates shared strings without a bound.

use super::zipsafe::SafeZip;
use super::{Extracted, Failure, Format, Limits, Reason, TextBuilder, UnitKind};
use calamine::{DataRef, Reader};
use std::io::{BufReader, Read, Seek};
use std::path::Path;

fn calamine_failure(what: &str, e: impl std::fmt::Display) -> Failure {
    let msg = e.to_string();
    let lower = msg.to_ascii_lowercase();
    if lower.contains("password") || lower.contains("encrypt") {
        Failure::encrypted(what)
    } else {
        Failure::damaged(format!("damaged {what}: {msg}"))
    }
}

fn write_cell(b: &mut TextBuilder, v: &DataRef<'_>) {
    match v {
        DataRef::Empty | DataRef::Error(_) => {}
        DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => {
            b.push_str(s.trim())
        }
        DataRef::SharedString(s) => b.push_str(s.trim()),
        DataRef::Int(i) => b.push_str(&i.to_string()),
        DataRef::Float(f) => b.push_str(&format_number(*f)),
        DataRef::Bool(x) => b.push_str(if *x { "TRUE" } else { "FALSE" }),
        DataRef::DateTime(d) => {
            if d.is_datetime() {
                let (y, m, day, hh, mm, _, _) = d.to_ymd_hms_milli();
                if hh == 0 && mm == 0 {
                    b.push_str(&format!("{y:04}-{m:02}-{day:02}"));
                } else {
                    b.push_str(&format!("{y:04}-{m:02}-{day:02} {hh:02}:{mm:02}"));
                }
            } else {
                b.push_str(&format_number(d.as_f64()));
            }
        }
    }
}

/// Numbers as a person would type them: `12`, `0.85`, not `12.0` or `0.8500000001`.
fn format_number(f: f64) -> String {
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        let s = format!("{f:.6}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

pub fn extract_xlsx<R: Read + Seek>(
    path: &Path,
    zip: &mut SafeZip<R>,
    limits: &Limits,
) -> Result<Extracted, Failure> {
    zip.check_all()?;
    let mut b = TextBuilder::new(Format::Xlsx, limits);
    super::ooxml::read_core_props(zip, &mut b, limits);
    let file = std::fs::File::open(path)?;
    let mut wb: calamine::Xlsx<_> = calamine::open_workbook_from_rs(BufReader::new(file))
        .map_err(|e| calamine_failure("Excel workbook", e))?;
    for name in wb.sheet_names() {
        if b.is_full() {
            break;
        }
        b.begin_unit(UnitKind::Sheet, format!("sheet {name}"));
        let mut reader = match wb.worksheet_cells_reader(&name) {
            Ok(r) => r,
            Err(e) => {
                b.warn(format!("sheet {name}: {e}"));
                continue;
            }
        };
        let mut row = None;
        loop {
            match reader.next_cell() {
                Ok(Some(cell)) => {
                    let (r, _) = cell.get_position();
                    if row != Some(r) {
                        if row.is_some() {
                            b.newline();
                        }
                        row = Some(r);
                    } else {
                        b.separate('\t');
                    }
                    write_cell(&mut b, cell.get_value());
                    if b.is_full() {
                        break;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    b.warn(format!("sheet {name}: stopped at a damaged cell: {e}"));
                    break;
                }
            }
        }
    }
    b.end_unit();
    Ok(b.finish())
}

/// Legacy Excel 97-2003. calamine densifies each sheet here; the worker's memory limit is what
/// keeps a hostile file from taking the machine.
pub fn extract_xls(path: &Path) -> Result<Extracted, Failure> {
    let limits = Limits::default();
    let file = std::fs::File::open(path)?;
    let mut wb: calamine::Xls<_> = calamine::open_workbook_from_rs(BufReader::new(file))
        .map_err(|e| calamine_failure("Excel 97-2003 workbook", e))?;
    let mut b = TextBuilder::new(Format::Xls, &limits);
    for name in wb.sheet_names() {
        let range = match wb.worksheet_range(&name) {
            Ok(r) => r,
            Err(e) => {
                b.warn(format!("sheet {name}: {e}"));
                continue;
            }
        };
        if range.get_size().0.saturating_mul(range.get_size().1) > 50_000_000 {
            return Err(Failure::new(
                Reason::TooLarge,
                format!("too large: sheet {name} spans more than 50 million cells"),
            ));
        }
        b.begin_unit(UnitKind::Sheet, format!("sheet {name}"));
        for row in range.rows() {
            for (i, cell) in row.iter().enumerate() {
                if i > 0 {
                    b.separate('\t');
                }
                let s = cell.to_string();
                b.push_str(s.trim());
            }
            b.newline();
        }
    }
    b.end_unit();
    Ok(b.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_as_typed() {
        assert_eq!(format_number(12.0), "12");
        assert_eq!(format_number(0.85), "0.85");
        assert_eq!(format_number(-3.5), "-3.5");
    }
}
