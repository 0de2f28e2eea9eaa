package httpapi

import (
	"context"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/dossiercrm/dossier/crm"
)

type documentPath struct {
	ID string `path:"id" doc:"The document's id (a UUID)."`
}

type documentOutput = bodyOutput[*crm.Document]

type createdDocumentOutput = bodyOutput[*crm.Document]

type documentListOutput struct {
	Body struct {
		Items []crm.Document `json:"items"`
	}
}

type listDocumentsInput struct {
	ID   string `path:"id" doc:"The customer's id (a UUID)."`
	View string `query:"view" enum:"staff,portal" default:"staff" doc:"staff: every document; portal: only those the customer sees in the portal."`
}

type updateDocumentInput struct {
	ID   string `path:"id" doc:"The document's id (a UUID)."`
	Body crm.DocumentPatch
}

type documentContentInput struct {
	ID string `path:"id" doc:"The document's id (a UUID)."`
}

type documentContentOutput struct {
	ContentType        string `header:"Content-Type" doc:"The document's content type, sniffed from its contents when it was added."`
	ContentDisposition string `header:"Content-Disposition" doc:"attachment, with the document's file name (RFC 6266; filename* in UTF-8 for names that are not plain ASCII)."`
	ContentLength      string `header:"Content-Length"`
	ETag               string `header:"ETag" doc:"The SHA-256 of the contents, in hex: a document's contents never change."`
	CacheControl       string `header:"Cache-Control" doc:"private, no-store: documents are personal data."`
	NoSniff            string `header:"X-Content-Type-Options" doc:"nosniff: a browser must not guess another type than the one sent."`
	Body               func(huma.Context)

	contents io.Closer
}

// Close releases the contents of a download that is not sent (304).
func (o *documentContentOutput) Close() error { return o.contents.Close() }

type attributeListOutput struct {
	Body struct {
		Items []crm.DocumentAttribute `json:"items"`
	}
}

type attributeOutput = bodyOutput[*crm.DocumentAttribute]

type defineAttributeInput struct {
	Body struct {
		Name string `json:"name" required:"true" doc:"The attribute's name, unique in the organisation without regard to case; at most 60 characters."`
	}
}

type attributePath struct {
	ID string `path:"id" doc:"The document attribute's id (a UUID)."`
}

type batchSendOutput = bodyOutput[*crm.BatchSendReport]

type sendDocumentsInput struct {
	ID   string `path:"id" doc:"The customer's id (a UUID)."`
	Body struct {
		DocumentIDs []string `json:"documentIds" required:"true" minItems:"1" maxItems:"20" doc:"The customer's documents to attach, at most 20."`
		Language    string   `json:"language,omitempty" doc:"BCP 47 tag of the mail's language; default the customer's communication language."`
	}
}

type queuedMailOutput struct {
	Location string `header:"Location" doc:"Where to follow the mail's delivery: /v1/outbox/{id}."`
	Body     *crm.OutboxMail
}

// uploadDocumentInput is the upload's path and its raw body: the form is
// read as a stream by the handler, not by huma, so that the file goes
// straight into the library's spool file and is never held in memory.
type uploadDocumentInput struct {
	ID string `path:"id" doc:"The customer's id (a UUID)."`

	contentType string
	body        io.Reader
}

// Resolve implements huma.Resolver: it hands the handler the request body.
func (in *uploadDocumentInput) Resolve(ctx huma.Context) []error {
	in.contentType = ctx.Header("Content-Type")
	in.body = ctx.BodyReader()
	return nil
}

// documentUpload is the request body of an upload, for the OpenAPI document.
type documentUpload struct {
	Title       string `json:"title,omitempty" maxLength:"200" doc:"The document's title; default the file name."`
	Visibility  string `json:"visibility,omitempty" enum:"portal,internal" doc:"portal: the customer sees it in the portal; internal (default): staff only."`
	AttributeID string `json:"attributeId,omitempty" doc:"A document attribute (GET /v1/document-attributes) grouping the document for batch sending."`
	File        string `json:"file" required:"true" format:"binary" encoding:"binary" doc:"The file, last in the form; its file name is the document's. The content type is sniffed from the contents; the one sent is ignored."`
}

// The form fields of an upload besides the file.
var uploadFields = []string{"title", "visibility", "attributeId"}

func (s *server) registerDocuments() {
	tags := []string{"Documents"}
	docs := s.crm.Documents
	registry := s.api.OpenAPI().Components.Schemas

	create(s, huma.Operation{
		OperationID: "uploadCustomerDocument", Method: http.MethodPost, Path: "/v1/customers/{id}/documents", Tags: tags,
		Summary: "Add a document to a customer",
		Description: "A multipart/form-data upload: the optional fields title, visibility and attributeId first, then the part \"file\", " +
			"whose file name is the document's. The content type is sniffed from the contents, never taken from the request. " +
			"An empty file is 422; a file larger than the organisation's limit (20 MiB unless configured otherwise) is 413, naming body.file " +
			"with code maxBytes, as is a form whose fields around the file are larger than the API's body limit. " +
			"A body that is not multipart/form-data is 415.",
		// The upload bounds its own body: the file by the library's
		// MaxDocumentBytes, everything around it by Options.MaxBodyBytes.
		MaxBodyBytes: -1,
	}, func(o *createdDocumentOutput) string { return "/v1/documents/" + o.Body.ID },
		func(ctx context.Context, in *uploadDocumentInput) (*createdDocumentOutput, error) {
			return reply(s.upload(ctx, in))
		}, fieldsIn("body"), fieldAt("fileName", "body.file"))
	// huma takes an operation with a request body schema for one whose body
	// it must read, so the form is described after registration.
	formSchema := registry.Schema(reflect.TypeFor[documentUpload](), true, "DocumentUpload")
	s.api.OpenAPI().Paths["/v1/customers/{id}/documents"].Post.RequestBody = &huma.RequestBody{
		Required: true,
		Content: map[string]*huma.MediaType{"multipart/form-data": {Schema: formSchema,
			Encoding: map[string]*huma.Encoding{"file": {ContentType: "application/octet-stream"}}}},
	}

	register(s, huma.Operation{
		OperationID: "listCustomerDocuments", Method: http.MethodGet, Path: "/v1/customers/{id}/documents", Tags: tags,
		Summary:     "List a customer's documents, newest first",
		Description: "view=portal lists what the customer sees in the portal: the documents with visibility portal.",
	}, func(ctx context.Context, in *listDocumentsInput) (*documentListOutput, error) {
		items, err := docs.List(ctx, in.ID, in.View == "portal")
		if err != nil {
			return nil, err
		}
		out := &documentListOutput{}
		out.Body.Items = items
		return out, nil
	})

	register(s, huma.Operation{
		OperationID: "getDocument", Method: http.MethodGet, Path: "/v1/documents/{id}", Tags: tags,
		Summary: "Get a document's description",
	}, func(ctx context.Context, in *documentPath) (*documentOutput, error) {
		return reply(docs.Get(ctx, in.ID))
	})

	register(s, huma.Operation{
		OperationID: "downloadDocument", Method: http.MethodGet, Path: "/v1/documents/{id}/content", Tags: tags,
		Summary: "Download a document's contents",
		Description: "The file as it was added, byte for byte, with its content type and, as an attachment, its file name. " +
			"The ETag is the SHA-256 of the contents; with a matching If-None-Match the answer is 304.",
		Responses: map[string]*huma.Response{
			"200": {
				Description: "The contents, as the document's content type.",
				Content:     map[string]*huma.MediaType{"*/*": {Schema: &huma.Schema{Type: huma.TypeString}}},
			},
			"304": {Description: "The copy named by If-None-Match is the document's contents."},
		},
	}, func(ctx context.Context, in *documentContentInput) (*documentContentOutput, error) {
		d, rc, err := docs.Open(ctx, in.ID)
		if err != nil {
			return nil, err
		}
		tag := `"` + d.SHA256 + `"`
		out := &documentContentOutput{ContentType: d.ContentType, ContentDisposition: attachment(d.FileName),
			ContentLength: strconv.FormatInt(d.Size, 10), ETag: tag, CacheControl: "private, no-store", NoSniff: "nosniff", contents: rc}
		out.Body = func(hc huma.Context) {
			defer rc.Close()
			hc.SetStatus(http.StatusOK)
			// Once the status is sent a failure can only cut the body short,
			// which the client sees against Content-Length.
			if _, err := io.Copy(hc.BodyWriter(), rc); err != nil && hc.Context().Err() == nil {
				s.log.ErrorContext(ctx, "sending a document failed", "document", d.ID, "err", err)
			}
		}
		return out, nil
	})

	register(s, huma.Operation{
		OperationID: "updateDocument", Method: http.MethodPatch, Path: "/v1/documents/{id}", Tags: tags,
		Summary: "Change a document's title, visibility or attribute",
		Description: "Members left out stay; attributeId \"\" takes the attribute off. The contents of a document never change: " +
			"upload a new one instead.",
	}, func(ctx context.Context, in *updateDocumentInput) (*documentOutput, error) {
		return reply(docs.Update(ctx, in.ID, in.Body))
	})

	register(s, huma.Operation{
		OperationID: "deleteDocument", Method: http.MethodDelete, Path: "/v1/documents/{id}", Tags: tags,
		Summary:     "Delete a document",
		Description: "Its contents go too, unless another document of the organisation or a mail still waiting in the outbox has the same.",
	}, func(ctx context.Context, in *documentPath) (*struct{}, error) {
		return nil, docs.Delete(ctx, in.ID)
	})

	register(s, huma.Operation{
		OperationID: "sendCustomerDocuments", Method: http.MethodPost, Path: "/v1/customers/{id}/documents/send", Tags: tags,
		Summary: "Mail documents to the customer",
		Description: "Queues one mail (template document_delivery) with the documents attached, in the customer's communication language " +
			"unless language says another, and marks the documents sent, in one transaction. The answer is the queued mail (202): " +
			"follow its delivery at its Location. A document that is not this customer's is 422 (body.documentIds[i], code unknown); " +
			"a customer without an e-mail address is 422 (path.id, code noAddress).",
		DefaultStatus: http.StatusAccepted,
	}, func(ctx context.Context, in *sendDocumentsInput) (*queuedMailOutput, error) {
		m, err := docs.Send(ctx, in.ID, in.Body.DocumentIDs, crm.SendOptions{Language: in.Body.Language})
		if err != nil {
			return nil, err
		}
		return &queuedMailOutput{Location: s.opts.BasePath + "/v1/outbox/" + m.ID, Body: m}, nil
	}, fieldAt("email", "path.id")) // no address: the customer's fault, not the body's

	create(s, huma.Operation{
		OperationID: "fileCustomerReport", Method: http.MethodPost, Path: "/v1/customers/{id}/reports", Tags: tags,
		Summary: "Generate the customer's report and file it as a document",
		Description: "The dossier summary (record, tags, attributes, labels, consents, points and recent history), rendered by the " +
			"server's report renderer, filed as an internal document of origin report. The answer is the document.",
	}, func(o *createdDocumentOutput) string { return "/v1/documents/" + o.Body.ID },
		func(ctx context.Context, in *customerPath) (*createdDocumentOutput, error) {
			return reply(docs.FileReport(ctx, in.ID))
		})

	attrTags := []string{"Documents"}
	register(s, huma.Operation{
		OperationID: "listDocumentAttributes", Method: http.MethodGet, Path: "/v1/document-attributes", Tags: attrTags,
		Summary: "List the organisation's document attributes, by name",
	}, func(ctx context.Context, _ *struct{}) (*attributeListOutput, error) {
		items, err := docs.Attributes(ctx)
		if err != nil {
			return nil, err
		}
		out := &attributeListOutput{}
		out.Body.Items = items
		return out, nil
	})
	create(s, huma.Operation{
		OperationID: "defineDocumentAttribute", Method: http.MethodPost, Path: "/v1/document-attributes", Tags: attrTags,
		Summary: "Define a document attribute",
		Description: "A document attribute groups documents (travel vouchers, invoices) so that POST /v1/document-attributes/{id}/send " +
			"mails a whole group at once. A name the organisation has already, without regard to case, is 409.",
	}, func(o *attributeOutput) string { return "/v1/document-attributes/" + o.Body.ID },
		func(ctx context.Context, in *defineAttributeInput) (*attributeOutput, error) {
			return reply(docs.DefineAttribute(ctx, in.Body.Name))
		})
	register(s, huma.Operation{
		OperationID: "getDocumentAttribute", Method: http.MethodGet, Path: "/v1/document-attributes/{id}", Tags: attrTags,
		Summary: "Get a document attribute",
	}, func(ctx context.Context, in *attributePath) (*attributeOutput, error) {
		as, err := docs.Attributes(ctx)
		return reply(find(as, err, func(a *crm.DocumentAttribute) bool { return a.ID == in.ID }))
	})
	register(s, huma.Operation{
		OperationID: "sendDocumentsByAttribute", Method: http.MethodPost, Path: "/v1/document-attributes/{id}/send", Tags: attrTags,
		Summary: "Mail every unsent document with the attribute to its customer",
		Description: "One mail per customer with all of that customer's documents with the attribute that were never sent. " +
			"Each customer is one transaction, so a repeated or interrupted run never sends a document twice. " +
			"Customers without an e-mail address are skipped and listed; their documents stay unsent.",
	}, func(ctx context.Context, in *attributePath) (*batchSendOutput, error) {
		r, err := docs.SendByAttribute(ctx, in.ID)
		var invalid *crm.ValidationError
		if errors.As(err, &invalid) && invalid.Has("attributeId", "unknown") {
			return nil, problemOf(http.StatusNotFound, "problem.notFound")
		}
		if err != nil {
			return nil, err
		}
		return &batchSendOutput{Body: r}, nil
	})
}

// multipartForm checks that contentType is a multipart form with a
// boundary (else 415, naming what to send) and returns a streaming reader
// of r, whose size is bounded as an upload's is.
func (s *server) multipartForm(contentType string, r io.Reader, what string) (*multipart.Reader, *uploadBody, error) {
	mediaType, params, err := mime.ParseMediaType(contentType)
	if err != nil || mediaType != "multipart/form-data" || params["boundary"] == "" {
		p := newProblem(http.StatusUnsupportedMediaType, "send the "+what+" as multipart/form-data with a part named file")
		p.Errors = []ProblemField{{Location: "header.Content-Type", Field: "Content-Type", Code: "multipart",
			Message: "Content-Type must be multipart/form-data with a boundary"}}
		return nil, nil, p
	}
	body := &uploadBody{r: r, overhead: max(s.opts.MaxBodyBytes, minUploadOverhead)}
	return multipart.NewReader(body, params["boundary"]), body, nil
}

// upload reads the multipart form as a stream: the fields before the
// file, then the file part straight into DocumentService.Add, which spools
// it to a temporary file while hashing it. Nothing holds the file in memory.
func (s *server) upload(ctx context.Context, in *uploadDocumentInput) (*crm.Document, error) {
	mr, body, err := s.multipartForm(in.contentType, in.body, "document")
	if err != nil {
		return nil, err
	}
	var nd crm.NewDocument
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
			nd.FileName = part.FileName()
			file := &filePart{part: part, mr: mr, body: body}
			d, err := s.crm.Documents.Add(ctx, in.ID, nd, file)
			if err != nil {
				return nil, err
			}
			return d, nil
		}
		if !isUploadField(name) {
			return nil, formProblem(name, "unknown", "the form has a part "+strconv.Quote(name)+" that an upload does not take")
		}
		if seen[name] {
			return nil, formProblem(name, "duplicate", name+" is in the form more than once")
		}
		seen[name] = true
		value, err := io.ReadAll(part)
		if err != nil {
			return nil, body.problem(err)
		}
		switch name {
		case "title":
			nd.Title = string(value)
		case "visibility":
			nd.Visibility = crm.DocumentVisibility(value)
		case "attributeId":
			nd.AttributeID = string(value)
		}
	}
}

func isUploadField(name string) bool {
	for _, f := range uploadFields {
		if f == name {
			return true
		}
	}
	return false
}

// formProblem is a 422 naming one part of an upload form.
func formProblem(field, code, message string) *Problem {
	p := problemOf(http.StatusUnprocessableEntity, "problem.invalid")
	p.Errors = []ProblemField{{Location: "body." + field, Field: field, Code: code, Message: message}}
	return p
}

// minUploadOverhead is the least room an upload gets for what surrounds
// the file (boundaries, part headers, fields), and covers the multipart
// reader's read-ahead, whatever Options.MaxBodyBytes says.
const minUploadOverhead = 64 << 10

// uploadBody bounds an upload's body without knowing the library's file
// limit: it lets through overhead bytes plus as many as the library has
// taken of the file. The library reads at most MaxDocumentBytes+1 bytes of
// the file and refuses a larger one, so the body read is at most
// MaxDocumentBytes + overhead, and whatever surrounds the file is at most
// overhead.
type uploadBody struct {
	r        io.Reader
	overhead int64
	read     int64 // bytes read from the request
	file     int64 // bytes of the file handed to the library
}

// errEnvelopeTooLarge is the read error of a form too large around its file.
var errEnvelopeTooLarge = errors.New("httpapi: upload form too large")

func (b *uploadBody) Read(p []byte) (int, error) {
	room := b.overhead + b.file - b.read
	if room <= 0 {
		return 0, errEnvelopeTooLarge
	}
	if int64(len(p)) > room {
		p = p[:room]
	}
	n, err := b.r.Read(p)
	b.read += int64(n)
	return n, err
}

// problem turns an error reading the form into its answer.
func (b *uploadBody) problem(err error) *Problem {
	var tooLarge *http.MaxBytesError
	if errors.Is(err, errEnvelopeTooLarge) || errors.As(err, &tooLarge) {
		p := newProblem(http.StatusRequestEntityTooLarge, "the form around the file is larger than "+strconv.FormatInt(b.overhead, 10)+" bytes")
		p.Errors = []ProblemField{{Location: "body", Code: "maxBytes", Param: strconv.FormatInt(b.overhead, 10),
			Message: "the form fields are too large"}}
		return p
	}
	return newProblem(http.StatusBadRequest, "the multipart body is malformed: "+strings.TrimPrefix(err.Error(), "multipart: "))
}

// filePart is the file as the library reads it. It counts what the
// library took, and at the file's end makes sure the form ends there too:
// a field after the file would come too late to describe the document, so
// it fails the upload before anything is stored.
type filePart struct {
	part *multipart.Part
	mr   *multipart.Reader
	body *uploadBody
	done bool
}

func (f *filePart) Read(p []byte) (int, error) {
	if f.done {
		return 0, io.EOF
	}
	n, err := f.part.Read(p)
	f.body.file += int64(n)
	if err == nil {
		return n, nil
	}
	if !errors.Is(err, io.EOF) {
		return n, f.body.problem(err)
	}
	f.done = true
	next, err := f.mr.NextPart()
	switch {
	case errors.Is(err, io.EOF):
		return n, io.EOF
	case err != nil:
		return n, f.body.problem(err)
	}
	name := next.FormName()
	if name == "file" {
		return n, formProblem(name, "duplicate", "the form has more than one file: upload one document at a time")
	}
	return n, formProblem(name, "order", "the form has a part "+strconv.Quote(name)+" after the file: send the fields first")
}

// attachment is a Content-Disposition naming a download (RFC 6266): a
// plain ASCII file name as filename, any other as filename* in UTF-8
// (RFC 8187), with an ASCII stand-in as filename for old clients.
func attachment(name string) string {
	var ascii strings.Builder
	plain := true
	for _, r := range name {
		switch {
		case r == '"' || r == '\\':
			ascii.WriteByte('_')
			plain = false
		case r < 0x20 || r >= 0x7f:
			ascii.WriteByte('_')
			plain = false
		default:
			ascii.WriteRune(r)
		}
	}
	v := `attachment; filename="` + ascii.String() + `"`
	if !plain {
		v += "; filename*=UTF-8''" + rfc8187(name)
	}
	return v
}

// rfc8187 percent-encodes a value for an ext-value: every byte outside attr-char.
func rfc8187(s string) string {
	const attrChar = "!#$&+-.^_`|~"
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(attrChar, c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}
