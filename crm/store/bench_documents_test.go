package store_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"testing"

	"github.com/dossiercrm/dossier/crm"
	"github.com/dossiercrm/dossier/crm/store/cloudblob"
	"github.com/dossiercrm/dossier/crm/store/testdb"
)

// BenchmarkDocuments measures uploading and downloading 1 MiB documents
// through the library (sniffing, hashing, the disk blob store and the
// database rows), on SQLite and (with DOSSIER_TEST_POSTGRES) PostgreSQL.
// See docs/performance.md.
//
//	go test ./crm/store -run '^$' -bench Documents -benchtime 200x
func BenchmarkDocuments(b *testing.B) {
	for _, db := range []struct {
		name string
		open testdb.Opener
	}{{"sqlite", testdb.SQLite}, {"postgres", testdb.Postgres}} {
		b.Run(db.name, func(b *testing.B) {
			blobs, err := cloudblob.OpenDir(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			c, err := crm.New(db.open(b), crm.Config{Blobs: blobs})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := c.Organisations.Create(context.Background(), crm.NewOrganisation{ID: "acme", Name: "Acme"}); err != nil {
				b.Fatal(err)
			}
			ctx := crm.WithActor(crm.WithOrg(context.Background(), "acme"), crm.Staff(crm.AdministratorID))
			cust, err := c.Customers.Create(ctx, crm.CustomerFields{FirstName: "Docs"})
			if err != nil {
				b.Fatal(err)
			}
			file := make([]byte, 1<<20)
			rand.Read(file)
			var ids []string
			b.Run("upload1MiB", func(b *testing.B) {
				b.SetBytes(int64(len(file)))
				for i := range b.N {
					file[0], file[1] = byte(i), byte(i>>8) // distinct contents, so each upload writes a file
					d, err := c.Documents.Add(ctx, cust.ID, crm.NewDocument{FileName: "scan.bin"}, bytes.NewReader(file))
					if err != nil {
						b.Fatal(err)
					}
					ids = append(ids, d.ID)
				}
			})
			b.Run("download1MiB", func(b *testing.B) {
				b.SetBytes(int64(len(file)))
				for i := range b.N {
					_, rc, err := c.Documents.Open(ctx, ids[i%len(ids)])
					if err != nil {
						b.Fatal(err)
					}
					if _, err := io.Copy(io.Discard, rc); err != nil {
						b.Fatal(err)
					}
					rc.Close()
				}
			})
		})
	}
}
