package store_test

import (
	"testing"

	"gocloud.dev/blob/memblob"

	"github.com/dossiercrm/dossier/crm"
	"github.com/dossiercrm/dossier/crm/store/cloudblob"
	"github.com/dossiercrm/dossier/crm/store/storetest"
	"github.com/dossiercrm/dossier/crm/store/testdb"
)

func TestSQLite(t *testing.T) {
	storetest.Run(t, storetest.Harness{Open: func(t *testing.T) crm.Store { return testdb.SQLite(t) }, Blobs: memBlobs})
}

func TestPostgres(t *testing.T) {
	storetest.Run(t, storetest.Harness{Open: func(t *testing.T) crm.Store { return testdb.Postgres(t) }, Blobs: memBlobs})
}

// memBlobs is an empty in-memory bucket: document contents for one test.
func memBlobs(t *testing.T) crm.BlobStore {
	s := cloudblob.New(memblob.OpenBucket(nil))
	t.Cleanup(func() { s.Close() })
	return s
}
