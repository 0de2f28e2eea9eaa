package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"gocloud.dev/blob/memblob"

	"github.com/dossiercrm/dossier/crm"
	"github.com/dossiercrm/dossier/crm/httpapi"
	"github.com/dossiercrm/dossier/crm/store"
	"github.com/dossiercrm/dossier/crm/store/cloudblob"
	"github.com/dossiercrm/dossier/crm/store/testdb"
	"github.com/dossiercrm/dossier/crm/tabular"
)

// testServer is a real listening server on loopback with two organisations,
// each with an API key.
type testServer struct {
	t      *testing.T
	url    string
	crm    *crm.CRM
	db     *store.DB
	keyA   string
	keyB   string
	client *http.Client
	// handler is the API, for requests that need a RemoteAddr of their own.
	handler http.Handler
}

func newTestServer(t *testing.T, open testdb.Opener) *testServer {
	t.Helper()
	return newTestServerWith(t, open, nil)
}

// newTestServerWith is newTestServer with options changed by configure.
func newTestServerWith(t *testing.T, open testdb.Opener, configure func(*httpapi.Options)) *testServer {
	t.Helper()
	db := open(t)
	c, err := crm.New(db, crm.Config{Blobs: cloudblob.New(memblob.OpenBucket(nil)), Reports: textReports{}, MaxDocumentBytes: testMaxDocument,
		Tables: tabular.New()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ts := &testServer{t: t, crm: c, db: db, client: &http.Client{Timeout: 30 * time.Second}}
	for _, org := range []crm.NewOrganisation{
		{ID: "org-a", Name: "Reisbureau A", DefaultLanguage: "nl", DefaultCountry: "NL"},
		{ID: "org-b", Name: "Restaurant B", DefaultLanguage: "de", DefaultCountry: "DE"},
	} {
		if _, err := c.Organisations.Create(ctx, org); err != nil {
			t.Fatal(err)
		}
		_, secret, err := c.APIKeys.Create(crm.WithActor(crm.WithOrg(ctx, org.ID), crm.System()),
			crm.NewAPIKey{Name: "test", StaffUser: "staff-" + org.ID})
		if err != nil {
			t.Fatal(err)
		}
		if org.ID == "org-a" {
			ts.keyA = secret
		} else {
			ts.keyB = secret
		}
	}
	opts := httpapi.Options{Ready: db.Ping, MaxBodyBytes: 64 << 10, AuthFailureBurst: -1}
	if configure != nil {
		configure(&opts)
	}
	ts.handler = httpapi.New(c, opts)
	srv := httptest.NewServer(ts.handler)
	t.Cleanup(srv.Close)
	ts.url = srv.URL
	return ts
}

// testMaxDocument is the test CRM's upload limit: larger than the test
// server's 64 KiB body limit, which must not apply to uploads, and small
// enough to exceed cheaply.
const testMaxDocument = 128 << 10

// textReports renders reports as plain text; crm/report has the PDF renderer.
type textReports struct{}

func (textReports) Render(w *bytes.Buffer, r *crm.CustomerReport) error {
	fmt.Fprintf(w, "Report of %s (%d) for %s\n", r.Customer.DisplayName(), r.Customer.Number, r.Organisation.Name)
	for _, ev := range r.History {
		fmt.Fprintf(w, "%s %s\n", ev.At.Format("2006-01-02"), ev.Kind)
	}
	return nil
}
func (textReports) ContentType() string { return "text/plain" }
func (textReports) Extension() string   { return ".txt" }

// formPart is one part of a multipart upload: a field, or a file when
// fileName is set.
type formPart struct {
	name, fileName string
	data           []byte
}

// multipartBody encodes parts as multipart/form-data and returns the body
// and its Content-Type.
func multipartBody(t *testing.T, parts ...formPart) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, p := range parts {
		var w io.Writer
		var err error
		if p.fileName != "" {
			w, err = mw.CreateFormFile(p.name, p.fileName)
		} else {
			w, err = mw.CreateFormField(p.name)
		}
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(p.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), mw.FormDataContentType()
}

// upload sends parts as multipart/form-data to path.
func (ts *testServer) upload(path, key string, parts ...formPart) response {
	ts.t.Helper()
	body, contentType := multipartBody(ts.t, parts...)
	return ts.do("POST", path, key, body, "Content-Type", contentType)
}

// file is a file part named "file".
func file(name string, data []byte) formPart {
	return formPart{name: "file", fileName: name, data: data}
}

// field is a form field.
func field(name, value string) formPart { return formPart{name: name, data: []byte(value)} }

// response is what a request returned.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("response %d %s is not the JSON expected: %v", r.status, r.body, err)
	}
}

// do sends a request with key (none when empty); body is JSON-encoded
// unless it is a string or []byte, sent as is.
func (ts *testServer) do(method, path, key string, body any, headers ...string) response {
	ts.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		enc, err := json.Marshal(b)
		if err != nil {
			ts.t.Fatal(err)
		}
		rd = bytes.NewReader(enc)
	}
	req, err := http.NewRequest(method, ts.url+path, rd)
	if err != nil {
		ts.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := ts.client.Do(req)
	if err != nil {
		ts.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		ts.t.Fatal(err)
	}
	return response{status: res.StatusCode, header: res.Header, body: b}
}

// want fails the test unless r has the status.
func (r response) want(t *testing.T, status int) response {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	return r
}

// problem is the body of an error response.
type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Errors []struct {
		Location string `json:"location"`
		Field    string `json:"field"`
		Code     string `json:"code"`
		Message  string `json:"message"`
	} `json:"errors"`
}

// wantProblem asserts an application/problem+json response with status.
func (r response) wantProblem(t *testing.T, status int) problem {
	t.Helper()
	r.want(t, status)
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Fatalf("content type %q, want application/problem+json: %s", ct, r.body)
	}
	var p problem
	r.json(t, &p)
	if p.Status != status || p.Title == "" {
		t.Fatalf("problem %+v for status %d", p, status)
	}
	for _, leak := range []string{"SELECT", "INSERT", "sql", "goroutine", ".go:", "pq:", "SQLSTATE", "constraint"} {
		if strings.Contains(string(r.body), leak) {
			t.Fatalf("problem response leaks internals (%q): %s", leak, r.body)
		}
	}
	return p
}

// hasError reports whether the problem names location (and code, when given).
func (p problem) hasError(location, code string) bool {
	for _, e := range p.Errors {
		if e.Location == location && (code == "" || e.Code == code) {
			return true
		}
	}
	return false
}
