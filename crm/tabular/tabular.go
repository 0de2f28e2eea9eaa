// Package tabular reads and writes the table files of Dossier's imports and
// exports (crm.Tables): CSV in the encodings and with the separators
// spreadsheet programs write, XLSX through excelize, and JSON Lines.
//
//	c, err := crm.New(st, crm.Config{Tables: tabular.New(), Blobs: blobs})
//
// Reading a CSV file, the encoding is taken from a byte order mark
// (UTF-8, UTF-16), else the file is UTF-8 when its start is valid UTF-8,
// else ISO-8859-2 when it holds bytes only that encoding uses for letters
// (Polish and Czech ą, ś, ź, ł written by Windows-1250 look alike there
// too), else Windows-1252. The separator is the one of comma, semicolon
// and tab that splits the header line into most columns. Both can be
// given instead.
//
// Writing, lists (phones, tags) are joined with "; " in CSV and XLSX and are
// arrays in JSON Lines. CSV starts with a UTF-8 byte order mark, so that
// spreadsheet programs read accents right. Memory stays the same for any
// number of rows, XLSX included (excelize's stream writer keeps rows in a
// temporary file).
package tabular

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"

	"github.com/dossiercrm/dossier/crm"
)

// Tables implements crm.Tables.
type Tables struct{}

var _ crm.Tables = Tables{}

// New returns the table formats.
func New() Tables { return Tables{} }

// ErrUnreadable is a file tabular cannot read; it matches crm.ErrInvalid.
var ErrUnreadable = fmt.Errorf("%w: the file is not a CSV or XLSX table", crm.ErrInvalid)

// NewWriter implements crm.Tables.
func (Tables) NewWriter(w io.Writer, format crm.TableFormat) (crm.TableWriter, error) {
	switch format {
	case crm.FormatCSV, "":
		bw := bufio.NewWriterSize(w, 64<<10)
		if _, err := bw.WriteString("\uFEFF"); err != nil {
			return nil, err
		}
		return &csvWriter{bw: bw, w: csv.NewWriter(bw)}, nil
	case crm.FormatJSONLines:
		return &jsonlWriter{w: bufio.NewWriterSize(w, 64<<10)}, nil
	case crm.FormatXLSX:
		return newXLSXWriter(w)
	}
	return nil, fmt.Errorf("%w: format %q", crm.ErrInvalid, format)
}

// cell is the text of a value in CSV and XLSX.
func cell(v any) string { return crm.TableCellText(v) }

type csvWriter struct {
	bw     *bufio.Writer
	w      *csv.Writer
	record []string
}

func (c *csvWriter) WriteHeader(_, labels []string) error { return c.w.Write(labels) }

func (c *csvWriter) WriteRow(values []any) error {
	c.record = c.record[:0]
	for _, v := range values {
		c.record = append(c.record, cell(v))
	}
	return c.w.Write(c.record)
}

// WriteTextRow implements crm.TableTextWriter.
func (c *csvWriter) WriteTextRow(cells []string) error { return c.w.Write(cells) }

func (c *csvWriter) Close() error {
	c.w.Flush()
	if err := c.w.Error(); err != nil {
		return err
	}
	return c.bw.Flush()
}

type jsonlWriter struct {
	w    *bufio.Writer
	keys [][]byte
	buf  []byte
}

func (j *jsonlWriter) WriteHeader(keys, _ []string) error {
	j.keys = make([][]byte, len(keys))
	for i, k := range keys {
		b, _ := json.Marshal(k)
		j.keys[i] = append(b, ':')
	}
	return nil
}

func (j *jsonlWriter) WriteRow(values []any) error {
	b := append(j.buf[:0], '{')
	first := true
	for i, v := range values {
		if v == nil {
			continue
		}
		if s, ok := v.(string); ok && s == "" {
			continue
		}
		if l, ok := v.([]string); ok && len(l) == 0 {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, j.keys[i]...)
		switch x := v.(type) {
		case string:
			b = appendJSONString(b, x)
		case int64:
			b = strconv.AppendInt(b, x, 10)
		case bool:
			b = strconv.AppendBool(b, x)
		default:
			enc, err := json.Marshal(x)
			if err != nil {
				return err
			}
			b = append(b, enc...)
		}
	}
	b = append(b, '}', '\n')
	j.buf = b
	_, err := j.w.Write(b)
	return err
}

// appendJSONString appends s as a JSON string; plain text (the usual
// case) without going through encoding/json.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf {
			enc, _ := json.Marshal(s)
			return append(b, enc...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

func (j *jsonlWriter) Close() error { return j.w.Flush() }

type xlsxWriter struct {
	out  io.Writer
	f    *excelize.File
	sw   *excelize.StreamWriter
	row  int
	vals []any
}

func newXLSXWriter(w io.Writer) (*xlsxWriter, error) {
	f := excelize.NewFile()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		f.Close()
		return nil, err
	}
	return &xlsxWriter{out: w, f: f, sw: sw, row: 1}, nil
}

func (x *xlsxWriter) write(cells []any) error {
	ref, err := excelize.CoordinatesToCellName(1, x.row)
	if err != nil {
		return err
	}
	x.row++
	return x.sw.SetRow(ref, cells)
}

func (x *xlsxWriter) WriteHeader(_, labels []string) error {
	cells := make([]any, len(labels))
	for i, l := range labels {
		cells[i] = l
	}
	return x.write(cells)
}

func (x *xlsxWriter) WriteRow(values []any) error {
	x.vals = x.vals[:0]
	for _, v := range values {
		switch t := v.(type) {
		case nil:
			x.vals = append(x.vals, nil)
		case int64, bool:
			x.vals = append(x.vals, t)
		default:
			x.vals = append(x.vals, cell(v))
		}
	}
	return x.write(x.vals)
}

func (x *xlsxWriter) Close() error {
	defer x.f.Close()
	if err := x.sw.Flush(); err != nil {
		return err
	}
	_, err := x.f.WriteTo(x.out)
	return err
}

// Open implements crm.Tables.
func (Tables) Open(r io.Reader, opts crm.TableOptions) (crm.TableReader, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(4096)
	format := opts.Format
	if format == "" {
		format = crm.FormatCSV
		if bytes.HasPrefix(head, []byte("PK\x03\x04")) {
			format = crm.FormatXLSX
		}
	}
	switch format {
	case crm.FormatXLSX:
		return openXLSX(br)
	case crm.FormatCSV:
		return openCSV(br, head, opts)
	}
	return nil, fmt.Errorf("%w: format %q", crm.ErrInvalid, format)
}

// encodings are the encodings a CSV file may be in, by name.
var encodings = map[string]encoding.Encoding{
	"utf-8":        unicode.UTF8,
	"utf-16le":     unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM),
	"utf-16be":     unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM),
	"windows-1252": charmap.Windows1252,
	"iso-8859-2":   charmap.ISO8859_2,
}

// detectEncoding names the encoding of a file starting with head, and how
// many bytes of byte order mark to skip.
func detectEncoding(head []byte) (string, int) {
	switch {
	case bytes.HasPrefix(head, []byte{0xEF, 0xBB, 0xBF}):
		return "utf-8", 3
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}):
		return "utf-16le", 2
	case bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		return "utf-16be", 2
	}
	// UTF-16 without a mark: every other byte of ASCII text is zero.
	if len(head) >= 4 {
		zerosEven, zerosOdd := 0, 0
		for i := 0; i+1 < len(head); i += 2 {
			if head[i] == 0 {
				zerosEven++
			}
			if head[i+1] == 0 {
				zerosOdd++
			}
		}
		half := len(head) / 4
		if zerosOdd > half && zerosEven == 0 {
			return "utf-16le", 0
		}
		if zerosEven > half && zerosOdd == 0 {
			return "utf-16be", 0
		}
	}
	valid := head
	// A multi-byte character cut off at the end of what was peeked is fine.
	for i := 0; i < 3 && len(valid) > 0 && !utf8.Valid(valid); i++ {
		valid = valid[:len(valid)-1]
	}
	if utf8.Valid(valid) {
		return "utf-8", 0
	}
	// Bytes that are letters of Central European languages in ISO-8859-2
	// (ą ś ź Ą Ś Ź) and rare symbols in Windows-1252 (± ¶ ¼ ¡ ¦ ¬).
	latin2 := 0
	for _, b := range head {
		switch b {
		case 0xB1, 0xB3, 0xB6, 0xBC, 0xA1, 0xA6, 0xAC:
			latin2++
		}
	}
	if latin2 > 0 {
		return "iso-8859-2", 0
	}
	return "windows-1252", 0
}

type csvReader struct {
	r        *csv.Reader
	header   []string
	detected crm.TableOptions
	line     int
}

func openCSV(br *bufio.Reader, head []byte, opts crm.TableOptions) (crm.TableReader, error) {
	name, skip := detectEncoding(head)
	if opts.Encoding != "" {
		name = opts.Encoding
		skip = 0
		if enc := encodings[name]; enc == unicode.UTF8 && bytes.HasPrefix(head, []byte{0xEF, 0xBB, 0xBF}) {
			skip = 3
		} else if strings.HasPrefix(name, "utf-16") && (bytes.HasPrefix(head, []byte{0xFF, 0xFE}) || bytes.HasPrefix(head, []byte{0xFE, 0xFF})) {
			skip = 2
		}
	}
	enc, ok := encodings[name]
	if !ok {
		return nil, fmt.Errorf("%w: encoding %q", crm.ErrInvalid, name)
	}
	if _, err := br.Discard(skip); err != nil {
		return nil, ErrUnreadable
	}
	var text io.Reader = br
	if enc != unicode.UTF8 {
		text = transform.NewReader(br, enc.NewDecoder())
	}
	tb := bufio.NewReaderSize(text, 64<<10)
	delim := opts.Delimiter
	if delim == "" {
		first, _ := tb.Peek(8192)
		line, _, _ := bytes.Cut(first, []byte("\n"))
		delim = ","
		best := bytes.Count(line, []byte(","))
		for _, d := range []string{";", "\t"} {
			if n := bytes.Count(line, []byte(d)); n > best {
				delim, best = d, n
			}
		}
	}
	r := csv.NewReader(tb)
	r.Comma = []rune(delim)[0]
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	r.ReuseRecord = false
	header, err := r.Read()
	if err != nil {
		return nil, ErrUnreadable
	}
	for i := range header {
		header[i] = strings.TrimSpace(header[i])
	}
	return &csvReader{r: r, header: header, line: 1,
		detected: crm.TableOptions{Format: crm.FormatCSV, Encoding: name, Delimiter: delim}}, nil
}

func (c *csvReader) Header() []string           { return c.header }
func (c *csvReader) Detected() crm.TableOptions { return c.detected }
func (c *csvReader) Close() error               { return nil }
func (c *csvReader) Next() ([]string, int, error) {
	for {
		rec, err := c.r.Read()
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, pe.StartLine, fmt.Errorf("%w: line %d: %v", crm.ErrInvalid, pe.StartLine, pe.Err)
			}
			return nil, 0, err
		}
		line, _ := c.r.FieldPos(0)
		c.line = line
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // a blank line
		}
		return rec, line, nil
	}
}

type xlsxReader struct {
	f      *excelize.File
	rows   *excelize.Rows
	header []string
	line   int
}

func openXLSX(r io.Reader) (crm.TableReader, error) {
	f, err := excelize.OpenReader(r)
	if err != nil {
		return nil, ErrUnreadable
	}
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		f.Close()
		return nil, ErrUnreadable
	}
	rows, err := f.Rows(sheets[0])
	if err != nil {
		f.Close()
		return nil, ErrUnreadable
	}
	x := &xlsxReader{f: f, rows: rows}
	if !rows.Next() {
		x.Close()
		return nil, ErrUnreadable
	}
	x.line = 1
	if x.header, err = rows.Columns(); err != nil {
		x.Close()
		return nil, ErrUnreadable
	}
	for i := range x.header {
		x.header[i] = strings.TrimSpace(x.header[i])
	}
	return x, nil
}

func (x *xlsxReader) Header() []string { return x.header }
func (x *xlsxReader) Detected() crm.TableOptions {
	return crm.TableOptions{Format: crm.FormatXLSX}
}
func (x *xlsxReader) Next() ([]string, int, error) {
	for x.rows.Next() {
		x.line++
		cells, err := x.rows.Columns()
		if err != nil {
			return nil, x.line, fmt.Errorf("%w: row %d: %v", crm.ErrInvalid, x.line, err)
		}
		empty := true
		for _, c := range cells {
			if strings.TrimSpace(c) != "" {
				empty = false
				break
			}
		}
		if !empty {
			return cells, x.line, nil
		}
	}
	if err := x.rows.Error(); err != nil {
		return nil, x.line, err
	}
	return nil, x.line, io.EOF
}
func (x *xlsxReader) Close() error {
	x.rows.Close()
	return x.f.Close()
}
