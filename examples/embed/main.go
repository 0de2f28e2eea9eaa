// Embed shows a booking platform that mounts Dossier's HTTP API inside its
// own server: the platform keeps its routes (here GET /bookings, which calls
// the library in process) and serves the CRM API under /crm/ with
// http.StripPrefix. Both share one crm.CRM and one database. One call,
// background.Start, runs Dossier's background work in the platform's
// process: it delivers the mails the CRM queues (here to the log) and
// applies the organisations' retention policies.
//
// It runs on an SQLite file in a temporary directory (removed on exit),
// creates an organisation, an API key and a customer at start, prints how to
// call both parts, and serves until Ctrl+C:
//
//	go run ./examples/embed                  # http://127.0.0.1:8081
//	go run ./examples/embed -addr 127.0.0.1:9000
//
// The reference server, cmd/dossier, is the same library served on its own.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/dossiercrm/dossier/crm"
	"github.com/dossiercrm/dossier/crm/background"
	"github.com/dossiercrm/dossier/crm/httpapi"
	"github.com/dossiercrm/dossier/crm/mail"
	"github.com/dossiercrm/dossier/crm/store"
	"github.com/dossiercrm/dossier/crm/store/cloudblob"
)

// orgID is the platform's organisation in Dossier.
const orgID = "reisbureau-zon"

func main() {
	addr := flag.String("addr", "127.0.0.1:8081", "address to listen on")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, addr string) error {
	dir, err := os.MkdirTemp("", "dossier-embed")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	a, err := newApp(ctx, appConfig{
		DSN: "sqlite:" + filepath.Join(dir, "dossier.db"), DataDir: dir, Logger: logger,
		// A real platform sends through its SMTP server (mail.NewSMTPSender).
		Sender: &mail.LogSender{Logger: logger, From: mail.Address{Name: "Reisbureau Zon", Email: "noreply@reisbureau-zon.example"}},
	})
	if err != nil {
		return err
	}
	defer a.close()

	fmt.Printf(`The platform serves its own routes and Dossier's API under /crm/:

  curl http://%[1]s/bookings
  curl -H 'Authorization: Bearer %[2]s' 'http://%[1]s/crm/v1/customers?name=muller'

Press Ctrl+C to stop.
`, addr, a.apiKey)

	srv := &http.Server{Addr: addr, Handler: a.handler, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.ListenAndServe() }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(shutdownCtx)
}

// app is the platform: its routes, with the CRM mounted among them.
type app struct {
	handler http.Handler
	crm     *crm.CRM
	apiKey  string // for the platform's other programs; shown once at start
	// close stops the background work, then closes the database.
	close func() error
}

// appConfig is what newApp needs.
type appConfig struct {
	DSN     string       // the database
	DataDir string       // where documents' contents go (a blobs folder in it)
	Logger  *slog.Logger // the platform's log
	Sender  mail.Sender  // how Dossier's mails go out
	// RetentionEvery is the period of applying retention policies (default daily).
	RetentionEvery time.Duration
}

// newApp opens (and migrates) the database, starts Dossier's background
// work, creates the platform's organisation with an API key and a first
// customer, and builds the mux.
func newApp(ctx context.Context, cfg appConfig) (_ *app, err error) {
	st, err := store.Open(ctx, cfg.DSN, store.WithMigrate())
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			st.Close()
		}
	}()
	blobs, err := cloudblob.OpenDir(filepath.Join(cfg.DataDir, "blobs"))
	if err != nil {
		return nil, err
	}
	c, err := crm.New(st, crm.Config{Logger: cfg.Logger, Blobs: blobs})
	if err != nil {
		return nil, err
	}
	// Mail delivery and retention: one call, stopped before the database closes.
	bg, err := background.Start(ctx, st, c, background.Config{Sender: cfg.Sender, Logger: cfg.Logger, RetentionEvery: cfg.RetentionEvery})
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			bg.Stop(context.Background())
		}
	}()
	if _, err := c.Organisations.Create(ctx, crm.NewOrganisation{
		ID: orgID, Name: "Reisbureau Zon", DefaultLanguage: "nl", DefaultCountry: "NL",
	}); err != nil {
		return nil, err
	}
	// The platform acts in its organisation as the system; API callers act
	// as the staff user of their key.
	orgCtx := crm.WithActor(crm.WithOrg(ctx, orgID), crm.System())
	_, secret, err := c.APIKeys.Create(orgCtx, crm.NewAPIKey{Name: "booking site", StaffUser: crm.AdministratorID})
	if err != nil {
		return nil, err
	}
	anna, err := c.Customers.Create(orgCtx, crm.CustomerFields{
		FirstName: "Anna", LastName: "Müller", Phones: []crm.Phone{{Number: "06 1234 5678"}},
	})
	if err != nil {
		return nil, err
	}
	bookings := []booking{{ID: "b-1", Trip: "Lisbon, 4 nights", CustomerID: anna.ID}}

	mux := http.NewServeMux()
	// The platform's own route uses the library in process.
	mux.HandleFunc("GET /bookings", func(w http.ResponseWriter, r *http.Request) {
		ctx := crm.WithOrg(r.Context(), orgID)
		out := make([]bookingView, 0, len(bookings))
		for _, b := range bookings {
			v := bookingView{booking: b}
			cust, err := c.Customers.Get(ctx, b.CustomerID)
			switch {
			case err == nil:
				v.Customer = cust.DisplayName()
			case errors.Is(err, crm.ErrNotFound):
				v.Customer = "(deleted)"
			default:
				http.Error(w, "the CRM is not available", http.StatusServiceUnavailable)
				return
			}
			out = append(out, v)
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(out)
	})
	// Dossier's API under /crm/: /crm/v1/customers reaches /v1/customers.
	// BasePath puts the prefix into Location headers and the OpenAPI document.
	mux.Handle("/crm/", http.StripPrefix("/crm", httpapi.New(c, httpapi.Options{Logger: cfg.Logger, Ready: st.Ping, BasePath: "/crm"})))

	closeAll := func() error {
		bg.Stop(context.Background())
		return st.Close()
	}
	return &app{handler: mux, crm: c, apiKey: secret, close: closeAll}, nil
}

// booking is the platform's own data; it refers to a Dossier customer by id.
type booking struct {
	ID         string `json:"id"`
	Trip       string `json:"trip"`
	CustomerID string `json:"customerId"`
}

// bookingView is a booking with its customer's name, read from Dossier.
type bookingView struct {
	booking
	Customer string `json:"customer"`
}
