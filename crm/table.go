package crm

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// TableFormat is the file format of an export or an import.
type TableFormat string

// The table formats.
const (
	// FormatCSV is comma-separated values: UTF-8 with a byte order mark
	// when written (spreadsheet programs then read the accents right);
	// comma, semicolon or tab, in any of the encodings of TableOptions,
	// when read.
	FormatCSV TableFormat = "csv"
	// FormatXLSX is an Excel workbook (its first sheet).
	FormatXLSX TableFormat = "xlsx"
	// FormatJSONLines is one JSON object per line, keyed by column key,
	// with typed values (lists as arrays, numbers and booleans as such).
	// Exports only.
	FormatJSONLines TableFormat = "jsonl"
)

// Tables reads and writes the table files of imports and exports. Package
// crm/tabular implements it (CSV with sniffing and encodings, XLSX through
// excelize, JSON Lines); Config.Tables takes it, and Imports and Exports
// need it.
type Tables interface {
	// NewWriter starts a table in format on w. Nothing is written to w
	// after the writer's Close.
	NewWriter(w io.Writer, format TableFormat) (TableWriter, error)
	// Open reads a table from r. A file it cannot read is an error
	// matching ErrInvalid.
	Open(r io.Reader, opts TableOptions) (TableReader, error)
}

// TableOptions says how to read a table file. Zero fields are detected.
type TableOptions struct {
	// Format: FormatCSV or FormatXLSX; detected from the contents when empty.
	Format TableFormat `json:"format,omitempty"`
	// Encoding of a CSV file: "utf-8", "utf-16le", "utf-16be",
	// "windows-1252" or "iso-8859-2"; detected when empty (a byte order
	// mark, then valid UTF-8, then Windows-1252 unless the bytes are
	// only possible in ISO-8859-2).
	Encoding string `json:"encoding,omitempty"`
	// Delimiter of a CSV file: ",", ";" or "\t"; sniffed from the header
	// line when empty.
	Delimiter string `json:"delimiter,omitempty" text:"multiline"`
}

// TableWriter writes one table: a header, then rows.
type TableWriter interface {
	// WriteHeader writes the column keys (JSON Lines) or labels (CSV, XLSX).
	WriteHeader(keys, labels []string) error
	// WriteRow writes one row, a value per column: string, int64, bool,
	// []string or nil.
	WriteRow(values []any) error
	// Close finishes the file (an XLSX workbook is written out here).
	Close() error
}

// TableTextWriter is a TableWriter of a text format (CSV) that also takes
// a row as its cells' text, each as TableCellText gives it. An export
// hands such a writer its rows as text, without putting every value into
// an interface first (an allocation a cell, about a sixth of the
// process's work in a large export).
type TableTextWriter interface {
	TableWriter
	// WriteTextRow writes one row, the text of a cell per column.
	WriteTextRow(cells []string) error
}

// TableCellText is the text of a row's value in a text table: "" for
// nil, the number in decimal, "true" or "false", the strings of a list
// joined by "; ".
func TableCellText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case int:
		return strconv.Itoa(x)
	case bool:
		if x {
			return "true"
		}
		return "false"
	case []string:
		return strings.Join(x, "; ")
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

// TableReader reads a table: its header, then its rows as text.
type TableReader interface {
	// Header returns the cells of the first row.
	Header() []string
	// Next returns the next row and its line number in the file (the
	// header is line 1), or io.EOF after the last.
	Next() ([]string, int, error)
	// Detected says how the file was read: format, encoding and delimiter.
	Detected() TableOptions
	// Close releases what the reader holds.
	Close() error
}
