//! [`TabWriter`] aligns tab-separated cells into columns exactly like Go's `text/tabwriter` as the
//! docker CLI configures it (`NewWriter(out, 10, 1, 3, ' ', 0)`), using display width for wide
//! characters as the CLI's fork does.
//!
//! The `tabwriter` crate is not used because it adds the padding after applying the minimum
//! width (`max(minwidth, cell) + padding`), where Go takes `max(minwidth, cell + padding)`: with
//! Docker's settings `DRIVER` must be followed by 4 spaces, not 7.
//!
//! The rules (Go's elastic tabstops): a cell is text terminated by a tab; the text after the last
//! tab of a line is not part of any column and is never padded; a column is a run of consecutive
//! lines that have a cell in that position, and is as wide as its widest cell plus the padding,
//! but at least the minimum width.

use unicode_width::UnicodeWidthChar;

/// Buffers text and writes it aligned on [`TabWriter::finish`].
#[derive(Debug, Clone)]
pub struct TabWriter {
    min_width: usize,
    padding: usize,
    text: String,
}

impl Default for TabWriter {
    fn default() -> Self {
        TabWriter::docker()
    }
}

impl TabWriter {
    /// Docker's settings: minimum cell width 10, padding 3, padded with spaces.
    pub fn docker() -> TabWriter {
        TabWriter::new(10, 3)
    }

    /// A writer with the given minimum width and padding (pad character ' ', no flags).
    pub fn new(min_width: usize, padding: usize) -> TabWriter {
        TabWriter {
            min_width,
            padding,
            text: String::new(),
        }
    }

    /// Appends text.
    pub fn write_str(&mut self, s: &str) {
        self.text.push_str(s);
    }

    /// Formats everything written so far.
    pub fn finish(self) -> String {
        let lines: Vec<Vec<&str>> = self
            .text
            .split('\n')
            .map(|l| l.split('\t').collect())
            .collect();
        let mut out = String::with_capacity(self.text.len() * 2);
        let mut widths: Vec<usize> = Vec::new();
        self.format(&mut out, &lines, &mut widths, 0, lines.len());
        out
    }

    /// Go's `format`: finds the column blocks of column `widths.len()` between `line0` and
    /// `line1`, recursing to the right, and writes lines once all their widths are known.
    fn format(
        &self,
        out: &mut String,
        lines: &[Vec<&str>],
        widths: &mut Vec<usize>,
        mut line0: usize,
        line1: usize,
    ) {
        let column = widths.len();
        let mut this = line0;
        while this < line1 {
            // Cells of a line are all but its last segment (the text after the last tab).
            if column + 1 >= lines[this].len() {
                this += 1;
                continue;
            }
            self.write_lines(out, lines, widths, line0, this);
            line0 = this;
            let mut width = self.min_width;
            while this < line1 && column + 1 < lines[this].len() {
                width = width.max(display_width(lines[this][column]) + self.padding);
                this += 1;
            }
            widths.push(width);
            self.format(out, lines, widths, line0, this);
            widths.pop();
            line0 = this;
        }
        self.write_lines(out, lines, widths, line0, line1);
    }

    fn write_lines(
        &self,
        out: &mut String,
        lines: &[Vec<&str>],
        widths: &[usize],
        line0: usize,
        line1: usize,
    ) {
        for (i, line) in lines.iter().enumerate().take(line1).skip(line0) {
            for (j, cell) in line.iter().enumerate() {
                out.push_str(cell);
                if j + 1 < line.len() {
                    if let Some(&w) = widths.get(j) {
                        let fill = w.saturating_sub(display_width(cell));
                        out.extend(std::iter::repeat_n(' ', fill));
                    }
                }
            }
            if i + 1 < lines.len() {
                out.push('\n');
            }
        }
    }
}

/// Writes a table whose every line has the same `N` cells (a listing's title row and one row per
/// object, no tab inside a cell) aligned exactly as [`TabWriter::docker`] aligns it, without
/// buffering the text: with every line holding every cell, each column is one block, as wide as
/// its widest cell plus the padding and at least the minimum width, and the last cell of a line
/// is never padded.
pub fn write_uniform<W: std::io::Write, const N: usize>(
    out: &mut W,
    lines: &[[&str; N]],
) -> std::io::Result<()> {
    let mut widths = UniformWidths::new();
    lines.iter().for_each(|line| widths.fit(line));
    for line in lines {
        widths.write_line(out, line)?;
    }
    Ok(())
}

/// [`write_uniform`] in two passes, for a table too large to hold: every line is
/// [`UniformWidths::fit`] first, then each is written as it comes with
/// [`UniformWidths::write_line`]. A line that was not fitted (a row that appeared between the
/// passes) still gets the padding after each cell.
#[derive(Debug, Clone, Copy)]
pub struct UniformWidths<const N: usize> {
    widths: [usize; N],
    padding: usize,
}

impl<const N: usize> Default for UniformWidths<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> UniformWidths<N> {
    /// Docker's minimum widths, before any line.
    pub fn new() -> Self {
        let docker = TabWriter::docker();
        UniformWidths {
            widths: [docker.min_width; N],
            padding: docker.padding,
        }
    }

    /// Widens the columns to hold `line`.
    pub fn fit(&mut self, line: &[&str; N]) {
        for (w, cell) in self.widths.iter_mut().zip(line).take(N.saturating_sub(1)) {
            *w = (*w).max(display_width(cell) + self.padding);
        }
    }

    /// Writes `line`, aligned.
    pub fn write_line<W: std::io::Write>(
        &self,
        out: &mut W,
        line: &[&str; N],
    ) -> std::io::Result<()> {
        const SPACES: &str = "                                                                ";
        for (j, cell) in line.iter().enumerate() {
            out.write_all(cell.as_bytes())?;
            if j + 1 < N {
                let mut fill = self.widths[j]
                    .saturating_sub(display_width(cell))
                    .max(self.padding);
                while fill > 0 {
                    let n = fill.min(SPACES.len());
                    out.write_all(&SPACES.as_bytes()[..n])?;
                    fill -= n;
                }
            }
        }
        out.write_all(b"\n")
    }
}

/// Display width: wide (East Asian) characters count 2, combining and control characters 0.
pub fn display_width(s: &str) -> usize {
    s.chars().map(|c| c.width().unwrap_or(0)).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tab(s: &str) -> String {
        let mut w = TabWriter::docker();
        w.write_str(s);
        w.finish()
    }

    #[test]
    fn docker_alignment() {
        let cases = [
            // docker/cli volume_test.go
            (
                "DRIVER\tVOLUME NAME\nfoo\tfoobar_baz\nbar\tfoobar_bar\n",
                "DRIVER    VOLUME NAME\nfoo       foobar_baz\nbar       foobar_bar\n",
            ),
            // Cells wider than the minimum get 3 spaces of padding.
            (
                "REPOSITORY\tTAG\tIMAGE ID\nbusybox\tlatest\tadb5f1ec7e9b\n",
                "REPOSITORY   TAG       IMAGE ID\nbusybox      latest    adb5f1ec7e9b\n",
            ),
            // A line without tabs ends the column block.
            (
                "a\tb\nplain\nlonger-cell\tc\n",
                "a         b\nplain\nlonger-cell   c\n",
            ),
            // Trailing cell text is never padded; empty cells still take the column width.
            ("\tx\nyy\t\n", "          x\nyy        \n"),
            // Wide characters count double.
            ("名前\tx\nab\ty\n", "名前      x\nab        y\n"),
            ("no tabs at all", "no tabs at all"),
            ("", ""),
        ];
        for (input, want) in cases {
            assert_eq!(tab(input), want, "{input:?}");
        }
    }

    #[test]
    fn uniform_tables_align_like_the_tab_writer() {
        let long = "z".repeat(100);
        let tables: Vec<Vec<[&str; 3]>> = vec![
            vec![["VOLUME NAME", "LINKS", "SIZE"]],
            vec![
                ["VOLUME NAME", "LINKS", "SIZE"],
                ["a", "0", "0B"],
                [&long, "12", "1.5GB"],
                ["名前", "", "N/A"],
            ],
        ];
        for table in tables {
            let text: String = table.iter().map(|l| l.join("\t") + "\n").collect();
            let mut out = Vec::new();
            write_uniform(&mut out, &table).unwrap();
            assert_eq!(String::from_utf8(out).unwrap(), tab(&text), "{text:?}");
        }
        let mut out = Vec::new();
        write_uniform(&mut out, &[["DRIVER", "VOLUME NAME"], ["local", "v"]]).unwrap();
        assert_eq!(out, b"DRIVER    VOLUME NAME\nlocal     v\n");
    }

    #[test]
    fn nested_column_blocks() {
        // Column 1 only spans the first two lines.
        let input = "a\tbbbbbbbbbbbbbb\tc\nd\te\tf\ng\th\n";
        let want = "a         bbbbbbbbbbbbbb   c\nd         e                f\ng         h\n";
        assert_eq!(tab(input), want);
    }

    #[test]
    fn uniform_widths_pad_a_line_wider_than_the_fitted_ones() {
        let mut w = UniformWidths::<3>::new();
        w.fit(&["NAME", "LINKS", "SIZE"]);
        w.fit(&["abc", "0", "1B"]);
        let mut out = Vec::new();
        w.write_line(&mut out, &["NAME", "LINKS", "SIZE"]).unwrap();
        w.write_line(&mut out, &["abc", "0", "1B"]).unwrap();
        // A row that appeared after the widths were taken still gets the padding.
        w.write_line(&mut out, &["a-much-longer-name", "0", "2B"])
            .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "NAME      LINKS     SIZE\nabc       0         1B\na-much-longer-name   0         2B\n"
        );
    }
}
