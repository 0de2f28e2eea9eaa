package store_test

import (
	"testing"

	"github.com/dossiercrm/dossier/crm"
	"github.com/dossiercrm/dossier/crm/store/storetest"
	"github.com/dossiercrm/dossier/crm/store/testdb"
)

func TestSQLite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) crm.Store { return testdb.SQLite(t) })
}

func TestPostgres(t *testing.T) {
	storetest.Run(t, func(t *testing.T) crm.Store { return testdb.Postgres(t) })
}
