package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strconv"

	"github.com/danielgtaylor/huma/v2"

	"github.com/dossiercrm/dossier/crm"
)

// Exports and imports of customer files (C15).

type customerExportInput struct {
	Body crm.ExportParams
}

// streamedFileOutput is a file written as it is made (an export, an error file).
type streamedFileOutput struct {
	Body func(huma.Context)
}

type exportRecordsInput struct {
	Cursor string `query:"cursor" doc:"The next value of the previous page."`
	Limit  int    `query:"limit" minimum:"1" maximum:"500" doc:"Page size, default 50."`
}

type exportRecordsOutput = bodyOutput[crm.Page[crm.ExportRecord]]

type importPath struct {
	ID string `path:"id" doc:"The import's id (a UUID)."`
}

type importOutput = bodyOutput[*crm.FileImport]

type importListOutput = bodyOutput[crm.Page[crm.FileImport]]

type importReportInput struct {
	ID     string `path:"id" doc:"The import's id (a UUID)."`
	Errors bool   `query:"errors" doc:"true: the error file, the refused rows as they were with a column saying why; false: every row with its outcome."`
	Format string `query:"format" enum:"csv,xlsx" default:"csv" doc:"The file format."`
}

type revertOutput = bodyOutput[*crm.ImportRevertResult]

// importUploadInput is a multipart upload that starts an import or
// previews one.
type importUploadInput struct {
	contentType string
	body        io.Reader
}

// Resolve implements huma.Resolver: it hands the handler the request body.
func (in *importUploadInput) Resolve(ctx huma.Context) []error {
	in.contentType = ctx.Header("Content-Type")
	in.body = ctx.BodyReader()
	return nil
}

// importUpload is the form of an import upload, for the OpenAPI document.
type importUpload struct {
	Mode      string `json:"mode,omitempty" enum:"add,update,upsert" doc:"add: new customers only; update: matched customers only; upsert (default): both."`
	DryRun    string `json:"dryRun,omitempty" enum:"true,false" doc:"true: report what the import would do, row by row, and write nothing."`
	Format    string `json:"format,omitempty" enum:"csv,xlsx" doc:"Detected when left out."`
	Encoding  string `json:"encoding,omitempty" enum:"utf-8,utf-16le,utf-16be,windows-1252,iso-8859-2" doc:"Of a CSV file; detected when left out."`
	Delimiter string `json:"delimiter,omitempty" doc:"Of a CSV file: a comma, a semicolon or a tab; sniffed when left out."`
	Mapping   string `json:"mapping,omitempty" doc:"A JSON object mapping headers to column keys ({\"Mail\": \"email\", \"Dieet\": \"custom.diet\"}); other headers map by their names in five languages."`
	File      string `json:"file" required:"true" format:"binary" encoding:"binary" doc:"The CSV or XLSX file, last in the form."`
}

var importFields = []string{"mode", "dryRun", "format", "encoding", "delimiter", "mapping"}

// formFields says which form fields the library's options came in.
func formFields(l *fieldLocator) {
	for _, f := range []string{"format", "encoding", "delimiter"} {
		l.explicit["options."+f] = "body." + f
	}
}

func (s *server) registerFiles() {
	tags := []string{"Exports and imports"}
	registry := s.api.OpenAPI().Components.Schemas

	register(s, huma.Operation{
		OperationID: "exportCustomers", Method: http.MethodPost, Path: "/v1/exports", Tags: tags,
		Summary: "Export the customers, a segment or a filter as a file",
		Description: "The answer is the file, streamed a page of customers at a time: CSV (UTF-8 with a byte order mark), XLSX or JSON Lines. " +
			"Headers are in the organisation's language unless language says otherwise. The export is recorded (GET /v1/exports). " +
			"Errors found before the first row are problem responses; one after it breaks the response off.",
		Responses: map[string]*huma.Response{"200": {Description: "The file.", Content: map[string]*huma.MediaType{
			"text/csv": {Schema: &huma.Schema{Type: huma.TypeString}}, ndjson: {Schema: &huma.Schema{Type: huma.TypeString}},
			xlsxType: {Schema: &huma.Schema{Type: huma.TypeString}}}}},
	}, func(ctx context.Context, in *customerExportInput) (*streamedFileOutput, error) {
		return &streamedFileOutput{Body: func(hc huma.Context) { s.streamExport(hc, in.Body) }}, nil
	})
	register(s, huma.Operation{
		OperationID: "listExports", Method: http.MethodGet, Path: "/v1/exports", Tags: tags,
		Summary: "List the organisation's exports, newest first: who exported what, when",
	}, func(ctx context.Context, in *exportRecordsInput) (*exportRecordsOutput, error) {
		return reply(s.crm.Exports.Records(ctx, crm.PageRequest{Cursor: in.Cursor, Limit: in.Limit}))
	})

	uploadBody := &huma.RequestBody{Required: true, Content: map[string]*huma.MediaType{"multipart/form-data": {
		Schema:   registry.Schema(reflect.TypeFor[importUpload](), true, "ImportUpload"),
		Encoding: map[string]*huma.Encoding{"file": {ContentType: "application/octet-stream"}}}}}
	create(s, huma.Operation{
		OperationID: "startImport", Method: http.MethodPost, Path: "/v1/imports", Tags: tags,
		Summary: "Upload a CSV or XLSX file and start importing it",
		Description: "A multipart/form-data upload: the optional fields first, then the part \"file\". The file is kept and its import " +
			"runs as a background job (GET /v1/imports/{id} shows its progress). A file that cannot be read, or a mapping naming unknown " +
			"headers or columns, is 422 and nothing is kept. A body that is not multipart/form-data is 415.",
		MaxBodyBytes: -1,
	}, func(o *importOutput) string { return "/v1/imports/" + o.Body.ID },
		func(ctx context.Context, in *importUploadInput) (*importOutput, error) {
			v, err := s.importUpload(ctx, in, false)
			if err != nil {
				return nil, err
			}
			return reply(v.(*crm.FileImport), nil)
		}, fieldsIn("body"), formFields)
	s.api.OpenAPI().Paths["/v1/imports"].Post.RequestBody = uploadBody
	register(s, huma.Operation{
		OperationID: "previewImport", Method: http.MethodPost, Path: "/v1/imports/preview", Tags: tags,
		Summary:      "Show how a file would be imported: its format, the mapping of every column and the first rows",
		Description:  "Nothing is kept or written. The same form as POST /v1/imports.",
		MaxBodyBytes: -1,
	}, func(ctx context.Context, in *importUploadInput) (*bodyOutput[*crm.ImportPreview], error) {
		p, err := s.importUpload(ctx, in, true)
		if err != nil {
			return nil, err
		}
		return reply(p.(*crm.ImportPreview), nil)
	}, fieldsIn("body"), formFields)
	s.api.OpenAPI().Paths["/v1/imports/preview"].Post.RequestBody = uploadBody
	register(s, huma.Operation{
		OperationID: "listImports", Method: http.MethodGet, Path: "/v1/imports", Tags: tags,
		Summary: "List the organisation's imports, newest first",
	}, func(ctx context.Context, in *exportRecordsInput) (*importListOutput, error) {
		return reply(s.crm.Imports.List(ctx, crm.PageRequest{Cursor: in.Cursor, Limit: in.Limit}))
	})
	register(s, huma.Operation{
		OperationID: "getImport", Method: http.MethodGet, Path: "/v1/imports/{id}", Tags: tags,
		Summary: "Get an import: its status, progress (rows read) and counts",
	}, func(ctx context.Context, in *importPath) (*importOutput, error) {
		return reply(s.crm.Imports.Get(ctx, in.ID))
	})
	register(s, huma.Operation{
		OperationID: "getImportReport", Method: http.MethodGet, Path: "/v1/imports/{id}/report", Tags: tags,
		Summary:     "Download an import's row-by-row report, or its error file (errors=true)",
		Description: "The report lists every row read so far with its line, outcome (created, updated, skipped, refused), customer and reason. The error file holds the refused rows as they were, with a last column Reason.",
		Responses: map[string]*huma.Response{"200": {Description: "The file.", Content: map[string]*huma.MediaType{
			"text/csv": {Schema: &huma.Schema{Type: huma.TypeString}}, xlsxType: {Schema: &huma.Schema{Type: huma.TypeString}}}}},
	}, func(ctx context.Context, in *importReportInput) (*streamedFileOutput, error) {
		if _, err := s.crm.Imports.Get(ctx, in.ID); err != nil {
			return nil, err
		}
		p := crm.ImportReportParams{Errors: in.Errors, Format: crm.TableFormat(in.Format)}
		return &streamedFileOutput{Body: func(hc huma.Context) {
			name := "import-report"
			if p.Errors {
				name = "import-errors"
			}
			s.streamFile(hc, p.Format, name, func(w io.Writer) error { return s.crm.Imports.Report(hc.Context(), in.ID, p, w) },
				reflect.TypeFor[importReportInput]())
		}}, nil
	})
	register(s, huma.Operation{
		OperationID: "cancelImport", Method: http.MethodPost, Path: "/v1/imports/{id}/cancel", Tags: tags,
		Summary:     "Cancel a queued or running import",
		Description: "It stops after the batch it is writing; what it wrote stays until reverted. An import that ended is 409.",
	}, func(ctx context.Context, in *importPath) (*importOutput, error) {
		return reply(s.crm.Imports.Cancel(ctx, in.ID))
	})
	register(s, huma.Operation{
		OperationID: "revertImport", Method: http.MethodPost, Path: "/v1/imports/{id}/revert", Tags: tags,
		Summary: "Undo a finished or cancelled import",
		Description: "Customers it created are removed and customers it changed get their values from before it back, each only if " +
			"nobody changed it since; the others stay as they are and are listed in kept. A dry run or a running import is 409.",
	}, func(ctx context.Context, in *importPath) (*revertOutput, error) {
		return reply(s.crm.Imports.Revert(ctx, in.ID))
	})
}

// xlsxType is the media type of XLSX files.
const xlsxType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// streamExport writes an export as the response.
func (s *server) streamExport(hc huma.Context, p crm.ExportParams) {
	format := p.Format
	if format == "" {
		format = crm.FormatCSV
	}
	s.streamFile(hc, format, "customers", func(w io.Writer) error {
		_, err := s.crm.Exports.Export(hc.Context(), p, w)
		return err
	}, reflect.TypeFor[customerExportInput]())
}

// streamFile answers with the file write writes. The status and headers
// go out with the first bytes, so that an error found before them is a
// problem response; one after them breaks the response off.
func (s *server) streamFile(hc huma.Context, format crm.TableFormat, name string, write func(io.Writer) error, input reflect.Type) {
	ctx := hc.Context()
	lw := &lazyWriter{start: func() {
		ct := map[crm.TableFormat]string{crm.FormatCSV: "text/csv; charset=utf-8", crm.FormatXLSX: xlsxType, crm.FormatJSONLines: ndjson}[format]
		if ct == "" {
			ct = "application/octet-stream"
		}
		hc.SetHeader("Content-Type", ct)
		hc.SetHeader("Content-Disposition", attachment(name+"."+string(format)))
		hc.SetHeader("Cache-Control", "no-store")
		hc.SetStatus(http.StatusOK)
	}, w: hc.BodyWriter()}
	err := write(lw)
	switch {
	case err == nil:
		lw.begin()
	case !lw.started:
		s.writeHumaProblem(hc, problemFor(ctx, s.log, locatorFor(input), err).(*Problem))
	default:
		if !errors.Is(err, context.Canceled) {
			s.log.ErrorContext(ctx, "a file download broke off", "err", err)
		}
		panic(http.ErrAbortHandler)
	}
}

// lazyWriter sends the response's status with its first bytes.
type lazyWriter struct {
	start   func()
	w       io.Writer
	started bool
}

func (l *lazyWriter) begin() {
	if !l.started {
		l.started = true
		l.start()
	}
}

func (l *lazyWriter) Write(p []byte) (int, error) {
	l.begin()
	return l.w.Write(p)
}

// importUpload reads an import form: the fields, then the file straight
// into the library (Start keeps it in the blob store; Preview reads its
// start). It returns the import, or the preview when preview is set.
func (s *server) importUpload(ctx context.Context, in *importUploadInput, preview bool) (any, error) {
	mr, body, err := s.multipartForm(in.contentType, in.body, "file")
	if err != nil {
		return nil, err
	}
	var ni crm.NewImport
	seen := map[string]bool{}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil, formProblem("file", "required", "the form has no part named file")
		}
		if err != nil {
			return nil, body.problem(err)
		}
		name := part.FormName()
		if name == "file" {
			ni.FileName = part.FileName()
			file := &filePart{part: part, mr: mr, body: body}
			if preview {
				p, err := s.crm.Imports.Preview(ctx, file, ni)
				if err != nil {
					return nil, err
				}
				return p, nil
			}
			im, err := s.crm.Imports.Start(ctx, file, ni)
			if err != nil {
				var prob *Problem
				if errors.As(err, &prob) {
					return nil, prob
				}
				return nil, err
			}
			return im, nil
		}
		known := false
		for _, f := range importFields {
			known = known || f == name
		}
		if !known {
			return nil, formProblem(name, "unknown", "the form has a part "+strconv.Quote(name)+" that an import does not take")
		}
		if seen[name] {
			return nil, formProblem(name, "duplicate", name+" is in the form more than once")
		}
		seen[name] = true
		value, err := io.ReadAll(part)
		if err != nil {
			return nil, body.problem(err)
		}
		v := string(value)
		switch name {
		case "mode":
			ni.Mode = crm.ImportMode(v)
		case "dryRun":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return nil, formProblem(name, "type", "dryRun must be true or false")
			}
			ni.DryRun = b
		case "format":
			ni.Options.Format = crm.TableFormat(v)
		case "encoding":
			ni.Options.Encoding = v
		case "delimiter":
			ni.Options.Delimiter = v
		case "mapping":
			if err := json.Unmarshal(value, &ni.Mapping); err != nil {
				return nil, formProblem(name, "json", "mapping must be a JSON object of headers and column keys")
			}
		}
	}
}
