package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/dossiercrm/dossier/crm"
	"github.com/dossiercrm/dossier/crm/store"
)

// migrate is "dossier migrate".
func (cl *cli) migrate(ctx context.Context, fs *flagSet, args []string) error {
	var db string
	fs.dbFlag(&db)
	if err := fs.parse(args); err != nil {
		return err
	}
	st, err := store.Open(ctx, db)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		return err
	}
	fmt.Fprintf(cl.stdout, "The schema of %s (%s) is up to date.\n", redact(db), st.Dialect())
	return nil
}

// orgCreate is "dossier org create".
func (cl *cli) orgCreate(ctx context.Context, fs *flagSet, args []string) error {
	var db, id, name, lang, country string
	fs.dbFlag(&db)
	fs.StringVar(&id, "id", "", "the organisation's `ID`, e.g. acme: lower-case letters, digits, - and _ (required)")
	fs.StringVar(&name, "name", "", "the organisation's `name` (required)")
	fs.orgSettingsFlags(&lang, &country, "the organisation")
	if err := fs.parse(args); err != nil {
		return err
	}
	if err := required([2]string{"id", id}, [2]string{"name", name}); err != nil {
		return err
	}
	c, closeDB, err := openCRM(ctx, db)
	if err != nil {
		return err
	}
	defer closeDB()
	org, err := c.Organisations.Create(ctx, crm.NewOrganisation{ID: id, Name: name, DefaultLanguage: lang, DefaultCountry: country})
	if err != nil {
		return err
	}
	enc := json.NewEncoder(cl.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(org)
}

// apikeyCreate is "dossier apikey create".
func (cl *cli) apikeyCreate(ctx context.Context, fs *flagSet, args []string) error {
	var db, org, name, staff string
	fs.dbFlag(&db)
	fs.StringVar(&org, "org", "", "the `ID` of the organisation the key acts for (required)")
	fs.StringVar(&name, "name", "", "what the key is for, e.g. \"booking site\" (required)")
	fs.StringVar(&staff, "staff", crm.AdministratorID, "the `ID` of the staff user the key acts as: the actor of its changes in the history; "+
		"an administrator with this id is made when the organisation has no such user")
	if err := fs.parse(args); err != nil {
		return err
	}
	if err := required([2]string{"org", org}, [2]string{"name", name}); err != nil {
		return err
	}
	c, octx, closeDB, err := openOrg(ctx, db, org)
	if err != nil {
		return err
	}
	defer closeDB()
	if _, err := c.Staff.Get(octx, staff); errors.Is(err, crm.ErrNotFound) {
		if _, err := c.Staff.Create(octx, crm.NewStaffUser{ID: staff, Name: staff, Role: crm.RoleAdministrator}); err != nil {
			return err
		}
		fmt.Fprintf(cl.stdout, "Made staff user %s, an administrator of organisation %s.\n", staff, org)
	} else if err != nil {
		return err
	}
	key, secret, err := c.APIKeys.Create(octx, crm.NewAPIKey{Name: name, StaffUser: staff})
	if err != nil {
		return err
	}
	fmt.Fprintf(cl.stdout, "API key %s (%q, acting as staff user %s in organisation %s).\n"+
		"Its secret is shown only this once; copy it now:\n\n%s\n", key.ID, key.Name, key.StaffUser, org, secret)
	return nil
}

// apikeyList is "dossier apikey list".
func (cl *cli) apikeyList(ctx context.Context, fs *flagSet, args []string) error {
	var db, org string
	fs.dbFlag(&db)
	fs.StringVar(&org, "org", "", "the `ID` of the organisation (required)")
	if err := fs.parse(args); err != nil {
		return err
	}
	if err := required([2]string{"org", org}); err != nil {
		return err
	}
	c, octx, closeDB, err := openOrg(ctx, db, org)
	if err != nil {
		return err
	}
	defer closeDB()
	keys, err := c.APIKeys.List(octx)
	if err != nil {
		return err
	}
	if len(keys) == 0 {
		fmt.Fprintf(cl.stdout, "Organisation %s has no API keys.\n", org)
		return nil
	}
	tw := tabwriter.NewWriter(cl.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tSTAFF\tPREFIX\tCREATED\tLAST USED\tREVOKED")
	for _, k := range keys {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s…\t%s\t%s\t%s\n",
			k.ID, k.Name, k.StaffUser, k.Prefix, k.CreatedAt.UTC().Format(time.RFC3339), formatTime(k.LastUsedAt), formatTime(k.RevokedAt))
	}
	return tw.Flush()
}

// apikeyRevoke is "dossier apikey revoke".
func (cl *cli) apikeyRevoke(ctx context.Context, fs *flagSet, args []string) error {
	var db, org, id string
	fs.dbFlag(&db)
	fs.StringVar(&org, "org", "", "the `ID` of the organisation (required)")
	fs.StringVar(&id, "id", "", "the `ID` of the key, as apikey list shows it (required)")
	if err := fs.parse(args); err != nil {
		return err
	}
	if err := required([2]string{"org", org}, [2]string{"id", id}); err != nil {
		return err
	}
	c, octx, closeDB, err := openOrg(ctx, db, org)
	if err != nil {
		return err
	}
	defer closeDB()
	if err := c.APIKeys.Revoke(octx, id); errors.Is(err, crm.ErrNotFound) {
		return fmt.Errorf("organisation %s has no API key %s (\"dossier apikey list --org %s\" lists its keys)", org, id, org)
	} else if err != nil {
		return err
	}
	fmt.Fprintf(cl.stdout, "API key %s is revoked.\n", id)
	return nil
}

// openCRM opens the database, bringing its schema up to date so that admin
// commands work on a fresh one, and builds the services on it.
func openCRM(ctx context.Context, dsn string) (*crm.CRM, func(), error) {
	return openCRMWith(ctx, dsn, crm.Config{})
}

// openCRMWith is openCRM with a configuration, for commands that need
// more than the database, e.g. the documents' contents.
func openCRMWith(ctx context.Context, dsn string, cfg crm.Config) (*crm.CRM, func(), error) {
	st, err := store.Open(ctx, dsn, store.WithMigrate())
	if err != nil {
		return nil, nil, err
	}
	c, err := crm.New(st, cfg)
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return c, func() { st.Close() }, nil
}

// openOrg is openCRM for a command on one existing organisation: it also
// returns ctx scoped to it, with the system as the actor of admin commands.
func openOrg(ctx context.Context, dsn, org string) (*crm.CRM, context.Context, func(), error) {
	c, closeDB, err := openCRM(ctx, dsn)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := checkOrg(ctx, c, org); err != nil {
		closeDB()
		return nil, nil, nil, err
	}
	return c, crm.WithActor(crm.WithOrg(ctx, org), crm.System()), closeDB, nil
}

// checkOrg returns an error saying how to make one when there is no organisation org.
func checkOrg(ctx context.Context, c *crm.CRM, org string) error {
	_, err := c.Organisations.Get(ctx, org)
	if errors.Is(err, crm.ErrNotFound) {
		return fmt.Errorf("there is no organisation %q (dossier org create makes one)", org)
	}
	return err
}

func formatTime(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// redact hides the password of a PostgreSQL DSN.
func redact(dsn string) string {
	if !strings.Contains(dsn, "://") {
		return dsn
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "the database"
	}
	return u.Redacted()
}
