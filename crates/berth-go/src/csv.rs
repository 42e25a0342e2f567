//! Go's `encoding/csv` reader with its defaults ([`csv_first_record`]), which the docker CLI
//! uses to split `--mount` values.

/// Reads the first record of `input` the way Go's `encoding/csv` `Reader.Read` does with its
/// defaults (comma separator, RFC 4180 quotes, no lazy quotes, blank lines skipped, `\r\n`
/// folded). The error is Go's error text (`EOF`, `parse error on line 1, column 5: ...`).
pub fn csv_first_record(input: &str) -> Result<Vec<String>, String> {
    let mut reader = CsvLines {
        data: input.as_bytes(),
        offset: 0,
        num_line: 0,
    };

    // Skip empty lines; end of input before any record is io.EOF.
    let mut line = loop {
        match reader.read_line() {
            None => return Err("EOF".to_string()),
            Some(line) if line == b"\n" => continue,
            Some(line) => break line,
        }
    };

    let rec_line = reader.num_line;
    let mut record: Vec<u8> = Vec::new();
    let mut ends: Vec<usize> = Vec::new();
    let mut pos_line = reader.num_line;
    let mut pos_col: usize = 1;
    let parse_error = |start: usize, line: usize, col: usize, msg: &str| {
        if start != line {
            format!("record on line {start}; parse error on line {line}, column {col}: {msg}")
        } else {
            format!("parse error on line {line}, column {col}: {msg}")
        }
    };
    const BARE_QUOTE: &str = "bare \" in non-quoted-field";
    const QUOTE: &str = "extraneous or missing \" in quoted-field";

    'field: loop {
        if line.first() != Some(&b'"') {
            // Non-quoted field.
            let comma = line.iter().position(|&b| b == b',');
            let field_end = comma.unwrap_or(line.len() - length_nl(&line));
            let field = &line[..field_end];
            if let Some(j) = field.iter().position(|&b| b == b'"') {
                return Err(parse_error(
                    rec_line,
                    reader.num_line,
                    pos_col + j,
                    BARE_QUOTE,
                ));
            }
            record.extend_from_slice(field);
            ends.push(record.len());
            match comma {
                Some(i) => {
                    line.drain(..=i);
                    pos_col += i + 1;
                    continue 'field;
                }
                None => break 'field,
            }
        }
        // Quoted field.
        line.remove(0);
        pos_col += 1;
        loop {
            if let Some(i) = line.iter().position(|&b| b == b'"') {
                record.extend_from_slice(&line[..i]);
                line.drain(..=i);
                pos_col += i + 1;
                match line.first() {
                    Some(b'"') => {
                        record.push(b'"');
                        line.remove(0);
                        pos_col += 1;
                    }
                    Some(b',') => {
                        line.remove(0);
                        pos_col += 1;
                        ends.push(record.len());
                        continue 'field;
                    }
                    _ if length_nl(&line) == line.len() => {
                        ends.push(record.len());
                        break 'field;
                    }
                    _ => {
                        return Err(parse_error(rec_line, reader.num_line, pos_col - 1, QUOTE));
                    }
                }
            } else if !line.is_empty() {
                record.extend_from_slice(&line);
                pos_col += line.len();
                line = reader.read_line().unwrap_or_default();
                if !line.is_empty() {
                    pos_line += 1;
                    pos_col = 1;
                }
            } else {
                return Err(parse_error(rec_line, pos_line, pos_col, QUOTE));
            }
        }
    }

    // Fields are cut at ASCII bytes, so each one is valid UTF-8; be lossless anyway.
    let mut fields = Vec::with_capacity(ends.len());
    let mut start = 0;
    for end in ends {
        fields.push(String::from_utf8_lossy(&record[start..end]).into_owned());
        start = end;
    }
    Ok(fields)
}

fn length_nl(b: &[u8]) -> usize {
    usize::from(b.last() == Some(&b'\n'))
}

/// Go's `csv.Reader.readLine` over an in-memory buffer.
struct CsvLines<'a> {
    data: &'a [u8],
    offset: usize,
    num_line: usize,
}

impl CsvLines<'_> {
    /// The next line with its `\n` (`\r\n` folded, a final `\r` dropped), or `None` at the end.
    fn read_line(&mut self) -> Option<Vec<u8>> {
        self.num_line += 1;
        if self.offset >= self.data.len() {
            return None;
        }
        let rest = &self.data[self.offset..];
        let end = rest
            .iter()
            .position(|&b| b == b'\n')
            .map_or(rest.len(), |i| i + 1);
        let mut line = rest[..end].to_vec();
        self.offset += end;
        if line.last() != Some(&b'\n') && line.last() == Some(&b'\r') {
            line.pop();
        }
        let n = line.len();
        if n >= 2 && line[n - 2] == b'\r' && line[n - 1] == b'\n' {
            line.truncate(n - 1);
            line[n - 2] = b'\n';
        }
        Some(line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_matches_go() {
        let ok = |s: &str| csv_first_record(s).unwrap();
        assert_eq!(ok("type=bind,src=/a"), ["type=bind", "src=/a"]);
        assert_eq!(ok("a,,b,"), ["a", "", "b", ""]);
        assert_eq!(ok("\"a,b\",c"), ["a,b", "c"]);
        assert_eq!(ok("\"a\"\"b\""), ["a\"b"]);
        assert_eq!(ok("\n\na,b\nc,d"), ["a", "b"]);
        assert_eq!(ok("a\r\n"), ["a"]);
        assert_eq!(ok("a\r"), ["a"]);
        assert_eq!(ok("\"a\nb\",c"), ["a\nb", "c"]);
        assert_eq!(ok(" a"), [" a"]);
        assert_eq!(csv_first_record("").unwrap_err(), "EOF");
        assert_eq!(csv_first_record("\n\n").unwrap_err(), "EOF");
        assert_eq!(
            csv_first_record("type=bind,src=a\"b").unwrap_err(),
            "parse error on line 1, column 16: bare \" in non-quoted-field"
        );
        assert_eq!(
            csv_first_record("\"abc").unwrap_err(),
            "parse error on line 1, column 5: extraneous or missing \" in quoted-field"
        );
        assert_eq!(
            csv_first_record("\"ab\"c").unwrap_err(),
            "parse error on line 1, column 4: extraneous or missing \" in quoted-field"
        );
        assert_eq!(
            csv_first_record("x,\"a\nb").unwrap_err(),
            "record on line 1; parse error on line 2, column 2: extraneous or missing \" in quoted-field"
        );
    }
}
